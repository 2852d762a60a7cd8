package authorizer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// AppSync requests reach the core as this method with the path
// "/<operationName>" ("/" when the request names no operation), so route
// rules can name operations ("* /GetOrder").
const AppSyncMethod = "POST"

// AppSync limits (AWS AppSync developer guide, Lambda authorization).
const (
	// MaxAppSyncTTL is the longest time AppSync caches an answer (ttlOverride).
	MaxAppSyncTTL = 3600
	// MaxResolverContextBytes bounds the resolverContext AppSync accepts (5 MB).
	MaxResolverContextBytes = 5 << 20
)

// isAppSync tells an AppSync Lambda authorizer event: authorizationToken
// and a requestContext with apiId, and none of API Gateway's fields.
func isAppSync(p probe) bool {
	c, ok := p.context()
	return ok && c.APIID != nil && c.RouteKey == nil && c.EventType == nil
}

// parseAppSync reads an AppSync Lambda authorizer event. The token is the
// raw Authorization header value, with or without the scheme; the core
// reads it from headerName with the configured scheme, which is added when
// the client sent a bare token (and removed when the configuration expects
// a bare one). The operation name must be a GraphQL name: it becomes the
// path route rules match.
func parseAppSync(raw []byte, headerName, scheme string) (parsed, error) {
	var ev events.AppSyncLambdaAuthorizerRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return parsed{}, malformed("AppSync event: wrong field types")
	}
	rc := ev.RequestContext
	if rc.APIID == "" {
		return parsed{}, malformed("AppSync event without requestContext.apiId")
	}
	if rc.OperationName != "" && !graphQLName(rc.OperationName) {
		return parsed{}, malformed("AppSync event: operationName is not a GraphQL name")
	}
	h := http.Header{}
	if v := ev.AuthorizationToken; v != "" {
		h.Set(headerName, withScheme(v, scheme))
	}
	return parsed{
		shape: ShapeAppSync,
		req:   decision.Request{Header: h, Method: AppSyncMethod, Path: "/" + rc.OperationName},
	}, nil
}

// withScheme makes a header value that the core's extractor reads: a bare
// token gets the scheme; with no scheme configured, a leading "Bearer " is
// dropped.
func withScheme(v, scheme string) string {
	if scheme == "" {
		if s, rest, ok := strings.Cut(v, " "); ok && strings.EqualFold(s, "Bearer") {
			return strings.TrimLeft(rest, " ")
		}
		return v
	}
	if len(v) > len(scheme) && strings.EqualFold(v[:len(scheme)+1], scheme+" ") {
		return v
	}
	return scheme + " " + v
}

func graphQLName(s string) bool {
	for i, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// appSyncAnswer is the AppSync answer for a decision that is not
// "unavailable". AppSync has no 401/403 distinction: every refusal is
// isAuthorized false (the reason is in the log line) and is never cached.
// An allow carries the forwarded claims as flat strings, the configured
// denied fields, and a ttlOverride that ends no later than the token's
// exp (nor after maxTTL); 0 (do not cache) when the decision depends on
// the operation (route rules the token does not all satisfy, or a rule
// that read the request or the clock), since AppSync caches per token.
func appSyncAnswer(d decision.Decision, now time.Time, maxTTL time.Duration) (events.AppSyncLambdaAuthorizerResponse, int) {
	zero := 0
	if !d.Allowed() {
		return events.AppSyncLambdaAuthorizerResponse{IsAuthorized: false, TTLOverride: &zero}, 401
	}
	ttl := appSyncTTL(d, now, maxTTL)
	return events.AppSyncLambdaAuthorizerResponse{
		IsAuthorized:    true,
		ResolverContext: resolverContext(d),
		DeniedFields:    d.DeniedFields,
		TTLOverride:     &ttl,
	}, 200
}

// appSyncTTL is the seconds AppSync may cache an allow: until the token's
// exp, at most maxTTL (JWTGATE_TOKEN_CACHE_TTL, the longest time a
// verified token is reused) and AppSync's own maximum.
func appSyncTTL(d decision.Decision, now time.Time, maxTTL time.Duration) int {
	if d.CacheUntil.IsZero() || d.PerCall || (d.RoutesConfigured && !(len(d.DeniedRoutes) == 0 && d.DefaultsSatisfied)) {
		return 0
	}
	left := min(d.CacheUntil.Sub(now), maxTTL)
	if left <= 0 {
		return 0
	}
	return int(min(left/time.Second, MaxAppSyncTTL))
}

// resolverContext is the authorizer context with every value as a string
// ($ctx.identity.resolverContext), within AppSync's size limit.
func resolverContext(d decision.Decision) map[string]any {
	ctx := authorizerContext(d)
	out := make(map[string]any, len(ctx))
	size := 2
	for _, k := range sortedKeys(ctx) {
		v := contextString(ctx[k])
		if v == "" && ctx[k] != nil {
			v = fmt.Sprint(ctx[k])
		}
		size += len(k) + len(v) + 6
		if size > MaxResolverContextBytes {
			break
		}
		out[k] = v
	}
	return out
}
