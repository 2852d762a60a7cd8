package authorizer

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/clientcert"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

const (
	boundDomain = "api.example.com"
	boundCalled = "/prod/orders/42" // the path the client called, stage included
	boundHTU    = "https://" + boundDomain + boundCalled
)

// boundCore is a real core with an HS256 issuer (the token's signature
// is not what these tests are about; the binding is).
func boundCore(t *testing.T, extra map[string]string) (*core.Core, []byte) {
	t.Helper()
	secret := []byte("0123456789abcdef0123456789abcdef")
	env := map[string]string{
		"JWTGATE_HMAC_SECRETS": base64.StdEncoding.EncodeToString(secret),
		"JWTGATE_ISSUERS":      "https://issuer.example/",
		"JWTGATE_AUDIENCES":    "https://api.example.com",
	}
	for k, v := range extra {
		env[k] = v
	}
	return coreFromEnv(t, env), secret
}

func boundToken(t *testing.T, secret []byte, cnf map[string]any) string {
	return hs256(t, secret, map[string]any{
		"iss": "https://issuer.example/", "aud": "https://api.example.com", "sub": "user-1",
		"exp": time.Now().Add(time.Hour).Unix(), "cnf": cnf,
	})
}

// shapeEvent builds an event of the shape with the headers (names as the
// shape sends them) and a client certificate PEM ("" for none).
func shapeEvent(t *testing.T, shape string, headers map[string]string, certPEM string) []byte {
	t.Helper()
	var ev map[string]any
	switch shape {
	case ShapeRESTToken:
		return tokenEvent(methodARN, headers["Authorization"])
	case ShapeRESTRequest:
		h := map[string]string{"Host": boundDomain}
		for k, v := range headers {
			h[k] = v
		}
		ev = map[string]any{"type": "REQUEST", "methodArn": methodARN, "path": "/orders/42", "httpMethod": "GET", "headers": h,
			"requestContext": map[string]any{"stage": "prod", "path": boundCalled, "httpMethod": "GET",
				"identity": map[string]any{"clientCert": map[string]any{"clientCertPem": certPEM}}}}
	case ShapeHTTPv1:
		ev = map[string]any{"version": "1.0", "type": "REQUEST", "methodArn": methodARN, "path": "/orders/42", "httpMethod": "GET", "headers": headers,
			"requestContext": map[string]any{"stage": "prod", "path": boundCalled, "domainName": boundDomain, "httpMethod": "GET",
				"identity": map[string]any{"clientCert": map[string]any{"clientCertPem": certPEM}}}}
	case ShapeHTTPv2:
		lower := map[string]string{}
		for k, v := range headers {
			lower[toLower(k)] = v
		}
		ev = map[string]any{"version": "2.0", "type": "REQUEST", "routeArn": routeARNv2, "routeKey": "GET /orders/{id}", "rawPath": boundCalled, "headers": lower,
			"requestContext": map[string]any{"stage": "prod", "domainName": boundDomain, "http": map[string]any{"method": "GET", "path": "/other" + boundCalled},
				"authentication": map[string]any{"clientCert": map[string]any{"clientCertPem": certPEM}}}}
	}
	return mustJSON(t, ev)
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func testClientCert(t *testing.T) (pemText, x5t string) {
	t.Helper()
	der, err := devissuer.NewClientCertificate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), clientcert.Thumbprint(der)
}

