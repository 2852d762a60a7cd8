package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/keys"
)

const (
	testToken  = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl"
	methodARN  = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/42"
	wholeAPI   = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*"
	stagePref  = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/"
	routeARNv2 = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/42"
)

// fakeDecider returns a fixed decision and records what it was asked.
type fakeDecider struct {
	mu    sync.Mutex
	d     decision.Decision
	calls int
	last  decision.Request
	stats core.Stats
	panic bool
}

func (f *fakeDecider) Decide(_ context.Context, r *decision.Request) decision.Decision {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.last = *r
	if f.panic {
		panic("boom")
	}
	return f.d
}

func (f *fakeDecider) Stats() core.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

func allowDecision() decision.Decision {
	return decision.Decision{
		Outcome: decision.Allow, Reason: decision.ReasonOK, Principal: "user-1", Issuer: "https://issuer.example/",
		KeyID: "k1", Claims: decision.ClaimsOf(map[string]any{"sub": "user-1", "iss": "https://issuer.example/", "scope": "orders:read", "client_id": "app-7", "tenant": "t1"}),
	}
}

func forbiddenDecision() decision.Decision {
	d := allowDecision()
	d.Outcome, d.Reason = decision.Forbidden, decision.ScopeMissing
	return d
}

var (
	unauthDecision      = decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenExpired}
	unavailableDecision = decision.Decision{Outcome: decision.Unavailable, Reason: decision.KeysUnavailable}
	internalDecision    = decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError}
)

func quietLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(discard{}, nil)) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tokenEvent(arn, token string) []byte {
	b, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: token, MethodArn: arn})
	return b
}

func restRequestEvent(arn string, headers map[string]string, multi map[string][]string) []byte {
	b, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: arn, Path: "/orders/42", HTTPMethod: "GET",
		Headers: headers, MultiValueHeaders: multi,
		QueryStringParameters:           map[string]string{"view": "full"},
		MultiValueQueryStringParameters: map[string][]string{"view": {"full"}, "tag": {"a", "b"}},
		RequestContext:                  events.APIGatewayCustomAuthorizerRequestTypeRequestContext{Stage: "prod", Path: "/prod/orders/42"},
	})
	return b
}

func v1Event(arn string, headers map[string]string) []byte {
	b, _ := json.Marshal(events.APIGatewayV2CustomAuthorizerV1Request{
		Version: "1.0", Type: "REQUEST", MethodArn: arn, IdentitySource: headers["authorization"],
		Path: "/orders/42", HTTPMethod: "GET", Headers: headers,
		QueryStringParameters: map[string]string{"view": "full"},
	})
	return b
}

func v2Event(arn string, headers map[string]string) []byte {
	ev := events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST", RouteArn: arn, RouteKey: "GET /orders/{id}",
		IdentitySource: []string{headers["authorization"]},
		RawPath:        "/prod/orders/42", RawQueryString: "view=full&tag=a&tag=b",
		Cookies: []string{"session=abc"}, Headers: headers,
	}
	ev.RequestContext.Stage = "prod"
	ev.RequestContext.HTTP.Method = "GET"
	ev.RequestContext.HTTP.Path = "/prod/orders/42"
	b, _ := json.Marshal(ev)
	return b
}

// eventsByShape holds one well-formed event with a token for every shape.
func eventsByShape() map[string][]byte {
	h := map[string]string{"authorization": testToken}
	return map[string][]byte{
		ShapeRESTToken:   tokenEvent(methodARN, testToken),
		ShapeRESTRequest: restRequestEvent(methodARN, map[string]string{"Authorization": testToken}, nil),
		ShapeHTTPv1:      v1Event(methodARN, h),
		ShapeHTTPv2:      v2Event(routeARNv2, h),
	}
}

func TestShapeIsRecognisedAndRequestBuiltFromEvent(t *testing.T) {
	evs := eventsByShape()
	tests := []struct {
		shape   string
		query   map[string][]string
		cookies []string
	}{
		{ShapeRESTToken, nil, nil},
		{ShapeRESTRequest, map[string][]string{"view": {"full"}, "tag": {"a", "b"}}, nil},
		{ShapeHTTPv1, map[string][]string{"view": {"full"}}, nil},
		{ShapeHTTPv2, map[string][]string{"view": {"full"}, "tag": {"a", "b"}}, []string{"session=abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.shape, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision()}
			a := New(f, nil, quietLogger())
			res := a.Evaluate(context.Background(), evs[tt.shape])
			if res.Shape != tt.shape {
				t.Fatalf("shape = %q, want %q", res.Shape, tt.shape)
			}
			if f.calls != 1 {
				t.Fatalf("decider called %d times", f.calls)
			}
			if got := f.last.Header.Get("Authorization"); got != testToken {
				t.Errorf("Authorization header = %q", got)
			}
			if f.last.Method != "GET" || f.last.Path != "/orders/42" {
				t.Errorf("method/path = %q %q, want GET /orders/42", f.last.Method, f.last.Path)
			}
			if len(tt.query) > 0 && !reflect.DeepEqual(map[string][]string(f.last.Query), tt.query) {
				t.Errorf("query = %v, want %v", f.last.Query, tt.query)
			}
			if len(tt.query) == 0 && len(f.last.Query) > 0 {
				t.Errorf("query = %v, want none", f.last.Query)
			}
			if !reflect.DeepEqual(f.last.Cookies, tt.cookies) {
				t.Errorf("cookies = %v, want %v", f.last.Cookies, tt.cookies)
			}
		})
	}
}

