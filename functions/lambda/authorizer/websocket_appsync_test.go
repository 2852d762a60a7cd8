package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

const connectARN = "arn:aws:execute-api:eu-west-1:123456789012:ws1234/prod/$connect"

// wsEvent is a WebSocket API $connect REQUEST authorizer event as API
// Gateway sends it; edit changes the decoded JSON before it is encoded.
func wsEvent(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"type":      "REQUEST",
		"methodArn": connectARN,
		"headers": map[string]any{
			"Host": "ws1234.execute-api.eu-west-1.amazonaws.com", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
			"Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": "jwtgate.bearer, tok.en.sig",
		},
		"multiValueHeaders": map[string]any{
			"Host": []any{"ws1234.execute-api.eu-west-1.amazonaws.com"}, "Sec-WebSocket-Protocol": []any{"jwtgate.bearer, tok.en.sig"},
		},
		"queryStringParameters":           map[string]any{"access_token": "q.to.ken"},
		"multiValueQueryStringParameters": map[string]any{"access_token": []any{"q.to.ken"}},
		"stageVariables":                  map[string]any{},
		"requestContext": map[string]any{
			"routeKey": "$connect", "eventType": "CONNECT", "extendedRequestId": "abc=", "requestTime": "02/Dec/2026:01:00:00 +0000",
			"messageDirection": "IN", "stage": "prod", "connectedAt": 1796000000000, "requestTimeEpoch": 1796000000000,
			"identity": map[string]any{"sourceIp": "203.0.113.9"}, "requestId": "abc=",
			"domainName": "ws1234.execute-api.eu-west-1.amazonaws.com", "connectionId": "conn1=", "apiId": "ws1234",
		},
	}
	if edit != nil {
		edit(m)
	}
	return mustJSON(t, m)
}

// appSyncEvent is an AppSync Lambda authorizer event.
func appSyncEvent(t testing.TB, token, operation string) []byte {
	t.Helper()
	return mustJSON(t, events.AppSyncLambdaAuthorizerRequest{
		AuthorizationToken: token,
		RequestContext: events.AppSyncLambdaAuthorizerRequestContext{
			APIID: "gql1234", AccountID: "123456789012", RequestID: "req-1",
			QueryString: "query " + operation + " { orders { id } }", OperationName: operation, Variables: map[string]any{"id": 1},
		},
	})
}

func rc(m map[string]any) map[string]any { return m["requestContext"].(map[string]any) }

func TestWebSocketConnectRequest(t *testing.T) {
	f := &fakeDecider{d: allowDecision()}
	a := New(f, nil, quietLogger())
	res := a.Evaluate(context.Background(), wsEvent(t, nil))
	if res.Shape != ShapeWebSocket || res.Status != 200 {
		t.Fatalf("shape %q status %d (%s)", res.Shape, res.Status, res.Decision.Detail)
	}
	if f.last.Method != "CONNECT" || f.last.Path != "/$connect" {
		t.Fatalf("method/path %q %q, want CONNECT /$connect", f.last.Method, f.last.Path)
	}
	if f.last.Host != "ws1234.execute-api.eu-west-1.amazonaws.com" || f.last.SourceIP != "203.0.113.9" {
		t.Fatalf("host %q source IP %q", f.last.Host, f.last.SourceIP)
	}
	if got := f.last.Query.Get("access_token"); got != "q.to.ken" {
		t.Fatalf("query access_token %q", got)
	}
	if got := f.last.Header.Values("Sec-Websocket-Protocol"); len(got) != 1 || got[0] != "jwtgate.bearer, tok.en.sig" {
		t.Fatalf("Sec-WebSocket-Protocol %q", got)
	}
}

func TestARESTResourceNamedConnectIsNotAWebSocketEvent(t *testing.T) {
	f := &fakeDecider{d: allowDecision()}
	res := New(f, nil, quietLogger()).Evaluate(context.Background(),
		restRequestEvent(stagePref+"GET/$connect", map[string]string{"Authorization": testToken}, nil))
	if res.Shape != ShapeRESTRequest || res.Status != 200 || f.last.Path != "/$connect" || f.last.Method != "GET" {
		t.Fatalf("shape %q status %d call %s %s", res.Shape, res.Status, f.last.Method, f.last.Path)
	}
}

