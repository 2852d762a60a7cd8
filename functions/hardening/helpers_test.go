package hardening

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/functions/lambda/authorizer"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

const (
	testAudience = "api://orders"
	testMethod   = "GET"
	testPath     = "/orders/1"
	testARN      = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders/1"
	testRouteARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/GET/orders/1"
	// testConnectARN is a WebSocket API's $connect route.
	testConnectARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/$connect"
	// testSecret is a configured HMAC secret (base64 of 32 bytes).
	testSecretB64 = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyISE="
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clock is a settable clock for core.WithClock.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fixture is one core with both adapters in front of it, all logging into
// one buffer.
type fixture struct {
	iss    *FaultIssuer
	issuer string       // the iss of valid tokens
	dec    core.Decider // what the "core" channel asks (the core unless a test swaps it)
	rsa    *SigningKey
	ec     *SigningKey
	clock  *clock
	cfg    *config.Config
	core   *core.Core
	azure  http.Handler
	lam    *authorizer.Authorizer
	logs   *syncBuffer
}

var (
	keysOnce sync.Once
	rsaKey   *SigningKey
	ecKey    *SigningKey
	evilKey  *SigningKey
	evilEC   *SigningKey
)

// testKeys generates the package's keys once (RSA generation is slow).
func testKeys(t testing.TB) (rsa1, ec1, evilRSA, evilEC1 *SigningKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(k *SigningKey, e error) *SigningKey {
			if e != nil && err == nil {
				err = e
			}
			return k
		}
		rsaKey = must(NewRSAKey("rsa1"))
		ecKey = must(NewECKey("ec1"))
		evilKey = must(NewRSAKey("evil"))
		evilEC = must(NewECKey("evil-ec"))
		if err != nil {
			panic(err)
		}
	})
	return rsaKey, ecKey, evilKey, evilEC
}

// newFixture starts a fault issuer publishing rsa1 and ec1 and builds the
// core from the environment (discovery on the issuer, audience
// api://orders) plus extra variables.
func newFixture(t testing.TB, extra map[string]string) *fixture {
	t.Helper()
	return newFixtureWith(t, extra, nil)
}

// newFixtureWith is newFixture with a hook that adjusts the issuer before
// the core is built (and warmed), and extra core options.
func newFixtureWith(t testing.TB, extra map[string]string, setup func(*FaultIssuer), copts ...core.Option) *fixture {
	t.Helper()
	rsa1, ec1, _, _ := testKeys(t)
	iss := StartFaultIssuer(rsa1, ec1)
	t.Cleanup(iss.Close)
	if setup != nil {
		setup(iss)
	}
	f := &fixture{iss: iss, issuer: iss.URL(), rsa: rsa1, ec: ec1, clock: newClock(), logs: &syncBuffer{}}
	vars := map[string]string{
		"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":     testAudience,
		"JWTGATE_HTTP_TIMEOUT":  "200ms",
	}
	for k, v := range extra {
		vars[k] = strings.ReplaceAll(v, "{ISS}", iss.URL())
	}
	return buildFixture(t, vars, f, copts...)
}

