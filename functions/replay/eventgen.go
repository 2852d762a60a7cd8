package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// The sample world the generated events describe. Replay's default
// configuration (events/replay.env) accepts exactly this.
const (
	DefaultAddr     = "127.0.0.1:8917"
	SampleAudience  = "https://api.example.com"
	OtherAudience   = "https://other.example.com"
	RequiredScope   = "orders:read"
	TokenQuery      = "access_token"   // JWTGATE_TOKEN_QUERY in replay.env (WebSocket samples)
	TokenProtocol   = "jwtgate.bearer" // JWTGATE_TOKEN_SUBPROTOCOL in replay.env
	SampleSubject   = "dev-user-1"
	SampleClientID  = "jwtgate-dev-client"
	KeyFileName     = "dev-signing-key.jwk.json"
	ExpectFileName  = "expectations.json"
	EnvFileName     = "replay.env"
	farFuture       = 4070908800 // 2099-01-01T00:00:00Z
	issuedAt        = 1767225600 // 2026-01-01T00:00:00Z
	expiredAt       = 1767229200 // 2026-01-01T01:00:00Z
	malformedBearer = "eyJhbGciOiJSUzI1NiJ9.not-a-token"
)

// Expectation is the decision an event must get.
type Expectation struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Status  int    `json:"status"`
}

// sampleCase is one token situation, replayed in every shape.
type sampleCase struct {
	name   string
	claims map[string]any // nil: no token
	raw    string         // a literal token instead of a signed one
	expect Expectation
}

var expectAllow = Expectation{"allow", "ok", 200}

func expect401(reason string) Expectation { return Expectation{"unauthenticated", reason, 401} }
func expect403(reason string) Expectation { return Expectation{"forbidden", reason, 403} }

func sampleCases(issuer string) []sampleCase {
	base := func(over map[string]any) map[string]any {
		c := map[string]any{
			"iss":       issuer,
			"sub":       SampleSubject,
			"aud":       SampleAudience,
			"scope":     "orders:read orders:write",
			"client_id": SampleClientID,
			"iat":       issuedAt,
			"exp":       farFuture,
			"jti":       "replay-sample",
		}
		for k, v := range over {
			c[k] = v
		}
		return c
	}
	return []sampleCase{
		{name: "valid", claims: base(nil), expect: expectAllow},
		{name: "expired", claims: base(map[string]any{"exp": expiredAt}), expect: expect401("token_expired")},
		{name: "wrong-audience", claims: base(map[string]any{"aud": OtherAudience}), expect: expect401("audience_invalid")},
		{name: "missing-scope", claims: base(map[string]any{"scope": "profile orders:write"}), expect: expect403("scope_missing")},
		{name: "malformed-token", raw: malformedBearer, expect: expect401("token_malformed")},
		{name: "no-token", expect: expect401("token_missing")},
	}
}

// shape is one platform event shape and how to write its event file.
type shape struct {
	prefix string // file name prefix
	ext    string
	build  func(token string) ([]byte, error) // token "" means none
	// refusalStatus, when set, is the status the platform answers for a
	// refusal (AppSync answers every refusal alike).
	refusalStatus int
}

func shapes() []shape {
	return []shape{
		{"apigw-rest-token", ".json", restTokenEvent, 0},
		{"apigw-rest-request", ".json", restRequestEvent, 0},
		{"apigw-http-v1", ".json", httpV1Event, 0},
		{"apigw-http-v2", ".json", httpV2Event, 0},
		{"apigw-websocket-query", ".json", webSocketQueryEvent, 0},
		{"apigw-websocket-protocol", ".json", webSocketProtocolEvent, 0},
		{"appsync", ".json", appSyncEvent, 401},
		{"azure-proxy", ".http", azureProxyRequest, 0},
		{"azure-invocation", ".json", azureInvocation, 0},
	}
}

func bearer(token string) string { return "Bearer " + token }

// restTokenEvent follows aws-lambda-go's apigw-custom-auth-request.json.
func restTokenEvent(token string) ([]byte, error) {
	ev := map[string]any{
		"type":               "TOKEN",
		"authorizationToken": "",
		"methodArn":          "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/orders/42",
	}
	if token != "" {
		ev["authorizationToken"] = bearer(token)
	}
	return encodeJSON(ev)
}

