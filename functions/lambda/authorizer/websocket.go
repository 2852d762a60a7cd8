package authorizer

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// WebSocket $connect requests reach the core as this method and path, so
// route rules and CEL rules can name them ("CONNECT /$connect").
const (
	WebSocketMethod = "CONNECT"
	WebSocketPath   = "/$connect"
	connectRoute    = "$connect"
)

// isWebSocket tells a WebSocket API $connect REQUEST event from a REST
// REQUEST event: its requestContext carries routeKey or eventType, or its
// methodArn's method segment is $connect (a REST ARN has an HTTP method
// there, even for a resource named "/$connect").
func isWebSocket(p probe) bool {
	if p.MethodArn != nil {
		if a, err := parseARN(*p.MethodArn); err == nil && a.method == connectRoute {
			return true
		}
	}
	c, ok := p.context()
	return ok && (c.RouteKey != nil || c.EventType != nil)
}

// parseWebSocket reads a WebSocket API REQUEST authorizer event. API
// Gateway runs an authorizer on the $connect route only, so anything else
// (another route key, an event type other than CONNECT, a methodArn for
// another route, a context naming another API or stage) is malformed.
func parseWebSocket(raw []byte) (parsed, error) {
	var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
	var wc struct {
		RequestContext events.APIGatewayWebsocketProxyRequestContext `json:"requestContext"`
	}
	if json.Unmarshal(raw, &ev) != nil || json.Unmarshal(raw, &wc) != nil {
		return parsed{}, malformed("WebSocket event: wrong field types")
	}
	rc := wc.RequestContext
	if rc.RouteKey != connectRoute || rc.EventType != "CONNECT" {
		return parsed{}, malformed("WebSocket event: an authorizer runs on $connect (routeKey $connect, eventType CONNECT) only")
	}
	a, err := parseARN(ev.MethodArn)
	if err != nil {
		return parsed{}, err
	}
	if a.method != connectRoute || a.path != "/" {
		return parsed{}, malformed("WebSocket event: methodArn is not a $connect route ARN")
	}
	if (rc.APIID != "" && !strings.HasSuffix(a.prefix, ":"+rc.APIID+"/"+rc.Stage)) || (rc.APIID == "" && rc.Stage != "" && !strings.HasSuffix(a.prefix, "/"+rc.Stage)) {
		return parsed{}, malformed("WebSocket event: requestContext names another API or stage than methodArn")
	}
	return parsed{
		shape: ShapeWebSocket,
		arn:   a,
		req: decision.Request{
			Header: mergeHeaders(ev.Headers, ev.MultiValueHeaders),
			Query:  mergeQuery(ev.QueryStringParameters, ev.MultiValueQueryStringParameters),
			Method: WebSocketMethod,
			Path:   WebSocketPath,
			// Rule fields: the domain API Gateway answered on, the
			// caller's address.
			Host:     rc.DomainName,
			SourceIP: rc.Identity.SourceIP,
		},
	}, nil
}

// webSocketPolicy is the answer's policy: Allow or Deny for exactly the
// $connect ARN. It is cache-safe as it stands: API Gateway calls a
// WebSocket authorizer for $connect only, and the decision for that one
// route is all the policy says.
func webSocketPolicy(a arn, d decision.Decision) (events.APIGatewayCustomAuthorizerPolicy, int) {
	if d.Allowed() && a.exact() != "" {
		return policy("Allow", []string{a.full}), 200
	}
	return policy("Deny", []string{a.full}), 403
}
