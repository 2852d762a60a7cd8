//go:build !jwtgate_lean

package rules

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types"
)

// A header or query lookup reads the request's own map in place; it must
// give what the converted map (headerMap, queryMap) gives, for every
// spelling a platform may hand over.
func TestRequestMapLookupMatchesTheConvertedMap(t *testing.T) {
	headers := []http.Header{
		{"X-Tenant": {"acme"}, "Accept": {"a", "b"}},
		{"x-tenant": {"acme"}, "X-TENANT": {"other"}}, // two spellings: one name, joined
		{"X-Tenant": {}, "Empty": {""}},               // no values: absent; an empty value: present
		{"X-Ünïcode": {"u"}, "İd": {"i"}},             // non-ASCII names lower-case as strings.ToLower does
		{},
		nil,
	}
	keys := []string{"x-tenant", "X-Tenant", "accept", "empty", "x-ünïcode", "X-Ünïcode", "i̇d", "id", "", "absent"}
	for i, h := range headers {
		want := headerMap(h)
		for _, k := range keys {
			m := &reqMap{header: h, isHeader: true}
			got, ok := m.lookup(k)
			wv, wok := want[k]
			if got != wv || ok != wok {
				t.Errorf("headers[%d][%q] = %q, %v; converted map gives %q, %v", i, k, got, ok, wv, wok)
			}
			if c := m.Contains(types.String(k)); c != types.Bool(wok) {
				t.Errorf("headers[%d]: %q in map = %v, want %v", i, k, c, wok)
			}
		}
		m := &reqMap{header: h, isHeader: true}
		if m.Size() != types.Int(len(want)) || m.IsZeroValue() != (len(want) == 0) {
			t.Errorf("headers[%d]: size %v, zero %v; want %d", i, m.Size(), m.IsZeroValue(), len(want))
		}
	}
	queries := []url.Values{{"view": {"full"}, "id": {"1", "2"}, "none": {}}, nil}
	for i, q := range queries {
		want := queryMap(q)
		for _, k := range []string{"view", "id", "none", "View", "absent"} {
			m := &reqMap{query: q}
			got, ok := m.lookup(k)
			if wv, wok := want[k]; got != wv || ok != wok {
				t.Errorf("query[%d][%q] = %q, %v; converted map gives %q, %v", i, k, got, ok, wv, wok)
			}
		}
	}
}

