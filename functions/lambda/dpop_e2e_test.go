//go:build linux

package main

import (
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/clientcert"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/replaystore/redistest"
)

// boundEvent is an authorizer event of the shape whose client called
// https://api.example.com/prod/orders/42 with the given headers.
func boundEvent(shape string, headers map[string]string) []byte {
	var ev map[string]any
	switch shape {
	case "rest_token":
		ev = map[string]any{"type": "TOKEN", "methodArn": e2eARN, "authorizationToken": headers["Authorization"]}
	case "rest_request":
		h := map[string]string{"Host": "api.example.com"}
		for k, v := range headers {
			h[k] = v
		}
		ev = map[string]any{"type": "REQUEST", "methodArn": e2eARN, "path": "/orders/42", "httpMethod": "GET", "headers": h,
			"requestContext": map[string]any{"stage": "prod", "path": "/prod/orders/42", "httpMethod": "GET"}}
	case "http_v1":
		ev = map[string]any{"version": "1.0", "type": "REQUEST", "methodArn": e2eARN, "path": "/orders/42", "httpMethod": "GET", "headers": headers,
			"requestContext": map[string]any{"stage": "prod", "path": "/prod/orders/42", "domainName": "api.example.com", "httpMethod": "GET"}}
	case "http_v2":
		lower := map[string]string{}
		for k, v := range headers {
			lower[lowerASCII(k)] = v
		}
		ev = map[string]any{"version": "2.0", "type": "REQUEST", "routeArn": e2eARN, "routeKey": "GET /orders/{id}", "rawPath": "/prod/orders/42", "headers": lower,
			"requestContext": map[string]any{"stage": "prod", "domainName": "api.example.com", "http": map[string]any{"method": "GET", "path": "/prod/orders/42"}}}
	}
	b, _ := json.Marshal(ev)
	return b
}

// withClientCert puts API Gateway's mutual-TLS client certificate into a
// boundEvent of the shape: requestContext.identity.clientCert for REST and
// HTTP API 1.0, requestContext.authentication.clientCert for 2.0.
func withClientCert(t *testing.T, shape string, ev []byte, certPEM string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev, &m); err != nil {
		t.Fatal(err)
	}
	rc := m["requestContext"].(map[string]any)
	member := "identity"
	if shape == "http_v2" {
		member = "authentication"
	}
	rc[member] = map[string]any{"clientCert": map[string]any{"clientCertPem": certPEM}}
	b, _ := json.Marshal(m)
	return b
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestBootstrapDPoPUnderRuntimeEmulator: DPoP-bound and certificate-bound
// tokens through the real bootstrap for every shape, with the replay store
// in a real Redis:
// allowed with exactly this call's policy, a replay refused, TOKEN
// authorizers refusing bound tokens, Redis down answering 500 (never
// allow), and recovery when it returns.
func TestBootstrapDPoPUnderRuntimeEmulator(t *testing.T) {
	rie := rieOrSkip(t)
	srv := redistest.Start(t)
	bootstrap := buildBootstrap(t)
	iss := startDevIssuer(t)
	fn := startFunction(t, rie, bootstrap, map[string]string{
		"JWTGATE_OPENID_CONFIG":    iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":        "api://orders",
		"JWTGATE_REPLAY_STORE":     srv.URL(0),
		"JWTGATE_HTTP_TIMEOUT":     "500ms",
		"JWTGATE_HTTPAPI_RESPONSE": "iam",
	})
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := iss.Mint(map[string]any{"sub": "user-1", "aud": "api://orders", "exp": now.Add(time.Hour).Unix(), "cnf": map[string]any{"jkt": client.JKT}})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, otherPEM := newCertPEM(t, now), newCertPEM(t, now)
	certTok, err := iss.Mint(map[string]any{"sub": "user-1", "aud": "api://orders", "exp": now.Add(time.Hour).Unix(), "cnf": map[string]any{"x5t#S256": certThumbprint(t, certPEM)}})
	if err != nil {
		t.Fatal(err)
	}
	proof := func() string {
		p, err := client.Proof("GET", "https://api.example.com/prod/orders/42", tok, time.Now(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, shape := range []string{"rest_request", "http_v1", "http_v2"} {
		t.Run(shape, func(t *testing.T) {
			ev := boundEvent(shape, map[string]string{"Authorization": "DPoP " + tok, "DPoP": proof()})
			fn.invoke(t, ev).wantPolicy(t, "Allow", e2eARN)
			if a := fn.invoke(t, ev); a.ErrorMessage != "Unauthorized" {
				t.Fatalf("replayed proof: %+v", a)
			}
			if a := fn.invoke(t, boundEvent(shape, map[string]string{"Authorization": "Bearer " + tok})); a.ErrorMessage != "Unauthorized" {
				t.Fatalf("bound token as Bearer: %+v", a)
			}
			// A certificate-bound token: API Gateway's client certificate
			// (mutual TLS) is the one it names, another one, or none.
			bearer := boundEvent(shape, map[string]string{"Authorization": "Bearer " + certTok})
			fn.invoke(t, withClientCert(t, shape, bearer, certPEM)).wantPolicy(t, "Allow", e2eARN)
			if a := fn.invoke(t, withClientCert(t, shape, bearer, otherPEM)); a.ErrorMessage != "Unauthorized" {
				t.Fatalf("certificate-bound token, another certificate: %+v", a)
			}
			if a := fn.invoke(t, bearer); a.ErrorMessage != "Unauthorized" {
				t.Fatalf("certificate-bound token without a certificate: %+v", a)
			}
		})
	}
	if a := fn.invoke(t, boundEvent("rest_token", map[string]string{"Authorization": "DPoP " + tok})); a.ErrorMessage != "Unauthorized" {
		t.Fatalf("bound token at a TOKEN authorizer: %+v", a)
	}
	srv.Stop()
	a := fn.invoke(t, boundEvent("rest_request", map[string]string{"Authorization": "DPoP " + tok, "DPoP": proof()}))
	if a.ErrorMessage == "" || a.ErrorMessage == "Unauthorized" || a.PolicyDocument != nil {
		t.Fatalf("Redis down: want an error (API Gateway 500), got %+v", a)
	}
	srv.Restart()
	fn.invoke(t, boundEvent("rest_request", map[string]string{"Authorization": "DPoP " + tok, "DPoP": proof()})).wantPolicy(t, "Allow", e2eARN)
}

func newCertPEM(t *testing.T, now time.Time) string {
	t.Helper()
	der, err := devissuer.NewClientCertificate(now)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func certThumbprint(t *testing.T, certPEM string) string {
	t.Helper()
	der, err := clientcert.Parse(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return clientcert.Thumbprint(der)
}