func TestWebSocketAnswerIsAPolicyForTheConnectARN(t *testing.T) {
	tests := []struct {
		name   string
		d      decision.Decision
		status int
		err    error
		effect string
	}{
		{"allow allows $connect only", allowDecision(), 200, nil, "Allow"},
		{"forbidden denies $connect", forbiddenDecision(), 403, nil, "Deny"},
		{"route rules do not widen the allow", func() decision.Decision {
			d := allowDecision()
			d.RoutesConfigured, d.Routes = true, []decision.RouteGrant{grant("*", "/admin/*"), grant("CONNECT", "/$connect")}
			return d
		}(), 200, nil, "Allow"},
		{"unauthenticated is Unauthorized", unauthDecision, 401, ErrUnauthorized, ""},
		{"keys unavailable is a 500", unavailableDecision, 500, ErrKeysUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(&fakeDecider{d: tt.d}, nil, quietLogger())
			res := a.Evaluate(context.Background(), wsEvent(t, nil))
			if res.Status != tt.status || !errors.Is(res.Err, tt.err) {
				t.Fatalf("status %d err %v, want %d %v", res.Status, res.Err, tt.status, tt.err)
			}
			if tt.err != nil {
				return
			}
			r, ok := res.Response.(events.APIGatewayCustomAuthorizerResponse)
			if !ok {
				t.Fatalf("response %T", res.Response)
			}
			checkPolicy(t, r.PolicyDocument, tt.effect, []string{connectARN})
			if r.PrincipalID != "user-1" || r.Context["sub"] != "user-1" {
				t.Fatalf("principal %q context %v", r.PrincipalID, r.Context)
			}
		})
	}
}

func TestMalformedWebSocketEventsNeverReachTheCore(t *testing.T) {
	tests := map[string]func(m map[string]any){
		"another route key":             func(m map[string]any) { rc(m)["routeKey"] = "$default" },
		"a message event":               func(m map[string]any) { rc(m)["eventType"] = "MESSAGE" },
		"no event type":                 func(m map[string]any) { delete(rc(m), "eventType") },
		"methodArn of another route":    func(m map[string]any) { m["methodArn"] = strings.Replace(connectARN, "$connect", "$default", 1) },
		"methodArn with a path":         func(m map[string]any) { m["methodArn"] = connectARN + "/x" },
		"methodArn with a wildcard":     func(m map[string]any) { m["methodArn"] = strings.Replace(connectARN, "/prod/", "/*/", 1) },
		"context of another API":        func(m map[string]any) { rc(m)["apiId"] = "other" },
		"context of another stage":      func(m map[string]any) { rc(m)["stage"] = "dev" },
		"route key is a number":         func(m map[string]any) { rc(m)["routeKey"] = 1 },
		"context is a string":           func(m map[string]any) { m["requestContext"] = "x" },
		"context is a string, $connect": func(m map[string]any) { m["requestContext"] = "x"; m["methodArn"] = connectARN },
		"headers are an array":          func(m map[string]any) { m["headers"] = []any{"a"} },
		"query value is a number":       func(m map[string]any) { m["queryStringParameters"] = map[string]any{"access_token": 5} },
		"connectedAt is a string":       func(m map[string]any) { rc(m)["connectedAt"] = "soon" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision()}
			res := New(f, nil, quietLogger()).Evaluate(context.Background(), wsEvent(t, edit))
			if res.Status != 401 || res.Decision.Reason != decision.EventMalformed || f.calls != 0 {
				t.Fatalf("status %d reason %s calls %d (shape %s)", res.Status, res.Decision.Reason, f.calls, res.Shape)
			}
		})
	}
}

