package validate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/keys"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func newValidator(t *testing.T, cfg *config.Config, ks KeySource, now *time.Time) *Validator {
	t.Helper()
	v, err := New(cfg, ks, WithClock(func() time.Time { return *now }))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func bearer(tok string) *decision.Request {
	return &decision.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}, Method: "GET", Path: "/orders/1"}
}

func rs(t *testing.T, kid string, c map[string]any) string {
	return sign(t, "RS256", mustJSON(map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}), mustJSON(c))
}

// TestDecisionRules covers every registered-claim, header and key rule with
// its reason code.
func TestDecisionRules(t *testing.T) {
	testKeys(t)
	now := t0
	hdr := func(alg, kid string, extra ...string) []byte {
		h := `{"alg":"` + alg + `","kid":"` + kid + `"`
		for _, e := range extra {
			h += "," + e
		}
		return []byte(h + "}")
	}
	valid := mustJSON(claims(now, nil))
	cases := []struct {
		name    string
		tok     string
		outcome decision.Outcome
		reason  decision.Reason
	}{
		{"valid RS256 allows", rs(t, "rsa1", claims(now, nil)), decision.Allow, decision.ReasonOK},
		{"valid PS256 allows", sign(t, "PS256", hdr("PS256", "rsa1"), valid), decision.Allow, decision.ReasonOK},
		{"valid ES256 allows", sign(t, "ES256", hdr("ES256", "ec1"), valid), decision.Allow, decision.ReasonOK},
		{"valid EdDSA allows", sign(t, "EdDSA", hdr("EdDSA", "ed1"), valid), decision.Allow, decision.ReasonOK},
		{"aud as a plain string allows", rs(t, "rsa1", claims(now, map[string]any{"aud": "https://api.example.com"})), decision.Allow, decision.ReasonOK},
		{"exp within skew allows", rs(t, "rsa1", claims(now, map[string]any{"exp": now.Add(-20 * time.Second).Unix()})), decision.Allow, decision.ReasonOK},
		{"fractional exp allows", sign(t, "RS256", hdr("RS256", "rsa1"), []byte(strings.Replace(string(valid), `"exp":`, `"exp":1.5e0,"x":`, 1))), decision.Unauthenticated, decision.TokenExpired},
		{"expired", rs(t, "rsa1", claims(now, map[string]any{"exp": now.Add(-time.Minute).Unix()})), decision.Unauthenticated, decision.TokenExpired},
		{"exp missing", rs(t, "rsa1", claims(now, map[string]any{"exp": nil})), decision.Unauthenticated, decision.ExpirationMissing},
		{"exp as string is malformed", rs(t, "rsa1", claims(now, map[string]any{"exp": "4102444800"})), decision.Unauthenticated, decision.ClaimsMalformed},
		{"exp 1e400 is malformed", sign(t, "RS256", hdr("RS256", "rsa1"), []byte(`{"iss":"`+testIssuer+`","aud":"https://api.example.com","exp":1e400}`)), decision.Unauthenticated, decision.ClaimsMalformed},
		{"exp 9.3e18 is malformed", sign(t, "RS256", hdr("RS256", "rsa1"), []byte(`{"iss":"`+testIssuer+`","aud":"https://api.example.com","exp":9.3e18}`)), decision.Unauthenticated, decision.ClaimsMalformed},
		{"exp as bool is malformed", rs(t, "rsa1", claims(now, map[string]any{"exp": true})), decision.Unauthenticated, decision.ClaimsMalformed},
		{"nbf in the future", rs(t, "rsa1", claims(now, map[string]any{"nbf": now.Add(time.Minute).Unix()})), decision.Unauthenticated, decision.TokenNotYetValid},
		{"nbf within skew allows", rs(t, "rsa1", claims(now, map[string]any{"nbf": now.Add(20 * time.Second).Unix()})), decision.Allow, decision.ReasonOK},
		{"iat in the future", rs(t, "rsa1", claims(now, map[string]any{"iat": now.Add(time.Minute).Unix()})), decision.Unauthenticated, decision.IssuedInFuture},
		{"wrong issuer", rs(t, "rsa1", claims(now, map[string]any{"iss": "https://evil.example.com/"})), decision.Unauthenticated, decision.IssuerInvalid},
		{"issuer without its trailing slash", rs(t, "rsa1", claims(now, map[string]any{"iss": strings.TrimSuffix(testIssuer, "/")})), decision.Unauthenticated, decision.IssuerInvalid},
		{"no issuer", rs(t, "rsa1", claims(now, map[string]any{"iss": nil})), decision.Unauthenticated, decision.IssuerInvalid},
		{"iss as array is malformed", rs(t, "rsa1", claims(now, map[string]any{"iss": []string{testIssuer}})), decision.Unauthenticated, decision.ClaimsMalformed},
		{"wrong audience", rs(t, "rsa1", claims(now, map[string]any{"aud": "https://other.example.com"})), decision.Unauthenticated, decision.AudienceInvalid},
		{"no audience", rs(t, "rsa1", claims(now, map[string]any{"aud": nil})), decision.Unauthenticated, decision.AudienceInvalid},
		{"aud as number is malformed", rs(t, "rsa1", claims(now, map[string]any{"aud": 42})), decision.Unauthenticated, decision.ClaimsMalformed},
		{"aud as object is malformed", rs(t, "rsa1", claims(now, map[string]any{"aud": map[string]any{"https://api.example.com": true}})), decision.Unauthenticated, decision.ClaimsMalformed},
		{"aud array with a number is malformed", rs(t, "rsa1", claims(now, map[string]any{"aud": []any{"https://api.example.com", 1}})), decision.Unauthenticated, decision.ClaimsMalformed},
		{"sub as number is malformed", rs(t, "rsa1", claims(now, map[string]any{"sub": 7})), decision.Unauthenticated, decision.ClaimsMalformed},
		{"scope as array is malformed", rs(t, "rsa1", claims(now, map[string]any{"scope": []string{"read"}})), decision.Unauthenticated, decision.ClaimsMalformed},
		{"unknown kid", rs(t, "nope", claims(now, nil)), decision.Unauthenticated, decision.KeyUnknown},
		{"kid with NUL and quotes", rs(t, "a\x00\"b", claims(now, nil)), decision.Unauthenticated, decision.KeyUnknown},
		{"kid injection string", rs(t, "../../../../dev/null", claims(now, nil)), decision.Unauthenticated, decision.KeyUnknown},
		{"signed by another key", sign(t, "RS256-other", hdr("RS256", "rsa1"), valid), decision.Unauthenticated, decision.SignatureInvalid},
		{"alg none", sign(t, "none", []byte(`{"alg":"none"}`), valid), decision.Unauthenticated, decision.TokenMalformed},
		{"alg none with a dummy signature", sign(t, "none", []byte(`{"alg":"none"}`), valid) + "AAAA", decision.Unauthenticated, decision.AlgorithmNotAllowed},
		{"HS256 not in the allowlist", sign(t, "HS256", hdr("HS256", "hs1"), valid), decision.Unauthenticated, decision.AlgorithmNotAllowed},
		{"ES256 header on an RSA key", sign(t, "ES256", hdr("ES256", "rsa1"), valid), decision.Unauthenticated, decision.KeyMismatch},
		{"PS256 header on a key pinned to RS256", sign(t, "PS256", hdr("PS256", "rsa-pinned"), valid), decision.Unauthenticated, decision.KeyMismatch},
		{"DER-encoded ES256 signature", sign(t, "ES256-DER", hdr("ES256", "ec1"), valid), decision.Unauthenticated, decision.SignatureInvalid},
		{"ES256 r=s=0", strings.Join(strings.Split(sign(t, "ES256", hdr("ES256", "ec1"), valid), ".")[:2], ".") + "." + b64u(make([]byte, 64)), decision.Unauthenticated, decision.SignatureInvalid},
		{"embedded jwk header is refused", sign(t, "RS256-other", hdr("RS256", "rsa1", `"jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}`), valid), decision.Unauthenticated, decision.TokenMalformed},
		{"crit header", sign(t, "RS256", hdr("RS256", "rsa1", `"crit":["exp"]`), valid), decision.Unauthenticated, decision.CritUnsupported},
		{"duplicate claim", sign(t, "RS256", hdr("RS256", "rsa1"), []byte(strings.Replace(string(valid), "{", `{"iss":"https://evil.example.com/",`, 1))), decision.Unauthenticated, decision.ClaimsMalformed},
		{"payload not an object", sign(t, "RS256", hdr("RS256", "rsa1"), []byte(`"hello"`)), decision.Unauthenticated, decision.ClaimsMalformed},
		{"invalid UTF-8 in a claim", sign(t, "RS256", hdr("RS256", "rsa1"), []byte(strings.Replace(string(valid), "auth0|user1", "auth0|\xff\xfe", 1))), decision.Unauthenticated, decision.ClaimsMalformed},
		{"deeply nested claim", sign(t, "RS256", hdr("RS256", "rsa1"), []byte(`{"x":`+strings.Repeat("[", 4000)+strings.Repeat("]", 4000)+`}`)), decision.Unauthenticated, decision.ClaimsMalformed},
		{"five segments without decryption keys", "a.b.c.d.e", decision.Unauthenticated, decision.TokenEncrypted},
		{"garbage", "not-a-token", decision.Unauthenticated, decision.TokenMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newValidator(t, baseConfig(), newFakeKeys(t), &now)
			d := v.Decide(context.Background(), bearer(c.tok))
			if d.Outcome != c.outcome || d.Reason != c.reason {
				t.Fatalf("got %s/%s (%s), want %s/%s", d.Outcome, d.Reason, d.Detail, c.outcome, c.reason)
			}
			if d.Outcome != decision.Allow && d.Principal != "" && d.Outcome == decision.Unauthenticated {
				t.Fatalf("unauthenticated decision names a principal")
			}
			if strings.Contains(d.Detail, c.tok) {
				t.Fatalf("detail holds the token")
			}
			tr := &Trace{}
			td := newValidator(t, baseConfig(), newFakeKeys(t), &now).DecideTraced(context.Background(), bearer(c.tok), tr)
			checkTrace(t, d, td, tr, c.tok)
		})
	}
}

