package authorizer

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// Errors returned to the Lambda runtime. API Gateway answers 401 for the
// error message "Unauthorized" exactly, and 500 for any other error.
var (
	ErrUnauthorized    = errors.New("Unauthorized") //nolint:staticcheck // API Gateway matches this exact text
	ErrKeysUnavailable = errors.New("keys unavailable")
	ErrInternal        = errors.New("internal error")
)

// MaxContextValueChars caps one context value (long claim values are
// dropped rather than cut, so a consumer never sees a truncated value).
const MaxContextValueChars = 1024

// authorizerContext builds the flat context API Gateway passes to the
// integration: string, number and boolean values only (REST rejects nested
// values). It holds the forwarded claims plus sub, iss, scope and the client
// id (azp or client_id, as "client_id").
func authorizerContext(d decision.Decision) map[string]any {
	ctx := map[string]any{}
	for k, v := range d.Claims.Map() {
		if fv, ok := flatValue(v); ok && k != "" {
			ctx[k] = fv
		}
	}
	if d.Principal != "" {
		ctx["sub"] = d.Principal
	}
	if d.Issuer != "" {
		ctx["iss"] = d.Issuer
	}
	if _, ok := ctx["scope"]; !ok {
		if v, ok := ctx["scp"]; ok {
			ctx["scope"] = v
		}
	}
	if _, ok := ctx["client_id"]; !ok {
		if v, ok := ctx["azp"]; ok {
			ctx["client_id"] = v
		}
	}
	return ctx
}

// flatValue keeps the value types API Gateway accepts in a context.
func flatValue(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return x, len(x) <= MaxContextValueChars
	case bool, float64, float32, int, int64, int32, uint32, uint64:
		return x, true
	case []string:
		s := strings.Join(x, " ")
		return s, len(s) <= MaxContextValueChars
	default:
		return nil, false
	}
}

// contextString renders a context value as text (for usageIdentifierKey).
func contextString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	default:
		return ""
	}
}

// principalID is the token's sub, or its client id when it has no sub.
func principalID(d decision.Decision, ctx map[string]any) string {
	if d.Principal != "" {
		return d.Principal
	}
	if s := contextString(ctx["client_id"]); s != "" {
		return s
	}
	return "anonymous"
}

// answer turns a decision into what the Lambda returns and the status API
// Gateway will answer with.
func answer(p parsed, d decision.Decision, cfg *config.Config, now func() time.Time) (resp any, status int, err error) {
	switch d.Outcome {
	case decision.Allow, decision.Forbidden:
	case decision.Unavailable:
		if d.Reason == decision.KeysUnavailable {
			return nil, 500, ErrKeysUnavailable
		}
		return nil, 500, ErrInternal
	default:
		if p.shape != ShapeAppSync {
			return nil, 401, ErrUnauthorized
		}
	}
	if p.shape == ShapeAppSync {
		resp, status := appSyncAnswer(d, now(), appSyncMaxTTL(cfg))
		return resp, status, nil
	}

	ctx := authorizerContext(d)
	if p.shape == ShapeHTTPv2 && httpAPIMode(cfg) == "simple" {
		allowed := d.Allowed()
		status = 403
		if allowed {
			status = 200
		}
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: allowed, Context: ctx}, status, nil
	}

	var pol events.APIGatewayCustomAuthorizerPolicy
	if p.shape == ShapeWebSocket {
		pol, status = webSocketPolicy(p.arn, d)
	} else {
		pol = policyFor(p.arn, d)
		status = statusFor(pol, p.arn.full)
	}
	if d.Outcome == decision.Forbidden && status == 200 {
		// Unreachable by construction; never let a forbidden call through.
		pol = policy("Deny", []string{p.arn.wholeAPI()})
		status = 403
	}
	principal := principalID(d, ctx)
	if p.shape == ShapeHTTPv2 {
		return events.APIGatewayV2CustomAuthorizerIAMPolicyResponse{PrincipalID: principal, PolicyDocument: pol, Context: ctx}, status, nil
	}
	r := events.APIGatewayCustomAuthorizerResponse{PrincipalID: principal, PolicyDocument: pol, Context: ctx}
	if p.shape == ShapeRESTToken || p.shape == ShapeRESTRequest {
		// Usage plans exist for REST APIs only.
		if cfg != nil && cfg.UsageIdentifierClaim != "" {
			r.UsageIdentifierKey = contextString(ctx[cfg.UsageIdentifierClaim])
		}
	}
	return r, status, nil
}

// appSyncMaxTTL is the longest an AppSync answer may be cached:
// JWTGATE_TOKEN_CACHE_TTL (default 5 minutes, AppSync's own default; 0,
// allowed with JWTGATE_TOKEN_CACHE_SIZE=0, means not at all).
func appSyncMaxTTL(cfg *config.Config) time.Duration {
	if cfg == nil {
		return config.DefaultTokenCacheMaxTTL
	}
	return cfg.TokenCacheMaxTTL
}

func httpAPIMode(cfg *config.Config) string {
	if cfg != nil && strings.EqualFold(cfg.HTTPAPIResponse, "iam") {
		return "iam"
	}
	return "simple"
}
