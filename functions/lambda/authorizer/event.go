package authorizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// Event shapes, as reported in Result.Shape and in the decision log line.
const (
	ShapeRESTToken   = "rest_token"   // REST API TOKEN authorizer
	ShapeRESTRequest = "rest_request" // REST API REQUEST authorizer
	ShapeHTTPv1      = "http_v1"      // HTTP API, payload format 1.0
	ShapeHTTPv2      = "http_v2"      // HTTP API, payload format 2.0
	ShapeWebSocket   = "websocket"    // WebSocket API $connect REQUEST authorizer
	ShapeAppSync     = "appsync"      // AppSync AWS_LAMBDA authorizer
	ShapeUnknown     = "unknown"      // not an authorizer event we recognise
)

// Limits on what an event may hold. API Gateway never sends more than this
// to an authorizer (it carries no body), so larger events are refused.
const (
	// MaxEventBytes caps the raw event.
	MaxEventBytes = 1 << 20
	// MaxARNBytes is API Gateway's limit on a method ARN.
	MaxARNBytes = 1600
)

// errMalformed marks an event that is not a usable authorizer event.
var errMalformed = errors.New("malformed authorizer event")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// probe is the part of every shape that tells the shapes apart. Its fields
// are pointers so that "absent" and "present but empty" differ.
type probe struct {
	Version            *string `json:"version"`
	Type               *string `json:"type"`
	MethodArn          *string `json:"methodArn"` //nolint:staticcheck // API Gateway's spelling
	RouteArn           *string `json:"routeArn"`  //nolint:staticcheck // API Gateway's spelling
	AuthorizationToken *string `json:"authorizationToken"`
	// RequestContext tells WebSocket (routeKey, eventType) and AppSync
	// (apiId without methodArn) events apart; kept raw so that a context
	// of the wrong type only fails the shapes that read it.
	RequestContext json.RawMessage `json:"requestContext"`
}

// contextProbe is the part of a requestContext that names the shape.
type contextProbe struct {
	RouteKey  *string `json:"routeKey"`
	EventType *string `json:"eventType"`
	APIID     *string `json:"apiId"`
}

// context decodes the request context's shape fields; ok is false when
// there is none or it is not an object with string fields.
func (p probe) context() (c contextProbe, ok bool) {
	if len(p.RequestContext) == 0 || p.RequestContext[0] != '{' {
		return c, false
	}
	return c, json.Unmarshal(p.RequestContext, &c) == nil
}