func TestExtraction(t *testing.T) {
	now := t0
	tok := rs(t, "rsa1", claims(now, nil))
	cases := []struct {
		name   string
		cfg    func(*config.Config)
		req    *decision.Request
		reason decision.Reason
	}{
		{"bearer header", nil, bearer(tok), decision.ReasonOK},
		{"scheme is case-insensitive", nil, &decision.Request{Header: http.Header{"Authorization": {"bEaReR " + tok}}}, decision.ReasonOK},
		{"lower-case header name (HTTP API 2.0)", nil, &decision.Request{Header: http.Header{"authorization": {"Bearer " + tok}}}, decision.ReasonOK},
		{"no header", nil, &decision.Request{Header: http.Header{}}, decision.TokenMissing},
		{"nil request", nil, nil, decision.EventMalformed},
		{"basic scheme", nil, &decision.Request{Header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}}, decision.TokenMissing},
		{"scheme without token", nil, &decision.Request{Header: http.Header{"Authorization": {"Bearer"}}}, decision.TokenMalformed},
		{"two tokens", nil, &decision.Request{Header: http.Header{"Authorization": {"Bearer " + tok + " " + tok}}}, decision.TokenMalformed},
		{"two headers", nil, &decision.Request{Header: http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}}, decision.TokenMalformed},
		{"tab inside", nil, &decision.Request{Header: http.Header{"Authorization": {"Bearer \t" + tok}}}, decision.TokenMalformed},
		{"custom header without scheme", func(c *config.Config) { c.HeaderName, c.Scheme = "X-Api-Token", "" }, &decision.Request{Header: http.Header{"X-Api-Token": {tok}}}, decision.ReasonOK},
		{"query parameter", func(c *config.Config) { c.QueryParam = "access_token" }, &decision.Request{Query: url.Values{"access_token": {tok}}}, decision.ReasonOK},
		{"query parameter twice", func(c *config.Config) { c.QueryParam = "access_token" }, &decision.Request{Query: url.Values{"access_token": {tok, tok}}}, decision.TokenMalformed},
		{"cookie from payload 2.0 list", func(c *config.Config) { c.CookieName = "at" }, &decision.Request{Cookies: []string{"theme=dark", "at=" + tok}}, decision.ReasonOK},
		{"cookie header", func(c *config.Config) { c.CookieName = "at" }, &decision.Request{Header: http.Header{"Cookie": {"a=b; at=" + tok}}}, decision.ReasonOK},
		{"header wins over query", func(c *config.Config) { c.QueryParam = "access_token" }, &decision.Request{Header: http.Header{"Authorization": {"Bearer x.y"}}, Query: url.Values{"access_token": {tok}}}, decision.TokenMalformed},
		{"websocket subprotocol after the marker", subprotocol, ws("jwtgate.bearer, " + tok), decision.ReasonOK},
		{"websocket subprotocol among others", subprotocol, ws("graphql-ws, jwtgate.bearer," + tok), decision.ReasonOK},
		{"websocket subprotocol in two header lines", subprotocol, &decision.Request{Header: http.Header{"Sec-Websocket-Protocol": {"jwtgate.bearer", tok}}}, decision.ReasonOK},
		{"websocket subprotocol marker without token", subprotocol, ws("graphql-ws, jwtgate.bearer"), decision.TokenMalformed},
		{"websocket subprotocol marker twice", subprotocol, ws("jwtgate.bearer, " + tok + ", jwtgate.bearer, " + tok), decision.TokenMalformed},
		{"websocket subprotocol without marker", subprotocol, ws("graphql-ws, " + tok), decision.TokenMissing},
		{"websocket subprotocol not read unless configured", nil, ws("jwtgate.bearer, " + tok), decision.TokenMissing},
		{"websocket subprotocol marker is case-sensitive", subprotocol, ws("JWTGATE.BEARER, " + tok), decision.TokenMissing},
		{"query wins over subprotocol", func(c *config.Config) { subprotocol(c); c.QueryParam = "access_token" },
			&decision.Request{Query: url.Values{"access_token": {"x.y"}}, Header: http.Header{"Sec-Websocket-Protocol": {"jwtgate.bearer, " + tok}}}, decision.TokenMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig()
			if c.cfg != nil {
				c.cfg(cfg)
			}
			v := newValidator(t, cfg, newFakeKeys(t), &now)
			d := v.Decide(context.Background(), c.req)
			if d.Reason != c.reason {
				t.Fatalf("reason %s (%s), want %s", d.Reason, d.Detail, c.reason)
			}
		})
	}
}