func TestTokenEventUsesConfiguredHeaderName(t *testing.T) {
	f := &fakeDecider{d: allowDecision()}
	a := New(f, &config.Config{HeaderName: "X-Api-Token"}, quietLogger())
	a.Evaluate(context.Background(), tokenEvent(methodARN, "abc.def.ghi"))
	if got := f.last.Header.Get("X-Api-Token"); got != "abc.def.ghi" {
		t.Fatalf("X-Api-Token = %q", got)
	}
	if got := f.last.Header.Get("Authorization"); got != "" {
		t.Fatalf("Authorization = %q, want empty", got)
	}
}

func TestEmptyTokenReachesTheCoreWithoutHeader(t *testing.T) {
	f := &fakeDecider{d: decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenMissing}}
	a := New(f, nil, quietLogger())
	res := a.Evaluate(context.Background(), tokenEvent(methodARN, ""))
	if len(f.last.Header) != 0 || res.Status != 401 {
		t.Fatalf("header %v status %d", f.last.Header, res.Status)
	}
}

func TestAnswerPerShapeAndOutcome(t *testing.T) {
	tests := []struct {
		name     string
		d        decision.Decision
		status   int
		err      error
		effect   string // IAM answers
		resource string
	}{
		{"allow grants the whole stage", allowDecision(), 200, nil, "Allow", wholeAPI},
		{"unauthenticated is the error Unauthorized", unauthDecision, 401, ErrUnauthorized, "", ""},
		{"forbidden denies the whole stage", forbiddenDecision(), 403, nil, "Deny", wholeAPI},
		{"keys unavailable is another error", unavailableDecision, 500, ErrKeysUnavailable, "", ""},
		{"internal error is another error", internalDecision, 500, ErrInternal, "", ""},
		{"unknown outcome fails closed", decision.Decision{Outcome: decision.Outcome(42)}, 401, ErrUnauthorized, "", ""},
	}
	for shape, ev := range eventsByShape() {
		for _, tt := range tests {
			t.Run(shape+"/"+tt.name, func(t *testing.T) {
				a := New(&fakeDecider{d: tt.d}, nil, quietLogger())
				res := a.Evaluate(context.Background(), ev)
				if res.Status != tt.status {
					t.Fatalf("status = %d, want %d", res.Status, tt.status)
				}
				if !errors.Is(res.Err, tt.err) {
					t.Fatalf("err = %v, want %v", res.Err, tt.err)
				}
				resp, herr := a.Handle(context.Background(), ev)
				if (herr == nil) != (tt.err == nil) || (herr != nil && herr.Error() != tt.err.Error()) {
					t.Fatalf("Handle err = %v, want %v", herr, tt.err)
				}
				if tt.err != nil {
					if resp != nil || res.Response != nil {
						t.Fatalf("response %v alongside error", resp)
					}
					return
				}
				switch r := res.Response.(type) {
				case events.APIGatewayV2CustomAuthorizerSimpleResponse:
					if shape != ShapeHTTPv2 {
						t.Fatalf("simple response for %s", shape)
					}
					if r.IsAuthorized != (tt.status == 200) {
						t.Fatalf("isAuthorized = %v", r.IsAuthorized)
					}
					if r.Context["sub"] != "user-1" {
						t.Errorf("context = %v", r.Context)
					}
				case events.APIGatewayCustomAuthorizerResponse:
					if shape == ShapeHTTPv2 {
						t.Fatalf("REST response for %s", shape)
					}
					checkPolicy(t, r.PolicyDocument, tt.effect, []string{tt.resource})
					if r.PrincipalID != "user-1" {
						t.Errorf("principalId = %q", r.PrincipalID)
					}
				default:
					t.Fatalf("response type %T", res.Response)
				}
			})
		}
	}
}

func checkPolicy(t *testing.T, p events.APIGatewayCustomAuthorizerPolicy, effect string, resources []string) {
	t.Helper()
	if p.Version != "2012-10-17" || len(p.Statement) != 1 {
		t.Fatalf("policy = %+v", p)
	}
	s := p.Statement[0]
	if s.Effect != effect || !reflect.DeepEqual(s.Action, []string{"execute-api:Invoke"}) || !reflect.DeepEqual(s.Resource, resources) {
		t.Fatalf("statement = %+v, want %s %v", s, effect, resources)
	}
}

func TestHTTPAPIIAMResponseMode(t *testing.T) {
	tests := []struct {
		name   string
		d      decision.Decision
		effect string
		status int
	}{
		{"allow", allowDecision(), "Allow", 200},
		{"forbidden", forbiddenDecision(), "Deny", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(&fakeDecider{d: tt.d}, &config.Config{HTTPAPIResponse: "iam"}, quietLogger())
			res := a.Evaluate(context.Background(), eventsByShape()[ShapeHTTPv2])
			r, ok := res.Response.(events.APIGatewayV2CustomAuthorizerIAMPolicyResponse)
			if !ok {
				t.Fatalf("response type %T", res.Response)
			}
			checkPolicy(t, r.PolicyDocument, tt.effect, []string{wholeAPI})
			if res.Status != tt.status || r.PrincipalID != "user-1" || r.Context["client_id"] != "app-7" {
				t.Fatalf("status %d principal %q context %v", res.Status, r.PrincipalID, r.Context)
			}
		})
	}
}