// v1Extra holds payload 1.0 fields that events.APIGatewayV2CustomAuthorizerV1Request
// does not declare but HTTP APIs may send.
type v1Extra struct {
	RouteArn       string `json:"routeArn"` //nolint:staticcheck // API Gateway's spelling
	RequestContext struct {
		DomainName string `json:"domainName"`
	} `json:"requestContext"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
}

// parsed is an event turned into what the core and the policy builder need.
type parsed struct {
	shape string
	arn   arn // the method/route ARN the answer's policy is about
	req   decision.Request
}

// parseEvent recognises the event's shape from its content and builds the
// core request. headerName is where a TOKEN or AppSync event's token is
// put; scheme ("Bearer", or "" for a bare token) is added to an AppSync
// token sent without one. Any
// error wraps errMalformed.
func parseEvent(raw []byte, headerName, scheme string) (parsed, error) {
	if len(raw) > MaxEventBytes {
		return parsed{}, malformed("event larger than %d bytes", MaxEventBytes)
	}
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return parsed{}, malformed("not a JSON object with the expected field types")
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	switch {
	case p.Version != nil && *p.Version == "2.0":
		return parseV2(raw)
	case p.Version != nil && *p.Version == "1.0":
		return parseV1(raw)
	case p.Version != nil:
		return parsed{}, malformed("unknown payload version")
	case str(p.Type) == "TOKEN" && p.MethodArn != nil && p.AuthorizationToken != nil:
		return parseToken(raw, headerName)
	case str(p.Type) == "REQUEST" && p.MethodArn != nil && isWebSocket(p):
		return parseWebSocket(raw)
	case str(p.Type) == "REQUEST" && p.MethodArn != nil:
		return parseRESTRequest(raw)
	case p.Type == nil && p.MethodArn == nil && p.RouteArn == nil && p.AuthorizationToken != nil && isAppSync(p):
		return parseAppSync(raw, headerName, scheme)
	default:
		return parsed{}, malformed("not an API Gateway authorizer event")
	}
}

func parseToken(raw []byte, headerName string) (parsed, error) {
	var ev events.APIGatewayCustomAuthorizerRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return parsed{}, malformed("TOKEN event: wrong field types")
	}
	a, err := parseARN(ev.MethodArn)
	if err != nil {
		return parsed{}, err
	}
	h := http.Header{}
	if ev.AuthorizationToken != "" {
		h.Set(headerName, ev.AuthorizationToken)
	}
	return parsed{
		shape: ShapeRESTToken,
		arn:   a,
		// One header reaches a TOKEN authorizer: no proof, no certificate.
		req: decision.Request{Header: h, Method: a.method, Path: a.path, NoBindingChannel: true},
	}, nil
}

func parseRESTRequest(raw []byte) (parsed, error) {
	var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return parsed{}, malformed("REQUEST event: wrong field types")
	}
	a, err := parseARN(ev.MethodArn)
	if err != nil {
		return parsed{}, err
	}
	h := mergeHeaders(ev.Headers, ev.MultiValueHeaders)
	p := parsed{
		shape: ShapeRESTRequest,
		arn:   a,
		req: decision.Request{
			Header: h,
			Query:  mergeQuery(ev.QueryStringParameters, ev.MultiValueQueryStringParameters),
			Method: methodOf(ev.HTTPMethod, a),
			Path:   a.path,
			// DPoP htu: the Host header and requestContext.path (the
			// path the client called, stage or base path included).
			CalledHost:             singleHeader(h, "Host"),
			CalledPath:             ev.RequestContext.Path,
			ClientCert:             ev.RequestContext.Identity.ClientCert.ClientCertPem,
			ClientCertFromPlatform: true,
		},
	}
	// Rule fields: the Host header, the caller's address.
	p.req.Host = p.req.Header.Get("Host")
	p.req.SourceIP = ev.RequestContext.Identity.SourceIP
	return p, nil
}

func parseV1(raw []byte) (parsed, error) {
	var ev events.APIGatewayV2CustomAuthorizerV1Request
	var extra v1Extra
	if err := json.Unmarshal(raw, &ev); err != nil {
		return parsed{}, malformed("payload 1.0 event: wrong field types")
	}
	if err := json.Unmarshal(raw, &extra); err != nil {
		return parsed{}, malformed("payload 1.0 event: wrong field types")
	}
	arnText := ev.MethodArn
	if arnText == "" {
		arnText = extra.RouteArn
	}
	if arnText == "" {
		return parsed{}, malformed("payload 1.0 event without methodArn or routeArn")
	}
	a, err := parseARN(arnText)
	if err != nil {
		return parsed{}, err
	}
	p := parsed{
		shape: ShapeHTTPv1,
		arn:   a,
		req: decision.Request{
			Header:                 mergeHeaders(ev.Headers, extra.MultiValueHeaders),
			Query:                  mergeQuery(ev.QueryStringParameters, extra.MultiValueQueryStringParameters),
			Method:                 methodOf(ev.HTTPMethod, a),
			Path:                   a.path,
			CalledHost:             extra.RequestContext.DomainName,
			CalledPath:             ev.RequestContext.Path,
			ClientCert:             ev.RequestContext.Identity.ClientCert.ClientCertPem,
			ClientCertFromPlatform: true,
		},
	}
	// Rule fields: the Host header, the caller's address.
	p.req.Host = p.req.Header.Get("Host")
	p.req.SourceIP = ev.RequestContext.Identity.SourceIP
	return p, nil
}

func parseV2(raw []byte) (parsed, error) {
	var ev events.APIGatewayV2CustomAuthorizerV2Request
	if err := json.Unmarshal(raw, &ev); err != nil {
		return parsed{}, malformed("payload 2.0 event: wrong field types")
	}
	if ev.RouteArn == "" {
		return parsed{}, malformed("payload 2.0 event without routeArn")
	}
	a, err := parseARN(ev.RouteArn)
	if err != nil {
		return parsed{}, err
	}
	method, path := routeOf(a, ev)
	query := url.Values{}
	if q, err := url.ParseQuery(ev.RawQueryString); err == nil && ev.RawQueryString != "" {
		query = q
	} else {
		for _, k := range sortedKeys(ev.QueryStringParameters) {
			query.Set(k, ev.QueryStringParameters[k])
		}
	}
	return parsed{
		shape: ShapeHTTPv2,
		arn:   a,
		req: decision.Request{
			Header:                 mergeHeaders(ev.Headers, nil),
			Query:                  query,
			Cookies:                append([]string(nil), ev.Cookies...),
			Method:                 method,
			Path:                   path,
			CalledHost:             ev.RequestContext.DomainName,
			CalledPath:             ev.RawPath,
			ClientCert:             ev.RequestContext.Authentication.ClientCert.ClientCertPem,
			ClientCertFromPlatform: true,
			// Rule fields: the domain the caller used, its address.
			Host:     ev.RequestContext.DomainName,
			SourceIP: ev.RequestContext.HTTP.SourceIP,
		},
	}, nil
}

// routeOf is the method and path a payload 2.0 event is evaluated with.
//
// They come from the routeArn, like the REST and payload 1.0 shapes take
// them from the methodArn: the policy's resources are built from that ARN,
// and it names the call relative to the stage whatever domain the client
// used. requestContext.http.path and rawPath do not: behind a custom domain
// with an API mapping ("/v1" → this API) they carry the mapping prefix
// ("/v1/admin/1" for the route ARN's ".../GET/admin/1"), so matching route
// rules against them would judge a different call from the one the policy
// grants. When both are present and disagree, the ARN wins.
//
// Only when the ARN cannot name the call (its method segment is not an
// HTTP method, as in ".../$default/$default") do the method and path come
// from requestContext.http (or rawPath) with a named stage's leading
// segment removed, and last from the route key. An "ANY" method segment
// still gives the path; the method then comes from the request.
func routeOf(a arn, ev events.APIGatewayV2CustomAuthorizerV2Request) (method, path string) {
	if isToken(a.method) {
		path = a.path
		if a.method != "ANY" {
			method = a.method
		}
	}
	if method == "" {
		method = strings.ToUpper(ev.RequestContext.HTTP.Method)
	}
	if path == "" {
		path = stripStage(ev.RequestContext.HTTP.Path, ev.RequestContext.Stage)
		if path == "" {
			path = stripStage(ev.RawPath, ev.RequestContext.Stage)
		}
	}
	if method == "" || path == "" {
		// The route key ("GET /orders/{id}") is the last resort.
		if m, p, ok := strings.Cut(ev.RouteKey, " "); ok {
			if method == "" {
				method = strings.ToUpper(m)
			}
			if path == "" {
				path = p
			}
		}
	}
	return method, path
}

// stripStage removes a named stage's prefix from an HTTP API path: on the
// execute-api domain a non-default stage appears as the first segment.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" || path == "" {
		return path
	}
	prefix := "/" + stage
	if path == prefix {
		return "/"
	}
	if rest, ok := strings.CutPrefix(path, prefix+"/"); ok {
		return "/" + rest
	}
	return path
}

// singleHeader is the header's value when it appears exactly once.
func singleHeader(h http.Header, name string) string {
	if vs := h[name]; len(vs) == 1 {
		return vs[0]
	}
	return ""
}

// methodOf prefers the event's own method and falls back to the ARN's.
func methodOf(m string, a arn) string {
	if m != "" {
		return strings.ToUpper(m)
	}
	return a.method
}

// mergeHeaders builds canonical headers. For every name, the values from
// multi (all of them, as sent) win over the single value in single. Names
// that differ only in case are merged, so a duplicated header is visible to
// the ambiguity check.
func mergeHeaders(single map[string]string, multi map[string][]string) http.Header {
	h := http.Header{}
	fromMulti := map[string]bool{}
	for _, k := range sortedKeys(multi) {
		ck := http.CanonicalHeaderKey(k)
		h[ck] = append(h[ck], multi[k]...)
		fromMulti[ck] = true
	}
	for _, k := range sortedKeys(single) {
		ck := http.CanonicalHeaderKey(k)
		if fromMulti[ck] {
			continue
		}
		h[ck] = append(h[ck], single[k])
	}
	return h
}

// mergeQuery builds query values the same way as mergeHeaders.
func mergeQuery(single map[string]string, multi map[string][]string) url.Values {
	q := url.Values{}
	for _, k := range sortedKeys(multi) {
		q[k] = append(q[k], multi[k]...)
	}
	for _, k := range sortedKeys(single) {
		if _, ok := multi[k]; ok {
			continue
		}
		q[k] = append(q[k], single[k])
	}
	return q
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