func subprotocol(c *config.Config) { c.Subprotocol = "jwtgate.bearer" }

func ws(protocols string) *decision.Request {
	return &decision.Request{Header: http.Header{"Sec-Websocket-Protocol": {protocols}}}
}

func TestDeniedFields(t *testing.T) {
	now := t0
	rules := []config.FieldRule{
		{Scopes: []string{"admin"}, Fields: []string{"Mutation.deleteOrder", "Order.cost"}},
		{Claims: []config.ClaimRequirement{{Name: "department", Values: []string{"finance"}}}, Fields: []string{"Order.cost", "Order.margin"}},
		{Scopes: []string{"read:orders"}, Fields: []string{"Query.orders"}},
	}
	cases := []struct {
		name   string
		rules  []config.FieldRule
		claims map[string]any
		want   []string
	}{
		{"no rules, no denied fields", nil, nil, nil},
		{"fields of every failed rule, sorted without repeats", rules, nil, []string{"Mutation.deleteOrder", "Order.cost", "Order.margin"}},
		{"a met claim rule denies nothing", rules, map[string]any{"department": "finance"}, []string{"Mutation.deleteOrder", "Order.cost"}},
		{"every rule met", rules, map[string]any{"department": "finance", "scope": "read:orders admin"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.DeniedFields = c.rules
			v := newValidator(t, cfg, newFakeKeys(t), &now)
			d := v.Decide(context.Background(), bearer(rs(t, "rsa1", claims(now, c.claims))))
			if d.Outcome != decision.Allow {
				t.Fatalf("outcome %s (%s)", d.Outcome, d.Detail)
			}
			if !slices.Equal(d.DeniedFields, c.want) {
				t.Fatalf("denied fields %v, want %v", d.DeniedFields, c.want)
			}
		})
	}
}

