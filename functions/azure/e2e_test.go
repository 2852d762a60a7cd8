package main

// End-to-end tests: the real handler binary, laid out as the Functions
// package (host.json at the root, authorize/function.json, the executable
// named by defaultExecutablePath), started with FUNCTIONS_CUSTOMHANDLER_PORT
// against a loopback issuer, and driven over HTTP exactly as the Functions
// host drives it (readiness probe, proxied requests, invocation payloads,
// X-Azure-Functions-InvocationId) and as forward-auth proxies do.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/localrun"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// packageDir is the Functions package built once for all tests: host.json,
// authorize/function.json and the handler binary.
var (
	buildOnce  sync.Once
	packageDir string
	buildErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if packageDir != "" {
		os.RemoveAll(packageDir)
	}
	os.Exit(code)
}

// functionPackage builds the binary and lays out the package as it is
// zipped for deployment.
func functionPackage(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the handler binary")
	}
	root := localruntest.Root(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jwtgate-azure-")
		if err != nil {
			buildErr = err
			return
		}
		packageDir = dir
		err = localrun.GoBuild(context.Background(), localrun.Build{Dir: root, Pkg: "./functions/azure", Out: filepath.Join(dir, binaryName), Flags: []string{"-trimpath"}})
		if err != nil {
			buildErr = err
			return
		}
		copyFile := func(src, dst string) {
			b, err := os.ReadFile(src)
			if err == nil {
				err = os.MkdirAll(filepath.Dir(dst), 0o755)
			}
			if err == nil {
				err = os.WriteFile(dst, b, 0o644)
			}
			if err != nil && buildErr == nil {
				buildErr = err
			}
		}
		copyFile(filepath.Join(root, "host.json"), filepath.Join(dir, "host.json"))
		fn := customhandler.FunctionName
		copyFile(filepath.Join(root, "functions", "azure", fn, "function.json"), filepath.Join(dir, fn, "function.json"))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return packageDir
}

// proc is one running handler process.
type proc struct {
	*localrun.Proc
	t    *testing.T
	base string

	mu     sync.Mutex // guards stdout and stderr
	stdout bytes.Buffer
	stderr bytes.Buffer
	lines  chan string // stdout lines, for waiting on the "listening" record; closed at exit
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String() + p.stderr.String()
}

// startHandler runs the package's executable as the host does: from the
// package root (the working directory), with the port in
// FUNCTIONS_CUSTOMHANDLER_PORT and the app settings in the environment.
func startHandler(t *testing.T, env map[string]string) *proc {
	t.Helper()
	dir := functionPackage(t)
	port := localruntest.FreePort(t)
	cmd := exec.Command(filepath.Join(dir, binaryName))
	cmd.Dir = dir
	cmd.Env = []string{"FUNCTIONS_CUSTOMHANDLER_PORT=" + strconv.Itoa(port), "FUNCTIONS_WORKER_RUNTIME=custom"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{t: t, base: "http://127.0.0.1:" + strconv.Itoa(port), lines: make(chan string, 1024)}
	cmd.Stdout = localrun.Lines(func(line []byte) {
		p.mu.Lock()
		p.stdout.Write(line)
		p.stdout.WriteByte('\n')
		p.mu.Unlock()
		select {
		case p.lines <- string(line):
		default:
		}
	})
	cmd.Stderr = localrun.Lines(func(line []byte) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.stderr.Write(line)
		p.stderr.WriteByte('\n')
	})
	var err error
	if p.Proc, err = localrun.Start(cmd); err != nil {
		t.Fatal(err)
	}
	go func() {
		<-p.Exited() // no line comes after
		close(p.lines)
	}()
	t.Cleanup(func() {
		_ = p.Stop(nil, 0)
		if t.Failed() {
			t.Logf("handler output:\n%s", p.logs())
		}
	})
	return p
}

// waitFor waits until a stdout record has msg (bounded); false if the
// process exits first.
func (p *proc) waitFor(msg string) bool {
	p.t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return false
			}
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
				return true
			}
		case <-timeout.C:
			p.t.Fatalf("no %q record within 30s", msg)
		}
	}
}

