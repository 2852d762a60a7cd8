package customhandler

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// fakeDecider answers a fixed decision and records what it was asked.
type fakeDecider struct {
	mu   sync.Mutex // guards reqs
	reqs []*decision.Request
	d    decision.Decision
	pan  bool
}

func (f *fakeDecider) Decide(_ context.Context, r *decision.Request) decision.Decision {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.mu.Unlock()
	if f.pan {
		panic("boom")
	}
	return f.d
}

func (f *fakeDecider) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

func (f *fakeDecider) last(t *testing.T) *decision.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("decider was not called")
	}
	return f.reqs[len(f.reqs)-1]
}

var (
	allowDecision = decision.Decision{
		Outcome: decision.Allow, Reason: decision.ReasonOK, Principal: "user-1", Issuer: "https://issuer.example/",
		Claims: decision.ClaimsOf(map[string]any{"sub": "user-1", "scope": "read write", "tenant": "t1"}),
	}
	expiredDecision   = decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenExpired, Detail: `token expired "5m" ago`}
	missingDecision   = decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenMissing, Detail: "no bearer token"}
	forbiddenDecision = decision.Decision{Outcome: decision.Forbidden, Reason: decision.ScopeMissing, Detail: "scope missing", MissingScopes: []string{"orders:write", "admin"}, Principal: "user-1"}
	unavailDecision   = decision.Decision{Outcome: decision.Unavailable, Reason: decision.KeysUnavailable, Detail: "no usable keys"}
)

func newTestHandler(d *fakeDecider, cfg *config.Config) (*Handler, *bytes.Buffer) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	return New(d, cfg, logger), &logs
}

// exchange is one request driven through the handler in a given shape,
// with the answer as the caller would see it.
type result struct {
	status int
	header http.Header
	body   map[string]any
}

func decodeBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, b)
	}
	return m
}

// shapes drive the same protected call (GET /orders/42?x=1) in every way
// the handler can receive it.
var shapes = []struct {
	name  string
	shape string
	do    func(t *testing.T, h http.Handler, authz string) result
}{
	{"proxied by the Functions host", ShapeProxy, func(t *testing.T, h http.Handler, authz string) result {
		r := httptest.NewRequest(http.MethodGet, "/api/authorize/orders/42?x=1", nil)
		setAuthz(r.Header, authz)
		r.Header.Set(InvocationIDHeader, "inv-1")
		return serve(t, h, r)
	}},
	{"Traefik forwardAuth", ShapeForwardAuth, func(t *testing.T, h http.Handler, authz string) result {
		r := httptest.NewRequest(http.MethodGet, "/api/authorize", nil)
		setAuthz(r.Header, authz)
		r.Header.Set("X-Forwarded-Method", "GET")
		r.Header.Set("X-Forwarded-Uri", "/orders/42?x=1")
		r.Header.Set("X-Forwarded-Host", "api.example")
		return serve(t, h, r)
	}},
	{"nginx auth_request", ShapeForwardAuth, func(t *testing.T, h http.Handler, authz string) result {
		r := httptest.NewRequest(http.MethodGet, "/api/authorize", nil)
		setAuthz(r.Header, authz)
		r.Header["X-Original-URI"] = []string{"/orders/42?x=1"} // as nginx spells it
		r.Header.Set("X-Original-Method", "GET")
		return serve(t, h, r)
	}},
	{"Envoy ext_authz with path_prefix", ShapeProxy, func(t *testing.T, h http.Handler, authz string) result {
		r := httptest.NewRequest(http.MethodGet, "/api/authorize/orders/42?x=1", nil)
		setAuthz(r.Header, authz)
		r.Header.Set("X-Envoy-Expected-Rq-Timeout-Ms", "2000")
		r.Header.Set("Content-Length", "0")
		return serve(t, h, r)
	}},
	{"invocation payload", ShapeInvocation, func(t *testing.T, h http.Handler, authz string) result {
		headers := map[string][]string{"Host": {"app.azurewebsites.net"}}
		if authz != "" {
			headers["Authorization"] = []string{authz}
		}
		p := map[string]any{
			"Data": map[string]any{"req": map[string]any{
				"Url": "https://app.azurewebsites.net/api/authorize/orders/42?x=1", "Method": "GET",
				"Query": map[string]string{"x": "1"}, "Headers": headers,
				"Params": map[string]string{"path": "orders/42"}, "Body": "",
			}},
			"Metadata": map[string]any{"sys": map[string]any{"MethodName": "authorize"}},
		}
		return invoke(t, h, p)
	}},
}

