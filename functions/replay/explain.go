package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/functions/lambda/authorizer"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/explain"
	"github.com/jwtgate/jwtgate/shared/validate"
)

// Exit statuses of explain: allow, refusal, usage or configuration error.
const (
	exitAllow   = 0
	exitRefused = 1
)

// maxStdinToken bounds a token read from standard input.
const maxStdinToken = 1 << 20

type explainFlags struct {
	envFile   string
	ownConfig bool
	event     string
	token     string
	stdin     bool
	method    string
	path      string
	jsonOut   bool
	addr      string
	keyPath   string
}

// cmdExplain runs one token or event through the core with a trace and
// prints every check, the decision and each platform's answer.
func cmdExplain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	d := defaultPaths("events")
	var f explainFlags
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: replay explain [--env-file F | --own-config] [--event FILE | --token T | -] [--json]")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.envFile, "env-file", d.envPath, "JWTGATE_* settings (KEY=VALUE lines) to build the core from")
	fs.BoolVar(&f.ownConfig, "own-config", false, "take JWTGATE_* from this process's environment instead of --env-file")
	fs.StringVar(&f.event, "event", "", "an event file: API Gateway .json, Azure invocation .json or proxied request .http")
	fs.StringVar(&f.token, "token", "", "a token (sent as the configured header, query parameter or cookie)")
	fs.StringVar(&f.method, "method", "GET", "with --token or -: the method of the call (for route rules)")
	fs.StringVar(&f.path, "path", "/", "with --token or -: the path of the call (for route rules)")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object")
	fs.StringVar(&f.addr, "addr", DefaultAddr, "loopback address of the embedded dev issuer (served when the configuration points at it)")
	fs.StringVar(&f.keyPath, "key", d.keyPath, "the dev issuer's private JWK (test-only)")
	if err := fs.Parse(args); err != nil {
		return exitSetup
	}
	switch {
	case fs.NArg() == 1 && fs.Arg(0) == "-":
		f.stdin = true
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "explain: unexpected arguments %q (use - to read the token from standard input)\n", fs.Args())
		return exitSetup
	}
	n := 0
	for _, set := range []bool{f.event != "", f.token != "", f.stdin} {
		if set {
			n++
		}
	}
	if n != 1 {
		fmt.Fprintln(stderr, "explain: give exactly one of --event FILE, --token T or - (token on standard input)")
		return exitSetup
	}
	if f.stdin {
		tok, err := readToken(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "explain:", err)
			return exitSetup
		}
		f.token = tok
	}
	rep, err := explainWith(ctx, f)
	if err != nil {
		fmt.Fprintln(stderr, "explain:", err)
		return exitSetup
	}
	if f.jsonOut {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "explain:", err)
		return exitSetup
	}
	if rep.Allowed() {
		return exitAllow
	}
	return exitRefused
}

// readToken reads one token from r: surrounding white space is dropped,
// and a "Bearer " prefix too (people paste header values).
func readToken(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxStdinToken+1))
	if err != nil {
		return "", fmt.Errorf("standard input: %w", err)
	}
	if len(b) > maxStdinToken {
		return "", fmt.Errorf("standard input: larger than %d bytes", maxStdinToken)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	if tok == "" {
		return "", errors.New("standard input: no token")
	}
	return tok, nil
}

// tracer is the Decider the adapters call during explain: the core,
// traced. It remembers the request the adapter built.
type tracer struct {
	c     *core.Core
	trace validate.Trace
	req   *decision.Request
	d     *decision.Decision
}

func (t *tracer) Decide(ctx context.Context, r *decision.Request) decision.Decision {
	t.req = r
	d := t.c.DecideTraced(ctx, r, &t.trace)
	t.d = &d
	return d
}

// fixed is a Decider that answers one decision: it shows how each
// platform's adapter renders the decision explain found.
type fixed decision.Decision

func (f fixed) Decide(context.Context, *decision.Request) decision.Decision {
	return decision.Decision(f)
}

// explainWith builds the core from the configuration f names and explains
// f's token or event.
func explainWith(ctx context.Context, f explainFlags) (*explain.Report, error) {
	var ev eventFile
	if f.event != "" {
		var err error
		if ev, err = readEvent(f.event); err != nil {
			return nil, err
		}
	}
	_, getenv, err := configSource(f.ownConfig, f.envFile)
	if err != nil {
		return nil, err
	}
	stop, err := serveDevIssuer(getenv, f.addr, f.keyPath)
	if err != nil {
		return nil, err
	}
	defer stop()
	logger := slog.New(slog.DiscardHandler)
	c, err := core.FromEnv(ctx, getenv, core.WithLogger(logger))
	if err == nil {
		err = checkAdapterSettings(getenv)
	}
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	cfg := c.Config()
	startup := fetches(c)

	t := &tracer{c: c}
	var own *explainAnswer // the answer of the event's own platform
	input := "token"
	shape := ""
	switch {
	case f.event != "":
		input = "event " + filepath.ToSlash(f.event)
		own, shape, err = runEvent(ctx, t, cfg, ev)
		if err != nil {
			return nil, err
		}
	default:
		r := tokenRequest(cfg, f.token, f.method, f.path)
		t.Decide(ctx, r)
	}
	d := decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.EventMalformed, Detail: "the adapter did not ask the core"}
	if t.d != nil {
		d = *t.d
	} else if own != nil {
		d = own.decision
	}
	rep := explain.New(&t.trace, d)
	rep.Input, rep.Shape = input, shape
	if t.req != nil {
		rep.Method, rep.Path = t.req.Method, t.req.Path
	}
	if rep.Keys != nil {
		rep.Keys.StartupFetches = startup
		rep.Keys.RequestFetches = fetches(c) - startup
	}
	rep.Answers = answers(ctx, cfg, d, t.req, own)
	return rep, nil
}