// restRequestEvent follows apigw-custom-auth-request-type-request.json.
func restRequestEvent(token string) ([]byte, error) {
	headers := map[string]any{
		"Accept":            "application/json",
		"Host":              "s4x3opwd6i.execute-api.us-east-1.amazonaws.com",
		"User-Agent":        "curl/8.5.0",
		"X-Amzn-Trace-Id":   "Root=1-65a1b2c3-0123456789abcdef01234567",
		"X-Forwarded-For":   "203.0.113.7",
		"X-Forwarded-Port":  "443",
		"X-Forwarded-Proto": "https",
	}
	if token != "" {
		headers["Authorization"] = bearer(token)
	}
	multi := multiValued(headers)
	ev := map[string]any{
		"type":                            "REQUEST",
		"methodArn":                       "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/orders/42",
		"resource":                        "/orders/{id}",
		"path":                            "/orders/42",
		"httpMethod":                      "GET",
		"headers":                         headers,
		"multiValueHeaders":               multi,
		"queryStringParameters":           map[string]any{"expand": "items"},
		"multiValueQueryStringParameters": map[string]any{"expand": []any{"items"}},
		"pathParameters":                  map[string]any{"id": "42"},
		"stageVariables":                  map[string]any{},
		"requestContext": map[string]any{
			"path":         "/test/orders/42",
			"accountId":    "123456789012",
			"resourceId":   "05c7jb",
			"stage":        "test",
			"requestId":    "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			"identity":     map[string]any{"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
			"resourcePath": "/orders/{id}",
			"httpMethod":   "GET",
			"apiId":        "s4x3opwd6i",
		},
	}
	return encodeJSON(ev)
}

// httpAPIHeaders are the request headers of the HTTP API sample events
// (payload 1.0 and 2.0 both deliver them lower-cased).
func httpAPIHeaders() map[string]any {
	return map[string]any{
		"accept":            "application/json",
		"host":              "abcdef123.execute-api.us-east-1.amazonaws.com",
		"user-agent":        "curl/8.5.0",
		"x-forwarded-for":   "203.0.113.7",
		"x-forwarded-proto": "https",
	}
}

// httpV1Event follows apigw-v2-custom-authorizer-v1-request.json.
func httpV1Event(token string) ([]byte, error) {
	headers := httpAPIHeaders()
	ev := map[string]any{
		"version":               "1.0",
		"type":                  "REQUEST",
		"methodArn":             "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/orders/42",
		"identitySource":        "",
		"authorizationToken":    "",
		"resource":              "/orders/{id}",
		"path":                  "/orders/42",
		"httpMethod":            "GET",
		"headers":               headers,
		"queryStringParameters": map[string]any{"expand": "items"},
		"pathParameters":        map[string]any{"id": "42"},
		"stageVariables":        map[string]any{},
		"requestContext": map[string]any{
			"path":         "/orders/42",
			"accountId":    "123456789012",
			"resourceId":   "GET /orders/{id}",
			"stage":        "$default",
			"requestId":    "KBvmLh1xIAMEbrw=",
			"identity":     map[string]any{"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
			"resourcePath": "/orders/{id}",
			"httpMethod":   "GET",
			"apiId":        "abcdef123",
		},
	}
	if token != "" {
		headers["authorization"] = bearer(token)
		ev["identitySource"] = bearer(token)
		ev["authorizationToken"] = bearer(token)
	}
	return encodeJSON(ev)
}

// httpV2Event follows apigw-v2-custom-authorizer-v2-request.json.
func httpV2Event(token string) ([]byte, error) {
	headers := httpAPIHeaders()
	ev := map[string]any{
		"version":               "2.0",
		"type":                  "REQUEST",
		"routeArn":              "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/orders/42",
		"identitySource":        []any{},
		"routeKey":              "GET /orders/{id}",
		"rawPath":               "/orders/42",
		"rawQueryString":        "expand=items",
		"headers":               headers,
		"queryStringParameters": map[string]any{"expand": "items"},
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"apiId":        "abcdef123",
			"domainName":   "abcdef123.execute-api.us-east-1.amazonaws.com",
			"domainPrefix": "abcdef123",
			"http": map[string]any{
				"method":    "GET",
				"path":      "/orders/42",
				"protocol":  "HTTP/1.1",
				"sourceIp":  "203.0.113.7",
				"userAgent": "curl/8.5.0",
			},
			"requestId": "KBvmLh1xIAMEbrw=",
			"routeKey":  "GET /orders/{id}",
			"stage":     "$default",
			"time":      "01/Jan/2026:00:00:00 +0000",
			"timeEpoch": 1767225600000,
		},
		"pathParameters": map[string]any{"id": "42"},
		"stageVariables": map[string]any{},
	}
	if token != "" {
		headers["authorization"] = bearer(token)
		ev["identitySource"] = []any{bearer(token)}
	}
	return encodeJSON(ev)
}