func setAuthz(h http.Header, v string) {
	if v != "" {
		h.Set("Authorization", v)
	}
}

func serve(t *testing.T, h http.Handler, r *http.Request) result {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return result{status: w.Code, header: w.Header(), body: decodeBody(t, w.Body.Bytes())}
}

// invoke posts an invocation payload as the host does and unwraps
// Outputs.res into what the caller would receive.
func invoke(t *testing.T, h http.Handler, payload any) result {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/authorize", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(InvocationIDHeader, "inv-2")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("invocation answered %d, want 200 (the host needs a 2xx): %s", w.Code, w.Body)
	}
	var resp InvocationResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("invocation response: %v", err)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(w.Body.Bytes(), &raw)
	if string(raw["ReturnValue"]) != "null" || raw["Logs"] == nil {
		t.Fatalf("invocation response lacks Logs or ReturnValue null: %s", w.Body)
	}
	hdr := http.Header{}
	for k, v := range resp.Outputs.Res.Headers {
		hdr.Set(k, v)
	}
	return result{status: resp.Outputs.Res.StatusCode, header: hdr, body: decodeBody(t, []byte(resp.Outputs.Res.Body))}
}

func TestEveryShapeAnswersEveryOutcome(t *testing.T) {
	outcomes := []struct {
		name   string
		d      decision.Decision
		authz  string
		status int
		check  func(t *testing.T, r result)
	}{
		{"allow answers 200 with identity headers and claims", allowDecision, "Bearer a.b.c", 200, func(t *testing.T, r result) {
			if r.body["allow"] != true || r.body["principal"] != "user-1" || r.body["reason"] != "ok" {
				t.Errorf("body = %v", r.body)
			}
			if c, _ := r.body["claims"].(map[string]any); c["tenant"] != "t1" {
				t.Errorf("claims = %v", r.body["claims"])
			}
			if got := r.header.Get("X-Auth-Subject"); got != "user-1" {
				t.Errorf("X-Auth-Subject = %q", got)
			}
			if got := r.header.Get("X-Auth-Scopes"); got != "read write" {
				t.Errorf("X-Auth-Scopes = %q", got)
			}
			if got := r.header.Get("X-Auth-Issuer"); got != "https://issuer.example/" {
				t.Errorf("X-Auth-Issuer = %q", got)
			}
			if r.header.Get("WWW-Authenticate") != "" {
				t.Error("allow carries WWW-Authenticate")
			}
		}},
		{"expired token answers 401 invalid_token", expiredDecision, "Bearer a.b.c", 401, func(t *testing.T, r result) {
			want := `Bearer realm="jwtgate", error="invalid_token", error_description="token expired '5m' ago"`
			if got := r.header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			if r.body["allow"] != false || r.body["reason"] != "token_expired" || r.body["error"] != "invalid_token" {
				t.Errorf("body = %v", r.body)
			}
		}},
		{"missing token answers 401 without an error code", missingDecision, "", 401, func(t *testing.T, r result) {
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="jwtgate"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if r.body["reason"] != "token_missing" {
				t.Errorf("body = %v", r.body)
			}
		}},
		{"missing scope answers 403 insufficient_scope", forbiddenDecision, "Bearer a.b.c", 403, func(t *testing.T, r result) {
			want := `Bearer realm="jwtgate", error="insufficient_scope", error_description="scope missing", scope="orders:write admin"`
			if got := r.header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			if r.body["reason"] != "scope_missing" || r.body["allow"] != false {
				t.Errorf("body = %v", r.body)
			}
			if r.header.Get("X-Auth-Subject") != "" {
				t.Error("a denial carries identity headers")
			}
		}},
		{"no keys answers 503 with Retry-After", unavailDecision, "Bearer a.b.c", 503, func(t *testing.T, r result) {
			if got := r.header.Get("Retry-After"); got != "5" {
				t.Errorf("Retry-After = %q", got)
			}
			if r.body["reason"] != "keys_unavailable" || r.body["outcome"] != "unavailable" {
				t.Errorf("body = %v", r.body)
			}
		}},
	}
	for _, s := range shapes {
		for _, o := range outcomes {
			t.Run(s.name+"/"+o.name, func(t *testing.T) {
				f := &fakeDecider{d: o.d}
				h, logs := newTestHandler(f, nil)
				r := s.do(t, h, o.authz)
				if r.status != o.status {
					t.Fatalf("status = %d, want %d (%v)", r.status, o.status, r.body)
				}
				if got := r.header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q", got)
				}
				if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
					t.Errorf("Content-Type = %q", r.header.Get("Content-Type"))
				}
				o.check(t, r)
				req := f.last(t)
				if req.Method != "GET" || req.Path != "/orders/42" || req.Query.Get("x") != "1" {
					t.Errorf("core saw %s %s ?%v, want GET /orders/42 ?x=1", req.Method, req.Path, req.Query)
				}
				if got := req.Header.Get("Authorization"); got != o.authz {
					t.Errorf("core saw Authorization %q, want %q", got, o.authz)
				}
				var line map[string]any
				if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
					t.Fatalf("log is not one JSON line: %q", logs.String())
				}
				if line["platform"] != Platform || line["shape"] != s.shape || line["reason"] != string(o.d.Reason) {
					t.Errorf("log line = %v", line)
				}
				if o.authz != "" && strings.Contains(logs.String(), o.authz[len("Bearer "):]) {
					t.Error("the token was logged")
				}
			})
		}
	}
}