// claims returns valid claims for the fixture's issuer, with overrides (a
// nil value removes the claim).
func (f *fixture) claims(over map[string]any) map[string]any {
	now := f.clock.Now()
	c := map[string]any{
		"iss": f.issuer, "sub": "user-1", "aud": testAudience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": "read",
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// valid mints a valid RS256 token.
func (f *fixture) valid(t testing.TB, over map[string]any) string {
	t.Helper()
	tok, err := SignRaw(f.rsa, Header("RS256", "rsa1"), MustJSON(f.claims(over)))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// channel is one way a token reaches a decision: the core itself, the Azure
// handler (proxy, invocation payload) or the Lambda authorizer (four event
// shapes).
type channel struct {
	name string
	// run sends the token (as "Bearer <tok>" in the Authorization header)
	// and returns what the platform answered.
	run func(t testing.TB, f *fixture, tok string) answerSeen
}

// answerSeen is what a platform answered, reduced to what tests compare.
type answerSeen struct {
	Outcome decision.Outcome
	Reason  decision.Reason
	Status  int         // HTTP status the caller sees
	Header  http.Header // Azure: answer headers
	Body    string      // Azure: answer body; Lambda: JSON of the response
	ErrText string      // Lambda: the error returned to the runtime
	Detail  string
}

func bearerHeader(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

var channels = []channel{
	{"core", func(t testing.TB, f *fixture, tok string) answerSeen {
		d := f.dec.Decide(context.Background(), &decision.Request{Header: bearerHeader(tok), Method: testMethod, Path: testPath})
		return answerSeen{Outcome: d.Outcome, Reason: d.Reason, Status: d.Outcome.HTTPStatus(), Detail: d.Detail}
	}},
	{"azure-proxy", func(t testing.TB, f *fixture, tok string) answerSeen {
		r := httptest.NewRequest(testMethod, customhandler.ProxyPrefix+testPath, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return serveAzure(t, f.azure, r)
	}},
	{"azure-invocation", func(t testing.TB, f *fixture, tok string) answerSeen {
		return serveAzure(t, f.azure, invocationRequest(bearerHeader(tok)))
	}},
	{"lambda-rest-token", func(t testing.TB, f *fixture, tok string) answerSeen {
		return evalLambda(t, f.lam, events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + tok, MethodArn: testARN})
	}},
	{"lambda-rest-request", func(t testing.TB, f *fixture, tok string) answerSeen {
		return evalLambda(t, f.lam, events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST", MethodArn: testARN, HTTPMethod: testMethod,
			Path: testPath, Headers: map[string]string{"Authorization": "Bearer " + tok}})
	}},
	{"lambda-http-v1", func(t testing.TB, f *fixture, tok string) answerSeen {
		return evalLambda(t, f.lam, events.APIGatewayV2CustomAuthorizerV1Request{Version: "1.0", Type: "REQUEST", MethodArn: testARN,
			HTTPMethod: testMethod, Path: testPath, Headers: map[string]string{"Authorization": "Bearer " + tok}})
	}},
	{"lambda-http-v2", func(t testing.TB, f *fixture, tok string) answerSeen {
		ev := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteArn: testRouteARN, RouteKey: "GET /orders/{id}",
			RawPath: testPath, Headers: map[string]string{"authorization": "Bearer " + tok}}
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = testMethod, testPath
		return evalLambda(t, f.lam, ev)
	}},
	{"lambda-websocket", func(t testing.TB, f *fixture, tok string) answerSeen {
		return evalLambda(t, f.lam, map[string]any{"type": "REQUEST", "methodArn": testConnectARN,
			"headers":        map[string]string{"Authorization": "Bearer " + tok},
			"requestContext": map[string]any{"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c1=", "apiId": "abcdef1234", "stage": "prod"}})
	}},
	{"lambda-appsync", func(t testing.TB, f *fixture, tok string) answerSeen {
		return evalLambda(t, f.lam, events.AppSyncLambdaAuthorizerRequest{AuthorizationToken: "Bearer " + tok,
			RequestContext: events.AppSyncLambdaAuthorizerRequestContext{APIID: "gql1", OperationName: "GetOrder"}})
	}},
}

// invocationRequest is an Azure invocation payload request carrying hdr.
func invocationRequest(hdr http.Header) *http.Request {
	payload := map[string]any{"Data": map[string]any{"req": map[string]any{
		"Url": "http://localhost/api/authorize" + testPath, "Method": testMethod, "Headers": hdr,
	}}, "Metadata": map[string]any{}}
	r := httptest.NewRequest(http.MethodPost, customhandler.InvocationPath, bytes.NewReader(MustJSON(payload)))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// serveAzure runs one request through the Azure handler; an invocation
// payload's output binding is unwrapped so both shapes read alike.
func serveAzure(t testing.TB, h http.Handler, r *http.Request) answerSeen {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := answerSeen{Status: w.Code, Header: w.Header(), Body: w.Body.String()}
	if r.URL.Path == customhandler.InvocationPath && w.Code == http.StatusOK {
		var resp customhandler.InvocationResponse
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("invocation answer is not JSON: %v", err)
		}
		a.Status, a.Body = resp.Outputs.Res.StatusCode, resp.Outputs.Res.Body
		a.Header = http.Header{}
		for k, v := range resp.Outputs.Res.Headers {
			a.Header.Set(k, v)
		}
	}
	var b struct {
		Allow   bool   `json:"allow"`
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
		Detail  string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(a.Body), &b); err != nil {
		t.Fatalf("azure body %q: %v", a.Body, err)
	}
	a.Reason, a.Detail = decision.Reason(b.Reason), b.Detail
	a.Outcome = outcomeOf(b.Outcome)
	if b.Allow != (a.Outcome == decision.Allow) || (b.Allow != (a.Status == http.StatusOK)) {
		t.Fatalf("azure answer disagrees with itself: status %d allow %v outcome %q", a.Status, b.Allow, b.Outcome)
	}
	return a
}

func outcomeOf(s string) decision.Outcome {
	for _, o := range []decision.Outcome{decision.Allow, decision.Forbidden, decision.Unavailable, decision.Unauthenticated} {
		if o.String() == s {
			return o
		}
	}
	return decision.Unauthenticated
}

// evalLambda runs one event through the Lambda authorizer and checks that
// Evaluate, Handle and Invoke agree.
func evalLambda(t testing.TB, a *authorizer.Authorizer, ev any) answerSeen {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return evalLambdaRaw(t, a, raw)
}

func evalLambdaRaw(t testing.TB, a *authorizer.Authorizer, raw []byte) answerSeen {
	t.Helper()
	res := a.Evaluate(context.Background(), raw)
	out := answerSeen{Outcome: res.Decision.Outcome, Reason: res.Decision.Reason, Status: res.Status, Detail: res.Decision.Detail}
	if res.Err != nil {
		out.ErrText = res.Err.Error()
		if res.Response != nil {
			t.Fatalf("lambda returned both a response and an error %q", res.Err)
		}
	} else {
		b, err := json.Marshal(res.Response)
		if err != nil {
			t.Fatal(err)
		}
		out.Body = string(b)
	}
	return out
}

// checkDenied401 asserts the platform's answer for an unauthenticated
// request on channel ch.
func checkDenied401(t testing.TB, ch string, a answerSeen) {
	t.Helper()
	if a.Outcome != decision.Unauthenticated {
		t.Errorf("%s: outcome %s, want unauthenticated", ch, a.Outcome)
	}
	switch {
	case ch == "lambda-appsync" && a.Reason != decision.EventMalformed:
		// AppSync has no 401/403: a refusal is isAuthorized false, never
		// cached. (An event too broken to be told apart is the error
		// Unauthorized, which AppSync also refuses.)
		if a.ErrText != "" || a.Status != http.StatusUnauthorized || a.Body != `{"isAuthorized":false,"ttlOverride":0}` {
			t.Errorf("%s: answered error %q status %d body %q; want isAuthorized false, ttlOverride 0", ch, a.ErrText, a.Status, a.Body)
		}
	case strings.HasPrefix(ch, "lambda"):
		if a.ErrText != "Unauthorized" || a.Status != http.StatusUnauthorized || a.Body != "" {
			t.Errorf("%s: answered error %q status %d body %q; want the error \"Unauthorized\"", ch, a.ErrText, a.Status, a.Body)
		}
	case strings.HasPrefix(ch, "azure"):
		if a.Status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", ch, a.Status)
		}
		if wa := a.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", ch, wa)
		} else if a.Reason != decision.TokenMissing && !strings.Contains(wa, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q lacks error=\"invalid_token\"", ch, wa)
		}
	}
}

