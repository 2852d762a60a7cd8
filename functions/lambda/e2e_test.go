//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/localrun"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// The end-to-end test builds the real bootstrap and runs it under the AWS
// Lambda Runtime Interface Emulator, whose path is in JWTGATE_RIE (`make
// test` installs it into ./bin and sets it). Invocations are sent one at a
// time: the emulator does not support concurrent invokes.

const (
	e2eARN        = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/42"
	e2eConnectARN = "arn:aws:execute-api:eu-west-1:123456789012:ws123/prod/$connect"
)

func TestBootstrapUnderRuntimeEmulator(t *testing.T) {
	rie := rieOrSkip(t)
	bootstrap := buildBootstrap(t)
	iss := startDevIssuer(t)
	fn := startFunction(t, rie, bootstrap, map[string]string{
		"JWTGATE_OPENID_CONFIG":   iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":       "api://orders",
		"JWTGATE_REQUIRED_SCOPES": "orders:read",
		"JWTGATE_TOKEN_QUERY":     "access_token", // WebSocket $connect
	})

	now := time.Now()
	mint := func(claims map[string]any) string {
		t.Helper()
		base := map[string]any{"sub": "user-1", "aud": "api://orders", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "client_id": "app-7"}
		for k, v := range claims {
			base[k] = v
		}
		tok, err := iss.Mint(base)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := mint(map[string]any{"scope": "orders:read"})
	expired := mint(map[string]any{"scope": "orders:read", "exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix()})
	noScope := mint(map[string]any{"scope": "profile"})

	// Warm cache: the first invoke (after the init warm-up) leaves the keys
	// cached; later invokes, even with a new token, fetch nothing.
	first := fn.invoke(t, shapeEvent("rest_token", good))
	if first.ErrorMessage != "" {
		t.Fatalf("first invoke failed: %+v", first)
	}
	jwks, disc := iss.JWKSRequests(), iss.DiscoveryRequests()
	if jwks == 0 {
		t.Fatalf("no JWKS request after the first invoke")
	}
	other := mint(map[string]any{"scope": "orders:read", "sub": "user-2"})
	if r := fn.invoke(t, shapeEvent("rest_token", other)); r.principal() != "user-2" {
		t.Fatalf("second invoke: %+v", r)
	}
	if iss.JWKSRequests() != jwks || iss.DiscoveryRequests() != disc {
		t.Fatalf("warm invoke fetched keys: JWKS %d→%d, discovery %d→%d", jwks, iss.JWKSRequests(), disc, iss.DiscoveryRequests())
	}

	for _, shape := range []string{"rest_token", "rest_request", "http_v1", "http_v2"} {
		t.Run(shape+"/allow", func(t *testing.T) {
			r := fn.invoke(t, shapeEvent(shape, good))
			if shape == "http_v2" {
				if r.ErrorMessage != "" || r.IsAuthorized == nil || !*r.IsAuthorized || r.Context["sub"] != "user-1" || r.Context["client_id"] != "app-7" {
					t.Fatalf("answer: %+v", r)
				}
				return
			}
			r.wantPolicy(t, "Allow", "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*")
			if r.principal() != "user-1" || r.Context["scope"] != "orders:read" {
				t.Fatalf("principal %q context %v", r.principal(), r.Context)
			}
		})
		t.Run(shape+"/expired token is 401", func(t *testing.T) {
			r := fn.invoke(t, shapeEvent(shape, expired))
			if r.ErrorMessage != "Unauthorized" {
				t.Fatalf("answer: %+v", r)
			}
		})
		t.Run(shape+"/missing token is 401", func(t *testing.T) {
			if r := fn.invoke(t, shapeEvent(shape, "")); r.ErrorMessage != "Unauthorized" {
				t.Fatalf("answer: %+v", r)
			}
		})
		t.Run(shape+"/missing scope is 403", func(t *testing.T) {
			r := fn.invoke(t, shapeEvent(shape, noScope))
			if shape == "http_v2" {
				if r.ErrorMessage != "" || r.IsAuthorized == nil || *r.IsAuthorized {
					t.Fatalf("answer: %+v", r)
				}
				return
			}
			r.wantPolicy(t, "Deny", "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*")
		})
	}
	for _, tc := range []struct {
		name, token string
		effect      string // "": the error Unauthorized
	}{
		{"allow", good, "Allow"}, {"expired token is 401", expired, ""}, {"missing token is 401", "", ""}, {"missing scope is 403", noScope, "Deny"},
	} {
		t.Run("websocket/"+tc.name, func(t *testing.T) {
			r := fn.invoke(t, shapeEvent("websocket", tc.token))
			if tc.effect == "" {
				if r.ErrorMessage != "Unauthorized" {
					t.Fatalf("answer: %+v", r)
				}
				return
			}
			r.wantPolicy(t, tc.effect, e2eConnectARN)
		})
	}
	for _, tc := range []struct {
		name, token string
		allow       bool
	}{
		{"allow", good, true}, {"expired token is refused", expired, false}, {"missing token is refused", "", false}, {"missing scope is refused", noScope, false},
	} {
		t.Run("appsync/"+tc.name, func(t *testing.T) {
			r := fn.invoke(t, shapeEvent("appsync", tc.token))
			if r.ErrorMessage != "" || r.IsAuthorized == nil || *r.IsAuthorized != tc.allow || r.TTLOverride == nil {
				t.Fatalf("answer: %+v", r)
			}
			if !tc.allow {
				if *r.TTLOverride != 0 || r.ResolverContext != nil {
					t.Fatalf("a refusal is cached or carries claims: %+v", r)
				}
				return
			}
			if *r.TTLOverride <= 0 || *r.TTLOverride > 3600 || r.ResolverContext["sub"] != "user-1" || r.ResolverContext["client_id"] != "app-7" {
				t.Fatalf("answer: %+v ttl %d", r, *r.TTLOverride)
			}
		})
	}
	t.Run("malformed event is 401", func(t *testing.T) {
		if r := fn.invoke(t, []byte(`{"type":"SOMETHING"}`)); r.ErrorMessage != "Unauthorized" {
			t.Fatalf("answer: %+v", r)
		}
	})
	if iss.JWKSRequests() != jwks {
		t.Errorf("JWKS fetched again during warm invokes: %d → %d", jwks, iss.JWKSRequests())
	}
	wants := []string{`"platform":"aws-lambda"`, `"reason":"scope_missing"`, `"reason":"token_expired"`, `"Namespace":"jwtgate"`}
	logs := fn.waitOutput(wants...)
	if strings.Contains(logs, good) || strings.Contains(logs, strings.Split(good, ".")[2]) {
		t.Errorf("a token appears in the function output")
	}
	for _, want := range wants {
		if !strings.Contains(logs, want) {
			t.Errorf("function output lacks %s", want)
		}
	}
}

func TestBootstrapKeysUnavailable(t *testing.T) {
	rie := rieOrSkip(t)
	bootstrap := buildBootstrap(t)
	iss := startDevIssuer(t)
	iss.SetDown(true) // down from the start: nothing was ever cached
	tok, err := iss.Mint(map[string]any{"sub": "user-1", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	fn := startFunction(t, rie, bootstrap, map[string]string{
		"JWTGATE_OPENID_CONFIG":  iss.DiscoveryURL(),
		"JWTGATE_ISSUERS":        iss.Issuer(),
		"JWTGATE_AUDIENCES":      "api://orders",
		"JWTGATE_HTTP_TIMEOUT":   "1s",
		"JWTGATE_WARMUP_TIMEOUT": "1s",
		"JWTGATE_TOKEN_QUERY":    "access_token",
	})
	// AppSync too: a key failure is a function error, not isAuthorized false.
	for _, shape := range []string{"rest_token", "rest_request", "http_v1", "http_v2", "websocket", "appsync"} {
		t.Run(shape, func(t *testing.T) {
			r := fn.invoke(t, shapeEvent(shape, tok))
			if r.ErrorMessage != "keys unavailable" {
				t.Fatalf("answer: %+v", r)
			}
		})
	}
}

func TestBootstrapConfigErrorFailsInit(t *testing.T) {
	rie := rieOrSkip(t)
	bootstrap := buildBootstrap(t)
	// No JWTGATE_AUDIENCES: the configuration is refused.
	fn := startFunction(t, rie, bootstrap, map[string]string{"JWTGATE_OPENID_CONFIG": "http://127.0.0.1:1/.well-known/openid-configuration"})
	// Lambda reports the failed init as Runtime.ExitError; the emulator
	// answers 502 with no body. Either way it is no answer API Gateway could
	// read as an allow.
	status, body := fn.invokeRaw(t, shapeEvent("rest_token", "Bearer x.y.z"))
	if status == http.StatusOK || strings.Contains(string(body), "policyDocument") || strings.Contains(string(body), "isAuthorized") {
		t.Fatalf("answer %d %s", status, body)
	}
	if logs := fn.waitOutput("JWTGATE_AUDIENCES", "configuration error"); !strings.Contains(logs, "JWTGATE_AUDIENCES") || !strings.Contains(logs, "configuration error") {
		t.Fatalf("function output does not name the setting:\n%s", logs)
	}
}

// shapeEvent builds an authorizer event of the given shape carrying token
// as a bearer token (no token when empty).
func shapeEvent(shape, token string) []byte {
	bearer := ""
	if token != "" {
		bearer = "Bearer " + token
	}
	var v any
	switch shape {
	case "rest_token":
		v = events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: bearer, MethodArn: e2eARN}
	case "rest_request":
		ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST", MethodArn: e2eARN, Path: "/orders/42", HTTPMethod: "GET",
			Headers: map[string]string{"Accept": "*/*"}, MultiValueHeaders: map[string][]string{"Accept": {"*/*"}}}
		if bearer != "" {
			ev.Headers["Authorization"] = bearer
			ev.MultiValueHeaders["Authorization"] = []string{bearer}
		}
		v = ev
	case "http_v1":
		ev := events.APIGatewayV2CustomAuthorizerV1Request{Version: "1.0", Type: "REQUEST", MethodArn: e2eARN, IdentitySource: bearer,
			Path: "/orders/42", HTTPMethod: "GET", Headers: map[string]string{"accept": "*/*"}}
		if bearer != "" {
			ev.Headers["authorization"] = bearer
		}
		v = ev
	case "http_v2":
		ev := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteArn: e2eARN, RouteKey: "GET /orders/{id}",
			RawPath: "/prod/orders/42", Headers: map[string]string{"accept": "*/*"}}
		ev.RequestContext.Stage = "prod"
		ev.RequestContext.HTTP.Method = "GET"
		ev.RequestContext.HTTP.Path = "/prod/orders/42"
		if bearer != "" {
			ev.Headers["authorization"] = bearer
			ev.IdentitySource = []string{bearer}
		}
		v = ev
	case "websocket":
		// A browser sends the token in the query string (no headers).
		q := map[string]string{}
		if token != "" {
			q["access_token"] = token
		}
		v = map[string]any{"type": "REQUEST", "methodArn": e2eConnectARN, "headers": map[string]string{"Sec-WebSocket-Version": "13"},
			"queryStringParameters": q, "requestContext": map[string]any{"routeKey": "$connect", "eventType": "CONNECT",
				"connectionId": "c1=", "apiId": "ws123", "stage": "prod", "identity": map[string]any{"sourceIp": "203.0.113.7"}}}
	case "appsync":
		// AppSync passes the Authorization header as sent: a bare token here.
		v = events.AppSyncLambdaAuthorizerRequest{AuthorizationToken: token, RequestContext: events.AppSyncLambdaAuthorizerRequestContext{
			APIID: "gql123", AccountID: "123456789012", RequestID: "r1", QueryString: "query GetOrder { order { id } }", OperationName: "GetOrder"}}
	}
	b, _ := json.Marshal(v)
	return b
}

// answer is any of the function's answers as the emulator returns them.
type answer struct {
	ErrorMessage   string `json:"errorMessage"`
	ErrorType      string `json:"errorType"`
	PrincipalID    string `json:"principalId"`
	PolicyDocument *struct {
		Version   string
		Statement []struct {
			Action, Resource []string
			Effect           string
		}
	} `json:"policyDocument"`
	IsAuthorized *bool          `json:"isAuthorized"`
	Context      map[string]any `json:"context"`
	// AppSync answers.
	ResolverContext map[string]any `json:"resolverContext"`
	TTLOverride     *int           `json:"ttlOverride"`
}

func (a answer) principal() string { return a.PrincipalID }

func (a answer) wantPolicy(t *testing.T, effect, resource string) {
	t.Helper()
	if a.ErrorMessage != "" || a.PolicyDocument == nil || len(a.PolicyDocument.Statement) != 1 {
		t.Fatalf("answer: %+v", a)
	}
	s := a.PolicyDocument.Statement[0]
	if s.Effect != effect || len(s.Resource) != 1 || s.Resource[0] != resource || len(s.Action) != 1 || s.Action[0] != "execute-api:Invoke" {
		t.Fatalf("statement: %+v", s)
	}
}

// buildBootstrap builds this package as the Lambda would run it.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	return localruntest.GoBuild(t, localrun.Build{Pkg: "./functions/lambda", Out: filepath.Join(t.TempDir(), "bootstrap"),
		Tags: localrun.LambdaTags, Flags: []string{"-trimpath", "-ldflags=-s -w"}})
}

