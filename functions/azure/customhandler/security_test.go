package customhandler

// Regression tests for the security review of the custom handler: route
// rules must see the path exactly as the upstream receives it, forward-auth
// headers come from one family and cannot override a proxied path, and "/"
// is a decision endpoint, never an unconditional 200.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/core"
)

const (
	secTestIssuer   = "https://issuer.test/"
	secTestAudience = "api://jwtgate-test"
)

var secTestSecret = []byte("0123456789abcdef0123456789abcdef-jwtgate-test")

// realHandler is the handler around the real core, trusting an HMAC key,
// with one route rule: GET /admin/{id} needs scope admin.
func realHandler(t *testing.T, opts ...Option) *Handler {
	t.Helper()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("routes:\n  - method: GET\n    path: /admin/{id}\n    scopes: [admin]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"JWTGATE_HMAC_SECRETS":   base64.StdEncoding.EncodeToString(secTestSecret),
		"JWTGATE_ALGORITHMS":     "HS256",
		"JWTGATE_ISSUERS":        secTestIssuer,
		"JWTGATE_AUDIENCES":      secTestAudience,
		"JWTGATE_POLICY_FILE":    policy,
		"JWTGATE_WARMUP_TIMEOUT": "0",
	}
	c, err := core.FromEnv(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return New(c, c.Config(), nil, opts...)
}

// hs256 mints a token signed with secTestSecret carrying scope.
func hs256(t *testing.T, scope string) string {
	return hs256With(t, map[string]any{"scope": scope, "iat": time.Now().Unix()})
}

// hs256With mints a token signed with secTestSecret: issuer, audience,
// sub and an exp an hour away, plus extra claims.
func hs256With(t *testing.T, extra map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": secTestIssuer, "aud": secTestAudience, "sub": "user-1", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range extra {
		c[k] = v
	}
	claims, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	m := hmac.New(sha256.New, secTestSecret)
	m.Write([]byte(input))
	return input + "." + enc.EncodeToString(m.Sum(nil))
}