func TestAuthorization(t *testing.T) {
	now := t0
	routes := []config.RouteRule{
		{Method: "GET", Path: "/orders/{id}", Scopes: []string{"read:orders"}},
		{Method: "POST", Path: "/orders", Claims: []config.ClaimRequirement{{Name: "permissions", Values: []string{"write:orders"}}}},
		{Method: "*", Path: "/admin/*", Scopes: []string{"admin"}},
	}
	cases := []struct {
		name    string
		cfg     func(*config.Config)
		claims  map[string]any
		method  string
		path    string
		outcome decision.Outcome
		reason  decision.Reason
		missing string
	}{
		{"required scope present", func(c *config.Config) { c.RequiredScopes = []string{"read:orders"} }, nil, "GET", "/", decision.Allow, decision.ReasonOK, ""},
		{"required scope missing", func(c *config.Config) { c.RequiredScopes = []string{"read:orders", "delete:orders"} }, nil, "GET", "/", decision.Forbidden, decision.ScopeMissing, "delete:orders"},
		{"scp array", func(c *config.Config) { c.RequiredScopes = []string{"Files.Read"} }, map[string]any{"scope": nil, "scp": []string{"Files.Read"}}, "GET", "/", decision.Allow, decision.ReasonOK, ""},
		{"scp space-separated string", func(c *config.Config) { c.RequiredScopes = []string{"b"} }, map[string]any{"scope": nil, "scp": "a b"}, "GET", "/", decision.Allow, decision.ReasonOK, ""},
		{"scope prefix is not a scope", func(c *config.Config) { c.RequiredScopes = []string{"read"} }, nil, "GET", "/", decision.Forbidden, decision.ScopeMissing, "read"},
		{"claim all present", func(c *config.Config) {
			c.RequiredClaims = []config.ClaimRequirement{{Name: "permissions", Values: []string{"read:orders", "write:orders"}}}
		}, nil, "GET", "/", decision.Allow, decision.ReasonOK, ""},
		{"claim all, one missing", func(c *config.Config) {
			c.RequiredClaims = []config.ClaimRequirement{{Name: "permissions", Values: []string{"read:orders", "admin"}}}
		}, nil, "GET", "/", decision.Forbidden, decision.ClaimMissing, ""},
		{"claim any", func(c *config.Config) {
			c.RequiredClaims = []config.ClaimRequirement{{Name: "permissions", Values: []string{"admin", "write:orders"}, Match: "any"}}
		}, nil, "GET", "/", decision.Allow, decision.ReasonOK, ""},
		{"claim with separator", func(c *config.Config) {
			c.RequiredClaims = []config.ClaimRequirement{{Name: "roles", Values: []string{"editor"}, Separator: ","}}
		}, map[string]any{"roles": "viewer,editor"}, "GET", "/", decision.Allow, decision.ReasonOK, ""},
		{"claim presence only", func(c *config.Config) {
			c.RequiredClaims = []config.ClaimRequirement{{Name: "org_id"}}
		}, nil, "GET", "/", decision.Forbidden, decision.ClaimMissing, ""},
		{"route rule satisfied", func(c *config.Config) { c.Routes = routes }, nil, "GET", "/orders/42", decision.Allow, decision.ReasonOK, ""},
		{"route rule method is case-insensitive", func(c *config.Config) { c.Routes = routes }, nil, "get", "/orders/42", decision.Allow, decision.ReasonOK, ""},
		{"route rule by claim", func(c *config.Config) { c.Routes = routes }, nil, "POST", "/orders", decision.Allow, decision.ReasonOK, ""},
		{"route rule not satisfied", func(c *config.Config) { c.Routes = routes }, nil, "DELETE", "/admin/users/1", decision.Forbidden, decision.ScopeMissing, "admin"},
		{"route without rule falls back to defaults", func(c *config.Config) {
			c.Routes = routes
			c.RequiredScopes = []string{"profile"}
		}, nil, "GET", "/catalog", decision.Forbidden, decision.ScopeMissing, "profile"},
		{"rule replaces defaults on its route", func(c *config.Config) {
			c.Routes = routes
			c.RequiredScopes = []string{"profile"}
		}, nil, "GET", "/orders/7", decision.Allow, decision.ReasonOK, ""},
		{"route rule literal segments are case-insensitive", func(c *config.Config) { c.Routes = routes }, nil, "DELETE", "/ADMIN/users/1", decision.Forbidden, decision.ScopeMissing, "admin"},
		{"percent-encoded letters meet the rule", func(c *config.Config) { c.Routes = routes }, nil, "DELETE", "/%61dmin/users/1", decision.Forbidden, decision.ScopeMissing, "admin"},
		{"dot segments refused", func(c *config.Config) { c.Routes = routes }, nil, "GET", "/orders/../admin/x", decision.Forbidden, decision.RouteDenied, ""},
		{"encoded slash refused", func(c *config.Config) { c.Routes = routes }, nil, "GET", "/admin%2fusers", decision.Forbidden, decision.RouteDenied, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig()
			c.cfg(cfg)
			v := newValidator(t, cfg, newFakeKeys(t), &now)
			r := bearer(rs(t, "rsa1", claims(now, c.claims)))
			r.Method, r.Path = c.method, c.path
			d := v.Decide(context.Background(), r)
			if d.Outcome != c.outcome || d.Reason != c.reason {
				t.Fatalf("got %s/%s (%s), want %s/%s", d.Outcome, d.Reason, d.Detail, c.outcome, c.reason)
			}
			if c.missing != "" && !strings.Contains(strings.Join(d.MissingScopes, " "), c.missing) {
				t.Fatalf("missing scopes %v, want %s", d.MissingScopes, c.missing)
			}
			if d.Principal != "auth0|user1" {
				t.Fatalf("principal %q", d.Principal)
			}
		})
	}
}