func TestAppSyncRequest(t *testing.T) {
	tests := []struct {
		name, token, operation string
		cfg                    *config.Config
		header, path           string
	}{
		{"bare token gets the scheme", "a.b.c", "GetOrder", nil, "Bearer a.b.c", "/GetOrder"},
		{"token with the scheme as sent", "Bearer a.b.c", "GetOrder", nil, "Bearer a.b.c", "/GetOrder"},
		{"lower-case scheme as sent", "bearer a.b.c", "", nil, "bearer a.b.c", "/"},
		{"another scheme is not taken for the token", "Basic dXNlcg==", "Q", nil, "Bearer Basic dXNlcg==", "/Q"},
		{"spaces are left for the core to refuse", " a.b.c\t", "Q", nil, "Bearer  a.b.c\t", "/Q"},
		{"no scheme configured drops Bearer", "Bearer a.b.c", "Q", &config.Config{HeaderName: "Authorization"}, "a.b.c", "/Q"},
		{"no scheme configured keeps a bare token", "a.b.c", "Q", &config.Config{HeaderName: "Authorization"}, "a.b.c", "/Q"},
		{"configured header name", "a.b.c", "Q", &config.Config{HeaderName: "X-Token", Scheme: "JWT"}, "JWT a.b.c", "/Q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision()}
			res := New(f, tt.cfg, quietLogger()).Evaluate(context.Background(), appSyncEvent(t, tt.token, tt.operation))
			if res.Shape != ShapeAppSync || f.calls != 1 {
				t.Fatalf("shape %q calls %d (%s)", res.Shape, f.calls, res.Decision.Detail)
			}
			name := "Authorization"
			if tt.cfg != nil {
				name = tt.cfg.HeaderName
			}
			if got := f.last.Header.Get(name); got != tt.header {
				t.Fatalf("%s = %q, want %q", name, got, tt.header)
			}
			if f.last.Method != "POST" || f.last.Path != tt.path {
				t.Fatalf("method/path %q %q", f.last.Method, f.last.Path)
			}
		})
	}
	f := &fakeDecider{d: unauthDecision}
	New(f, nil, quietLogger()).Evaluate(context.Background(), appSyncEvent(t, "", "Q"))
	if len(f.last.Header) != 0 {
		t.Fatalf("empty token reached the core as %v", f.last.Header)
	}
}

func TestAppSyncAnswer(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	allow := func(edit func(d *decision.Decision)) decision.Decision {
		d := allowDecision()
		d.CacheUntil = now.Add(10 * time.Minute)
		if edit != nil {
			edit(&d)
		}
		return d
	}
	tests := []struct {
		name       string
		d          decision.Decision
		authorized bool
		ttl        int
		status     int
		err        error
		denied     []string
	}{
		{"allow is cached until exp", allow(func(d *decision.Decision) { d.CacheUntil = now.Add(4 * time.Minute) }), true, 240, 200, nil, nil},
		{"ttl is at most JWTGATE_TOKEN_CACHE_TTL", allow(nil), true, 300, 200, nil, nil},
		{"ttl rounds down, never past exp", allow(func(d *decision.Decision) { d.CacheUntil = now.Add(1999 * time.Millisecond) }), true, 1, 200, nil, nil},
		{"within the skew after exp: not cached", allow(func(d *decision.Decision) { d.CacheUntil = now.Add(-time.Second) }), true, 0, 200, nil, nil},
		{"no cache time: not cached", allow(func(d *decision.Decision) { d.CacheUntil = time.Time{} }), true, 0, 200, nil, nil},
		{"operation-dependent allow is not cached", allow(func(d *decision.Decision) {
			d.RoutesConfigured, d.DefaultsSatisfied, d.DeniedRoutes = true, true, []decision.RouteGrant{grant("*", "/DeleteOrder")}
		}), true, 0, 200, nil, nil},
		{"an allow from a rule that read the request is not cached", allow(func(d *decision.Decision) { d.PerCall = true }), true, 0, 200, nil, nil},
		{"allow for every operation is cached", allow(func(d *decision.Decision) {
			d.RoutesConfigured, d.DefaultsSatisfied, d.Routes = true, true, []decision.RouteGrant{grant("*", "/DeleteOrder")}
		}), true, 300, 200, nil, nil},
		{"denied fields are passed on", allow(func(d *decision.Decision) { d.DeniedFields = []string{"Mutation.deleteOrder", "Order.cost"} }), true, 300, 200, nil,
			[]string{"Mutation.deleteOrder", "Order.cost"}},
		{"forbidden is isAuthorized false, not cached", forbiddenDecision(), false, 0, 401, nil, nil},
		{"unauthenticated is isAuthorized false", unauthDecision, false, 0, 401, nil, nil},
		{"unknown outcome is isAuthorized false", decision.Decision{Outcome: decision.Outcome(42)}, false, 0, 401, nil, nil},
		{"keys unavailable is a function error", unavailableDecision, false, 0, 500, ErrKeysUnavailable, nil},
		{"internal error is a function error", internalDecision, false, 0, 500, ErrInternal, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(&fakeDecider{d: tt.d}, nil, quietLogger(), WithClock(func() time.Time { return now }))
			res := a.Evaluate(context.Background(), appSyncEvent(t, "a.b.c", "GetOrder"))
			if res.Status != tt.status || !errors.Is(res.Err, tt.err) {
				t.Fatalf("status %d err %v, want %d %v", res.Status, res.Err, tt.status, tt.err)
			}
			if tt.err != nil {
				if res.Response != nil {
					t.Fatalf("response %v alongside an error", res.Response)
				}
				return
			}
			r, ok := res.Response.(events.AppSyncLambdaAuthorizerResponse)
			if !ok {
				t.Fatalf("response %T", res.Response)
			}
			if r.IsAuthorized != tt.authorized || r.TTLOverride == nil || *r.TTLOverride != tt.ttl || !reflect.DeepEqual(r.DeniedFields, tt.denied) {
				t.Fatalf("answer %+v (ttl %v), want authorized %v ttl %d denied %v", r, deref(r.TTLOverride), tt.authorized, tt.ttl, tt.denied)
			}
			if !tt.authorized && r.ResolverContext != nil {
				t.Fatalf("refusal carries a resolver context %v", r.ResolverContext)
			}
			if tt.authorized {
				for k, v := range r.ResolverContext {
					if _, ok := v.(string); !ok {
						t.Fatalf("resolverContext[%s] = %T, want a string", k, v)
					}
				}
				if r.ResolverContext["sub"] != "user-1" || r.ResolverContext["client_id"] != "app-7" {
					t.Fatalf("resolverContext %v", r.ResolverContext)
				}
			}
		})
	}
}

