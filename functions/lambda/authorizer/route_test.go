package authorizer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// v2Call builds a payload 2.0 event for one call as API Gateway reports it:
// the route ARN, the path the client sent (which keeps a custom domain's
// API mapping prefix) and the stage.
func v2Call(routeArn, method, path, stage, routeKey, token string) []byte {
	ev := events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST", RouteArn: routeArn, RouteKey: routeKey,
		IdentitySource: []string{token}, RawPath: path,
		Headers: map[string]string{"authorization": token},
	}
	ev.RequestContext.Stage = stage
	ev.RequestContext.RouteKey = routeKey
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	b, _ := json.Marshal(ev)
	return b
}

const v2Prefix = "arn:aws:execute-api:eu-west-1:123456789012:abc123/"

func TestV2MethodAndPathComeFromTheRouteARN(t *testing.T) {
	tests := []struct {
		name                          string
		arn, method, path, stage, key string
		wantMethod, wantPath          string
	}{
		{"custom domain mapping prefix in http.path: the ARN's path wins",
			v2Prefix + "$default/GET/admin/1", "GET", "/v1/admin/1", "$default", "GET /admin/{id}", "GET", "/admin/1"},
		{"mapping prefix with a named stage",
			v2Prefix + "prod/GET/admin/1", "GET", "/api/admin/1", "prod", "GET /admin/{id}", "GET", "/admin/1"},
		{"named stage prefix in http.path agrees with the ARN",
			v2Prefix + "prod/GET/orders/42", "GET", "/prod/orders/42", "prod", "GET /orders/{id}", "GET", "/orders/42"},
		{"the ARN's method wins over http.method",
			v2Prefix + "$default/DELETE/orders/42", "GET", "/orders/42", "$default", "ANY /orders/{id}", "DELETE", "/orders/42"},
		{"root path in the ARN",
			v2Prefix + "$default/GET/", "GET", "/v1/", "$default", "GET /", "GET", "/"},
		{"ANY in the ARN gives the path; the method comes from the request",
			v2Prefix + "$default/ANY/admin/1", "post", "/v1/admin/1", "$default", "ANY /admin/{id}", "POST", "/admin/1"},
		{"$default route ARN: fall back to http.path without the stage",
			v2Prefix + "prod/$default", "PUT", "/prod/orders/42", "prod", "$default", "PUT", "/orders/42"},
		{"$default route ARN on the $default stage: http.path as sent",
			v2Prefix + "$default/$default", "GET", "/orders/42", "$default", "$default", "GET", "/orders/42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDecider{d: allowDecision()}
			res := New(f, nil, quietLogger()).Evaluate(context.Background(), v2Call(tt.arn, tt.method, tt.path, tt.stage, tt.key, testToken))
			if res.Shape != ShapeHTTPv2 || f.calls != 1 {
				t.Fatalf("shape %q calls %d (%s)", res.Shape, f.calls, res.Decision.Detail)
			}
			if f.last.Method != tt.wantMethod || f.last.Path != tt.wantPath {
				t.Fatalf("core saw %q %q, want %q %q", f.last.Method, f.last.Path, tt.wantMethod, tt.wantPath)
			}
		})
	}
}

// routedCore is a real core with one HMAC key and route rules:
// GET /admin/{id} needs "admin"; everything else needs "read".
func routedCore(t *testing.T) (*core.Core, []byte) {
	t.Helper()
	return hmacCore(t, "routes:\n"+
		"  - method: GET\n    path: /admin/{id}\n    scopes: [admin]\n"+
		"  - method: GET\n    path: /orders/{id}\n    scopes: [read]\n",
		map[string]string{"JWTGATE_REQUIRED_SCOPES": "read"})
}

// hmacCore is a real core with one HMAC key (returned), the issuer
// https://issuer.example/, the audience https://api.example.com, the
// policy file doc and the extra settings.
func hmacCore(t *testing.T, doc string, extra map[string]string) (*core.Core, []byte) {
	t.Helper()
	secret := []byte("0123456789abcdef0123456789abcdef")
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"JWTGATE_HMAC_SECRETS": base64.StdEncoding.EncodeToString(secret),
		"JWTGATE_ISSUERS":      "https://issuer.example/",
		"JWTGATE_AUDIENCES":    "https://api.example.com",
		"JWTGATE_POLICY_FILE":  pol,
	}
	for k, v := range extra {
		env[k] = v
	}
	return coreFromEnv(t, env), secret
}

