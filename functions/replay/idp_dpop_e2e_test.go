package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/functions/lambda/authorizer"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// dpopToken asks the IdP for a DPoP-bound access token: the token request
// carries a proof for POST <issuer>/token (RFC 9449 §5).
func dpopToken(t *testing.T, issuer string, client *devissuer.ProofSigner) (token, tokenType string) {
	t.Helper()
	proof, err := client.Proof(http.MethodPost, issuer+"/token", "", time.Now(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return idpTokenRequest(t, issuer, idpAPI, proof)
}

// TestRealIdPDPoPBoundTokenThroughBothAdapters: oidc-provider issues a
// DPoP-bound JWT access token (cnf.jkt of our client key); it is accepted
// with a fresh proof through the Lambda authorizer and the Azure handler,
// and refused as a Bearer token, with another key's proof, and on replay.
func TestRealIdPDPoPBoundTokenThroughBothAdapters(t *testing.T) {
	issuer := startIdP(t)
	env := map[string]string{
		"JWTGATE_OPENID_CONFIG": issuer + "/.well-known/openid-configuration",
		"JWTGATE_AUDIENCES":     idpAPI,
		"JWTGATE_TOKEN_TYPES":   "at+jwt",
		"JWTGATE_PUBLIC_URL":    "https://api.example.com",
	}
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	c, err := core.FromEnv(ctx, envGetter(env), core.WithLogger(logger))
	if err != nil {
		t.Fatalf("core from the IdP's configuration: %v", err)
	}
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	other, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok, typ := dpopToken(t, issuer, client)
	if !strings.EqualFold(typ, "DPoP") {
		t.Fatalf("token_type %q, want DPoP", typ)
	}
	proof := func(s *devissuer.ProofSigner, htu string) string {
		p, err := s.Proof(http.MethodGet, htu, tok, time.Now(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	lambda := authorizer.New(c, c.Config(), logger)
	const arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/42"
	restEvent := func(headers map[string]string) []byte {
		b, _ := json.Marshal(map[string]any{"type": "REQUEST", "methodArn": arn, "path": "/orders/42", "httpMethod": "GET", "headers": headers,
			"requestContext": map[string]any{"stage": "prod", "path": "/prod/orders/42", "httpMethod": "GET"}})
		return b
	}
	const lambdaHTU = "https://api.example.com/prod/orders/42"
	p1 := proof(client, lambdaHTU)
	lambdaCases := []struct {
		name    string
		headers map[string]string
		status  int
		reason  decision.Reason
	}{
		{"DPoP token with its proof", map[string]string{"Authorization": "DPoP " + tok, "DPoP": p1}, 200, decision.ReasonOK},
		{"the same proof again", map[string]string{"Authorization": "DPoP " + tok, "DPoP": p1}, 401, decision.DPoPReplayed},
		{"as a Bearer token", map[string]string{"Authorization": "Bearer " + tok}, 401, decision.TokenBound},
		{"proof by another key", map[string]string{"Authorization": "DPoP " + tok, "DPoP": proof(other, lambdaHTU)}, 401, decision.DPoPBindingMismatch},
	}
	for _, lc := range lambdaCases {
		res := lambda.Evaluate(ctx, restEvent(lc.headers))
		if res.Status != lc.status || res.Decision.Reason != lc.reason {
			t.Errorf("lambda: %s: %d %s (%s), want %d %s", lc.name, res.Status, res.Decision.Reason, res.Decision.Detail, lc.status, lc.reason)
		}
	}

	azure := customhandler.New(c, c.Config(), logger)
	const azureHTU = "https://api.example.com/api/authorize/orders/42"
	serve := func(headers map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/authorize/orders/42", nil)
		for k, v := range headers {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		azure.ServeHTTP(w, r)
		return w
	}
	p2 := proof(client, azureHTU)
	if w := serve(map[string]string{"Authorization": "DPoP " + tok, "DPoP": p2}); w.Code != 200 {
		t.Errorf("azure: DPoP token with its proof: %d %s", w.Code, w.Body)
	}
	w := serve(map[string]string{"Authorization": "DPoP " + tok, "DPoP": p2})
	if ch := w.Header().Get("WWW-Authenticate"); w.Code != 401 || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_dpop_proof"`) {
		t.Errorf("azure: replay: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if w := serve(map[string]string{"Authorization": "Bearer " + tok}); w.Code != 401 || !strings.Contains(w.Body.String(), "token_bound") {
		t.Errorf("azure: as a Bearer token: %d %s", w.Code, w.Body)
	}
}