func TestAppSyncTTLFollowsTheTokenCacheTTL(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	d := allowDecision()
	d.CacheUntil = now.Add(5 * time.Hour)
	for _, tc := range []struct {
		ttl  time.Duration
		want int
	}{{2 * time.Minute, 120}, {3 * time.Hour, 3600}, {0, 0}} {
		a := New(&fakeDecider{d: d}, &config.Config{HeaderName: "Authorization", Scheme: "Bearer", TokenCacheMaxTTL: tc.ttl}, quietLogger(),
			WithClock(func() time.Time { return now }))
		r := a.Evaluate(context.Background(), appSyncEvent(t, "a.b.c", "Q")).Response.(events.AppSyncLambdaAuthorizerResponse)
		if r.TTLOverride == nil || *r.TTLOverride != tc.want {
			t.Fatalf("JWTGATE_TOKEN_CACHE_TTL %v: ttlOverride %v, want %d", tc.ttl, deref(r.TTLOverride), tc.want)
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestResolverContextValuesAreStrings(t *testing.T) {
	d := allowDecision()
	d.Claims = decision.ClaimsOf(map[string]any{"n": float64(3), "admin": true, "big": int64(1) << 40, "roles": []string{"a", "b"}, "obj": map[string]any{"x": 1}})
	got := resolverContext(d)
	want := map[string]any{"n": "3", "admin": "true", "big": "1099511627776", "roles": "a b", "sub": "user-1", "iss": "https://issuer.example/"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resolverContext %v, want %v", got, want)
	}
}

func TestMalformedAppSyncEventsNeverReachTheCore(t *testing.T) {
	good := string(appSyncEvent(t, "a.b.c", "GetOrder"))
	tests := map[string]string{
		"operation name with a space":        strings.Replace(good, `"operationName":"GetOrder"`, `"operationName":"Get Order"`, 1),
		"operation name with a slash":        strings.Replace(good, `"operationName":"GetOrder"`, `"operationName":"a/../admin"`, 1),
		"operation name starts with a digit": strings.Replace(good, `"operationName":"GetOrder"`, `"operationName":"1st"`, 1),
		"operation name is a number":         strings.Replace(good, `"operationName":"GetOrder"`, `"operationName":7`, 1),
		"empty apiId":                        strings.Replace(good, `"apiId":"gql1234"`, `"apiId":""`, 1),
		"apiId is a number":                  strings.Replace(good, `"apiId":"gql1234"`, `"apiId":1`, 1),
		"token is a number":                  strings.Replace(good, `"authorizationToken":"a.b.c"`, `"authorizationToken":5`, 1),
		"token is an object":                 strings.Replace(good, `"authorizationToken":"a.b.c"`, `"authorizationToken":{"a":1}`, 1),
		"variables is a string":              strings.Replace(good, `"variables":{"id":1}`, `"variables":"x"`, 1),
		"no request context":                 `{"authorizationToken":"a.b.c"}`,
		"request context is an array":        `{"authorizationToken":"a.b.c","requestContext":[]}`,
	}
	for name, ev := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision()}
			res := New(f, nil, quietLogger()).Evaluate(context.Background(), []byte(ev))
			if res.Status != 401 || res.Decision.Reason != decision.EventMalformed || f.calls != 0 || res.Err == nil {
				t.Fatalf("status %d reason %s calls %d err %v", res.Status, res.Decision.Reason, f.calls, res.Err)
			}
		})
	}
}