func TestMalformedEventsAreUnauthenticatedWithoutAskingTheCore(t *testing.T) {
	long := "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/" + strings.Repeat("a", MaxARNBytes)
	tests := []struct {
		name  string
		event string
	}{
		{"empty", ``},
		{"not JSON", `{"type":`},
		{"null", `null`},
		{"array", `[1,2]`},
		{"string", `"TOKEN"`},
		{"empty object", `{}`},
		{"TOKEN without methodArn", `{"type":"TOKEN","authorizationToken":"x"}`},
		{"TOKEN without token field", `{"type":"TOKEN","methodArn":"` + methodARN + `"}`},
		{"TOKEN with a number token", `{"type":"TOKEN","authorizationToken":5,"methodArn":"` + methodARN + `"}`},
		{"REQUEST without methodArn", `{"type":"REQUEST","headers":{"Authorization":"x"}}`},
		{"REQUEST with headers of the wrong type", `{"type":"REQUEST","methodArn":"` + methodARN + `","headers":{"Authorization":["x"]}}`},
		{"unknown type", `{"type":"WEBSOCKET","methodArn":"` + methodARN + `"}`},
		{"unknown version", `{"version":"3.0","type":"REQUEST","routeArn":"` + methodARN + `"}`},
		{"numeric version", `{"version":2.0,"type":"REQUEST","routeArn":"` + methodARN + `"}`},
		{"v2 without routeArn", `{"version":"2.0","type":"REQUEST","headers":{"authorization":"x"}}`},
		{"v2 with a string identitySource", `{"version":"2.0","type":"REQUEST","routeArn":"` + methodARN + `","identitySource":"x"}`},
		{"v1 without an ARN", `{"version":"1.0","type":"REQUEST","identitySource":"x"}`},
		{"ARN of another service", `{"type":"TOKEN","authorizationToken":"x","methodArn":"arn:aws:lambda:eu-west-1:123456789012:function:f"}`},
		{"ARN with a wildcard account", `{"type":"TOKEN","authorizationToken":"x","methodArn":"arn:aws:execute-api:eu-west-1:*:abc123/prod/GET/x"}`},
		{"ARN with a wildcard API id", `{"type":"TOKEN","authorizationToken":"x","methodArn":"arn:aws:execute-api:eu-west-1:1:*/prod/GET/x"}`},
		{"ARN without method", `{"type":"TOKEN","authorizationToken":"x","methodArn":"arn:aws:execute-api:eu-west-1:1:abc/prod"}`},
		{"ARN over 1600 bytes", `{"type":"TOKEN","authorizationToken":"x","methodArn":"` + long + `"}`},
		{"event over the size cap", `{"type":"TOKEN","authorizationToken":"x","methodArn":"` + methodARN + `","pad":"` + strings.Repeat("p", MaxEventBytes) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision()}
			a := New(f, nil, quietLogger())
			res := a.Evaluate(context.Background(), []byte(tt.event))
			if f.calls != 0 {
				t.Fatalf("decider was asked")
			}
			if res.Status != 401 || res.Err != ErrUnauthorized || res.Response != nil {
				t.Fatalf("status %d err %v response %v", res.Status, res.Err, res.Response)
			}
			if res.Decision.Reason != decision.EventMalformed || res.Shape != ShapeUnknown {
				t.Fatalf("reason %q shape %q", res.Decision.Reason, res.Shape)
			}
			if out, err := a.Invoke(context.Background(), []byte(tt.event)); err == nil || err.Error() != "Unauthorized" || out != nil {
				t.Fatalf("Invoke = %s, %v", out, err)
			}
		})
	}
}

func TestAmbiguousTokenIsUnauthenticated(t *testing.T) {
	tests := []struct {
		name  string
		event []byte
	}{
		{"two multiValueHeaders values", restRequestEvent(methodARN, nil, map[string][]string{"Authorization": {testToken, "Bearer other"}})},
		{"same value twice", restRequestEvent(methodARN, nil, map[string][]string{"Authorization": {testToken, testToken}})},
		{"names differing in case", restRequestEvent(methodARN, nil, map[string][]string{"Authorization": {testToken}, "authorization": {"Bearer other"}})},
		{"headers map with names differing in case", restRequestEvent(methodARN, map[string]string{"Authorization": testToken, "AUTHORIZATION": "Bearer other"}, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision()}
			res := New(f, nil, quietLogger()).Evaluate(context.Background(), tt.event)
			if f.calls != 0 || res.Status != 401 || res.Decision.Reason != decision.TokenMalformed {
				t.Fatalf("calls %d status %d reason %q", f.calls, res.Status, res.Decision.Reason)
			}
		})
	}
}