func TestRouteGrantsForCachedPolicies(t *testing.T) {
	now := t0
	cfg := baseConfig()
	cfg.Routes = []config.RouteRule{
		{Method: "GET", Path: "/orders/{id}", Scopes: []string{"read:orders"}},
		{Method: "*", Path: "/admin/*", Scopes: []string{"admin"}},
	}
	cfg.RequiredScopes = []string{"openid"}
	v := newValidator(t, cfg, newFakeKeys(t), &now)
	d := v.Decide(context.Background(), bearer(rs(t, "rsa1", claims(now, nil))))
	if !d.RoutesConfigured || !d.DefaultsSatisfied {
		t.Fatalf("routes %v defaults %v", d.RoutesConfigured, d.DefaultsSatisfied)
	}
	if len(d.Routes) != 1 || d.Routes[0].Path != "/orders/{id}" || len(d.DeniedRoutes) != 1 || d.DeniedRoutes[0].Path != "/admin/*" {
		t.Fatalf("grants %+v denied %+v", d.Routes, d.DeniedRoutes)
	}
}

func TestForwardedClaimsAndCacheUntil(t *testing.T) {
	now := t0
	cfg := baseConfig()
	cfg.ForwardClaims = []string{"permissions", "org", "n", "missing"}
	v := newValidator(t, cfg, newFakeKeys(t), &now)
	exp := now.Add(10 * time.Minute).Unix()
	tok := rs(t, "rsa1", claims(now, map[string]any{"exp": exp, "org": map[string]any{"id": 1}, "n": 3}))
	d := v.Decide(context.Background(), bearer(tok))
	if d.Outcome != decision.Allow {
		t.Fatalf("%s %s", d.Reason, d.Detail)
	}
	// The map is built when first read, once per verified token, from
	// any goroutine: a repeat (cached) decision shares it.
	d2 := v.Decide(context.Background(), bearer(tok))
	maps := make(chan map[string]any, 4)
	for range 4 {
		go func() { maps <- d2.Claims.Map() }()
	}
	first := <-maps
	for range 3 {
		if m := <-maps; reflect.ValueOf(m).UnsafePointer() != reflect.ValueOf(first).UnsafePointer() {
			t.Fatal("forwarded claims built more than once for one token")
		}
	}
	if !d2.CacheHit || reflect.ValueOf(d.Claims.Map()).UnsafePointer() != reflect.ValueOf(first).UnsafePointer() {
		t.Fatalf("repeat decision (hit %v) does not share the forwarded claims", d2.CacheHit)
	}
	want := map[string]any{"sub": "auth0|user1", "iss": testIssuer, "scope": "openid read:orders", "client_id": "client-1",
		"permissions": "read:orders write:orders", "org": `{"id":1}`, "n": int64(3)}
	for k, w := range want {
		if d.Claims.Map()[k] != w {
			t.Errorf("claim %s = %#v, want %#v", k, d.Claims.Map()[k], w)
		}
	}
	if _, ok := d.Claims.Map()["missing"]; ok {
		t.Error("absent claim forwarded")
	}
	if !d.CacheUntil.Equal(time.Unix(exp, 0)) {
		t.Fatalf("cache until %v, want exp", d.CacheUntil)
	}
}

