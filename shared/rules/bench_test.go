//go:build !jwtgate_lean

package rules

import (
	"net/http"
	"testing"
	"time"
)

// benchRules are the three representative rules of the benchmark table
// (shared/bench and shared/validate use the same three): a claim list and
// the method, a path segment and a claim prefix, a header and a time window.
var benchRules = []struct{ name, expr string }{
	{"role-or-read", `"write:orders" in claims.permissions || request.method == "GET"`},
	{"tenant-in-path", `request.path.split("/")[1] == "orders" && claims.sub.startsWith("auth0|")`},
	{"header-and-hours", `request.headers["x-tenant"] == "acme" && now.getHours("UTC") >= 8 && now.getHours("UTC") < 18`},
}

// BenchmarkEval is the rule evaluation alone, as a cached-token decision
// runs it: the token's CEL form is built once, the request is new.
func BenchmarkEval(b *testing.B) {
	e := testEnv(b, 0)
	tok := tokenOf(b, `{"iss":"https://issuer.example.com/","sub":"auth0|5f7c8ec7c33c6c004bbafe82","aud":["https://api.example.com","https://issuer.example.com/userinfo"],`+
		`"iat":1772620000,"exp":1772630000,"azp":"s5L3kJ2","scope":"openid read:orders","permissions":["read:orders","write:orders"]}`,
		`{"alg":"RS256","kid":"k1","typ":"JWT"}`)
	in := &Input{
		Token:  tok,
		Method: "GET",
		Path:   "/orders/42",
		Host:   "api.example.com",
		Header: http.Header{"X-Tenant": {"acme"}, "Accept": {"application/json"}, "User-Agent": {"bench"},
			"Authorization": {"Bearer x"}, "Host": {"api.example.com"}},
		Now: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC),
	}
	for _, bc := range benchRules {
		b.Run(bc.name, func(b *testing.B) {
			r, err := e.Compile("rule", bc.expr)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			evalLoop(b, r, in)
		})
	}
}

// evalLoop is the timed loop, apart so that an instruction count can
// toggle on it: valgrind --tool=callgrind --collect-atstart=no
// --toggle-collect='*rules.evalLoop' ./rules.test -test.bench Eval/role
// -test.benchtime 5000x (instructions per evaluation: Collected / 5000).
//
//go:noinline
func evalLoop(b *testing.B, r *Rule, in *Input) {
	for b.Loop() {
		if ok, err := r.Eval(in); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