// rawRequest is a request whose target is taken as the server receives it
// (httptest.NewRequest parses it like the server does and keeps
// RequestURI).
func rawRequest(method, target string, headers map[string]string, token string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range headers {
		r.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func TestRouteRulesCannotBeDodgedWithEncodedOrDotPaths(t *testing.T) {
	h := realHandler(t)
	read := hs256(t, "read")
	cases := []struct {
		name    string
		target  string
		headers map[string]string
	}{
		{"encoded slash after dot-dot in the proxied path", "/api/authorize/admin/..%2Fpublic", nil},
		{"encoded dot-dot in the proxied path", "/api/authorize/admin/%2e%2e", nil},
		{"upper-case encoded dot-dot in the proxied path", "/api/authorize/admin/%2E%2E", nil},
		{"plain dot-dot in the proxied path", "/api/authorize/public/../admin/1", nil},
		{"dot segment in the proxied path", "/api/authorize/admin/./1", nil},
		{"double slash in the proxied path", "/api/authorize//admin/1", nil},
		{"encoded backslash in the proxied path", "/api/authorize/admin%5c1", nil},
		{"encoded slash in forwarded uri", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/admin/..%2Fx"}},
		{"encoded dot-dot in forwarded uri", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/admin/%2e%2e"}},
		{"dot-dot in nginx uri", "/api/authorize", map[string]string{"X-Original-URI": "/public/../admin/1"}},
		{"encoded slash in an absolute forwarded uri", "/api/authorize", map[string]string{"X-Forwarded-Uri": "https://api.example/admin/..%2Fx?y=1"}},
		{"encoded dot-dot at the root endpoint", "/", map[string]string{"X-Forwarded-Uri": "/admin/%2e%2e"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := serve(t, h, rawRequest("GET", c.target, c.headers, read))
			if res.status != http.StatusForbidden || res.body["reason"] != "route_denied" {
				t.Fatalf("status %d reason %v, want 403 route_denied: %v", res.status, res.body["reason"], res.body)
			}
		})
	}
}

func TestCoreSeesTheRawEscapedPath(t *testing.T) {
	cases := []struct {
		name     string
		target   string
		headers  map[string]string
		wantPath string
	}{
		{"proxied encoded slash", "/api/authorize/admin/..%2Fpublic?x=1", nil, "/admin/..%2Fpublic"},
		{"proxied encoded dots", "/api/authorize/admin/%2e%2e", nil, "/admin/%2e%2e"},
		{"proxied dot segments kept", "/api/authorize/a/../b", nil, "/a/../b"},
		{"proxied escaped letter kept", "/api/authorize/%61dmin/1", nil, "/%61dmin/1"},
		{"forwarded uri kept as sent", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/public/%2e%2e/admin?q=1"}, "/public/%2e%2e/admin"},
		{"absolute forwarded uri", "/api/authorize", map[string]string{"X-Forwarded-Uri": "https://api.example/v1/..%2fx?q=2"}, "/v1/..%2fx"},
		{"absolute forwarded uri without a path", "/api/authorize", map[string]string{"X-Forwarded-Uri": "https://api.example?q=2"}, "/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision}
			h, _ := newTestHandler(f, nil)
			res := serve(t, h, rawRequest("GET", c.target, c.headers, "a.b.c"))
			if res.status != 200 {
				t.Fatalf("status %d: %v", res.status, res.body)
			}
			if got := f.last(t).Path; got != c.wantPath {
				t.Errorf("core saw %q, want %q", got, c.wantPath)
			}
		})
	}
}

func TestInvocationPayloadGivesTheRawPath(t *testing.T) {
	f := &fakeDecider{d: allowDecision}
	h, _ := newTestHandler(f, nil)
	invoke(t, h, map[string]any{"Data": map[string]any{"req": map[string]any{
		"Url": "https://app.azurewebsites.net/api/authorize/admin/..%2Fpublic?x=1", "Method": "GET",
		"Params": map[string]string{"path": "admin/../public"},
	}}})
	if got := f.last(t).Path; got != "/admin/..%2Fpublic" {
		t.Errorf("core saw %q, want the URL's raw path", got)
	}
}

func TestPathParametersAreRefused(t *testing.T) {
	cases := []struct {
		name    string
		target  string
		headers map[string]string
	}{
		{"matrix parameter in the proxied path", "/api/authorize/admin;x=1/1", nil},
		{"bare semicolon in the proxied path", "/api/authorize/admin/1;", nil},
		{"encoded semicolon in the proxied path", "/api/authorize/admin%3Bx=1/1", nil},
		{"matrix parameter in forwarded uri", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/admin;x=1/1"}},
		{"matrix parameter in nginx uri", "/api/authorize", map[string]string{"X-Original-URI": "/admin/1;jsessionid=x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision}
			h, _ := newTestHandler(f, nil)
			res := serve(t, h, rawRequest("GET", c.target, c.headers, "a.b.c"))
			if res.status != 400 || res.body["reason"] != "event_malformed" {
				t.Fatalf("status %d %v, want 400 event_malformed", res.status, res.body)
			}
			if f.calls() != 0 {
				t.Error("the core was asked about a path with parameters")
			}
		})
	}
	t.Run("matrix parameter in an invocation payload", func(t *testing.T) {
		f := &fakeDecider{d: allowDecision}
		h, _ := newTestHandler(f, nil)
		r := httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(
			`{"Data":{"req":{"Url":"http://h/api/authorize/admin;x=1/1","Method":"GET"}}}`))
		res := serve(t, h, r)
		if res.status != 400 || f.calls() != 0 {
			t.Fatalf("status %d calls %d, want 400 and no decision", res.status, f.calls())
		}
	})
}

func TestClientForwardHeadersCannotReplaceTheProxiedPath(t *testing.T) {
	h := realHandler(t)
	read := hs256(t, "read")
	cases := []struct {
		name       string
		target     string
		headers    map[string]string
		wantStatus int
		wantReason string
	}{
		{"traefik uri differs from the proxied path", "/api/authorize/admin/1", map[string]string{"X-Forwarded-Uri": "/public"}, 400, "event_malformed"},
		{"nginx uri differs from the proxied path", "/api/authorize/admin/1", map[string]string{"X-Original-URI": "/public"}, 400, "event_malformed"},
		{"same path with a query is the proxied call", "/api/authorize/admin/1", map[string]string{"X-Forwarded-Uri": "/admin/1?x=1"}, 403, "scope_missing"},
		{"no forward headers: the proxied path", "/api/authorize/admin/1", nil, 403, "scope_missing"},
		{"prefix alone takes the forwarded path", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/admin/1"}, 403, "scope_missing"},
		{"prefix with a slash takes the forwarded path", "/api/authorize/", map[string]string{"X-Forwarded-Uri": "/public"}, 200, "ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := serve(t, h, rawRequest("GET", c.target, c.headers, read))
			if res.status != c.wantStatus || res.body["reason"] != c.wantReason {
				t.Fatalf("status %d reason %v, want %d %s", res.status, res.body["reason"], c.wantStatus, c.wantReason)
			}
		})
	}
}

func TestMethodAndURIComeFromOneHeaderFamily(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		headers    map[string]string
		wantStatus int
		wantMethod string
		wantPath   string
	}{
		{"client traefik method with the proxy's nginx uri is refused", "GET", map[string]string{"X-Forwarded-Method": "GET", "X-Original-URI": "/admin/1", "X-Original-Method": "DELETE"}, 400, "", ""},
		{"client traefik method beside a bare nginx uri is refused", "GET", map[string]string{"X-Forwarded-Method": "DELETE", "X-Original-URI": "/admin/1"}, 400, "", ""},
		{"client nginx method with the proxy's traefik uri is refused", "GET", map[string]string{"X-Original-Method": "GET", "X-Forwarded-Uri": "/admin/1", "X-Forwarded-Method": "DELETE"}, 400, "", ""},
		{"nginx uri without a method takes the request method", "PUT", map[string]string{"X-Original-URI": "/a"}, 200, "PUT", "/a"},
		{"traefik family alone", "GET", map[string]string{"X-Forwarded-Method": "DELETE", "X-Forwarded-Uri": "/a"}, 200, "DELETE", "/a"},
		{"both families describing the same call", "GET", map[string]string{"X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/a", "X-Original-Method": "POST", "X-Original-URI": "/a"}, 200, "POST", "/a"},
		{"families where one lacks the method fall back to the request's", "GET", map[string]string{"X-Forwarded-Uri": "/a", "X-Original-Method": "DELETE", "X-Original-URI": "/a"}, 400, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision}
			h, _ := newTestHandler(f, nil)
			res := serve(t, h, rawRequest(c.method, "/api/authorize", c.headers, "a.b.c"))
			if res.status != c.wantStatus {
				t.Fatalf("status %d, want %d: %v", res.status, c.wantStatus, res.body)
			}
			if c.wantStatus != 200 {
				if f.calls() != 0 {
					t.Error("the core was asked about a mixed call")
				}
				return
			}
			if req := f.last(t); req.Method != c.wantMethod || req.Path != c.wantPath {
				t.Errorf("core saw %s %s, want %s %s", req.Method, req.Path, c.wantMethod, c.wantPath)
			}
		})
	}
}

func TestForwardedHeadersSetting(t *testing.T) {
	both := map[string]string{"X-Forwarded-Method": "DELETE", "X-Forwarded-Uri": "/traefik", "X-Original-Method": "POST", "X-Original-URI": "/nginx"}
	cases := []struct {
		name       string
		mode       ForwardedHeaders
		headers    map[string]string
		wantStatus int
		wantMethod string
		wantPath   string
	}{
		{"auto refuses two families describing different calls", ForwardedAuto, both, 400, "", ""},
		{"traefik reads only X-Forwarded-*", ForwardedTraefik, both, 200, "DELETE", "/traefik"},
		{"nginx reads only X-Original-*", ForwardedNginx, both, 200, "POST", "/nginx"},
		{"none ignores every forward header", ForwardedNone, both, 200, "GET", "/"},
		{"traefik ignores a lone nginx uri", ForwardedTraefik, map[string]string{"X-Original-URI": "/nginx"}, 200, "GET", "/"},
		{"nginx ignores a lone traefik method", ForwardedNginx, map[string]string{"X-Forwarded-Method": "DELETE", "X-Original-URI": "/n"}, 200, "GET", "/n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision}
			h := New(f, nil, nil, WithForwardedHeaders(c.mode))
			res := serve(t, h, rawRequest("GET", "/api/authorize", c.headers, "a.b.c"))
			if res.status != c.wantStatus {
				t.Fatalf("status %d, want %d: %v", res.status, c.wantStatus, res.body)
			}
			if c.wantStatus == 200 {
				if req := f.last(t); req.Method != c.wantMethod || req.Path != c.wantPath {
					t.Errorf("core saw %s %s, want %s %s", req.Method, req.Path, c.wantMethod, c.wantPath)
				}
			}
		})
	}
	t.Run("none at the root decides on the root", func(t *testing.T) {
		f := &fakeDecider{d: missingDecision}
		h := New(f, nil, nil, WithForwardedHeaders(ForwardedNone))
		res := serve(t, h, rawRequest("GET", "/", map[string]string{"X-Forwarded-Uri": "/x"}, ""))
		if res.status != 401 || f.last(t).Path != "/" {
			t.Errorf("status %d path %q", res.status, f.last(t).Path)
		}
	})
}