// Every way a rule can use the request maps, through the view.
func TestRequestMapsInRules(t *testing.T) {
	e := testEnv(t, 0)
	for expr, want := range map[string]bool{
		`request.headers["x-tenant"] == "acme"`:                              true,
		`"accept" in request.headers`:                                        true,
		`"Accept" in request.headers`:                                        false,
		`size(request.headers) == 2`:                                         true,
		`request.headers.all(k, k != "")`:                                    true,
		`request.headers.exists(k, request.headers[k] == "a, b")`:            true,
		`request.headers == {"x-tenant": "acme", "accept": "a, b"}`:          true,
		`{"x-tenant": "acme", "accept": "a, b"} == request.headers`:          true,
		`request.headers != {"x-tenant": "acme"}`:                            true,
		`type(request.headers) == map`:                                       true,
		`has(request.headers.accept)`:                                        true,
		`!has(request.headers.absent)`:                                       true,
		`request.query.view == "full" && size(request.query) == 2`:           true,
		`request.query.map(k, request.query[k]).exists(v, v == "1,2")`:       true,
		`dyn(request.headers)["x-tenant"] == "acme"`:                         true,
		`[request.headers][0]["accept"].split(", ").size() == 2`:             true,
		`request.headers.filter(k, k.startsWith("x-")) == ["x-tenant"]`:      true,
		`request.headers.x_absent == "x" || true`:                            true,
		`request.query.exists_one(k, k == "id") && !("ID" in request.query)`: true,
	} {
		r, err := e.Compile("rule", expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		for _, prg := range []struct {
			name    string
			tracked bool
		}{{"untracked", false}, {"tracked", true}} {
			p := r.prg
			if prg.tracked {
				p = r.tracked
			}
			got, err := r.eval(p, input(t))
			if err != nil || got != want {
				t.Errorf("%s (%s) = %v, %v; want %v", expr, prg.name, got, err, want)
			}
		}
	}
}

// Run-time cost tracking is left out only where the start-up estimate
// bounds the evaluation: inputs larger than the estimate assumed are
// evaluated with tracking, and give the same results.
func TestTrackingWhereTheEstimateDoesNotHold(t *testing.T) {
	e := testEnv(t, 0)
	r, err := e.Compile("rule", `request.headers["x-big"].size() > 16384 && size(request.query) >= 0`)
	if err != nil {
		t.Fatal(err)
	}
	in := input(t)
	if !r.withinEstimate(in) {
		t.Fatal("a small request is outside the estimate")
	}
	big := input(t)
	big.Header = http.Header{"X-Big": {strings.Repeat("a", requestBytes+1)}}
	if r.withinEstimate(big) {
		t.Fatal("a header beyond the estimate's bound is within it")
	}
	if ok, err := r.Eval(big); !ok || err != nil {
		t.Fatalf("large header: %v, %v", ok, err)
	}
	bigQuery := input(t)
	bigQuery.Query = url.Values{}
	for i := range requestBytes / 2 {
		bigQuery.Query.Add("k", strings.Repeat("v", i%3))
	}
	if r.withinEstimate(bigQuery) {
		t.Fatal("a query beyond the estimate's bound is within it")
	}
	long := input(t)
	long.Path = "/" + strings.Repeat("p", requestBytes)
	if r.withinEstimate(long) {
		t.Fatal("a path beyond the estimate's bound is within it")
	}
	// A rule that reads neither map does not look at them.
	r2, err := e.Compile("rule", `claims.sub == "alice"`)
	if err != nil {
		t.Fatal(err)
	}
	if !r2.withinEstimate(big) {
		t.Fatal("a rule that does not read the headers looks at their size")
	}
	// A token larger than the estimate's bound (a caller could build one
	// beyond the largest accepted token) is evaluated with tracking.
	huge := input(t)
	huge.Token = tokenOf(t, `{"sub":"`+strings.Repeat("a", 16<<10+1)+`"}`, `{}`)
	if r2.withinEstimate(huge) {
		t.Fatal("a token beyond the estimate's bound is within it")
	}
	if ok, err := r2.Eval(huge); ok || err != nil {
		t.Fatalf("large token: %v, %v", ok, err)
	}
}

// Every rule of the table gives the same answer with and without
// run-time cost tracking.
func TestUntrackedEvaluationIsEquivalent(t *testing.T) {
	e := testEnv(t, 0)
	for _, expr := range []string{
		`"admin" in claims.roles`,
		`claims.sub == "bob"`,
		`claims.tenant == request.path.split("/")[1]`,
		`claims.missing == "x"`,
		`claims.level / 0 == 1`,
		`claims.level`,
		`request.headers["x-absent"] == "x"`,
		`claims.amr.all(m, m in ["pwd", "mfa", "otp"])`,
		`now.getHours("Europe/Paris") == 13`,
	} {
		r, err := e.Compile("rule", expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		a, aerr := r.eval(r.prg, input(t))
		b, berr := r.eval(r.tracked, input(t))
		if a != b || (aerr == nil) != (berr == nil) {
			t.Errorf("%s: untracked %v, %v; tracked %v, %v", expr, a, aerr, b, berr)
		}
		if aerr != nil && aerr.(*EvalError).Kind() != berr.(*EvalError).Kind() {
			t.Errorf("%s: untracked %q, tracked %q", expr, aerr.(*EvalError).Kind(), berr.(*EvalError).Kind())
		}
	}
}

// Two spellings of one header name join in the sorted order of the
// spellings, whatever Go's map order: a rule sees the same value on every
// request (it once depended on map iteration).
func TestHeaderSpellingsJoinInOneOrder(t *testing.T) {
	h := http.Header{"x-tenant": {"acme"}, "X-TENANT": {"other"}, "X-Tenant": {"third", "fourth"}}
	for range 50 {
		if got := headerMap(h)["x-tenant"]; got != "other, third, fourth, acme" {
			t.Fatalf("joined %q", got)
		}
		m := &reqMap{header: h, isHeader: true}
		if got, _ := m.lookup("x-tenant"); got != "other, third, fourth, acme" {
			t.Fatalf("looked up %q", got)
		}
	}
}