func TestMultiValueHeadersWinOverSingleValues(t *testing.T) {
	f := &fakeDecider{d: allowDecision()}
	ev := restRequestEvent(methodARN, map[string]string{"Authorization": testToken, "X-Other": "1"}, map[string][]string{"Authorization": {testToken}})
	New(f, nil, quietLogger()).Evaluate(context.Background(), ev)
	if got := f.last.Header.Values("Authorization"); len(got) != 1 || got[0] != testToken {
		t.Fatalf("Authorization = %v", got)
	}
	if f.last.Header.Get("X-Other") != "1" {
		t.Fatalf("X-Other = %q", f.last.Header.Get("X-Other"))
	}
}

func TestDuplicateQueryTokenIsUnauthenticated(t *testing.T) {
	f := &fakeDecider{d: allowDecision()}
	a := New(f, &config.Config{QueryParam: "tag"}, quietLogger())
	res := a.Evaluate(context.Background(), restRequestEvent(methodARN, nil, nil))
	if f.calls != 0 || res.Status != 401 {
		t.Fatalf("calls %d status %d", f.calls, res.Status)
	}
}

func TestHTTPAPIPathDropsANamedStageOnly(t *testing.T) {
	tests := []struct{ path, stage, want string }{
		{"/prod/orders/42", "prod", "/orders/42"},
		{"/prod", "prod", "/"},
		{"/production/x", "prod", "/production/x"},
		{"/orders", "$default", "/orders"},
		{"/orders", "", "/orders"},
	}
	for _, tt := range tests {
		if got := stripStage(tt.path, tt.stage); got != tt.want {
			t.Errorf("stripStage(%q, %q) = %q, want %q", tt.path, tt.stage, got, tt.want)
		}
	}
}

func TestV2FallsBackToRouteKeyAndQueryParameters(t *testing.T) {
	// A "$default" route ARN names no call and the event has no path: the
	// route key is all that is left.
	arn := "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/$default"
	raw := `{"version":"2.0","type":"REQUEST","routeArn":"` + arn + `","routeKey":"DELETE /orders/{id}",
		"rawQueryString":"%zz","queryStringParameters":{"a":"1"},"headers":{"authorization":"x"}}`
	f := &fakeDecider{d: allowDecision()}
	New(f, nil, quietLogger()).Evaluate(context.Background(), []byte(raw))
	if f.last.Method != "DELETE" || f.last.Path != "/orders/{id}" || f.last.Query.Get("a") != "1" {
		t.Fatalf("request = %+v", f.last)
	}
}

// TestAWSSampleEvents runs the sample events shipped in aws-lambda-go's
// module through the adapter.
//
// Two of them are not what deployed API Gateway traffic looks like, and
// the expectations say what the adapter does with them:
//   - apigw-custom-auth-request.json is a console "Test" event whose
//     methodArn has the stage "*". An ARN with a wildcard stage would make
//     the whole-stage resource cover every stage, so it is refused as a
//     malformed event (401), never answered with a broader policy.
//   - apigw-v2-custom-authorizer-v2-request.json (the documentation's
//     example) has a routeArn for GET /request but requestContext.http for
//     POST /my/path. The core is asked about the routeArn's call, the one
//     the policy is about.
func TestAWSSampleEvents(t *testing.T) {
	dir := sampleEventsDir(t)
	tests := []struct {
		file   string
		shape  string
		method string
		path   string
		header [2]string
		query  [2]string
		cookie string
		whole  string
	}{
		{"apigw-custom-auth-request.json", ShapeUnknown, "", "", [2]string{}, [2]string{}, "", ""},
		{"apigw-custom-auth-request-type-request.json", ShapeRESTRequest, "GET", "/request", [2]string{"Headerauth1", "headerValue1"}, [2]string{"QueryString1", "queryValue1"}, "",
			"arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/*/*"},
		{"apigw-v2-custom-authorizer-v1-request.json", ShapeHTTPv1, "GET", "/request", [2]string{"Headerauth1", "headerValue1"}, [2]string{"QueryString1", "queryValue1"}, "",
			"arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*/*"},
		{"apigw-v2-custom-authorizer-v2-request.json", ShapeHTTPv2, "GET", "/request", [2]string{"Header1", "value1"}, [2]string{"parameter1", "value1"}, "cookie1",
			"arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*/*"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Skipf("sample event not present: %v", err)
			}
			f := &fakeDecider{d: allowDecision()}
			a := New(f, &config.Config{HTTPAPIResponse: "iam"}, quietLogger())
			res := a.Evaluate(context.Background(), raw)
			if tt.shape == ShapeUnknown {
				if res.Shape != ShapeUnknown || res.Status != 401 || res.Decision.Reason != decision.EventMalformed || f.calls != 0 {
					t.Fatalf("shape %q status %d reason %q calls %d", res.Shape, res.Status, res.Decision.Reason, f.calls)
				}
				return
			}
			if res.Shape != tt.shape || res.Status != 200 {
				t.Fatalf("shape %q status %d (%v)", res.Shape, res.Status, res.Decision.Detail)
			}
			if f.last.Method != tt.method || f.last.Path != tt.path {
				t.Errorf("method/path = %q %q", f.last.Method, f.last.Path)
			}
			if got := f.last.Header.Get(tt.header[0]); got != tt.header[1] {
				t.Errorf("header %s = %q", tt.header[0], got)
			}
			if tt.query[0] != "" && f.last.Query.Get(tt.query[0]) != tt.query[1] {
				t.Errorf("query %s = %q", tt.query[0], f.last.Query.Get(tt.query[0]))
			}
			if tt.cookie != "" && (len(f.last.Cookies) == 0 || f.last.Cookies[0] != tt.cookie) {
				t.Errorf("cookies = %v", f.last.Cookies)
			}
			var pol events.APIGatewayCustomAuthorizerPolicy
			switch r := res.Response.(type) {
			case events.APIGatewayCustomAuthorizerResponse:
				pol = r.PolicyDocument
			case events.APIGatewayV2CustomAuthorizerIAMPolicyResponse:
				pol = r.PolicyDocument
			default:
				t.Fatalf("response %T", res.Response)
			}
			checkPolicy(t, pol, "Allow", []string{tt.whole})
		})
	}
}