// function is a bootstrap running under the emulator.
type function struct {
	url string
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (f *function) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.Write(p)
}

// waitOutput returns the output once it holds every one of want, or what
// there is after 10 s (the emulator may answer before the bootstrap's
// last line reaches us on a loaded machine).
func (f *function) waitOutput(want ...string) string {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		out := f.output()
		all := true
		for _, w := range want {
			all = all && strings.Contains(out, w)
		}
		if all {
			return out
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return f.output()
		}
	}
}

func (f *function) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.String()
}

// startFunction runs bootstrap under the emulator on free loopback ports
// with exactly env as its JWTGATE_ settings, and waits until the emulator
// answers HTTP.
func startFunction(t *testing.T, rie, bootstrap string, env map[string]string) *function {
	t.Helper()
	addrs := localruntest.FreeAddrs(t, 2)
	apiAddr, rieAddr := addrs[0], addrs[1]
	cmd := exec.Command(rie, "--log-level", "error", "--runtime-api-address", apiAddr, "--runtime-interface-emulator-address", rieAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JWTGATE_") && !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	f := &function{url: "http://" + rieAddr + "/2015-03-31/functions/function/invocations"}
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so cleanup ends the emulator and the bootstrap.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p, err := localrun.Start(cmd)
	if err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.Exited()
		if t.Failed() {
			t.Logf("function output:\n%s", f.output())
		}
	})
	// Any HTTP answer will do (GET / is a 404): the emulator is listening.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := p.WaitHTTP(ctx, http.DefaultClient, 20*time.Millisecond, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, "http://"+rieAddr+"/", nil)
	})
	if err != nil {
		t.Fatalf("emulator not answering on %s: %v\n%s", rieAddr, err, f.output())
	}
	_ = resp.Body.Close()
	return f
}