// waitExit waits for the process to exit (bounded) and returns its code.
func (p *proc) waitExit() int {
	p.t.Helper()
	select {
	case <-p.Exited():
	case <-time.After(30 * time.Second):
		p.t.Fatal("handler did not exit within 30s")
	}
	var ee *exec.ExitError
	if errors.As(p.Err(), &ee) {
		return ee.ExitCode()
	}
	if err := p.Err(); err != nil {
		p.t.Fatal(err)
	}
	return 0
}

// ready waits for the listener and checks the host's readiness ping (GET
// /) gets an answer: any status will do for the host, and "/" is a
// decision endpoint, so it is never an unconditional 200.
func (p *proc) ready() {
	p.t.Helper()
	if !p.waitFor("listening") {
		p.t.Fatalf("handler exited before listening:\n%s", p.logs())
	}
	resp, err := http.Get(p.base + "/")
	if err != nil {
		p.t.Fatalf("GET /: %v (the host needs an answer)", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := decodeReply(p.t, resp.StatusCode, resp.Header, b)
	if r.status == 200 || r.body["allow"] != false {
		p.t.Fatalf("GET / without a token = %d %v, want a denial", r.status, r.body)
	}
}

var client = &http.Client{Timeout: 20 * time.Second}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func decodeReply(t *testing.T, status int, h http.Header, b []byte) reply {
	t.Helper()
	r := reply{status: status, header: h}
	if err := json.Unmarshal(b, &r.body); err != nil {
		t.Fatalf("status %d: body is not JSON: %q", status, b)
	}
	return r
}

// proxied sends the caller's request as the host proxies it.
func (p *proc) proxied(t *testing.T, method, path, token string, headers map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, p.base+customhandler.ProxyPrefix+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set(customhandler.InvocationIDHeader, "e2e-"+method+path)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return sendJSON(t, req)
}

// sendJSON sends req and decodes the JSON reply.
func sendJSON(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return decodeReply(t, resp.StatusCode, resp.Header, b)
}

// invoked sends the host's invocation payload and unwraps Outputs.res.
func (p *proc) invoked(t *testing.T, method, path, token string) reply {
	t.Helper()
	headers := map[string][]string{"Host": {"app.azurewebsites.net"}, "User-Agent": {"e2e"}}
	if token != "" {
		headers["Authorization"] = []string{"Bearer " + token}
	}
	payload, _ := json.Marshal(map[string]any{
		"Data": map[string]any{"req": map[string]any{
			"Url": "https://app.azurewebsites.net" + customhandler.ProxyPrefix + path, "Method": method,
			"Query": map[string]string{}, "Headers": headers,
			"Params": map[string]string{"path": strings.TrimPrefix(unescape(path), "/")}, "Identities": []any{},
		}},
		"Metadata": map[string]any{"sys": map[string]any{"MethodName": "authorize", "UtcNow": time.Now().UTC().Format(time.RFC3339)}},
	})
	return p.invoke(t, bytes.NewReader(payload))
}

// invoke posts an invocation payload as the host does and unwraps
// Outputs.res (the host needs a 2xx answer).
func (p *proc) invoke(t *testing.T, payload io.Reader) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.base+customhandler.InvocationPath, payload)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(customhandler.InvocationIDHeader, "e2e-invocation")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("invocation answered %d (the host needs 2xx): %s", resp.StatusCode, b)
	}
	var out customhandler.InvocationResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range out.Outputs.Res.Headers {
		h.Set(k, v)
	}
	return decodeReply(t, out.Outputs.Res.StatusCode, h, []byte(out.Outputs.Res.Body))
}

// unescape is the path as the host's route parameter carries it (decoded).
func unescape(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

const audience = "api://jwtgate-e2e"

func startIssuer(t *testing.T) *devissuer.Issuer {
	t.Helper()
	iss, err := devissuer.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { iss.Close() })
	return iss
}