func sampleEventsDir(t *testing.T) string {
	t.Helper()
	dir, err := sampleDirNoSkip()
	if err != nil {
		t.Skipf("aws-lambda-go module not found: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("aws-lambda-go sample events not in the module cache: %v", err)
	}
	return dir
}

func TestARNParsing(t *testing.T) {
	tests := []struct {
		arn, prefix, method, path string
	}{
		{methodARN, "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod", "GET", "/orders/42"},
		{"arn:aws-cn:execute-api:cn-north-1:1:api/v1/POST/", "arn:aws-cn:execute-api:cn-north-1:1:api/v1", "POST", "/"},
		{"arn:aws:execute-api:us-east-1:1:api/$default/$default", "arn:aws:execute-api:us-east-1:1:api/$default", "$default", "/"},
		{"arn:aws:execute-api:us-east-1:1:api/prod/GET/a/b:c/d", "arn:aws:execute-api:us-east-1:1:api/prod", "GET", "/a/b:c/d"},
	}
	for _, tt := range tests {
		a, err := parseARN(tt.arn)
		if err != nil {
			t.Fatalf("parseARN(%q): %v", tt.arn, err)
		}
		if a.prefix != tt.prefix || a.method != tt.method || a.path != tt.path || a.wholeAPI() != tt.prefix+"/*/*" {
			t.Errorf("parseARN(%q) = %+v", tt.arn, a)
		}
	}
}

func grant(m, p string) decision.RouteGrant { return decision.RouteGrant{Method: m, Path: p} }

func TestRoutePolicies(t *testing.T) {
	routed := func(o decision.Outcome, granted, denied []decision.RouteGrant, defaults bool) decision.Decision {
		d := allowDecision()
		d.Outcome = o
		d.RoutesConfigured, d.Routes, d.DeniedRoutes, d.DefaultsSatisfied = true, granted, denied, defaults
		return d
	}
	allow, forbid := decision.Allow, decision.Forbidden
	tests := []struct {
		name      string
		arn       string
		d         decision.Decision
		effect    string
		resources []string
		status    int
	}{
		{"every rule and the defaults satisfied: whole stage", methodARN,
			routed(allow, []decision.RouteGrant{grant("GET", "/orders/{id}")}, nil, true), "Allow", []string{wholeAPI}, 200},
		{"defaults not satisfied: exact call only", methodARN,
			routed(allow, []decision.RouteGrant{grant("GET", "/orders/{id}")}, nil, false), "Allow", []string{methodARN}, 200},
		{"literal grants listed beside the exact call", methodARN,
			routed(allow, []decision.RouteGrant{grant("GET", "/orders/{id}"), grant("POST", "/orders"), grant("GET", "/health")}, []decision.RouteGrant{grant("DELETE", "/orders/{id}")}, true),
			"Allow", []string{methodARN, stagePref + "POST/orders", stagePref + "GET/health"}, 200},
		{"a literal grant that covers the call is not repeated", stagePref + "GET/health",
			routed(allow, []decision.RouteGrant{grant("GET", "/health")}, []decision.RouteGrant{grant("GET", "/admin/*")}, false),
			"Allow", []string{stagePref + "GET/health"}, 200},
		{"any-method grant expands to methods, not a wildcard", stagePref + "GET/health",
			routed(allow, []decision.RouteGrant{grant("GET", "/health"), grant("*", "/status")}, []decision.RouteGrant{grant("GET", "/admin/*")}, false),
			"Allow", []string{stagePref + "GET/health", stagePref + "GET/status", stagePref + "POST/status", stagePref + "PUT/status", stagePref + "PATCH/status",
				stagePref + "DELETE/status", stagePref + "HEAD/status", stagePref + "OPTIONS/status"}, 200},
		{"prefix and parameter grants are never widened", methodARN,
			routed(allow, []decision.RouteGrant{grant("GET", "/orders/*"), grant("GET", "/users/{id}")}, []decision.RouteGrant{grant("GET", "/admin")}, false),
			"Allow", []string{methodARN}, 200},
		{"a grant overlapping a denied rule is left out", methodARN,
			routed(allow, []decision.RouteGrant{grant("GET", "/orders/{id}"), grant("GET", "/admin/users")}, []decision.RouteGrant{grant("*", "/admin/*")}, true),
			"Allow", []string{methodARN}, 200},
		{"forbidden: allow only the other granted routes", methodARN,
			routed(forbid, []decision.RouteGrant{grant("GET", "/health"), grant("POST", "/orders")}, []decision.RouteGrant{grant("GET", "/orders/{id}")}, true),
			"Allow", []string{stagePref + "GET/health", stagePref + "POST/orders"}, 403},
		{"forbidden: a grant covering this call is dropped", stagePref + "GET/health",
			routed(forbid, []decision.RouteGrant{grant("GET", "/health")}, nil, false), "Deny", []string{wholeAPI}, 403},
		{"forbidden with nothing granted: deny the stage", methodARN,
			routed(forbid, nil, []decision.RouteGrant{grant("GET", "/orders/{id}")}, true), "Deny", []string{wholeAPI}, 403},
		{"a wildcard in the requested path is never used as a resource", stagePref + "GET/orders/*",
			routed(allow, nil, []decision.RouteGrant{grant("GET", "/admin")}, true), "Deny", []string{wholeAPI}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(&fakeDecider{d: tt.d}, nil, quietLogger())
			res := a.Evaluate(context.Background(), tokenEvent(tt.arn, testToken))
			r, ok := res.Response.(events.APIGatewayCustomAuthorizerResponse)
			if !ok {
				t.Fatalf("response %T (%v)", res.Response, res.Err)
			}
			checkPolicy(t, r.PolicyDocument, tt.effect, tt.resources)
			if res.Status != tt.status {
				t.Fatalf("status = %d, want %d", res.Status, tt.status)
			}
		})
	}
}