// webSocketEvent is a WebSocket API $connect REQUEST authorizer event,
// following the AWS developer guide's example; headers and query carry
// the token as the caller sent it.
func webSocketEvent(headers, query map[string]any) ([]byte, error) {
	h := map[string]any{
		"Host":                     "wsapi1234.execute-api.us-east-1.amazonaws.com",
		"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
		"Sec-WebSocket-Key":        "dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-WebSocket-Version":    "13",
		"X-Forwarded-For":          "203.0.113.7",
		"X-Forwarded-Port":         "443",
		"X-Forwarded-Proto":        "https",
	}
	for k, v := range headers {
		h[k] = v
	}
	ev := map[string]any{
		"type":                            "REQUEST",
		"methodArn":                       "arn:aws:execute-api:us-east-1:123456789012:wsapi1234/production/$connect",
		"headers":                         h,
		"multiValueHeaders":               multiValued(h),
		"queryStringParameters":           query,
		"multiValueQueryStringParameters": multiValued(query),
		"stageVariables":                  map[string]any{},
		"requestContext": map[string]any{
			"routeKey":          "$connect",
			"eventType":         "CONNECT",
			"extendedRequestId": "ABCD1234=",
			"requestTime":       "01/Jan/2026:00:00:00 +0000",
			"messageDirection":  "IN",
			"stage":             "production",
			"connectedAt":       1767225600000,
			"requestTimeEpoch":  1767225600000,
			"identity":          map[string]any{"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0"},
			"requestId":         "ABCD1234=",
			"domainName":        "wsapi1234.execute-api.us-east-1.amazonaws.com",
			"connectionId":      "AAAAAAAAAAAAAAA=",
			"apiId":             "wsapi1234",
		},
	}
	return encodeJSON(ev)
}

// multiValued is the multiValueHeaders / multiValueQueryStringParameters
// form of single values.
func multiValued(single map[string]any) map[string]any {
	multi := map[string]any{}
	for k, v := range single {
		multi[k] = []any{v}
	}
	return multi
}

// webSocketQueryEvent carries the token in the query string
// (identitySource route.request.querystring.access_token).
func webSocketQueryEvent(token string) ([]byte, error) {
	q := map[string]any{"room": "lobby"}
	if token != "" {
		q[TokenQuery] = token
	}
	return webSocketEvent(nil, q)
}

// webSocketProtocolEvent carries the token as a browser sends it:
// new WebSocket(url, ["jwtgate.bearer", token]).
func webSocketProtocolEvent(token string) ([]byte, error) {
	p := "graphql-ws"
	if token != "" {
		p = TokenProtocol + ", " + token
	}
	return webSocketEvent(map[string]any{"Sec-WebSocket-Protocol": p}, map[string]any{"room": "lobby"})
}

// appSyncEvent follows aws-lambda-go's appsync-lambda-auth-request.json;
// AppSync passes the Authorization header as sent (here a bare token).
func appSyncEvent(token string) ([]byte, error) {
	return encodeJSON(map[string]any{
		"authorizationToken": token,
		"requestContext": map[string]any{
			"apiId":         "gqlapi1234example",
			"accountId":     "123456789012",
			"requestId":     "f4081827-1111-4444-5555-5cf4695f339f",
			"queryString":   "query GetOrder($id: ID!) { order(id: $id) { id total } }",
			"operationName": "GetOrder",
			"variables":     map[string]any{"id": "42"},
		},
	})
}

// azureProxyRequest is the caller's request as the Functions host proxies
// it to the custom handler (enableProxyingHttpRequest), as raw HTTP/1.1.
func azureProxyRequest(token string) ([]byte, error) {
	var b strings.Builder
	b.WriteString("GET /api/authorize/orders/42?expand=items HTTP/1.1\r\n")
	b.WriteString("Host: jwtgate-demo.azurewebsites.net\r\n")
	b.WriteString("Accept: application/json\r\n")
	b.WriteString("User-Agent: curl/8.5.0\r\n")
	if token != "" {
		b.WriteString("Authorization: " + bearer(token) + "\r\n")
	}
	b.WriteString("X-Forwarded-For: 203.0.113.7\r\n")
	b.WriteString("X-Azure-Functions-InvocationId: 8f4c2b3e-5d6a-4e7f-9a0b-1c2d3e4f5a6b\r\n")
	b.WriteString("\r\n")
	return []byte(b.String()), nil
}