func TestVerifiedTokenCache(t *testing.T) {
	now := t0
	ks := newFakeKeys(t)
	cfg := baseConfig()
	cfg.RequiredScopes = []string{"read:orders"}
	v := newValidator(t, cfg, ks, &now)
	tok := rs(t, "rsa1", claims(now, map[string]any{"exp": now.Add(2 * time.Minute).Unix()}))
	ctx := context.Background()

	if d := v.Decide(ctx, bearer(tok)); d.Outcome != decision.Allow || d.CacheHit {
		t.Fatalf("first: %s hit=%v", d.Reason, d.CacheHit)
	}
	lookups := ks.lookups
	if d := v.Decide(ctx, bearer(tok)); d.Outcome != decision.Allow || !d.CacheHit {
		t.Fatalf("second: %s hit=%v", d.Reason, d.CacheHit)
	}
	if ks.lookups != lookups {
		t.Fatal("a cache hit looked up the key")
	}
	// Authorization still runs on a hit: a route needing another scope.
	v.defaults.scopes = []string{"admin"}
	if d := v.Decide(ctx, bearer(tok)); d.Outcome != decision.Forbidden || !d.CacheHit {
		t.Fatalf("authz on hit: %s hit=%v", d.Reason, d.CacheHit)
	}
	v.defaults.scopes = cfg.RequiredScopes
	// The entry never outlives exp (+skew).
	now = now.Add(2*time.Minute + 31*time.Second)
	if d := v.Decide(ctx, bearer(tok)); d.Reason != decision.TokenExpired {
		t.Fatalf("after exp: %s", d.Reason)
	}
	// A key that leaves the key set stops serving cached tokens.
	now = t0
	tok2 := rs(t, "rsa1", claims(now, map[string]any{"jti": "2"}))
	if d := v.Decide(ctx, bearer(tok2)); d.Outcome != decision.Allow {
		t.Fatal(d.Reason)
	}
	ks.removed[ks.byKID["rsa1"]] = true
	delete(ks.byKID, "rsa1")
	if d := v.Decide(ctx, bearer(tok2)); d.Outcome == decision.Allow || d.Reason != decision.KeyUnknown {
		t.Fatalf("removed key still served: %s hit=%v", d.Reason, d.CacheHit)
	}
	hits, misses := v.CacheStats()
	if hits < 2 || misses < 2 {
		t.Fatalf("stats %d/%d", hits, misses)
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	c := newTokenCache(64)
	for i := 0; i < 1000; i++ {
		c.put(&verified{tok: strings.Repeat("x", i), expires: t0.Add(time.Hour)})
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	if n > 64+cacheShards {
		t.Fatalf("%d entries for a cache of 64", n)
	}
}

func TestKeysUnavailableNeverAllows(t *testing.T) {
	now := t0
	ks := newFakeKeys(t)
	ks.err = errors.Join(keys.ErrUnavailable, errors.New("idp down"))
	v := newValidator(t, baseConfig(), ks, &now)
	d := v.Decide(context.Background(), bearer(rs(t, "rsa1", claims(now, nil))))
	if d.Outcome != decision.Unavailable || d.Reason != decision.KeysUnavailable {
		t.Fatalf("%s/%s", d.Outcome, d.Reason)
	}
}

func TestTypeAllowlist(t *testing.T) {
	now := t0
	cfg := baseConfig()
	cfg.TokenTypes = []string{"at+jwt"}
	v := newValidator(t, cfg, newFakeKeys(t), &now)
	at := sign(t, "RS256", []byte(`{"alg":"RS256","kid":"rsa1","typ":"application/AT+JWT"}`), mustJSON(claims(now, nil)))
	if d := v.Decide(context.Background(), bearer(at)); d.Outcome != decision.Allow {
		t.Fatalf("at+jwt refused: %s", d.Reason)
	}
	if d := v.Decide(context.Background(), bearer(rs(t, "rsa1", claims(now, nil)))); d.Reason != decision.TypeNotAllowed {
		t.Fatalf("typ JWT: %s", d.Reason)
	}
}

// TestJKUIsNeverFetched: a token whose jku/x5u point at a server must not
// make jwtgate contact it.
func TestJKUIsNeverFetched(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	now := t0
	v := newValidator(t, baseConfig(), newFakeKeys(t), &now)
	h := `{"alg":"RS256","kid":"attacker","jku":"` + srv.URL + `/jwks","x5u":"` + srv.URL + `/cert"}`
	d := v.Decide(context.Background(), bearer(sign(t, "RS256-other", []byte(h), mustJSON(claims(now, nil)))))
	if d.Outcome == decision.Allow || hits.Load() != 0 {
		t.Fatalf("outcome %s, %d requests to the jku server", d.Outcome, hits.Load())
	}
}

func TestHMACOnlyWithConfiguredSecret(t *testing.T) {
	now := t0
	cfg := baseConfig()
	cfg.Algorithms = []string{"RS256", "HS256"}
	ks := newFakeKeys(t)
	v := newValidator(t, cfg, ks, &now)
	valid := mustJSON(claims(now, nil))
	if d := v.Decide(context.Background(), bearer(sign(t, "HS256", []byte(`{"alg":"HS256","kid":"hs1"}`), valid))); d.Outcome != decision.Allow {
		t.Fatalf("configured secret: %s", d.Reason)
	}
	// HS256 "signed" with the RSA public key must never verify: the RSA key
	// has no secret, whatever form the attacker used for it.
	if d := v.Decide(context.Background(), bearer(sign(t, "HS256", []byte(`{"alg":"HS256","kid":"rsa1"}`), valid))); d.Reason != decision.KeyMismatch {
		t.Fatalf("HS256 on RSA key: %s", d.Reason)
	}
}

func FuzzDecide(f *testing.F) {
	testKeys(f)
	now := t0
	f.Add(rs(&testing.T{}, "rsa1", claims(now, nil)))
	f.Add("a.b.c")
	f.Add("Bearer")
	f.Fuzz(func(t *testing.T, tok string) {
		v, err := New(baseConfig(), newFakeKeys(t), WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		d := v.Decide(context.Background(), &decision.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}})
		if d.Outcome == decision.Allow {
			// Only a genuinely signed token can be allowed: re-verify.
			if !strings.HasPrefix(tok, "ey") {
				t.Fatalf("allowed %q", tok)
			}
		}
		if d.Reason == "" {
			t.Fatal("decision without reason")
		}
	})
}

// FuzzSubprotocolToken: any Sec-WebSocket-Protocol value, with the valid
// token somewhere in it. An allow needs the marker exactly once, followed
// by the token as the next protocol.
func FuzzSubprotocolToken(f *testing.F) {
	testKeys(f)
	now := t0
	valid := rs(&testing.T{}, "rsa1", claims(now, nil))
	f.Add("jwtgate.bearer, ", "")
	f.Add("graphql-ws,jwtgate.bearer,", ",x")
	f.Add("jwtgate.bearer", ", jwtgate.bearer")
	f.Fuzz(func(t *testing.T, before, after string) {
		cfg := baseConfig()
		subprotocol(cfg)
		v, err := New(cfg, newFakeKeys(t), WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		d := v.Decide(context.Background(), ws(before+valid+after))
		if d.Reason == "" {
			t.Fatal("decision without reason")
		}
		if d.Outcome != decision.Allow {
			return
		}
		var protocols []string
		for p := range strings.SplitSeq(before+valid+after, ",") {
			protocols = append(protocols, strings.TrimSpace(p))
		}
		i := slices.Index(protocols, "jwtgate.bearer")
		if i < 0 || i+1 >= len(protocols) || strings.TrimRight(protocols[i+1], " ") != valid || slices.Index(protocols[i+1:], "jwtgate.bearer") >= 0 {
			t.Fatalf("allowed %q", before+"TOKEN"+after)
		}
	})
}