func TestPolicyLimitsNarrowNeverWiden(t *testing.T) {
	var many []decision.RouteGrant
	for i := 0; i < MaxPolicyResources+5; i++ {
		many = append(many, grant("GET", "/r"+strings.Repeat("x", i)))
	}
	d := allowDecision()
	d.RoutesConfigured, d.Routes = true, many
	d.DeniedRoutes = []decision.RouteGrant{grant("GET", "/admin")}
	res := New(&fakeDecider{d: d}, nil, quietLogger()).Evaluate(context.Background(), tokenEvent(methodARN, testToken))
	checkPolicy(t, res.Response.(events.APIGatewayCustomAuthorizerResponse).PolicyDocument, "Allow", []string{methodARN})

	d.Outcome = decision.Forbidden
	res = New(&fakeDecider{d: d}, nil, quietLogger()).Evaluate(context.Background(), tokenEvent(methodARN, testToken))
	checkPolicy(t, res.Response.(events.APIGatewayCustomAuthorizerResponse).PolicyDocument, "Deny", []string{wholeAPI})

	// An exact call over 512 characters cannot be listed: deny.
	longARN := stagePref + "GET/" + strings.Repeat("a", MaxResourceChars)
	d.Outcome, d.Routes = decision.Allow, nil
	res = New(&fakeDecider{d: d}, nil, quietLogger()).Evaluate(context.Background(), tokenEvent(longARN, testToken))
	checkPolicy(t, res.Response.(events.APIGatewayCustomAuthorizerResponse).PolicyDocument, "Deny", []string{wholeAPI})
	if res.Status != 403 {
		t.Fatalf("status = %d", res.Status)
	}
	// A long literal grant is left out rather than cut.
	if got := (arn{prefix: stagePref[:len(stagePref)-1]}).grantResources(grant("GET", "/"+strings.Repeat("b", MaxResourceChars))); got != nil {
		t.Fatalf("grantResources = %v", got)
	}
}