// azureInvocation is the host's invocation payload for the HTTP trigger
// "req" (a host that does not proxy).
func azureInvocation(token string) ([]byte, error) {
	headers := map[string]any{
		"Accept":          []any{"application/json"},
		"Host":            []any{"jwtgate-demo.azurewebsites.net"},
		"User-Agent":      []any{"curl/8.5.0"},
		"X-Forwarded-For": []any{"203.0.113.7"},
	}
	if token != "" {
		headers["Authorization"] = []any{bearer(token)}
	}
	ev := map[string]any{
		"Data": map[string]any{
			"req": map[string]any{
				"Url":        "https://jwtgate-demo.azurewebsites.net/api/authorize/orders/42?expand=items",
				"Method":     "GET",
				"Query":      map[string]any{"expand": "items"},
				"Headers":    headers,
				"Params":     map[string]any{"path": "orders/42"},
				"Identities": []any{},
			},
		},
		"Metadata": map[string]any{
			"path":  "orders/42",
			"Query": map[string]any{"expand": "items"},
			"sys": map[string]any{
				"MethodName": "authorize",
				"UtcNow":     "2026-01-01T00:00:00.000Z",
				"RandGuid":   "0f8fad5b-d9cb-469f-a165-70867728950e",
			},
		},
	}
	return encodeJSON(ev)
}

func encodeJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// generateOptions controls generateEvents.
type generateOptions struct {
	dir     string // output directory (events/)
	keyPath string // dev key file; created when missing
	addr    string // dev issuer address baked into iss
}

// generateEvents writes the dev key (if missing), every sample event,
// expectations.json and replay.env into dir. Signing is deterministic
// (RS256), so regenerating with the same key rewrites identical files.
func generateEvents(o generateOptions) ([]string, error) {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, err
	}
	key, err := loadOrCreateKey(o.keyPath)
	if err != nil {
		return nil, err
	}
	issuer := "http://" + o.addr
	expectations := map[string]Expectation{}
	var written []string
	for _, c := range sampleCases(issuer) {
		token := c.raw
		if c.claims != nil {
			if token, err = devissuer.Sign(key, c.claims, map[string]any{"typ": "at+jwt"}); err != nil {
				return nil, err
			}
		}
		for _, s := range shapes() {
			body, err := s.build(token)
			if err != nil {
				return nil, fmt.Errorf("build %s-%s: %w", s.prefix, c.name, err)
			}
			name := s.prefix + "-" + c.name + s.ext
			if err := os.WriteFile(filepath.Join(o.dir, name), body, 0o644); err != nil {
				return nil, err
			}
			e := c.expect
			if s.refusalStatus != 0 && e.Status != expectAllow.Status {
				e.Status = s.refusalStatus
			}
			expectations[name] = e
			written = append(written, name)
		}
	}
	eb, err := encodeJSON(expectations) // map keys are sorted
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.dir, ExpectFileName), eb, 0o644); err != nil {
		return nil, err
	}
	env := "# Configuration `make replay` uses for the sample events: ordinary JWTGATE_*\n" +
		"# settings, read by the same config loader as the Lambda and Azure binaries.\n" +
		"# The dev issuer serves discovery and JWKS at this address during replay.\n" +
		"JWTGATE_OPENID_CONFIG=" + issuer + devissuer.DiscoveryPath + "\n" +
		"JWTGATE_AUDIENCES=" + SampleAudience + "\n" +
		"JWTGATE_REQUIRED_SCOPES=" + RequiredScope + "\n" +
		"# WebSocket clients: the token in the query string or after the subprotocol marker.\n" +
		"JWTGATE_TOKEN_QUERY=" + TokenQuery + "\n" +
		"JWTGATE_TOKEN_SUBPROTOCOL=" + TokenProtocol + "\n"
	if err := os.WriteFile(filepath.Join(o.dir, EnvFileName), []byte(env), 0o644); err != nil {
		return nil, err
	}
	sort.Strings(written)
	return written, nil
}

// loadOrCreateKey loads the dev key, generating (and writing) a new RS256
// key when the file does not exist.
func loadOrCreateKey(path string) (jwk.Key, error) {
	k, err := devissuer.LoadKey(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if k, err = devissuer.GenerateKey(); err != nil {
		return nil, err
	}
	// A fixed, readable kid marks it as the test-only dev key.
	if err := k.Set(jwk.KeyIDKey, "jwtgate-dev-test-only"); err != nil {
		return nil, err
	}
	b, err := devissuer.MarshalKey(k)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return nil, err
	}
	return k, nil
}