func mint(t *testing.T, iss *devissuer.Issuer, claims map[string]any) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{"sub": "user-42", "aud": audience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": "orders:read"}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	tok, err := iss.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// gateEnv is the app settings for a handler trusting iss, with a policy
// file holding route rules.
func gateEnv(t *testing.T, iss *devissuer.Issuer) map[string]string {
	t.Helper()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	err := os.WriteFile(policy, []byte(`required_scopes: [orders:read]
routes:
  - method: DELETE
    path: /orders/*
    scopes: [orders:admin]
  - method: GET
    path: /admin/{id}
    scopes: [orders:admin]
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":     audience,
		"JWTGATE_POLICY_FILE":   policy,
	}
}

func TestHandlerBinaryAnswersLikeTheFunctionsHostExpects(t *testing.T) {
	iss := startIssuer(t)
	p := startHandler(t, gateEnv(t, iss))
	p.ready()

	good := mint(t, iss, nil)
	admin := mint(t, iss, map[string]any{"scope": "orders:read orders:admin"})
	expired := mint(t, iss, map[string]any{"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
	otherAud := mint(t, iss, map[string]any{"aud": "api://someone-else"})
	noScope := mint(t, iss, map[string]any{"scope": "profile"})

	type send func(t *testing.T, method, path, token string) reply
	modes := map[string]send{
		"proxy":      func(t *testing.T, m, path, tok string) reply { return p.proxied(t, m, path, tok, nil) },
		"invocation": func(t *testing.T, m, path, tok string) reply { return p.invoked(t, m, path, tok) },
		"traefik forwardAuth": func(t *testing.T, m, path, tok string) reply {
			return p.proxied(t, "GET", "", tok, map[string]string{"X-Forwarded-Method": m, "X-Forwarded-Uri": path, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example"})
		},
		"nginx auth_request": func(t *testing.T, m, path, tok string) reply {
			return p.proxied(t, "GET", "", tok, map[string]string{"X-Original-Method": m, "X-Original-URI": path})
		},
	}
	cases := []struct {
		name       string
		method     string
		path       string
		token      string
		wantStatus int
		wantReason string
		wantAuthn  string // WWW-Authenticate prefix
	}{
		{"valid token is allowed", "GET", "/orders/1", good, 200, "ok", ""},
		{"missing token is 401 without error code", "GET", "/orders/1", "", 401, "token_missing", `Bearer realm="jwtgate"`},
		{"expired token is 401 invalid_token", "GET", "/orders/1", expired, 401, "token_expired", `Bearer realm="jwtgate", error="invalid_token"`},
		{"wrong audience is 401", "GET", "/orders/1", otherAud, 401, "audience_invalid", `Bearer realm="jwtgate", error="invalid_token"`},
		{"garbage token is 401", "GET", "/orders/1", "not-a-jwt", 401, "token_malformed", `Bearer realm="jwtgate", error="invalid_token"`},
		{"missing required scope is 403", "GET", "/orders/1", noScope, 403, "scope_missing", `Bearer realm="jwtgate", error="insufficient_scope"`},
		{"route rule denies DELETE without orders:admin", "DELETE", "/orders/1", good, 403, "", `Bearer realm="jwtgate", error="insufficient_scope"`},
		{"route rule allows DELETE with orders:admin", "DELETE", "/orders/1", admin, 200, "ok", ""},
		{"route rule does not apply to GET", "GET", "/orders/1", good, 200, "ok", ""},
		{"dot segments cannot dodge the route rule", "DELETE", "/public/../orders/1", good, 403, "", `Bearer realm="jwtgate", error="insufficient_scope"`},
	}
	for modeName, do := range modes {
		for _, c := range cases {
			t.Run(modeName+"/"+c.name, func(t *testing.T) {
				r := do(t, c.method, c.path, c.token)
				if r.status != c.wantStatus {
					t.Fatalf("status = %d, want %d: %v", r.status, c.wantStatus, r.body)
				}
				if c.wantReason != "" && r.body["reason"] != c.wantReason {
					t.Errorf("reason = %v, want %s", r.body["reason"], c.wantReason)
				}
				if r.header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
				}
				authn := r.header.Get("WWW-Authenticate")
				if c.wantAuthn == "" && authn != "" || !strings.HasPrefix(authn, c.wantAuthn) {
					t.Errorf("WWW-Authenticate = %q, want prefix %q", authn, c.wantAuthn)
				}
				if c.wantStatus == 200 {
					if r.body["allow"] != true || r.body["principal"] != "user-42" || r.header.Get("X-Auth-Subject") != "user-42" {
						t.Errorf("allow answer: %v %v", r.body, r.header)
					}
				} else if r.body["allow"] != false || r.header.Get("X-Auth-Subject") != "" {
					t.Errorf("denial answer: %v %v", r.body, r.header)
				}
			})
		}
	}

	t.Run("malformed invocation payloads are 400 and the process survives", func(t *testing.T) {
		for _, payload := range []string{``, `{`, `[]`, `{"Data":{}}`, `{"Data":{"req":{"Method":"GET"}}}`, `{"Data":{"req":{"Url":"x","Method":"G ET"}}}`} {
			req, _ := http.NewRequest(http.MethodPost, p.base+"/authorize", strings.NewReader(payload))
			req.Header.Set("Content-Type", "application/json")
			r := sendJSON(t, req)
			if r.status != 400 || r.body["reason"] != "event_malformed" {
				t.Errorf("payload %q: %d %v", payload, r.status, r.body)
			}
		}
		resp, err := http.Get(p.base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
	t.Run("conflicting forwarded headers are 400", func(t *testing.T) {
		r := p.proxied(t, "GET", "", good, map[string]string{"X-Forwarded-Uri": "/orders/1", "X-Original-URI": "/public"})
		if r.status != 400 || r.body["reason"] != "event_malformed" {
			t.Errorf("%d %v", r.status, r.body)
		}
	})
	t.Run("encoded or dotted paths cannot dodge a route rule", func(t *testing.T) {
		for _, c := range []struct {
			name    string
			path    string
			headers map[string]string
		}{
			{"proxied encoded slash", "/admin/..%2Fpublic", nil},
			{"proxied encoded dot-dot", "/admin/%2e%2e", nil},
			{"traefik encoded slash", "", map[string]string{"X-Forwarded-Uri": "/admin/..%2Fx"}},
			{"nginx encoded dot-dot", "", map[string]string{"X-Original-URI": "/admin/%2E%2E"}},
		} {
			r := p.proxied(t, "GET", c.path, good, c.headers)
			if r.status != 403 || r.body["reason"] != "route_denied" {
				t.Errorf("%s: %d %v, want 403 route_denied", c.name, r.status, r.body)
			}
		}
		if r := p.invoked(t, "GET", "/admin/..%2Fpublic", good); r.status != 403 || r.body["reason"] != "route_denied" {
			t.Errorf("invocation: %d %v, want 403 route_denied", r.status, r.body)
		}
		if r := p.proxied(t, "GET", "/admin/1", good, nil); r.status != 403 || r.body["reason"] != "scope_missing" {
			t.Errorf("the rule itself: %d %v", r.status, r.body)
		}
	})
	t.Run("path parameters are 400", func(t *testing.T) {
		for _, path := range []string{"/admin;x=1/1", "/admin/1;jsessionid=x"} {
			if r := p.proxied(t, "GET", path, admin, nil); r.status != 400 || r.body["reason"] != "event_malformed" {
				t.Errorf("%s: %d %v", path, r.status, r.body)
			}
		}
	})
	t.Run("a forwarded uri cannot replace the proxied path", func(t *testing.T) {
		r := p.proxied(t, "GET", "/admin/1", good, map[string]string{"X-Forwarded-Uri": "/orders/1"})
		if r.status != 400 || r.body["reason"] != "event_malformed" {
			t.Errorf("%d %v", r.status, r.body)
		}
	})
	t.Run("method and uri come from one header family", func(t *testing.T) {
		r := p.proxied(t, "GET", "", good, map[string]string{"X-Forwarded-Method": "GET", "X-Original-Method": "DELETE", "X-Original-URI": "/orders/1"})
		if r.status != 400 || r.body["reason"] != "event_malformed" {
			t.Errorf("%d %v", r.status, r.body)
		}
	})
	t.Run("the root is a decision endpoint and /healthz is liveness", func(t *testing.T) {
		get := func(path, tok string) reply {
			req, _ := http.NewRequest("GET", p.base+path, nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return sendJSON(t, req)
		}
		if r := get("/", ""); r.status != 401 || r.body["reason"] != "token_missing" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("GET / without a token: %d %v", r.status, r.body)
		}
		if r := get("/", good); r.status != 200 || r.body["allow"] != true || r.header.Get("X-Auth-Subject") != "user-42" {
			t.Errorf("GET / with a token: %d %v", r.status, r.body)
		}
		if r := get("/", expired); r.status != 401 {
			t.Errorf("GET / with an expired token: %d %v", r.status, r.body)
		}
		if r := get(customhandler.HealthPath, ""); r.status != 200 || r.body["status"] != "ready" || r.body["allow"] != nil {
			t.Errorf("GET %s: %d %v", customhandler.HealthPath, r.status, r.body)
		}
	})
	t.Run("logs name the invocation and never the token", func(t *testing.T) {
		logs := p.logs()
		if !strings.Contains(logs, `"invocation_id":"e2e-invocation"`) || !strings.Contains(logs, `"platform":"azure-functions"`) {
			t.Errorf("decision records lack platform or invocation id")
		}
		for _, tok := range []string{good, admin, expired, otherAud, noScope} {
			if strings.Contains(logs, tok) || strings.Contains(logs, tok[strings.LastIndexByte(tok, '.')+1:]) {
				t.Fatal("a token or signature was logged")
			}
		}
	})
}

func TestColdStartConcurrentRequestsShareOneKeyFetch(t *testing.T) {
	iss := startIssuer(t)
	p := startHandler(t, gateEnv(t, iss))
	if !p.waitFor("listening") {
		t.Fatalf("handler exited:\n%s", p.logs())
	}
	tok := mint(t, iss, nil)
	const n = 200
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r reply
			if i%2 == 0 {
				r = p.proxied(t, "GET", "/orders/"+strconv.Itoa(i), tok, nil)
			} else {
				r = p.invoked(t, "GET", "/orders/"+strconv.Itoa(i), tok)
			}
			statuses <- r.status
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("status %d", s)
		}
	}
	if got := iss.JWKSRequests(); got != 1 {
		t.Errorf("JWKS fetched %d times, want 1", got)
	}
	if got := iss.DiscoveryRequests(); got != 1 {
		t.Errorf("discovery fetched %d times, want 1", got)
	}
}

func TestForwardedHeadersSettingSelectsTheTrustedFamily(t *testing.T) {
	iss := startIssuer(t)
	good := mint(t, iss, nil)
	both := map[string]string{"X-Forwarded-Method": "DELETE", "X-Forwarded-Uri": "/orders/1", "X-Original-Method": "GET", "X-Original-URI": "/orders/1"}
	for _, c := range []struct {
		mode       string
		wantStatus int
	}{
		{"", 400},        // auto: two families describing different calls
		{"traefik", 403}, // DELETE /orders/1 needs orders:admin
		{"nginx", 200},   // GET /orders/1
		{"none", 200},    // GET / (the request itself)
	} {
		t.Run("mode "+c.mode, func(t *testing.T) {
			env := gateEnv(t, iss)
			if c.mode != "" {
				env["JWTGATE_FORWARDED_HEADERS"] = c.mode
			}
			p := startHandler(t, env)
			p.ready()
			if r := p.proxied(t, "GET", "", good, both); r.status != c.wantStatus {
				t.Errorf("status %d, want %d: %v", r.status, c.wantStatus, r.body)
			}
		})
	}
}

func TestIssuerDownFromTheStartAnswers503(t *testing.T) {
	iss := startIssuer(t)
	iss.SetDown(true)
	env := gateEnv(t, iss)
	env["JWTGATE_HTTP_TIMEOUT"] = "500ms"
	env["JWTGATE_WARMUP_TIMEOUT"] = "500ms"
	p := startHandler(t, env)
	p.ready()
	tok := mint(t, iss, nil)
	for name, r := range map[string]reply{
		"proxy":        p.proxied(t, "GET", "/orders/1", tok, nil),
		"invocation":   p.invoked(t, "GET", "/orders/1", tok),
		"forward-auth": p.proxied(t, "GET", "", tok, map[string]string{"X-Forwarded-Uri": "/orders/1"}),
	} {
		if r.status != 503 || r.body["reason"] != "keys_unavailable" || r.header.Get("Retry-After") == "" {
			t.Errorf("%s: %d %v Retry-After=%q", name, r.status, r.body, r.header.Get("Retry-After"))
		}
	}
}

func TestSIGTERMShutsDownCleanly(t *testing.T) {
	iss := startIssuer(t)
	p := startHandler(t, gateEnv(t, iss))
	p.ready()
	if r := p.proxied(t, "GET", "/orders/1", mint(t, iss, nil), nil); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.waitExit(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	if !strings.Contains(p.logs(), `"msg":"stopped"`) || !strings.Contains(p.logs(), `"stats":{`) {
		t.Errorf("no final stats record after a graceful stop")
	}
}

// apimEnv is the app settings for an APIM policy file holding a
// <validate-jwt> with an audience, an issuer and body.
func apimEnv(t *testing.T, body string) map[string]string {
	t.Helper()
	policy := filepath.Join(t.TempDir(), "policy.xml")
	xml := `<policies><inbound><validate-jwt header-name="Authorization"><audiences><audience>` + audience +
		`</audience></audiences><issuers><issuer>https://issuer.example/</issuer></issuers>` + body + `</validate-jwt></inbound></policies>`
	if err := os.WriteFile(policy, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"JWTGATE_APIM_POLICY_FILE": policy}
}

func TestStartupErrorsExitNonZeroWithAClearMessage(t *testing.T) {
	iss := startIssuer(t)
	cases := []struct {
		name    string
		env     map[string]string
		port    string
		message string
	}{
		{"missing audience", map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL()}, "", "JWTGATE_AUDIENCES"},
		{"bad port", map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": audience}, "http", "FUNCTIONS_CUSTOMHANDLER_PORT"},
		{"bad log level", map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": audience, "JWTGATE_LOG_LEVEL": "loud"}, "", "JWTGATE_LOG_LEVEL"},
		{"bad forwarded headers mode", map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": audience, "JWTGATE_FORWARDED_HEADERS": "envoy"}, "", "JWTGATE_FORWARDED_HEADERS"},
		{"rule that does not compile", map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": audience, "JWTGATE_RULE": "claims.role =="}, "", "JWTGATE_RULE: line 1, column 15"},
		{"APIM key by certificate-id", apimEnv(t, `<issuer-signing-keys><key certificate-id="signer"/></issuer-signing-keys>`), "",
			`policy.xml: <validate-jwt/issuer-signing-keys/key>: certificate-id "signer" names a certificate stored in API Management`},
		{"APIM policy expression", apimEnv(t, `<required-claims><claim name="aud"><value>@(context.Api.Name)</value></claim></required-claims>`), "",
			"policy.xml: the text of <validate-jwt/required-claims/claim/value> is a policy expression"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := functionPackage(t)
			cmd := exec.Command(filepath.Join(dir, binaryName))
			cmd.Dir = dir
			cmd.Env = []string{"FUNCTIONS_CUSTOMHANDLER_PORT=" + strconv.Itoa(localruntest.FreePort(t))}
			if c.port != "" {
				cmd.Env = []string{"FUNCTIONS_CUSTOMHANDLER_PORT=" + c.port}
			}
			for k, v := range c.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the handler did not stop on a start-up error")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("exit: %v, want a non-zero status", err)
			}
			if !strings.Contains(stderr.String(), c.message) {
				t.Errorf("stderr %q does not name %s", stderr.String(), c.message)
			}
		})
	}
}

// JWTGATE_LOG_LEVEL=warn: allowed requests write no decision line, refusals
// do (the "listening" record is info too, so readiness is polled over HTTP).
func TestLogLevelWarnKeepsRefusalsOnly(t *testing.T) {
	iss := startIssuer(t)
	env := gateEnv(t, iss)
	env["JWTGATE_LOG_LEVEL"] = "warn"
	p := startHandler(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := p.WaitHTTP(ctx, http.DefaultClient, 20*time.Millisecond, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/healthz", nil)
	})
	if err != nil {
		t.Fatalf("handler not answering: %v", err)
	}
	_ = resp.Body.Close()
	if r := p.proxied(t, "GET", "/orders/1", mint(t, iss, nil), nil); r.status != 200 {
		t.Fatalf("allow: %d %v", r.status, r.body)
	}
	if r := p.proxied(t, "GET", "/orders/1", "", nil); r.status != 401 {
		t.Fatalf("no token: %d %v", r.status, r.body)
	}
	// The decision line is written after the answer: wait for it (allowed
	// decisions write none at warn, so the first one is the refusal's).
	if !p.waitFor("decision") {
		t.Fatalf("handler exited before logging the refusal:\n%s", p.logs())
	}
	var allows, refusals int
	for _, line := range strings.Split(p.logs(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "decision" {
			continue
		}
		switch rec["outcome"] {
		case "allow":
			allows++
		case "unauthenticated":
			if rec["level"] != "WARN" {
				t.Errorf("refusal logged at %v, want WARN", rec["level"])
			}
			refusals++
		}
	}
	if allows != 0 || refusals == 0 {
		t.Fatalf("at warn: %d allow lines (want 0), %d refusal lines (want ≥1)\n%s", allows, refusals, p.logs())
	}
}

// A policy file with a top-level rule and a route's when, through the
// proxied and the forward-auth shapes of the real binary.
func TestHandlerBinaryAppliesRules(t *testing.T) {
	iss := startIssuer(t)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	err := os.WriteFile(policy, []byte(`rule: request.headers["x-tenant-id"] == claims.tenant && request.host.startsWith("127.0.0.1")
routes:
  - method: DELETE
    path: /orders/{id}
    when: '"admin" in claims.roles'
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p := startHandler(t, map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": audience, "JWTGATE_POLICY_FILE": policy})
	p.ready()
	admin := mint(t, iss, map[string]any{"tenant": "acme", "roles": []string{"admin"}})
	reader := mint(t, iss, map[string]any{"tenant": "acme", "roles": []string{"reader"}})
	noTenant := mint(t, iss, nil)
	cases := []struct {
		name, method, tenant, token string
		status                      int
		reason                      string
	}{
		{"admin deletes in its tenant", "DELETE", "acme", admin, 200, "ok"},
		{"reader may not delete", "DELETE", "acme", reader, 403, "rule_denied"},
		{"reader reads", "GET", "acme", reader, 200, "ok"},
		{"other tenant refused", "GET", "globex", admin, 403, "rule_denied"},
		{"token without the tenant claim fails closed", "GET", "acme", noTenant, 403, "rule_error"},
	}
	for _, c := range cases {
		for mode, fwd := range map[string]bool{"proxy": false, "traefik forwardAuth": true} {
			t.Run(mode+"/"+c.name, func(t *testing.T) {
				h := map[string]string{"X-Tenant-Id": c.tenant}
				var r reply
				if fwd {
					h["X-Forwarded-Method"], h["X-Forwarded-Uri"] = c.method, "/orders/1"
					r = p.proxied(t, "GET", "", c.token, h)
				} else {
					r = p.proxied(t, c.method, "/orders/1", c.token, h)
				}
				if r.status != c.status || r.body["reason"] != c.reason {
					t.Fatalf("%d %v, want %d %s", r.status, r.body, c.status, c.reason)
				}
			})
		}
	}
}