func TestGlobs(t *testing.T) {
	match := []struct {
		p, s string
		want bool
	}{
		{"a/*/*", "a/GET/", true},
		{"a/*/*", "a/GET/x/y", true},
		{"a/GET/x", "a/GET/x", true},
		{"a/GET/x", "a/GET/xy", false},
		{"a/GET/x*", "a/GET/xy", true},
		{"a/?ET/x", "a/GET/x", true},
		{"a/*", "b/GET", false},
		{"*", "", true},
		{"", "x", false},
	}
	for _, tt := range match {
		if got := globMatch(tt.p, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
	overlap := []struct {
		p, q string
		want bool
	}{
		{"GET/admin/users", "*/admin/*", true},
		{"GET/health", "*/admin/*", false},
		{"GET/orders", "GET/orders", true},
		{"POST/orders", "GET/orders", false},
		{"GET/a*", "*b", true},
		{"GET/a", "GET/?", true},
		{"GET/ab", "GET/?", false},
	}
	for _, tt := range overlap {
		if got := globsOverlap(tt.p, tt.q); got != tt.want {
			t.Errorf("globsOverlap(%q, %q) = %v", tt.p, tt.q, got)
		}
	}
}

func TestContextIsFlatAndUsageKeyIsRESTOnly(t *testing.T) {
	d := allowDecision()
	d.Claims = decision.ClaimsOf(map[string]any{
		"tenant": "t1", "n": float64(3), "i": int64(4), "ok": true, "roles": []string{"a", "b"},
		"nested": map[string]any{"x": 1}, "list": []any{1}, "scp": "read write", "azp": "app-9", "plan": "gold",
		"huge": strings.Repeat("h", MaxContextValueChars+1),
	})
	cfg := &config.Config{UsageIdentifierClaim: "plan"}
	want := map[string]any{"tenant": "t1", "n": float64(3), "i": int64(4), "ok": true, "roles": "a b", "scp": "read write",
		"scope": "read write", "azp": "app-9", "client_id": "app-9", "plan": "gold", "sub": "user-1", "iss": "https://issuer.example/"}
	for shape, ev := range eventsByShape() {
		t.Run(shape, func(t *testing.T) {
			res := New(&fakeDecider{d: d}, cfg, quietLogger()).Evaluate(context.Background(), ev)
			var ctx map[string]any
			usage := ""
			switch r := res.Response.(type) {
			case events.APIGatewayCustomAuthorizerResponse:
				ctx, usage = r.Context, r.UsageIdentifierKey
			case events.APIGatewayV2CustomAuthorizerSimpleResponse:
				ctx = r.Context
			}
			if !reflect.DeepEqual(ctx, want) {
				t.Fatalf("context = %v", ctx)
			}
			wantUsage := ""
			if shape == ShapeRESTToken || shape == ShapeRESTRequest {
				wantUsage = "gold"
			}
			if usage != wantUsage {
				t.Fatalf("usageIdentifierKey = %q, want %q", usage, wantUsage)
			}
		})
	}
}

func TestPrincipalFallsBackToClientID(t *testing.T) {
	d := allowDecision()
	d.Principal = ""
	m := d.Claims.Clone()
	delete(m, "sub")
	d.Claims = decision.ClaimsOf(m)
	res := New(&fakeDecider{d: d}, nil, quietLogger()).Evaluate(context.Background(), tokenEvent(methodARN, testToken))
	if got := res.Response.(events.APIGatewayCustomAuthorizerResponse).PrincipalID; got != "app-7" {
		t.Fatalf("principalId = %q", got)
	}
}

func TestPanickingDeciderIsAnInternalError(t *testing.T) {
	res := New(&fakeDecider{panic: true}, nil, quietLogger()).Evaluate(context.Background(), tokenEvent(methodARN, testToken))
	if res.Status != 500 || res.Err != ErrInternal {
		t.Fatalf("status %d err %v", res.Status, res.Err)
	}
	if res := New(nil, nil, quietLogger()).Evaluate(context.Background(), tokenEvent(methodARN, testToken)); res.Status != 500 {
		t.Fatalf("nil decider: status %d", res.Status)
	}
}

func TestInvokeReturnsTheJSONAnswer(t *testing.T) {
	a := New(&fakeDecider{d: allowDecision()}, nil, quietLogger())
	out, err := a.Invoke(context.Background(), eventsByShape()[ShapeHTTPv2])
	if err != nil || string(out) != `{"isAuthorized":true,"context":{"client_id":"app-7","iss":"https://issuer.example/","scope":"orders:read","sub":"user-1","tenant":"t1"}}` {
		t.Fatalf("Invoke = %s, %v", out, err)
	}
	out, err = a.Invoke(context.Background(), eventsByShape()[ShapeRESTToken])
	var r struct {
		PrincipalID    string `json:"principalId"`
		PolicyDocument struct {
			Statement []struct{ Action, Resource []string }
		} `json:"policyDocument"`
	}
	if err != nil || json.Unmarshal(out, &r) != nil || r.PrincipalID != "user-1" || r.PolicyDocument.Statement[0].Resource[0] != wholeAPI {
		t.Fatalf("Invoke = %s, %v", out, err)
	}
}

func TestDecisionLogAndMetricLines(t *testing.T) {
	var logs, metrics bytes.Buffer
	f := &fakeDecider{d: allowDecision()}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := []time.Time{t0, t0.Add(1500 * time.Microsecond), t0.Add(2 * time.Millisecond)}
	now := func() time.Time { c := clock[0]; clock = clock[1:]; return c }
	a := New(f, nil, slog.New(slog.NewJSONHandler(&logs, nil)), WithMetrics(&metrics, ""), WithClock(now))
	f.stats = core.Stats{Keys: keys.Stats{DiscoveryFetches: 1, JWKSFetches: 2, FetchErrors: 1}}
	a.Evaluate(context.Background(), eventsByShape()[ShapeRESTRequest])

	if strings.Contains(logs.String(), "eyJ") || strings.Contains(metrics.String(), "eyJ") {
		t.Fatalf("token logged: %s %s", logs.String(), metrics.String())
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", logs.String(), err)
	}
	for k, v := range map[string]any{"platform": "aws-lambda", "shape": "rest_request", "outcome": "allow", "reason": "ok", "sub": "user-1", "latency_ms": 1.5, "gateway_status": float64(200)} {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	var emf map[string]any
	if err := json.Unmarshal(metrics.Bytes(), &emf); err != nil {
		t.Fatalf("metric line %q: %v", metrics.String(), err)
	}
	aws := emf["_aws"].(map[string]any)
	if aws["Timestamp"] != float64(t0.Add(2*time.Millisecond).UnixMilli()) {
		t.Errorf("Timestamp = %v", aws["Timestamp"])
	}
	dirs := aws["CloudWatchMetrics"].([]any)
	if len(dirs) != 2 || dirs[0].(map[string]any)["Namespace"] != "jwtgate" {
		t.Errorf("directives = %v", dirs)
	}
	for k, v := range map[string]any{"Outcome": "allow", "Shape": "rest_request", "Decisions": float64(1), "Latency": 1.5, "KeyFetches": float64(3), "KeyFetchErrors": float64(1)} {
		if emf[k] != v {
			t.Errorf("metric %s = %v, want %v", k, emf[k], v)
		}
	}
	if !strings.HasSuffix(metrics.String(), "}\n") || strings.Count(metrics.String(), "\n") != 1 {
		t.Errorf("metric output is not one line: %q", metrics.String())
	}

	// The next decision reports only the fetches since the previous one.
	metrics.Reset()
	clock = []time.Time{t0, t0, t0}
	a.Evaluate(context.Background(), eventsByShape()[ShapeRESTRequest])
	emf = nil
	if err := json.Unmarshal(metrics.Bytes(), &emf); err != nil || emf["KeyFetches"] != float64(0) {
		t.Fatalf("second metric line %q: %v", metrics.String(), err)
	}
}

func TestMalformedEventIsLogged(t *testing.T) {
	var logs bytes.Buffer
	a := New(&fakeDecider{d: allowDecision()}, nil, slog.New(slog.NewJSONHandler(&logs, nil)))
	a.Evaluate(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"`+testToken+`"}`))
	if !strings.Contains(logs.String(), `"reason":"event_malformed"`) || strings.Contains(logs.String(), "eyJ") {
		t.Fatalf("log = %s", logs.String())
	}
}

// FuzzHandle: arbitrary bytes never panic, and nothing is allowed unless
// the decider allowed a well-formed event.
func FuzzHandle(f *testing.F) {
	for _, ev := range eventsByShape() {
		f.Add(ev, true)
	}
	f.Add([]byte(`{"type":"TOKEN","authorizationToken":"x","methodArn":"arn:aws:execute-api:r:1:a/s/GET/*"}`), true)
	f.Add([]byte(`{"version":"1.0","routeArn":"arn:aws:execute-api:r:1:a/s/GET/x","headers":{"a":"b"}}`), false)
	f.Add([]byte(`{"version":"2.0"}`), true)
	f.Add([]byte(`null`), false)
	f.Add(wsEvent(f, nil), true)
	f.Add(appSyncEvent(f, "a.b.c", "GetOrder"), true)
	f.Add([]byte(`{"authorizationToken":"x","requestContext":{"apiId":"a","operationName":"Q","variables":{"v":[1,{"w":null}]}}}`), true)
	if dir, err := sampleDirNoSkip(); err == nil {
		for _, n := range []string{"apigw-custom-auth-request.json", "apigw-custom-auth-request-type-request.json",
			"apigw-v2-custom-authorizer-v1-request.json", "apigw-v2-custom-authorizer-v2-request.json",
			"appsync-lambda-auth-request.json", "apigw-websocket-request.json"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				f.Add(b, true)
			}
		}
	}
	f.Fuzz(func(t *testing.T, event []byte, allow bool) {
		d := forbiddenDecision()
		if allow {
			d = allowDecision()
		}
		fd := &fakeDecider{d: d}
		a := New(fd, nil, quietLogger())
		res := a.Evaluate(context.Background(), event)
		if res.Status == 200 && (!allow || fd.calls == 0) {
			t.Fatalf("allowed: allow=%v calls=%d", allow, fd.calls)
		}
		if (res.Err == nil) == (res.Response == nil) {
			t.Fatalf("err %v with response %v", res.Err, res.Response)
		}
		if res.Shape == ShapeUnknown && (res.Status != 401 || fd.calls != 0) {
			t.Fatalf("unknown shape answered %d after %d calls", res.Status, fd.calls)
		}
		if _, err := json.Marshal(res.Response); err != nil {
			t.Fatalf("response does not marshal: %v", err)
		}
		if r, ok := res.Response.(events.AppSyncLambdaAuthorizerResponse); ok {
			if r.IsAuthorized != (res.Status == 200) || r.TTLOverride == nil || *r.TTLOverride < 0 || *r.TTLOverride > MaxAppSyncTTL {
				t.Fatalf("AppSync answer %+v with status %d", r, res.Status)
			}
		}
		if r, ok := res.Response.(events.APIGatewayCustomAuthorizerResponse); ok {
			if res.Shape == ShapeWebSocket {
				for _, s := range r.PolicyDocument.Statement {
					for _, rs := range s.Resource {
						if !strings.HasSuffix(rs, "/$connect") || strings.ContainsAny(rs, "*?") {
							t.Fatalf("WebSocket policy resource %q", rs)
						}
					}
				}
			}
			for _, s := range r.PolicyDocument.Statement {
				for _, rs := range s.Resource {
					if len(rs) > MaxResourceChars {
						t.Fatalf("resource of %d chars", len(rs))
					}
				}
			}
		}
	})
}

// sampleDirNoSkip is the events/testdata directory of the aws-lambda-go
// version this module uses.
func sampleDirNoSkip() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		return "", err
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("module directory unknown")
	}
	return filepath.Join(dir, "events", "testdata"), nil
}