func TestParseForwardedHeaders(t *testing.T) {
	cases := []struct {
		in   string
		want ForwardedHeaders
		ok   bool
	}{
		{"", ForwardedAuto, true},
		{"auto", ForwardedAuto, true},
		{" Traefik ", ForwardedTraefik, true},
		{"NGINX", ForwardedNginx, true},
		{"none", ForwardedNone, true},
		{"envoy", "", false},
		{"traefik,nginx", "", false},
	}
	for _, c := range cases {
		got, err := ParseForwardedHeaders(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseForwardedHeaders(%q) = %q, %v", c.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "auto, traefik, nginx, none") {
			t.Errorf("error %q does not list the values", err)
		}
	}
}

func TestRootIsADecisionEndpoint(t *testing.T) {
	h := realHandler(t)
	for _, method := range []string{"GET", "HEAD", "POST", "DELETE"} {
		t.Run(method+" / without a token is 401 token_missing", func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, rawRequest(method, "/", nil, ""))
			if w.Code != 401 || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("status %d WWW-Authenticate %q", w.Code, w.Header().Get("WWW-Authenticate"))
			}
			if method != "HEAD" {
				if b := decodeBody(t, w.Body.Bytes()); b["reason"] != "token_missing" || b["allow"] != false {
					t.Errorf("body %v", b)
				}
			}
		})
	}
	t.Run("GET / with a valid token is allowed with the decision", func(t *testing.T) {
		res := serve(t, h, rawRequest("GET", "/", nil, hs256(t, "read")))
		if res.status != 200 || res.body["allow"] != true || res.header.Get("X-Auth-Subject") != "user-1" {
			t.Fatalf("status %d %v", res.status, res.body)
		}
	})
	t.Run("GET / with a bad token is 401", func(t *testing.T) {
		res := serve(t, h, rawRequest("GET", "/", nil, "not-a-jwt"))
		if res.status != 401 || res.body["allow"] != false {
			t.Fatalf("status %d %v", res.status, res.body)
		}
	})
}