func TestInvocationIDIsLogged(t *testing.T) {
	f := &fakeDecider{d: allowDecision}
	h, logs := newTestHandler(f, nil)
	shapes[0].do(t, h, "Bearer x.y.z")
	if !strings.Contains(logs.String(), `"invocation_id":"inv-1"`) {
		t.Errorf("log = %s", logs)
	}
}

func TestForwardedHeadersGiveTheOriginalCall(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		target     string
		headers    map[string]string
		wantMethod string
		wantPath   string
		wantQuery  string
	}{
		{"traefik method and uri", "GET", "/api/authorize", map[string]string{"X-Forwarded-Method": "delete", "X-Forwarded-Uri": "/orders/7?force=1"}, "DELETE", "/orders/7", "force=1"},
		{"nginx method and uri", "GET", "/api/authorize", map[string]string{"X-Original-Method": "POST", "X-Original-URI": "/admin/users"}, "POST", "/admin/users", ""},
		{"uri without method takes the request method", "PUT", "/api/authorize", map[string]string{"X-Original-URI": "/a"}, "PUT", "/a", ""},
		{"both families agreeing", "GET", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/a", "X-Original-URI": "/a", "X-Forwarded-Method": "GET", "X-Original-Method": "GET"}, "GET", "/a", ""},
		{"keys in any case (a header built by hand)", "GET", "/api/authorize", map[string]string{"x-forwarded-uri": "/a?b=1", "X-FORWARDED-METHOD": "put"}, "PUT", "/a", "b=1"},
		{"look-alike keys of other lengths are ignored", "GET", "/api/authorize", map[string]string{"X-Forwarded-Uris": "/x", "X-Forwarded_Uri": "/y", "X-Original-Uri-": "/z"}, "GET", "/", ""},
		{"dot segments are passed as sent", "GET", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/public/../admin/x"}, "GET", "/public/../admin/x", ""},
		{"encoded dot segments are passed as sent", "GET", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/public/%2e%2e/admin"}, "GET", "/public/%2e%2e/admin", ""},
		{"absolute uri", "GET", "/api/authorize", map[string]string{"X-Forwarded-Uri": "https://api.example/v1/x?q=2"}, "GET", "/v1/x", "q=2"},
		{"trailing slash kept", "GET", "/api/authorize", map[string]string{"X-Forwarded-Uri": "/v1/"}, "GET", "/v1/", ""},
		{"forward-auth at the root", "GET", "/", map[string]string{"X-Forwarded-Uri": "/v1/x", "X-Forwarded-Method": "PATCH"}, "PATCH", "/v1/x", ""},
		{"proxied path after the prefix", "DELETE", "/api/authorize/orders/42", nil, "DELETE", "/orders/42", ""},
		{"proxied prefix alone is the root", "GET", "/api/authorize", nil, "GET", "/", ""},
		{"proxied prefix in another case", "GET", "/API/Authorize/x", nil, "GET", "/x", ""},
		{"proxied dot segments are passed as sent", "GET", "/api/authorize/a/../../b", nil, "GET", "/a/../../b", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision}
			h, _ := newTestHandler(f, nil)
			r := httptest.NewRequest(c.method, c.target, nil)
			for k, v := range c.headers {
				r.Header[k] = []string{v}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			req := f.last(t)
			if req.Method != c.wantMethod || req.Path != c.wantPath || req.Query.Encode() != c.wantQuery {
				t.Errorf("core saw %s %s ?%s, want %s %s ?%s", req.Method, req.Path, req.Query.Encode(), c.wantMethod, c.wantPath, c.wantQuery)
			}
		})
	}
}

func TestAmbiguousOrMalformedForwardedHeadersAre400(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string][]string
	}{
		{"families disagree on the uri", map[string][]string{"X-Forwarded-Uri": {"/public"}, "X-Original-Uri": {"/admin"}}},
		{"families disagree on the method", map[string][]string{"X-Forwarded-Uri": {"/a"}, "X-Forwarded-Method": {"GET"}, "X-Original-Method": {"DELETE"}}},
		{"repeated uri header", map[string][]string{"X-Forwarded-Uri": {"/public", "/admin"}}},
		{"uri header repeated in another case", map[string][]string{"X-Forwarded-Uri": {"/public"}, "x-forwarded-uri": {"/public"}}},
		{"nginx method repeated in another case", map[string][]string{"X-Original-URI": {"/a"}, "X-Original-Method": {"GET"}, "x-original-METHOD": {"GET"}}},
		{"lower-case families disagree", map[string][]string{"x-forwarded-uri": {"/public"}, "x-original-uri": {"/admin"}}},
		{"method without uri", map[string][]string{"X-Forwarded-Method": {"GET"}}},
		{"relative uri", map[string][]string{"X-Forwarded-Uri": {"orders"}}},
		{"invalid method", map[string][]string{"X-Forwarded-Uri": {"/a"}, "X-Forwarded-Method": {"GE T"}}},
		{"control character in path", map[string][]string{"X-Forwarded-Uri": {"/a%00b"}}},
		{"invalid query", map[string][]string{"X-Forwarded-Uri": {"/a?x=%zz"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision}
			h, _ := newTestHandler(f, nil)
			r := httptest.NewRequest("GET", "/api/authorize", nil)
			r.Header.Set("Authorization", "Bearer a.b.c")
			for k, v := range c.headers {
				r.Header[k] = v
			}
			res := serve(t, h, r)
			if res.status != 400 {
				t.Fatalf("status = %d, want 400", res.status)
			}
			if res.body["reason"] != "event_malformed" || res.body["allow"] != false {
				t.Errorf("body = %v", res.body)
			}
			if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), `Bearer realm="jwtgate", error="invalid_request"`) {
				t.Errorf("WWW-Authenticate = %q", res.header.Get("WWW-Authenticate"))
			}
			if f.calls() != 0 {
				t.Error("the core was asked about an ambiguous call")
			}
		})
	}
}