// invoke sends one event and decodes the answer (errors come back as 200
// with errorMessage).
func (f *function) invoke(t *testing.T, event []byte) answer {
	t.Helper()
	status, body := f.invokeRaw(t, event)
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %q (status %d): %v", body, status, err)
	}
	if a.ErrorMessage == "" && a.PolicyDocument == nil && a.IsAuthorized == nil {
		t.Fatalf("unexpected answer %s", body)
	}
	return a
}

// invokeRaw sends one event and returns the emulator's status and body.
func (f *function) invokeRaw(t *testing.T, event []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, f.output())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// With Lambda's advanced logging controls at WARN, allowed decisions write
// no log line (Lambda would drop it anyway), refusals do, and every
// decision still writes its metric line, marked WARN so the filter keeps it.
func TestBootstrapHonoursLambdaLogLevel(t *testing.T) {
	rie := rieOrSkip(t)
	bootstrap := buildBootstrap(t)
	iss := startDevIssuer(t)
	fn := startFunction(t, rie, bootstrap, map[string]string{
		"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":     "api://orders",
		"AWS_LAMBDA_LOG_LEVEL":  "WARN",
		"AWS_LAMBDA_LOG_FORMAT": "JSON",
	})
	now := time.Now()
	good, err := iss.Mint(map[string]any{"sub": "user-1", "aud": "api://orders", "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if r := fn.invoke(t, shapeEvent("rest_token", good)); r.principal() != "user-1" {
		t.Fatalf("allow: %+v", r)
	}
	if r := fn.invoke(t, shapeEvent("rest_token", "")); r.ErrorMessage != "Unauthorized" {
		t.Fatalf("no token: %+v", r)
	}
	// The bootstrap's lines of the second invoke can reach us after its
	// answer: wait for its decision and metric lines.
	var decisions, metrics []map[string]any
	for _, line := range strings.Split(fn.waitOutput(`"reason":"token_missing"`, `"Outcome":"unauthenticated"`), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch {
		case rec["msg"] == "decision":
			decisions = append(decisions, rec)
		case rec["_aws"] != nil:
			metrics = append(metrics, rec)
		}
	}
	if len(decisions) != 1 || decisions[0]["reason"] != "token_missing" || decisions[0]["level"] != "WARN" {
		t.Errorf("decision lines at WARN: want only the refusal, at WARN; got %v", decisions)
	}
	if len(metrics) != 2 {
		t.Fatalf("metric lines: want one per decision (2), got %d", len(metrics))
	}
	for _, m := range metrics {
		if m["level"] != "WARN" {
			t.Errorf("metric line without level WARN (Lambda's filter would drop it): %v", m)
		}
	}
}

func TestBootstrapBadLogLevelFailsInit(t *testing.T) {
	rie := rieOrSkip(t)
	bootstrap := buildBootstrap(t)
	fn := startFunction(t, rie, bootstrap, map[string]string{
		"JWTGATE_OPENID_CONFIG": "http://127.0.0.1:1/.well-known/openid-configuration",
		"JWTGATE_AUDIENCES":     "api://orders",
		"JWTGATE_LOG_LEVEL":     "verbose",
	})
	status, body := fn.invokeRaw(t, shapeEvent("rest_token", "Bearer x.y.z"))
	if status == http.StatusOK || strings.Contains(string(body), "policyDocument") {
		t.Fatalf("answer %d %s", status, body)
	}
	if logs := fn.waitOutput("JWTGATE_LOG_LEVEL"); !strings.Contains(logs, "JWTGATE_LOG_LEVEL") {
		t.Fatalf("function output does not name the setting:\n%s", logs)
	}
}

// A policy file with a top-level rule that reads the request: the
// bootstrap allows exactly this call (never the whole stage, which API
// Gateway's cache would reuse for other calls), and refuses with a Deny.
func TestBootstrapAppliesRulesCacheSafely(t *testing.T) {
	rie := rieOrSkip(t)
	bootstrap := buildBootstrap(t)
	iss := startDevIssuer(t)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("rule: claims.tenant == \"acme\" && request.method == \"GET\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fn := startFunction(t, rie, bootstrap, map[string]string{
		"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":     "api://orders",
		"JWTGATE_POLICY_FILE":   policy,
	})
	now := time.Now()
	mint := func(tenant any) string {
		t.Helper()
		c := map[string]any{"sub": "user-1", "aud": "api://orders", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
		if tenant != nil {
			c["tenant"] = tenant
		}
		tok, err := iss.Mint(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, shape := range []string{"rest_request", "http_v1"} {
		t.Run(shape+"/allowed exactly for this call", func(t *testing.T) {
			fn.invoke(t, shapeEvent(shape, mint("acme"))).wantPolicy(t, "Allow", e2eARN)
		})
		t.Run(shape+"/rule false is a Deny", func(t *testing.T) {
			fn.invoke(t, shapeEvent(shape, mint("globex"))).wantPolicy(t, "Deny", "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*")
		})
		t.Run(shape+"/rule error is a Deny", func(t *testing.T) {
			fn.invoke(t, shapeEvent(shape, mint(nil))).wantPolicy(t, "Deny", "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*")
		})
	}
	wants := []string{`"reason":"rule_denied"`, `"reason":"rule_error"`, `"rule":"JWTGATE_RULE"`, `"rule_failure":"no such key"`}
	logs := fn.waitOutput(wants...)
	for _, want := range wants {
		if !strings.Contains(logs, want) {
			t.Errorf("function output lacks %s", want)
		}
	}
}

// rieOrSkip is the emulator's path from JWTGATE_RIE; the test skips
// without it.
func rieOrSkip(t *testing.T) string {
	t.Helper()
	rie := os.Getenv("JWTGATE_RIE")
	if rie == "" {
		t.Skip("JWTGATE_RIE is not set: run `make test` (or `make tools` and set JWTGATE_RIE=$PWD/bin/aws-lambda-rie)")
	}
	if _, err := os.Stat(rie); err != nil {
		t.Skipf("JWTGATE_RIE=%s: %v", rie, err)
	}
	return rie
}

// startDevIssuer runs a dev issuer for the test.
func startDevIssuer(t *testing.T) *devissuer.Issuer {
	t.Helper()
	iss, err := devissuer.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	return iss
}