func TestHealthzIsLivenessNotADecision(t *testing.T) {
	f := &fakeDecider{d: allowDecision}
	h, _ := newTestHandler(f, nil)
	for _, method := range []string{"GET", "HEAD"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, rawRequest(method, HealthPath, nil, ""))
		if w.Code != 200 || f.calls() != 0 {
			t.Fatalf("%s %s: status %d calls %d", method, HealthPath, w.Code, f.calls())
		}
		if method == "GET" {
			b := decodeBody(t, w.Body.Bytes())
			if b["status"] != "ready" || b["allow"] != nil || w.Header().Get("X-Auth-Subject") != "" {
				t.Errorf("health body %v looks like a decision", b)
			}
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, rawRequest("POST", HealthPath, nil, ""))
	if w.Code != http.StatusMethodNotAllowed || f.calls() != 0 {
		t.Errorf("POST %s: status %d calls %d", HealthPath, w.Code, f.calls())
	}
}

// TestWebSocketSubprotocolTokenIsNeverEchoed: behind a forward-auth proxy,
// a browser WebSocket's handshake carries the token as the protocol after
// the marker; it is accepted, and no answer header or body repeats it.
func TestWebSocketSubprotocolTokenIsNeverEchoed(t *testing.T) {
	env := map[string]string{
		"JWTGATE_HMAC_SECRETS":      base64.StdEncoding.EncodeToString(secTestSecret),
		"JWTGATE_ISSUERS":           secTestIssuer,
		"JWTGATE_AUDIENCES":         secTestAudience,
		"JWTGATE_TOKEN_SUBPROTOCOL": "jwtgate.bearer",
		"JWTGATE_WARMUP_TIMEOUT":    "0",
	}
	c, err := core.FromEnv(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h := New(c, c.Config(), nil)
	tok := hs256(t, "chat")
	for _, tc := range []struct {
		protocols string
		status    int
	}{
		{"jwtgate.bearer, " + tok, http.StatusOK},
		{"graphql-ws, jwtgate.bearer, " + tok[:len(tok)-2], http.StatusUnauthorized},
		{"jwtgate.bearer", http.StatusUnauthorized},
	} {
		r := rawRequest(http.MethodGet, ProxyPrefix+"/chat", map[string]string{"Sec-WebSocket-Protocol": tc.protocols, "Upgrade": "websocket"}, "")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Fatalf("%q: status %d, want %d: %s", tc.protocols, w.Code, tc.status, w.Body.String())
		}
		dump := fmt.Sprint(w.Header()) + w.Body.String()
		if strings.Contains(dump, tok[:len(tok)-2]) || strings.Contains(dump, strings.Split(tok, ".")[2]) {
			t.Fatalf("the answer repeats the token: %s", dump)
		}
	}
}
