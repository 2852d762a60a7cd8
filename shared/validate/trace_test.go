package validate

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// checkTrace asserts that a traced decision equals the untraced one, that
// a refusal's last step is the failing check with the decision's reason,
// that an allow has every step passed or skipped, and that no step shows
// the signature.
func checkTrace(t *testing.T, plain, traced decision.Decision, tr *Trace, tok string) {
	t.Helper()
	if plain.Outcome != traced.Outcome || plain.Reason != traced.Reason {
		t.Fatalf("traced decision %s/%s differs from Decide's %s/%s", traced.Outcome, traced.Reason, plain.Outcome, plain.Reason)
	}
	if len(tr.Steps) == 0 {
		t.Fatal("trace recorded no step")
	}
	for i, s := range tr.Steps {
		if s.Result == Failed && i != len(tr.Steps)-1 {
			t.Fatalf("step %d (%s) failed but is not the last: %+v", i, s.Check, tr.Steps)
		}
		if !known(s.Check) {
			t.Fatalf("step %q is not in Checks", s.Check)
		}
	}
	last := tr.Last()
	if plain.Outcome == decision.Allow {
		if last.Result == Failed {
			t.Fatalf("allowed, but the trace ends in a failure: %+v", last)
		}
	} else if last.Result != Failed || last.Reason != plain.Reason {
		t.Fatalf("refused with %s, but the trace ends with %+v", plain.Reason, last)
	}
	if parts := strings.Split(tok, "."); len(parts) == 3 && len(parts[2]) > 8 {
		for _, s := range tr.Steps {
			if strings.Contains(s.Detail, parts[2]) {
				t.Fatalf("step %s shows the signature", s.Check)
			}
		}
	}
}

func known(check string) bool {
	for _, c := range Checks {
		if c == check {
			return true
		}
	}
	return false
}

func TestTraceRecordsChecksInRunOrder(t *testing.T) {
	testKeys(t)
	now := t0
	cfg := baseConfig()
	cfg.RequiredScopes = []string{"read:orders"}
	v := newValidator(t, cfg, newFakeKeys(t), &now)
	tr := &Trace{}
	d := v.DecideTraced(context.Background(), bearer(rs(t, "rsa1", claims(now, nil))), tr)
	if d.Outcome != decision.Allow {
		t.Fatalf("got %s %s", d.Outcome, d.Reason)
	}
	var got []string
	for _, s := range tr.Steps {
		got = append(got, s.Check)
	}
	want := []string{CheckExtraction, CheckSize, CheckDecryption, CheckHeader, CheckClaims, CheckType,
		CheckIssuer, CheckKey, CheckSignature, CheckKeyIssuer, CheckTokenUse, CheckAudience, CheckTimes, CheckBinding, CheckClient,
		CheckRoutes, CheckScopes, CheckRequiredClaims}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("checks ran as\n %v\nwant\n %v", got, want)
	}
	if tr.Header == nil || tr.Header.Alg != "RS256" || tr.Header.Kid != "rsa1" || tr.Header.Typ != "JWT" {
		t.Fatalf("header = %+v", tr.Header)
	}
	if tr.Times == nil || !tr.Times.HasExp || tr.Times.Now != now.Unix() || tr.Times.Skew != 30 {
		t.Fatalf("times = %+v", tr.Times)
	}
	if !strings.Contains(string(tr.Claims), `"sub":"auth0|user1"`) {
		t.Fatalf("claims = %s", tr.Claims)
	}
	if s := tr.Steps[0]; !strings.Contains(s.Detail, "Authorization header (Bearer scheme)") {
		t.Fatalf("extraction detail = %q", s.Detail)
	}
}

func TestTraceNamesTheAuthorizationCheckThatRefuses(t *testing.T) {
	testKeys(t)
	now := t0
	routes := []config.RouteRule{{Method: "GET", Path: "/admin/*", Scopes: []string{"admin"}}}
	cases := []struct {
		name   string
		cfg    func(*config.Config)
		req    func(*decision.Request)
		check  string
		reason decision.Reason
		detail string
	}{
		{"a missing top-level scope", func(c *config.Config) { c.RequiredScopes = []string{"write:orders"} }, nil, CheckScopes, decision.ScopeMissing, "missing write:orders"},
		{"a missing required claim", func(c *config.Config) { c.RequiredClaims = []config.ClaimRequirement{{Name: "tenant"}} }, nil, CheckRequiredClaims, decision.ClaimMissing, "tenant"},
		{"a route rule's scope", func(c *config.Config) { c.Routes = routes }, func(r *decision.Request) { r.Path = "/admin/users" }, CheckScopes, decision.ScopeMissing, "by the rule GET /admin/*"},
		{"an ambiguous path under route rules", func(c *config.Config) { c.Routes = routes }, func(r *decision.Request) { r.Path = "/admin/../orders" }, CheckRoutes, decision.RouteDenied, "ambiguous"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig()
			c.cfg(cfg)
			v := newValidator(t, cfg, newFakeKeys(t), &now)
			r := bearer(rs(t, "rsa1", claims(now, nil)))
			if c.req != nil {
				c.req(r)
			}
			tr := &Trace{}
			d := v.DecideTraced(context.Background(), r, tr)
			last := tr.Last()
			if d.Reason != c.reason || last.Check != c.check || last.Reason != c.reason || !strings.Contains(last.Detail, c.detail) {
				t.Fatalf("decision %s; last step %+v; want %s failing with %s and %q", d.Reason, last, c.check, c.reason, c.detail)
			}
		})
	}
}

