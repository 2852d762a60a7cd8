package validate

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// ruleValidator builds a validator with the given rules at a fixed clock
// that the test may move.
func ruleValidator(t testing.TB, clock *time.Time, top string, routes ...config.RouteRule) *Validator {
	t.Helper()
	cfg := baseConfig()
	cfg.Rule = top
	cfg.Routes = routes
	v, err := New(cfg, newFakeKeys(t), WithClock(func() time.Time { return *clock }))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ruleToken(t testing.TB, now time.Time, over map[string]any) string {
	c := map[string]any{"exp": now.Add(24 * time.Hour).Unix()}
	for k, v := range over {
		c[k] = v
	}
	over = c
	return sign(t, "RS256", []byte(`{"alg":"RS256","kid":"rsa1","typ":"at+jwt"}`), mustJSON(claims(now, over)))
}

func ruleRequest(tok, method, path string) *decision.Request {
	return &decision.Request{
		Header:   http.Header{"Authorization": {"Bearer " + tok}, "X-Tenant": {"acme"}},
		Query:    url.Values{"view": {"full"}},
		Method:   method,
		Path:     path,
		Host:     "api.example.com",
		SourceIP: "203.0.113.7",
	}
}

func TestRuleDecisions(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	admin := map[string]any{"roles": []string{"admin"}, "tenant": "acme"}
	reader := map[string]any{"roles": []string{"reader"}, "tenant": "acme"}
	routes := []config.RouteRule{
		{Method: "DELETE", Path: "/{tenant}/orders/{id}", When: `"admin" in claims.roles`},
		{Method: "GET", Path: "/exports", When: `claims.azp == "partner" || (now.getHours("UTC") >= 8 && now.getHours("UTC") < 18)`},
	}
	tests := []struct {
		name        string
		top         string
		over        map[string]any
		method      string
		path        string
		at          time.Duration // from now
		want        decision.Reason
		place       string
		failureKind string
	}{
		{"admin may delete", "", admin, "DELETE", "/acme/orders/1", 0, decision.ReasonOK, "", ""},
		{"reader may not delete", "", reader, "DELETE", "/acme/orders/1", 0, decision.RuleDenied, "routes[0].when", ""},
		{"reader may read (no rule on the route)", "", reader, "GET", "/acme/orders/1", 0, decision.ReasonOK, "", ""},
		{"exports in office hours", "", reader, "GET", "/exports", 0, decision.ReasonOK, "", ""},
		{"exports at night refused", "", reader, "GET", "/exports", 10 * time.Hour, decision.RuleDenied, "routes[1].when", ""},
		{"partner exports at night", "", map[string]any{"azp": "partner"}, "GET", "/exports", 10 * time.Hour, decision.ReasonOK, "", ""},
		{"tenant in path matches", `claims.tenant == request.path.split("/")[1]`, admin, "DELETE", "/acme/orders/1", 0, decision.ReasonOK, "", ""},
		{"tenant in path differs", `claims.tenant == request.path.split("/")[1]`, admin, "DELETE", "/other/orders/1", 0, decision.RuleDenied, "JWTGATE_RULE", ""},
		{"top-level rule applies after the route's", `claims.tenant == "other"`, admin, "DELETE", "/acme/orders/1", 0, decision.RuleDenied, "JWTGATE_RULE", ""},
		{"route refusal comes before the top-level rule", `claims.tenant == "acme"`, reader, "DELETE", "/acme/orders/1", 0, decision.RuleDenied, "routes[0].when", ""},
		{"header and host", `request.headers["x-tenant"] == claims.tenant && request.host == "api.example.com" && request.source_ip == "203.0.113.7" && request.query.view == "full"`, admin, "GET", "/x", 0, decision.ReasonOK, "", ""},
		{"missing claim fails closed", `claims.department == "sales"`, admin, "GET", "/x", 0, decision.RuleError, "JWTGATE_RULE", "no such key"},
		{"missing header fails closed", `request.headers["x-absent"] == "1"`, admin, "GET", "/x", 0, decision.RuleError, "JWTGATE_RULE", "no such key"},
		{"claim of another type fails closed", `claims.tenant > 1`, admin, "GET", "/x", 0, decision.RuleError, "JWTGATE_RULE", "no such overload (a value of an unexpected type)"},
		{"claim that is not a bool fails closed", `claims.tenant`, admin, "GET", "/x", 0, decision.RuleError, "JWTGATE_RULE", "rule did not give a bool"},
		{"ambiguous path with a path rule", `request.path.startsWith("/acme/")`, admin, "GET", "/acme/../admin", 0, decision.RouteDenied, "", ""},
		{"token header", `token.header.typ == "at+jwt"`, admin, "GET", "/x", 0, decision.ReasonOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := now
			v := ruleValidator(t, &clock, tt.top, routes...)
			tok := ruleToken(t, now, tt.over)
			clock = now.Add(tt.at)
			d := v.Decide(context.Background(), ruleRequest(tok, tt.method, tt.path))
			if d.Reason != tt.want || d.RulePlace != tt.place || d.RuleFailure != tt.failureKind {
				t.Fatalf("got %s %s place %q failure %q (%s); want %s place %q failure %q", d.Outcome, d.Reason, d.RulePlace, d.RuleFailure, d.Detail, tt.want, tt.place, tt.failureKind)
			}
			if tt.want != decision.ReasonOK && d.Outcome != decision.Forbidden {
				t.Errorf("outcome %s, want forbidden", d.Outcome)
			}
			if strings.Contains(d.Detail, "acme") || strings.Contains(d.Detail, "admin") {
				t.Errorf("detail %q quotes a claim value", d.Detail)
			}
		})
	}
}