// secretForms are the ways a secret could leak: raw, standard and URL-safe
// base64, padded or not.
func secretForms(secret []byte) []string {
	return []string{
		string(secret),
		base64.StdEncoding.EncodeToString(secret),
		base64.RawStdEncoding.EncodeToString(secret),
		base64.URLEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret),
	}
}

// leakCheck reports which needle appears in s.
func leakCheck(s string, needles map[string]string) error {
	var errs []error
	for name, n := range needles {
		if n != "" && strings.Contains(s, n) {
			errs = append(errs, fmt.Errorf("contains the %s", name))
		}
	}
	return errors.Join(errs...)
}

// staticIssuer is the issuer of the static-key fixture (never contacted).
const staticIssuer = "https://issuer.example/"

// newStaticFixture builds the core from static keys only (rsa1 and ec1 in
// JWTGATE_JWKS): no network at all, for fuzzing.
func newStaticFixture(t testing.TB, extra map[string]string) *fixture {
	t.Helper()
	rsa1, ec1, _, _ := testKeys(t)
	vars := map[string]string{
		"JWTGATE_JWKS":      string(MustJSON(map[string]any{"keys": []any{rsa1.JWK(), ec1.JWK()}})),
		"JWTGATE_ISSUERS":   staticIssuer,
		"JWTGATE_AUDIENCES": testAudience,
	}
	for k, v := range extra {
		vars[k] = v
	}
	return buildFixture(t, vars, &fixture{issuer: staticIssuer, rsa: rsa1, ec: ec1, clock: newClock(), logs: &syncBuffer{}})
}

// buildFixture builds the core and both adapters from vars into f.
func buildFixture(t testing.TB, vars map[string]string, f *fixture, copts ...core.Option) *fixture {
	t.Helper()
	cfg, err := config.FromEnv(env(vars))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	copts = append([]core.Option{core.WithClock(f.clock.Now), core.WithLogger(logger)}, copts...)
	c, err := core.New(context.Background(), cfg, copts...)
	if err != nil {
		t.Fatalf("core: %v", err)
	}
	f.cfg, f.core, f.dec = cfg, c, c
	f.azure = customhandler.New(c, cfg, logger)
	f.lam = authorizer.New(c, cfg, logger)
	return f
}