// coreFromEnv builds the real core from env (config errors fail the test).
func coreFromEnv(t *testing.T, env map[string]string) *core.Core {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	c, err := core.New(context.Background(), cfg, core.WithLogger(quietLogger()))
	if err != nil {
		t.Fatalf("core: %v", err)
	}
	return c
}

// hs256 mints a token signed with secret.
func hs256(t *testing.T, secret []byte, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := enc.EncodeToString(mustJSON(t, claims))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(head + "." + body))
	return head + "." + body + "." + enc.EncodeToString(m.Sum(nil))
}

// TestV2RouteRulesBehindACustomDomain is the review's reproduction: a
// custom domain maps "/v1" to the API, so http.path is "/v1/admin/1" while
// the route ARN (and the policy) is ".../GET/admin/1". A token with only
// "read" must not pass the "admin" rule, in either answer format.
func TestV2RouteRulesBehindACustomDomain(t *testing.T) {
	c, secret := routedCore(t)
	token := "Bearer " + hs256(t, secret, map[string]any{
		"iss": "https://issuer.example/", "aud": "https://api.example.com", "sub": "user-1",
		"scope": "read", "exp": time.Now().Add(time.Hour).Unix(),
	})
	adminARN := v2Prefix + "$default/GET/admin/1"
	ordersARN := v2Prefix + "$default/GET/orders/1"
	tests := []struct {
		name, arn, path string
		status          int
	}{
		{"admin route with the mapping prefix is forbidden", adminARN, "/v1/admin/1", 403},
		{"admin route without a prefix is forbidden", adminARN, "/admin/1", 403},
		{"read route with the mapping prefix is allowed", ordersARN, "/v1/orders/1", 200},
	}
	for _, mode := range []string{"simple", "iam"} {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				cfg := *c.Config()
				cfg.HTTPAPIResponse = mode
				res := New(c, &cfg, quietLogger()).Evaluate(context.Background(), v2Call(tt.arn, "GET", tt.path, "$default", "$default", token))
				if res.Status != tt.status {
					t.Fatalf("status = %d, want %d (%s %s)", res.Status, tt.status, res.Decision.Reason, res.Decision.Detail)
				}
				switch r := res.Response.(type) {
				case events.APIGatewayV2CustomAuthorizerSimpleResponse:
					if mode != "simple" || r.IsAuthorized != (tt.status == 200) {
						t.Fatalf("%s: isAuthorized = %v", mode, r.IsAuthorized)
					}
				case events.APIGatewayV2CustomAuthorizerIAMPolicyResponse:
					if mode != "iam" {
						t.Fatalf("IAM answer in %s mode", mode)
					}
					if got := statusFor(r.PolicyDocument, tt.arn); got != tt.status {
						t.Fatalf("policy %+v gives %d on %s, want %d", r.PolicyDocument, got, tt.arn, tt.status)
					}
				default:
					t.Fatalf("response %T (%v)", res.Response, res.Err)
				}
				if tt.status == 403 && res.Decision.Outcome != decision.Forbidden {
					t.Fatalf("outcome %v", res.Decision.Outcome)
				}
			})
		}
	}
}

// A decision that a rule made for this call only (PerCall) never reaches
// other calls through a cached policy, whatever the route grants say.
func TestPerCallDecisionsCoverOnlyThisCall(t *testing.T) {
	a, err := parseARN("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/42")
	if err != nil {
		t.Fatal(err)
	}
	grants := []decision.RouteGrant{{Method: "GET", Path: "/health"}}
	for _, tc := range []struct {
		name   string
		d      decision.Decision
		effect string
		res    string
	}{
		{"allow is exactly this call", decision.Decision{Outcome: decision.Allow, PerCall: true, RoutesConfigured: true, Routes: grants, DefaultsSatisfied: true}, "Allow", a.full},
		{"allow without route rules is still this call only", decision.Decision{Outcome: decision.Allow, PerCall: true, DefaultsSatisfied: true}, "Allow", a.full},
		{"forbidden denies the stage", decision.Decision{Outcome: decision.Forbidden, Reason: decision.RuleDenied, PerCall: true, RoutesConfigured: true, Routes: grants}, "Deny", a.wholeAPI()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policyFor(a, tc.d)
			if len(p.Statement) != 1 || p.Statement[0].Effect != tc.effect || len(p.Statement[0].Resource) != 1 || p.Statement[0].Resource[0] != tc.res {
				t.Fatalf("policy %+v, want %s %s", p.Statement, tc.effect, tc.res)
			}
			if got := statusFor(p, "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/health"); got != 403 {
				t.Errorf("another call gets %d from the cached policy", got)
			}
		})
	}
}