// TestSenderConstrainedTokensPerShape runs bound tokens through every
// event shape with a real core: the proof's htu is built from each shape's
// own fields, a replay is refused, TOKEN authorizers refuse bound tokens,
// and an allowed bound decision names exactly this call.
func TestSenderConstrainedTokensPerShape(t *testing.T) {
	c, secret := boundCore(t, map[string]string{"JWTGATE_HTTPAPI_RESPONSE": "iam"})
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, x5t := testClientCert(t)
	a := New(c, c.Config(), quietLogger())
	dpopTok := boundToken(t, secret, map[string]any{"jkt": client.JKT})
	certTok := boundToken(t, secret, map[string]any{"x5t#S256": x5t})
	proof := func(claims map[string]any) string {
		p, err := client.Proof("GET", boundHTU, dpopTok, time.Now(), claims, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, shape := range []string{ShapeRESTRequest, ShapeHTTPv1, ShapeHTTPv2} {
		t.Run(shape, func(t *testing.T) {
			p := proof(nil)
			ev := shapeEvent(t, shape, map[string]string{"Authorization": "DPoP " + dpopTok, "DPoP": p}, "")
			res := a.Evaluate(context.Background(), ev)
			if res.Status != 200 || !res.Decision.SenderConstrained {
				t.Fatalf("bound token with its proof: %d %s (%s)", res.Status, res.Decision.Reason, res.Decision.Detail)
			}
			checkPolicy(t, policyOf(t, res.Response), "Allow", []string{methodARN})
			if res := a.Evaluate(context.Background(), ev); res.Status != 401 || res.Decision.Reason != decision.DPoPReplayed {
				t.Fatalf("replayed proof: %d %s", res.Status, res.Decision.Reason)
			}
			other := proof(map[string]any{"htu": "https://" + boundDomain + "/orders/42"})
			ev = shapeEvent(t, shape, map[string]string{"Authorization": "DPoP " + dpopTok, "DPoP": other}, "")
			if res := a.Evaluate(context.Background(), ev); res.Status != 401 || res.Decision.Reason != decision.DPoPProofInvalid {
				t.Fatalf("proof without the stage in htu: %d %s", res.Status, res.Decision.Reason)
			}
			ev = shapeEvent(t, shape, map[string]string{"Authorization": "Bearer " + dpopTok}, "")
			if res := a.Evaluate(context.Background(), ev); res.Status != 401 || res.Decision.Reason != decision.TokenBound {
				t.Fatalf("bound token as Bearer: %d %s", res.Status, res.Decision.Reason)
			}
			ev = shapeEvent(t, shape, map[string]string{"Authorization": "Bearer " + certTok}, certPEM)
			if res := a.Evaluate(context.Background(), ev); res.Status != 200 || !res.Decision.SenderConstrained {
				t.Fatalf("certificate-bound token with API Gateway's client certificate: %d %s (%s)", res.Status, res.Decision.Reason, res.Decision.Detail)
			}
			ev = shapeEvent(t, shape, map[string]string{"Authorization": "Bearer " + certTok, "X-Forwarded-Client-Cert": "Cert=" + certPEM}, "")
			if res := a.Evaluate(context.Background(), ev); res.Status != 401 || res.Decision.Reason != decision.CertificateMissing {
				t.Fatalf("certificate-bound token without mutual TLS: %d %s", res.Status, res.Decision.Reason)
			}
		})
	}
	t.Run(ShapeRESTToken, func(t *testing.T) {
		for _, tok := range []string{"DPoP " + dpopTok, "Bearer " + certTok} {
			res := a.Evaluate(context.Background(), tokenEvent(methodARN, tok))
			if res.Status != 401 || res.Decision.Reason != decision.TokenBound {
				t.Fatalf("bound token at a TOKEN authorizer: %d %s", res.Status, res.Decision.Reason)
			}
		}
	})
}

func TestSimpleResponseForABoundToken(t *testing.T) {
	c, secret := boundCore(t, nil)
	client, err := devissuer.NewProofSigner("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	tok := boundToken(t, secret, map[string]any{"jkt": client.JKT})
	p, err := client.Proof("GET", boundHTU, tok, time.Now(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := New(c, c.Config(), quietLogger())
	res := a.Evaluate(context.Background(), shapeEvent(t, ShapeHTTPv2, map[string]string{"Authorization": "DPoP " + tok, "DPoP": p}, ""))
	r, ok := res.Response.(events.APIGatewayV2CustomAuthorizerSimpleResponse)
	if !ok || !r.IsAuthorized {
		t.Fatalf("simple response %#v (%s)", res.Response, res.Decision.Reason)
	}
}

// TestBoundDecisionPolicyIsNeverAWildcard: whatever the route rules, a
// decision that depended on a proof or certificate names exactly this call,
// or denies the whole stage.
func TestBoundDecisionPolicyIsNeverAWildcard(t *testing.T) {
	a, err := parseARN(methodARN)
	if err != nil {
		t.Fatal(err)
	}
	allow := allowDecision()
	allow.SenderConstrained = true
	checkPolicy(t, policyFor(a, allow), "Allow", []string{methodARN})
	routes := allow
	routes.RoutesConfigured, routes.DefaultsSatisfied = true, true
	routes.Routes = []decision.RouteGrant{grant("GET", "/orders"), grant("POST", "/orders")}
	checkPolicy(t, policyFor(a, routes), "Allow", []string{methodARN})
	forbidden := routes
	forbidden.Outcome, forbidden.Reason = decision.Forbidden, decision.RouteDenied
	checkPolicy(t, policyFor(a, forbidden), "Deny", []string{wholeAPI})
	star, err := parseARN("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/*x")
	if err == nil {
		checkPolicy(t, policyFor(star, allow), "Deny", []string{wholeAPI})
	}
}

func policyOf(t *testing.T, resp any) events.APIGatewayCustomAuthorizerPolicy {
	t.Helper()
	switch r := resp.(type) {
	case events.APIGatewayCustomAuthorizerResponse:
		return r.PolicyDocument
	case events.APIGatewayV2CustomAuthorizerIAMPolicyResponse:
		return r.PolicyDocument
	}
	t.Fatalf("response %T", resp)
	return events.APIGatewayCustomAuthorizerPolicy{}
}