func fetches(c *core.Core) int64 {
	st := c.Stats().Keys
	return st.DiscoveryFetches + st.JWKSFetches
}

// tokenRequest is the request a client sends with tok: in the configured
// header (with its scheme), else the query parameter, else the WebSocket
// subprotocol, else the cookie.
func tokenRequest(cfg *config.Config, tok, method, path string) *decision.Request {
	r := &decision.Request{Header: http.Header{}, Method: strings.ToUpper(method), Path: path}
	switch {
	case cfg.HeaderName != "":
		v := tok
		if cfg.Scheme != "" {
			v = cfg.Scheme + " " + tok
		}
		r.Header.Set(cfg.HeaderName, v)
	case cfg.QueryParam != "":
		r.Query = url.Values{cfg.QueryParam: {tok}}
	case cfg.Subprotocol != "":
		r.Header.Set("Sec-WebSocket-Protocol", cfg.Subprotocol+", "+tok)
	case cfg.CookieName != "":
		r.Cookies = []string{cfg.CookieName + "=" + tok}
	}
	return r
}

// runEvent runs ev through its platform's adapter around the tracer.
func runEvent(ctx context.Context, t *tracer, cfg *config.Config, ev eventFile) (*explainAnswer, string, error) {
	logger := slog.New(slog.DiscardHandler)
	switch ev.Kind {
	case KindLambda:
		res := authorizer.New(t, cfg, logger).Evaluate(ctx, ev.Body)
		platform := "API Gateway (" + shapeName(res.Shape) + ", this event)"
		if res.Shape == authorizer.ShapeAppSync {
			platform = "AppSync (Lambda authorizer, this event)"
		}
		a := lambdaAnswer(platform, res)
		return &explainAnswer{Answer: a, decision: res.Decision}, shapeName(res.Shape), nil
	case KindAzureProxy:
		req, err := parseHTTPRequest(ev.Body)
		if err != nil {
			return nil, "", fmt.Errorf("events: %s: %w", ev.Path, err)
		}
		rec := httptest.NewRecorder()
		customhandler.New(t, cfg, logger).ServeHTTP(rec, req.WithContext(ctx))
		a := azureAnswer("Azure Functions (proxied request, this event)", rec.Code, rec.Header())
		return &explainAnswer{Answer: a, decision: bodyDecision(rec.Body.Bytes())}, "Azure proxied request", nil
	case KindAzureInvocation:
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, customhandler.InvocationPath, bytes.NewReader(ev.Body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		customhandler.New(t, cfg, logger).ServeHTTP(rec, req)
		a, d := invocationExplained(rec.Code, rec.Body.Bytes())
		return &explainAnswer{Answer: a, decision: d}, "Azure invocation payload", nil
	}
	return nil, "", fmt.Errorf("events: %s: unknown event kind %q", ev.Path, ev.Kind)
}

// explainAnswer is an event's answer from its own platform's adapter, with
// the decision that adapter reported (its own refusals included).
type explainAnswer struct {
	explain.Answer
	decision decision.Decision
}

// answers lists what each platform answers for decision d: the event's own
// platform as it answered, and the others by running their adapters on a
// request like r around a decider that gives d.
func answers(ctx context.Context, cfg *config.Config, d decision.Decision, r *decision.Request, own *explainAnswer) []explain.Answer {
	var out []explain.Answer
	lambdaOwn, azureOwn := false, false
	if own != nil {
		out = append(out, own.Answer)
		lambdaOwn = strings.HasPrefix(own.Platform, "API Gateway") || strings.HasPrefix(own.Platform, "AppSync")
		azureOwn = !lambdaOwn
	}
	if r == nil { // the adapter refused the event before asking the core
		return out
	}
	logger := slog.New(slog.DiscardHandler)
	if !lambdaOwn {
		res := authorizer.New(fixed(d), cfg, logger).Evaluate(ctx, restRequestFor(r))
		out = append(out, lambdaAnswer("API Gateway (REST API REQUEST authorizer)", res))
	}
	if !azureOwn {
		rec := httptest.NewRecorder()
		customhandler.New(fixed(d), cfg, logger).ServeHTTP(rec, proxiedRequestFor(ctx, r))
		out = append(out, azureAnswer("Azure Functions / forward-auth", rec.Code, rec.Header()))
	}
	return out
}

// restRequestFor is a REST API REQUEST authorizer event for the call r.
func restRequestFor(r *decision.Request) json.RawMessage {
	method, path := r.Method, r.Path
	if method == "" {
		method = "GET"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:       "REQUEST",
		MethodArn:  "arn:aws:execute-api:us-east-1:123456789012:explain/prod/" + method + path,
		Path:       path,
		HTTPMethod: method,
		Headers:    map[string]string{},
	}
	for k, v := range r.Header {
		if len(v) > 0 {
			ev.Headers[k] = v[0]
		}
	}
	b, _ := json.Marshal(ev)
	return b
}

// proxiedRequestFor is the request the Functions host proxies for the call r.
func proxiedRequestFor(ctx context.Context, r *decision.Request) *http.Request {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req := httptest.NewRequestWithContext(ctx, method, customhandler.ProxyPrefix+"/"+strings.TrimPrefix(r.Path, "/"), nil)
	for k, v := range r.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	return req
}

func shapeName(s string) string {
	switch s {
	case authorizer.ShapeRESTToken:
		return "REST API TOKEN authorizer"
	case authorizer.ShapeRESTRequest:
		return "REST API REQUEST authorizer"
	case authorizer.ShapeHTTPv1:
		return "HTTP API payload 1.0"
	case authorizer.ShapeHTTPv2:
		return "HTTP API payload 2.0"
	case authorizer.ShapeWebSocket:
		return "WebSocket API $connect authorizer"
	case authorizer.ShapeAppSync:
		return "AppSync Lambda authorizer"
	}
	return "unrecognised event"
}

// lambdaAnswer describes what the Lambda returns and API Gateway answers.
func lambdaAnswer(platform string, res authorizer.Result) explain.Answer {
	a := explain.Answer{Platform: platform, Status: res.Status}
	switch resp := res.Response.(type) {
	case nil:
		a.Answer = fmt.Sprintf("the Lambda returns the error %q", res.Err.Error())
	case events.APIGatewayV2CustomAuthorizerSimpleResponse:
		a.Answer = fmt.Sprintf(`simple response {"isAuthorized": %t}`, resp.IsAuthorized)
	case events.APIGatewayCustomAuthorizerResponse:
		a.Answer = policyText(resp.PrincipalID, resp.PolicyDocument)
	case events.APIGatewayV2CustomAuthorizerIAMPolicyResponse:
		a.Answer = policyText(resp.PrincipalID, resp.PolicyDocument)
	case events.AppSyncLambdaAuthorizerResponse:
		ttl := 0
		if resp.TTLOverride != nil {
			ttl = *resp.TTLOverride
		}
		a.Answer = fmt.Sprintf(`AppSync response {"isAuthorized": %t, "ttlOverride": %d, "deniedFields": %q}`, resp.IsAuthorized, ttl, resp.DeniedFields)
	}
	return a
}

func policyText(principal string, p events.APIGatewayCustomAuthorizerPolicy) string {
	var parts []string
	for _, s := range p.Statement {
		parts = append(parts, s.Effect+" "+strings.Join(s.Resource, " "))
	}
	return fmt.Sprintf("IAM policy for principal %q: %s", principal, strings.Join(parts, "; "))
}

func azureAnswer(platform string, status int, h http.Header) explain.Answer {
	return explain.Answer{Platform: platform, Status: status, WWWAuthenticate: h.Get("WWW-Authenticate"), RetryAfter: h.Get("Retry-After")}
}

// bodyDecision reads the decision from the Azure handler's JSON body.
func bodyDecision(body []byte) decision.Decision {
	var b struct {
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
		Detail  string `json:"detail"`
	}
	_ = json.Unmarshal(body, &b)
	d := decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.Reason(b.Reason), Detail: b.Detail}
	for _, o := range []decision.Outcome{decision.Allow, decision.Forbidden, decision.Unavailable} {
		if o.String() == b.Outcome {
			d.Outcome = o
		}
	}
	if d.Reason == "" {
		d.Reason = decision.EventMalformed
	}
	return d
}

// invocationExplained reads the answer the host passes on from an
// invocation response.
func invocationExplained(code int, body []byte) (explain.Answer, decision.Decision) {
	const platform = "Azure Functions (invocation payload, this event)"
	if code/100 != 2 {
		return explain.Answer{Platform: platform, Status: code, Answer: "the host fails the invocation"}, bodyDecision(body)
	}
	var resp customhandler.InvocationResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return explain.Answer{Platform: platform, Status: code, Answer: "the answer is not JSON"}, bodyDecision(nil)
	}
	h := http.Header{}
	for k, v := range resp.Outputs.Res.Headers {
		h.Set(k, v)
	}
	return azureAnswer(platform, resp.Outputs.Res.StatusCode, h), bodyDecision([]byte(resp.Outputs.Res.Body))
}