func TestAWSSampleAppSyncEvent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(sampleEventsDir(t), "appsync-lambda-auth-request.json"))
	if err != nil {
		t.Skipf("sample event not present: %v", err)
	}
	f := &fakeDecider{d: allowDecision()}
	res := New(f, nil, quietLogger()).Evaluate(context.Background(), raw)
	if res.Shape != ShapeAppSync || f.last.Path != "/MyQuery" || f.last.Header.Get("Authorization") != "Bearer ExampleAUTHtoken123123123" {
		t.Fatalf("shape %q path %q header %q", res.Shape, f.last.Path, f.last.Header.Get("Authorization"))
	}
}

// wsAppSyncCore is a real core with route rules for $connect and for an
// AppSync operation, denied fields, and the WebSocket token sources.
func wsAppSyncCore(t *testing.T) (*core.Core, []byte) {
	t.Helper()
	return hmacCore(t, "routes:\n"+
		"  - method: CONNECT\n    path: /$connect\n    scopes: [chat]\n"+
		"  - method: \"*\"\n    path: /DeleteOrder\n    scopes: [admin]\n"+
		"denied_fields:\n  - scopes: [finance]\n    fields: [Order.cost]\n",
		map[string]string{"JWTGATE_TOKEN_QUERY": "access_token", "JWTGATE_TOKEN_SUBPROTOCOL": "jwtgate.bearer"})
}

func TestWebSocketAndAppSyncThroughTheCore(t *testing.T) {
	c, secret := wsAppSyncCore(t)
	mint := func(scope string) string {
		return hs256(t, secret, map[string]any{"iss": "https://issuer.example/", "aud": "https://api.example.com", "sub": "user-1",
			"scope": scope, "exp": time.Now().Add(time.Hour).Unix()})
	}
	chat, plain := mint("chat"), mint("read")
	a := New(c, c.Config(), quietLogger())
	inProtocol := func(tok string) func(m map[string]any) {
		return func(m map[string]any) {
			delete(m, "queryStringParameters")
			delete(m, "multiValueQueryStringParameters")
			m["headers"] = map[string]any{"Sec-WebSocket-Protocol": "jwtgate.bearer, " + tok}
			delete(m, "multiValueHeaders")
		}
	}
	inQuery := func(tok string) func(m map[string]any) {
		return func(m map[string]any) {
			m["queryStringParameters"] = map[string]any{"access_token": tok}
			delete(m, "multiValueQueryStringParameters")
			delete(m, "headers")
			delete(m, "multiValueHeaders")
		}
	}
	tests := []struct {
		name   string
		event  []byte
		status int
		reason decision.Reason
		token  string
	}{
		{"websocket token in the subprotocol", wsEvent(t, inProtocol(chat)), 200, decision.ReasonOK, chat},
		{"websocket token in the query", wsEvent(t, inQuery(chat)), 200, decision.ReasonOK, chat},
		{"websocket $connect rule by scope", wsEvent(t, inQuery(plain)), 403, decision.ScopeMissing, plain},
		{"websocket without a token", wsEvent(t, inQuery("")), 401, decision.TokenMalformed, ""},
		{"appsync operation without a rule", appSyncEvent(t, plain, "GetOrder"), 200, decision.ReasonOK, plain},
		{"appsync operation rule", appSyncEvent(t, plain, "DeleteOrder"), 401, decision.ScopeMissing, plain},
		{"appsync without a token", appSyncEvent(t, "", "GetOrder"), 401, decision.TokenMissing, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Evaluate(context.Background(), tt.event)
			if res.Status != tt.status || res.Decision.Reason != tt.reason {
				t.Fatalf("status %d reason %s (%s), want %d %s", res.Status, res.Decision.Reason, res.Decision.Detail, tt.status, tt.reason)
			}
			out, _ := json.Marshal(res.Response)
			if tt.token != "" && strings.Contains(string(out), tt.token) {
				t.Fatalf("the answer echoes the token: %s", out)
			}
		})
	}
	res := a.Evaluate(context.Background(), appSyncEvent(t, plain, "GetOrder"))
	r := res.Response.(events.AppSyncLambdaAuthorizerResponse)
	if !reflect.DeepEqual(r.DeniedFields, []string{"Order.cost"}) || r.TTLOverride == nil || *r.TTLOverride != 0 {
		t.Fatalf("denied %v ttl %v: an answer that depends on the operation must not be cached", r.DeniedFields, deref(r.TTLOverride))
	}
}

