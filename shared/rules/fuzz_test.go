//go:build !jwtgate_lean

package rules

import (
	"testing"

	"github.com/jwtgate/jwtgate/shared/jsonstrict"
)

// FuzzRuleInputs feeds claims of every JSON type to rules that read them
// in different ways: evaluation gives a bool or an error, never a panic.
func FuzzRuleInputs(f *testing.F) {
	e := testEnv(f, 100_000)
	var compiled []*Rule
	for _, expr := range []string{
		`claims.x == "a"`,
		`claims.x`,
		`"a" in claims.x`,
		`claims.x > 1`,
		`size(claims.x) > 0`,
		`claims.x.exists(v, v == 1)`,
		`has(claims.x.y) && claims.x.y == null`,
		`timestamp(claims.x) < now`,
		`string(claims.x).startsWith("a")`,
		`claims.x.split(",").size() == 2`,
		`claims.all(k, k != "")`,
		`token.header.alg == claims.x`,
	} {
		r, err := e.Compile("rule", expr)
		if err != nil {
			f.Fatalf("%s: %v", expr, err)
		}
		compiled = append(compiled, r)
	}
	for _, seed := range []string{`{"x":"a"}`, `{"x":1}`, `{"x":1.5}`, `{"x":1e400}`, `{"x":-0}`, `{"x":true}`, `{"x":null}`,
		`{"x":[1,"a",null]}`, `{"x":{"y":null}}`, `{"x":99999999999999999999}`, `{}`, `{"x":"a,b"}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, claims string) {
		c, err := jsonstrict.ParseObjectString(claims)
		if err != nil {
			return
		}
		h, _ := jsonstrict.ParseObjectString(`{"alg":"RS256"}`)
		in := &Input{Token: NewToken(c, h), Now: noon}
		for _, r := range compiled {
			if ok, err := r.Eval(in); ok && err != nil {
				t.Fatalf("%s: true with an error", r.Place())
			}
		}
	})
}