func TestMalformedInvocationPayloadsAre400(t *testing.T) {
	cases := []struct{ name, payload string }{
		{"empty body", ``},
		{"not JSON", `hello`},
		{"truncated", `{"Data":{"req":{"Url":`},
		{"array", `[]`},
		{"no Data.req", `{"Data":{},"Metadata":{}}`},
		{"req is a string", `{"Data":{"req":"GET /"}}`},
		{"headers are a string", `{"Data":{"req":{"Url":"http://h/api/authorize","Method":"GET","Headers":"Authorization: x"}}}`},
		{"header value is a number", `{"Data":{"req":{"Url":"http://h/api/authorize","Method":"GET","Headers":{"Authorization":[1]}}}}`},
		{"invalid header name", `{"Data":{"req":{"Url":"http://h/api/authorize","Method":"GET","Headers":{"Bad Name":["x"]}}}}`},
		{"no method", `{"Data":{"req":{"Url":"http://h/api/authorize"}}}`},
		{"no url nor params", `{"Data":{"req":{"Method":"GET"}}}`},
		{"url outside the function", `{"Data":{"req":{"Url":"http://h/api/other","Method":"GET"}}}`},
		{"trailing data", `{"Data":{"req":{"Url":"http://h/api/authorize","Method":"GET"}}} {}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision}
			h, logs := newTestHandler(f, nil)
			r := httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(c.payload))
			res := serve(t, h, r)
			if res.status != 400 {
				t.Fatalf("status = %d, want 400: %v", res.status, res.body)
			}
			if res.body["reason"] != "event_malformed" || res.body["allow"] != false || res.body["detail"] == "" {
				t.Errorf("body = %v", res.body)
			}
			if f.calls() != 0 {
				t.Error("the core was asked about a malformed payload")
			}
			if !strings.Contains(logs.String(), `"reason":"event_malformed"`) {
				t.Errorf("no decision log line: %s", logs)
			}
		})
	}
}

// TestInvocationBodyIsReadThroughNotKept: the caller's body inside an
// invocation payload, whatever its size, is skipped as it streams by: the
// decision is made on the headers and memory does not grow with the body.
func TestInvocationBodyIsReadThroughNotKept(t *testing.T) {
	const bodySize = 100 << 20
	mib := strings.Repeat("a", 1<<20)
	payload := func() io.Reader {
		rs := []io.Reader{strings.NewReader(`{"Metadata":{"sys":{"MethodName":"authorize"},"Body":"x"},"Data":{"req":{"Url":"http://h/api/authorize/orders","Method":"POST","Body":"`)}
		for range bodySize >> 20 { // streamed, one MiB held
			rs = append(rs, strings.NewReader(mib))
		}
		rs = append(rs, strings.NewReader(`","Headers":{"Authorization":["Bearer tok"]},"Identities":[{"a":[1,2,{"b":null}]}],"RawBody":{"nested":[true,false,-1.5e3]}},"other":"y"}}`))
		return io.MultiReader(rs...)
	}
	f := &fakeDecider{d: allowDecision}
	h, _ := newTestHandler(f, nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := serve(t, h, httptest.NewRequest(http.MethodPost, "/authorize", payload()))
	runtime.ReadMemStats(&after)
	if res.status != 200 || res.body["Outputs"] == nil {
		t.Fatalf("status = %d, body %v", res.status, res.body)
	}
	req := f.last(t)
	if req.Path != "/orders" || req.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("core saw %s with %v", req.Path, req.Header)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("decoding a payload with a %d-byte body allocated %d bytes; the body must not be kept", bodySize, grew)
	}
}

// TestInvocationOversizedRequestPartsGetADecision: headers beyond
// MaxRequestPartsBytes are a well-formed invocation: answered 200 with a
// 401 token_too_large in Outputs.res, without asking the core.
func TestInvocationOversizedRequestPartsGetADecision(t *testing.T) {
	f := &fakeDecider{d: allowDecision}
	h, logs := newTestHandler(f, nil)
	big := `{"Data":{"req":{"Url":"http://h/api/authorize","Method":"GET","Headers":{"Authorization":["Bearer ` + strings.Repeat("a", MaxRequestPartsBytes) + `"]}}}}`
	res := serve(t, h, httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(big)))
	out, _ := res.body["Outputs"].(map[string]any)
	rs, _ := out["res"].(map[string]any)
	if res.status != 200 || rs == nil || rs["statusCode"] != float64(401) || !strings.Contains(rs["body"].(string), `"reason":"token_too_large"`) {
		t.Fatalf("status = %d, body %v", res.status, res.body)
	}
	if f.calls() != 0 {
		t.Error("the core was asked about an oversized request")
	}
	if !strings.Contains(logs.String(), `"reason":"token_too_large"`) {
		t.Errorf("no decision log line: %s", logs)
	}
}

func TestInvocationPathAndQuery(t *testing.T) {
	cases := []struct {
		name      string
		req       map[string]any
		wantPath  string
		wantQuery string
	}{
		{"url path wins over the decoded params", map[string]any{"Url": "http://h/api/authorize/x%2Fy", "Method": "GET", "Params": map[string]string{"path": "x/y"}}, "/x%2Fy", ""},
		{"params path when the url is outside the default route prefix", map[string]any{"Url": "http://h/authorize/orders/1?q=1", "Method": "GET", "Params": map[string]string{"path": "orders/1"}}, "/orders/1", "q=1"},
		{"relative url", map[string]any{"Url": "/api/authorize/a", "Method": "GET"}, "/a", ""},
		{"empty params is the root", map[string]any{"Url": "http://h/api/authorize", "Method": "GET", "Params": map[string]string{}}, "/", ""},
		{"url path without params", map[string]any{"Url": "http://h/api/authorize/a/b?q=1", "Method": "GET"}, "/a/b", "q=1"},
		{"query object merged", map[string]any{"Url": "http://h/api/authorize", "Method": "GET", "Query": map[string]any{"t": "v", "m": []string{"1", "2"}}}, "/", "m=1&m=2&t=v"},
		{"forward headers inside the payload", map[string]any{"Url": "http://h/api/authorize", "Method": "GET", "Headers": map[string][]string{"X-Forwarded-Uri": {"/fw?z=9"}}}, "/fw", "z=9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision}
			h, _ := newTestHandler(f, nil)
			invoke(t, h, map[string]any{"Data": map[string]any{"req": c.req}})
			req := f.last(t)
			if req.Path != c.wantPath || req.Query.Encode() != c.wantQuery {
				t.Errorf("core saw %s ?%s, want %s ?%s", req.Path, req.Query.Encode(), c.wantPath, c.wantQuery)
			}
		})
	}
}

func TestFailedValidationStatusAndMessageFromAPIM(t *testing.T) {
	cfg := config.Default()
	cfg.FailedStatus = 419
	cfg.FailedMessage = `Access "denied"`
	cases := []struct {
		name       string
		d          decision.Decision
		wantStatus int
		wantDetail string
	}{
		{"unauthenticated uses the configured status and message", expiredDecision, 419, `Access "denied"`},
		{"forbidden keeps 403", forbiddenDecision, 403, "scope missing"},
		{"unavailable keeps 503", unavailDecision, 503, "no usable keys"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, _ := newTestHandler(&fakeDecider{d: c.d}, cfg)
			res := shapes[0].do(t, h, "Bearer a.b.c")
			if res.status != c.wantStatus || res.body["detail"] != c.wantDetail {
				t.Errorf("got %d %v, want %d %q", res.status, res.body["detail"], c.wantStatus, c.wantDetail)
			}
		})
	}
}

func TestFailedStatusThatWouldAllowIsIgnored(t *testing.T) {
	for _, st := range []int{200, 204, 302, 0, 999} {
		cfg := config.Default()
		cfg.FailedStatus = st
		h, _ := newTestHandler(&fakeDecider{d: expiredDecision}, cfg)
		if res := shapes[0].do(t, h, "Bearer a.b.c"); res.status != 401 {
			t.Errorf("FailedStatus %d: answered %d, want 401", st, res.status)
		}
	}
}

func TestChallengeValuesCannotBreakTheHeader(t *testing.T) {
	d := decision.Decision{Outcome: decision.Forbidden, Reason: decision.ClaimMissing,
		Detail:        "bad \"quote\" \\ back\r\nInjected: yes é",
		MissingScopes: []string{`a"b`, "ok", "sp ace", ""}}
	h, _ := newTestHandler(&fakeDecider{d: d}, nil)
	res := shapes[0].do(t, h, "Bearer a.b.c")
	want := `Bearer realm="jwtgate", error="insufficient_scope", error_description="bad 'quote' / back??Injected: yes ?", scope="ok"`
	if got := res.header.Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}

func TestClaimHeadersAreConfigurableAndSafe(t *testing.T) {
	cfg := config.Default()
	cfg.ClaimHeaders = map[string]string{"tenant": "X-Tenant", "n": "X-N", "sub": "bad header", "admin": "X-Admin"}
	d := allowDecision
	d.Claims = decision.ClaimsOf(map[string]any{"tenant": "t1\r\nX-Evil: 1", "n": float64(42), "admin": true})
	h, _ := newTestHandler(&fakeDecider{d: d}, cfg)
	res := shapes[0].do(t, h, "Bearer a.b.c")
	if got := res.header.Get("X-Tenant"); got != "t1X-Evil: 1" {
		t.Errorf("X-Tenant = %q", got)
	}
	if res.header.Get("X-N") != "42" || res.header.Get("X-Admin") != "true" {
		t.Errorf("headers = %v", res.header)
	}
	if res.header.Get("X-Evil") != "" || res.header.Get("X-Auth-Subject") != "" {
		t.Errorf("unexpected headers = %v", res.header)
	}
}

func TestReadinessProbeAndOtherPaths(t *testing.T) {
	cases := []struct {
		name, method, target string
		header               map[string]string
		wantStatus           int
		wantCalls            int
	}{
		{"GET / is a decision (the host's ping takes any answer)", "GET", "/", nil, 401, 1},
		{"HEAD / is a decision", "HEAD", "/", nil, 401, 1},
		{"POST / is a decision", "POST", "/", nil, 401, 1},
		{"GET / with forward-auth headers is a decision", "GET", "/", map[string]string{"X-Forwarded-Uri": "/x"}, 401, 1},
		{"GET /healthz is liveness", "GET", "/healthz", nil, 200, 0},
		{"HEAD /healthz is liveness", "HEAD", "/healthz", nil, 200, 0},
		{"/healthz with forward-auth headers is still no decision", "GET", "/healthz", map[string]string{"X-Forwarded-Uri": "/x"}, 200, 0},
		{"/healthz below is 404", "GET", "/healthz/x", nil, 404, 0},
		{"encoded prefix is 404", "GET", "/api/authoriz%65/x", nil, 404, 0},
		{"unknown path is 404", "GET", "/api/other", nil, 404, 0},
		{"prefix look-alike is 404", "GET", "/api/authorizex", nil, 404, 0},
		{"invocation endpoint takes only POST", "GET", "/authorize", nil, 405, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDecider{d: expiredDecision}
			h, _ := newTestHandler(f, nil)
			r := httptest.NewRequest(c.method, c.target, nil)
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.wantStatus || f.calls() != c.wantCalls {
				t.Errorf("status %d calls %d, want %d %d", w.Code, f.calls(), c.wantStatus, c.wantCalls)
			}
			if w.Code != 200 && c.method != "HEAD" {
				decodeBody(t, w.Body.Bytes())
			}
		})
	}
}