// FuzzWebSocketAndAppSyncEvents builds both new shapes from arbitrary
// field values (route key, event type, ARN, API id, stage, operation name,
// token): no panic; a WebSocket answer is only ever about a $connect ARN
// without wildcards and reaches the core only for a $connect event; an
// AppSync operation reaches the core only as a GraphQL name; nothing is
// allowed unless the decider allowed it, and an AppSync refusal is never
// cached.
func FuzzWebSocketAndAppSyncEvents(f *testing.F) {
	f.Add("$connect", "CONNECT", connectARN, "ws1234", "prod", "GetOrder", "a.b.c", true)
	f.Add("$default", "MESSAGE", strings.Replace(connectARN, "$connect", "$default", 1), "ws1234", "prod", "Get Order", "", false)
	f.Add("$connect", "CONNECT", strings.Replace(connectARN, "/prod/", "/*/", 1), "ws1234", "*", "a/../b", "Bearer x", true)
	f.Add("$connect", "CONNECT", connectARN+"/x", "", "", "_1", "bearer  a", true)
	f.Fuzz(func(t *testing.T, routeKey, eventType, arn, apiID, stage, operation, token string, allow bool) {
		d := forbiddenDecision()
		if allow {
			d = allowDecision()
			d.CacheUntil = time.Now().Add(time.Hour)
		}
		ws := wsEvent(t, func(m map[string]any) {
			m["methodArn"] = arn
			c := rc(m)
			c["routeKey"], c["eventType"], c["apiId"], c["stage"] = routeKey, eventType, apiID, stage
			m["headers"] = map[string]any{"Authorization": token}
			delete(m, "multiValueHeaders")
		})
		fd := &fakeDecider{d: d}
		res := New(fd, nil, quietLogger()).Evaluate(context.Background(), ws)
		if fd.calls > 0 && (routeKey != "$connect" || eventType != "CONNECT" || !strings.HasSuffix(arn, "/$connect") || fd.last.Path != "/$connect" || fd.last.Method != "CONNECT") {
			t.Fatalf("the core judged %s %s for routeKey %q eventType %q arn %q", fd.last.Method, fd.last.Path, routeKey, eventType, arn)
		}
		if res.Status == 200 && (!allow || fd.calls == 0) {
			t.Fatalf("WebSocket allowed: allow=%v calls=%d", allow, fd.calls)
		}
		if r, ok := res.Response.(events.APIGatewayCustomAuthorizerResponse); ok {
			for _, s := range r.PolicyDocument.Statement {
				for _, rs := range s.Resource {
					if rs != arn || strings.ContainsAny(rs, "*?") {
						t.Fatalf("policy resource %q for the event's ARN %q", rs, arn)
					}
				}
			}
		}

		fd = &fakeDecider{d: d}
		res = New(fd, nil, quietLogger()).Evaluate(context.Background(), appSyncEvent(t, token, operation))
		if fd.calls > 0 && fd.last.Path != "/"+operation {
			t.Fatalf("operation %q judged as path %q", operation, fd.last.Path)
		}
		if fd.calls > 0 && operation != "" && !graphQLName(operation) {
			t.Fatalf("operation %q reached the core", operation)
		}
		if r, ok := res.Response.(events.AppSyncLambdaAuthorizerResponse); ok {
			if r.IsAuthorized && (!allow || fd.calls == 0) {
				t.Fatalf("AppSync allowed: allow=%v calls=%d", allow, fd.calls)
			}
			if !r.IsAuthorized && (r.TTLOverride == nil || *r.TTLOverride != 0) {
				t.Fatalf("a refusal may be cached: %+v", r)
			}
		}
	})
}
