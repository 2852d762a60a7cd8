//go:build !jwtgate_lean

package rules

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/jsonstrict"
)

func testEnv(t testing.TB, limit uint64) *Env {
	t.Helper()
	e, err := NewEnv(Limits{TokenBytes: 16 << 10, CostLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func tokenOf(t testing.TB, claims, header string) *Token {
	t.Helper()
	c, err := jsonstrict.ParseObjectString(claims)
	if err != nil {
		t.Fatal(err)
	}
	h, err := jsonstrict.ParseObjectString(header)
	if err != nil {
		t.Fatal(err)
	}
	return NewToken(c, h)
}

var (
	noon   = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) // a Wednesday
	claims = `{"sub":"alice","tenant":"acme","roles":["reader","admin"],"scope":"orders:read orders:write",` +
		`"exp":1772630000,"amr":["pwd","mfa"],"level":3,"ratio":0.5,"big":1e400,"huge":123456789012345678901234567890,` +
		`"ok":true,"none":null,"org":{"id":"o1","tier":"gold"},"azp":"partner-app"}`
	header = `{"alg":"RS256","kid":"k1","typ":"at+jwt"}`
)

func input(t testing.TB) *Input {
	return &Input{
		Token:    tokenOf(t, claims, header),
		Method:   "DELETE",
		Path:     "/acme/orders/42",
		Host:     "api.example.com",
		SourceIP: "203.0.113.7",
		Header:   http.Header{"X-Tenant": {"acme"}, "Accept": {"a", "b"}},
		Query:    url.Values{"view": {"full"}, "id": {"1", "2"}},
		Now:      noon,
	}
}

func TestRulesOverClaimsRequestAndTime(t *testing.T) {
	e := testEnv(t, 0)
	tests := []struct {
		name string
		expr string
		want bool
	}{
		{"string claim equals", `claims.sub == "alice"`, true},
		{"string claim differs", `claims.sub == "bob"`, false},
		{"role in array claim", `"admin" in claims.roles`, true},
		{"role absent from array claim", `"owner" in claims.roles`, false},
		{"scope split from the scope string", `"orders:write" in claims.scope.split(" ")`, true},
		{"integer claim is an int", `claims.level == 3 && type(claims.level) == int`, true},
		{"fraction claim is a double", `claims.ratio < 1 && type(claims.ratio) == double`, true},
		{"int and double compare across types", `claims.level > claims.ratio`, true},
		{"number beyond int64 is a double", `type(claims.huge) == double`, true},
		{"number beyond double is infinite", `claims.big > 1e300`, true},
		{"boolean claim", `claims.ok`, true},
		{"null claim is null", `claims.none == null`, true},
		{"nested object claim", `claims.org.tier == "gold"`, true},
		{"has() on a present claim", `has(claims.org)`, true},
		{"has() on an absent claim", `has(claims.missing)`, false},
		{"absent claim guarded by in", `"missing" in claims && claims.missing == "x"`, false},
		{"exp as timestamp", `timestamp(claims.exp) > now`, true},
		{"token header", `token.header.kid == "k1" && token.header.typ == "at+jwt"`, true},
		{"method", `request.method == "DELETE"`, true},
		{"tenant in path", `claims.tenant == request.path.split("/")[1]`, true},
		{"host", `request.host.endsWith(".example.com")`, true},
		{"source ip", `request.source_ip.startsWith("203.0.113.")`, true},
		{"header names are lower-case", `request.headers["x-tenant"] == claims.tenant`, true},
		{"canonical header name is absent", `"X-Tenant" in request.headers`, false},
		{"repeated header joined", `request.headers["accept"] == "a, b"`, true},
		{"query value", `request.query.view == "full"`, true},
		{"repeated query joined", `request.query.id == "1,2"`, true},
		{"time of day in a zone", `now.getHours("Europe/Paris") == 13`, true},
		{"weekday (Wednesday is 3)", `now.getDayOfWeek() == 3`, true},
		{"strings extension", `claims.sub.upperAscii() == "ALICE" && "a,b".split(",").size() == 2`, true},
		{"comprehension over roles", `claims.roles.exists(r, r.startsWith("adm"))`, true},
		{"all amr values known", `claims.amr.all(m, m in ["pwd", "mfa", "otp"])`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Compile("rule", tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Eval(input(t))
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if got != tt.want {
				t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestTimeWindowFollowsTheInjectedClock(t *testing.T) {
	e := testEnv(t, 0)
	r, err := e.Compile("rule", `now.getHours("UTC") >= 8 && now.getHours("UTC") < 18`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{noon, true},
		{noon.Add(-4*time.Hour - time.Second), false}, // 07:59:59
		{noon.Add(6 * time.Hour), false},              // 18:00
		{noon.Add(6*time.Hour - time.Second), true},   // 17:59:59
	} {
		in := input(t)
		in.Now = tc.at
		if got, err := r.Eval(in); err != nil || got != tc.want {
			t.Errorf("at %s: %v, %v; want %v", tc.at.Format(time.TimeOnly), got, err, tc.want)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	e := testEnv(t, 0)
	tests := []struct {
		name, expr, want string
	}{
		{"syntax error with its column", `claims.sub == `, "line 1, column 15"},
		{"undeclared variable", `user.name == "x"`, "undeclared reference to 'user'"},
		{"type error", `request.method == 3`, "found no matching overload"},
		{"string result", `request.method`, "not bool"},
		{"int result", `size(claims)`, "not bool"},
		{"list result", `claims.sub.split(",")`, "not bool"},
		{"empty rule", `  `, "empty rule"},
		{"no file access", `file("/etc/passwd") == ""`, "undeclared reference to 'file'"},
		{"estimated cost over the limit", `claims.roles.all(a, claims.roles.all(b, claims.roles.all(c, a + b + c != "")))`, "exceeds the cost limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Compile("routes[2].when", tt.expr)
			if err == nil {
				t.Fatal("compiled")
			}
			var re *Error
			if !errors.As(err, &re) || re.Place != "routes[2].when" {
				t.Errorf("error %v does not name the place", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestRunTimeErrorsFailClosed(t *testing.T) {
	e := testEnv(t, 0)
	tests := []struct {
		name, expr, kind string
	}{
		{"missing claim", `claims.missing == "x"`, "no such key"},
		{"claim of another type", `claims.sub > 3`, "no such overload"},
		{"missing header", `request.headers["x-absent"] == "x"`, "no such key"},
		{"index out of range", `claims.roles[5] == "x"`, "index out of range"},
		{"division by zero", `claims.level / 0 == 1`, "division by zero"},
		{"dyn result not bool", `claims.sub == "alice" ? claims.level : true`, ErrNotBool.Error()},
		{"claim used as a condition is not a bool", `claims.level`, ErrNotBool.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Compile("JWTGATE_RULE", tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Eval(input(t))
			if got || err == nil {
				t.Fatalf("got %v, %v; want false and an error", got, err)
			}
			var ee *EvalError
			if !errors.As(err, &ee) || ee.Place != "JWTGATE_RULE" {
				t.Fatalf("error %v does not name the place", err)
			}
			if !strings.Contains(ee.Kind(), tt.kind) {
				t.Errorf("kind %q, want %q", ee.Kind(), tt.kind)
			}
			// The message is for logs: never a claim or request value.
			for _, secret := range []string{"alice", "acme", "x-absent", "missing"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes %q", err, secret)
				}
			}
		})
	}
}

func TestCostLimitStopsALongEvaluation(t *testing.T) {
	// The start-up estimate bounds the query by what platforms accept; a
	// larger one (as a test can build) meets the run-time limit.
	e := testEnv(t, 100_000)
	r, err := e.Compile("rule", `request.query.all(k, request.query[k] != "")`)
	if err != nil {
		t.Fatal(err)
	}
	in := input(t)
	in.Query = url.Values{}
	for i := range 50_000 {
		in.Query.Set(strconv.Itoa(i), "v")
	}
	got, err := r.Eval(in)
	var ee *EvalError
	if got || !errors.As(err, &ee) || ee.Kind() != "cost limit exceeded" {
		t.Fatalf("got %v, %v; want the cost limit", got, err)
	}
}

func TestReads(t *testing.T) {
	e := testEnv(t, 0)
	for expr, want := range map[string]Reads{
		`claims.sub == "a"`:                       {},
		`token.header.kid == "a"`:                 {},
		`request.method == "GET"`:                 {Request: true},
		`request.path.startsWith("/a")`:           {Request: true, Path: true},
		`request.headers["a"] == "b"`:             {Request: true},
		`now > timestamp("2020-01-01T00:00:00Z")`: {Clock: true},
	} {
		r, err := e.Compile("rule", expr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Reads() != want {
			t.Errorf("%s reads %+v, want %+v", expr, r.Reads(), want)
		}
	}
}