func TestTracedDecisionSkipsTheTokenCache(t *testing.T) {
	testKeys(t)
	now := t0
	v := newValidator(t, baseConfig(), newFakeKeys(t), &now)
	r := bearer(rs(t, "rsa1", claims(now, nil)))
	v.Decide(context.Background(), r)
	tr := &Trace{}
	if d := v.DecideTraced(context.Background(), r, tr); d.CacheHit || d.Outcome != decision.Allow {
		t.Fatalf("traced decision: hit=%v %s", d.CacheHit, d.Reason)
	}
	seen := false
	for _, s := range tr.Steps {
		seen = seen || (s.Check == CheckSignature && s.Result == Passed)
	}
	if !seen {
		t.Fatalf("the signature check is not in the trace: %+v", tr.Steps)
	}
}

// FuzzDecideTraced: on any token, the traced decision equals Decide's and
// the trace ends with the check that refused it, with the same reason.
func FuzzDecideTraced(f *testing.F) {
	testKeys(f)
	now := t0
	f.Add(rs(&testing.T{}, "rsa1", claims(now, nil)))
	f.Add(rs(&testing.T{}, "rsa1", claims(now, map[string]any{"exp": "x"})))
	f.Add("a.b.c")
	f.Add("a.b.c.d.e")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		cfg := baseConfig()
		cfg.TokenCacheSize = 0
		v := newValidator(t, cfg, newFakeKeys(t), &now)
		r := &decision.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}}
		tr := &Trace{}
		checkTrace(t, v.Decide(context.Background(), r), v.DecideTraced(context.Background(), r, tr), tr, tok)
	})
}

// A traced decision neither reads nor fills the verified-token cache: a
// plain decision after it still verifies the signature.
func TestTracedDecisionDoesNotFillTheTokenCache(t *testing.T) {
	testKeys(t)
	now := t0
	v := newValidator(t, baseConfig(), newFakeKeys(t), &now)
	r := bearer(rs(t, "rsa1", claims(now, nil)))
	if d := v.DecideTraced(context.Background(), r, &Trace{}); d.Outcome != decision.Allow {
		t.Fatalf("traced decision: %s", d.Reason)
	}
	if d := v.Decide(context.Background(), r); d.CacheHit || d.Outcome != decision.Allow {
		t.Fatalf("plain decision after a traced one: hit=%v %s (the trace filled the cache)", d.CacheHit, d.Reason)
	}
}

// Without a trace, matching a route rule costs no allocation that a
// request matching no rule does not also pay (the trace's rule name is
// built only when a trace records).
func TestUntracedRouteMatchAllocatesNothingExtra(t *testing.T) {
	testKeys(t)
	now := t0
	cfg := baseConfig()
	cfg.Routes = []config.RouteRule{{Method: "GET", Path: "/v1/customers/{customer}/orders/{id}", Scopes: []string{"read:orders"}}}
	v := newValidator(t, cfg, newFakeKeys(t), &now)
	tok := rs(t, "rsa1", claims(now, nil))
	matched, unmatched := bearer(tok), bearer(tok)
	matched.Method, matched.Path = "GET", "/v1/customers/7/orders/42"
	unmatched.Method, unmatched.Path = "GET", "/elsewhere"
	for _, r := range []*decision.Request{matched, unmatched} {
		if d := v.Decide(context.Background(), r); d.Outcome != decision.Allow {
			t.Fatalf("%s: %s", r.Path, d.Reason)
		}
	}
	m := testing.AllocsPerRun(200, func() { v.Decide(context.Background(), matched) })
	u := testing.AllocsPerRun(200, func() { v.Decide(context.Background(), unmatched) })
	if m > u {
		t.Fatalf("a matched route allocates %.0f times, an unmatched one %.0f: the untraced path builds trace text", m, u)
	}
}