func TestRulesRunOnEveryRequestWithTheCachedToken(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	clock := now
	v := ruleValidator(t, &clock, `request.method == "GET"`)
	tok := ruleToken(t, now, nil)
	first := v.Decide(context.Background(), ruleRequest(tok, "GET", "/a"))
	second := v.Decide(context.Background(), ruleRequest(tok, "POST", "/a"))
	if !first.Allowed() || first.CacheHit {
		t.Fatalf("first: %+v", first)
	}
	if second.Reason != decision.RuleDenied || !second.CacheHit {
		t.Fatalf("second (cached token, other method): %s cache hit %v", second.Reason, second.CacheHit)
	}
}

func TestRuleCacheSafety(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	clock := now
	routes := []config.RouteRule{
		{Method: "GET", Path: "/admin", When: `"admin" in claims.roles`},        // token only: grantable
		{Method: "GET", Path: "/reports", When: `request.query.view == "full"`}, // reads the request
		{Method: "GET", Path: "/health"},
	}
	tok := ruleToken(t, now, map[string]any{"roles": []string{"admin"}})
	t.Run("token-only when is granted, request-dependent when is not", func(t *testing.T) {
		v := ruleValidator(t, &clock, "", routes...)
		d := v.Decide(context.Background(), ruleRequest(tok, "GET", "/health"))
		if !d.Allowed() || d.PerCall {
			t.Fatalf("%+v", d)
		}
		if got := grantPaths(d.Routes); got != "/admin /health" {
			t.Errorf("granted %q", got)
		}
		if got := grantPaths(d.DeniedRoutes); got != "/reports" {
			t.Errorf("denied %q", got)
		}
	})
	t.Run("a request-dependent top-level rule makes the decision per call", func(t *testing.T) {
		v := ruleValidator(t, &clock, `request.method == "GET"`, routes...)
		d := v.Decide(context.Background(), ruleRequest(tok, "GET", "/health"))
		if !d.Allowed() || !d.PerCall {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("a clock-dependent top-level rule makes the decision per call", func(t *testing.T) {
		v := ruleValidator(t, &clock, `now.getHours("UTC") < 18`)
		if d := v.Decide(context.Background(), ruleRequest(tok, "GET", "/health")); !d.Allowed() || !d.PerCall {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("a false token-only top-level rule grants nothing", func(t *testing.T) {
		v := ruleValidator(t, &clock, `"owner" in claims.roles`, routes...)
		d := v.Decide(context.Background(), ruleRequest(tok, "GET", "/health"))
		if d.Reason != decision.RuleDenied || d.PerCall || len(d.Routes) != 0 || d.DefaultsSatisfied {
			t.Fatalf("%+v", d)
		}
	})
}

func grantPaths(gs []decision.RouteGrant) string {
	var p []string
	for _, g := range gs {
		p = append(p, g.Path)
	}
	return strings.Join(p, " ")
}

func TestRulesRefusedAtStartUp(t *testing.T) {
	tests := []struct {
		name, top, when, place, want string
		limit                        int
	}{
		{"syntax error names the route", "", `claims.sub ==`, "routes[1].when", "column 14", 0},
		{"type error names the top-level rule", `request.method + 1 == 2`, "", "JWTGATE_RULE", "found no matching overload", 0},
		{"non-bool rule", `request.path`, "", "JWTGATE_RULE", "not bool", 0},
		{"estimated cost over the limit", `claims.roles.all(a, claims.roles.all(b, a != b || a == b))`, "", "JWTGATE_RULE", "exceeds the cost limit", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Rule = tt.top
			cfg.RuleCostLimit = tt.limit
			cfg.Routes = []config.RouteRule{{Method: "GET", Path: "/a"}, {Method: "GET", Path: "/b", When: tt.when}}
			_, err := New(cfg, newFakeKeys(t))
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Setting != tt.place || !strings.Contains(ce.Msg, tt.want) {
				t.Fatalf("error %v; want %s: …%s…", err, tt.place, tt.want)
			}
		})
	}
}

func TestTraceNamesTheRuleThatRefused(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	clock := now
	v := ruleValidator(t, &clock, `claims.tenant == "acme"`)
	tr := &Trace{}
	d := v.DecideTraced(context.Background(), ruleRequest(ruleToken(t, now, map[string]any{"tenant": "globex"}), "GET", "/"), tr)
	last := tr.Last()
	if d.Reason != decision.RuleDenied || last.Check != CheckRules || last.Reason != decision.RuleDenied || !strings.Contains(last.Detail, "JWTGATE_RULE") || strings.Contains(last.Detail, "globex") {
		t.Fatalf("decision %s, last step %+v", d.Reason, last)
	}
}