func TestDeciderPanicIsUnavailableNotACrash(t *testing.T) {
	h, _ := newTestHandler(&fakeDecider{pan: true}, nil)
	for _, s := range shapes {
		if res := s.do(t, h, "Bearer a.b.c"); res.status != 503 {
			t.Errorf("%s: status %d, want 503", s.name, res.status)
		}
	}
}

func TestNilDeciderNeverAllows(t *testing.T) {
	h := New(nil, nil, nil)
	if res := shapes[0].do(t, h, "Bearer a.b.c"); res.status != 503 {
		t.Errorf("status %d, want 503", res.status)
	}
}

func TestConcurrentRequestsShareTheHandler(t *testing.T) {
	f := &fakeDecider{d: allowDecision}
	h, _ := newTestHandler(f, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp *http.Response
			var err error
			if i%2 == 0 {
				req, _ := http.NewRequest("GET", srv.URL+"/api/authorize/orders", nil)
				req.Header.Set("Authorization", "Bearer a.b.c")
				resp, err = srv.Client().Do(req)
			} else {
				resp, err = srv.Client().Post(srv.URL+"/authorize", "application/json",
					strings.NewReader(`{"Data":{"req":{"Url":"http://h/api/authorize/orders","Method":"GET","Headers":{"Authorization":["Bearer a.b.c"]}}}}`))
			}
			if err != nil {
				errs <- err.Error()
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- resp.Status
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if f.calls() != 200 {
		t.Errorf("calls = %d", f.calls())
	}
}
