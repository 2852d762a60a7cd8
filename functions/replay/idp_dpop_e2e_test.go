package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/functions/lambda/authorizer"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// dpopClient is the client side of DPoP: a key, named by its RFC 7638
// thumbprint, that signs proofs. Proofs come from our own helper
// (devissuer) and from a real client library (jose, via node).
type dpopClient interface {
	name() string
	thumbprint() string
	// proof for method and htu; with a token, the proof carries its ath.
	proof(t *testing.T, method, htu, token string) string
}

type helperClient struct{ s *devissuer.ProofSigner }

func (c helperClient) name() string       { return "devissuer" }
func (c helperClient) thumbprint() string { return c.s.JKT }
func (c helperClient) proof(t *testing.T, method, htu, token string) string {
	t.Helper()
	p, err := c.s.Proof(method, htu, token, time.Now(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newHelperClient(t *testing.T) helperClient {
	t.Helper()
	s, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return helperClient{s}
}

// joseClient is functions/replay/idp/dpop-client.mjs: panva/jose makes the
// key pair and signs every proof (SignJWT, typ dpop+jwt, the public jwk).
type joseClient struct {
	alg, jkt string
	in       io.Writer
	out      *bufio.Reader
}

func (c *joseClient) name() string       { return "jose " + c.alg }
func (c *joseClient) thumbprint() string { return c.jkt }
func (c *joseClient) proof(t *testing.T, method, htu, token string) string {
	t.Helper()
	req, _ := json.Marshal(map[string]string{"htm": method, "htu": htu, "token": token})
	if _, err := c.in.Write(append(req, '\n')); err != nil {
		t.Fatalf("jose client: %v", err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("jose client: no proof: %v", err)
	}
	return strings.TrimSpace(line)
}

// startJoseClient runs the jose DPoP client for alg from the installed IdP
// project (JWTGATE_IDP_DIR; startIdP has already skipped when it is not).
func startJoseClient(t *testing.T, alg string) *joseClient {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "dpop-client.mjs", alg)
	cmd.Dir = os.Getenv("JWTGATE_IDP_DIR")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the jose client: %v", err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		cancel()
		_ = cmd.Wait()
	})
	c := &joseClient{in: in, out: bufio.NewReader(out)}
	line, err := c.out.ReadString('\n')
	ready, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
	if err != nil || !ok {
		t.Fatalf("the jose client did not start: %q %v", line, err)
	}
	var hello struct{ Alg, JKT string }
	if err := json.Unmarshal([]byte(ready), &hello); err != nil || hello.JKT == "" {
		t.Fatalf("the jose client's READY line %q: %v", ready, err)
	}
	c.alg, c.jkt = hello.Alg, hello.JKT
	return c
}

// dpopToken asks the IdP for a DPoP-bound access token: the token request
// carries the client's proof for POST <issuer>/token (RFC 9449 §5). It
// checks that the token is bound to the client's key (cnf.jkt).
func dpopToken(t *testing.T, issuer string, client dpopClient) string {
	t.Helper()
	tok, typ := idpTokenRequest(t, issuer, idpAPI, client.proof(t, http.MethodPost, issuer+"/token", ""))
	if !strings.EqualFold(typ, "DPoP") {
		t.Fatalf("token_type %q, want DPoP", typ)
	}
	parts := strings.Split(tok, ".")
	var claims struct {
		Cnf struct{ JKT string } `json:"cnf"`
	}
	if len(parts) != 3 {
		t.Fatalf("the access token is not a JWS")
	}
	if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil || json.Unmarshal(b, &claims) != nil || claims.Cnf.JKT != client.thumbprint() {
		t.Fatalf("the access token's cnf.jkt %q, want the client key's %q (%v)", claims.Cnf.JKT, client.thumbprint(), err)
	}
	return tok
}

// TestRealIdPDPoPBoundTokenThroughBothAdapters: oidc-provider issues a
// DPoP-bound JWT access token (cnf.jkt of the client's key) to a client
// whose proofs come from our helper, and to clients whose keys and proofs
// come from jose (ES256 and EdDSA). Each token is accepted with a fresh
// proof through the Lambda authorizer and the Azure handler, and refused
// as a Bearer token, with another key's proof, with a proof for another
// method or without ath, and on replay.
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
	lambda := authorizer.New(c, c.Config(), logger)
	azure := customhandler.New(c, c.Config(), logger)
	other := newHelperClient(t)

	clients := []dpopClient{newHelperClient(t), startJoseClient(t, "ES256"), startJoseClient(t, "EdDSA")}
	for _, client := range clients {
		t.Run(client.name(), func(t *testing.T) {
			tok := dpopToken(t, issuer, client)

			const arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/42"
			restEvent := func(headers map[string]string) []byte {
				b, _ := json.Marshal(map[string]any{"type": "REQUEST", "methodArn": arn, "path": "/orders/42", "httpMethod": "GET", "headers": headers,
					"requestContext": map[string]any{"stage": "prod", "path": "/prod/orders/42", "httpMethod": "GET"}})
				return b
			}
			const lambdaHTU = "https://api.example.com/prod/orders/42"
			p1 := client.proof(t, http.MethodGet, lambdaHTU, tok)
			lambdaCases := []struct {
				name    string
				headers map[string]string
				status  int
				reason  decision.Reason
			}{
				{"DPoP token with its proof", map[string]string{"Authorization": "DPoP " + tok, "DPoP": p1}, 200, decision.ReasonOK},
				{"the same proof again", map[string]string{"Authorization": "DPoP " + tok, "DPoP": p1}, 401, decision.DPoPReplayed},
				{"a new proof", map[string]string{"Authorization": "DPoP " + tok, "DPoP": client.proof(t, http.MethodGet, lambdaHTU, tok)}, 200, decision.ReasonOK},
				{"as a Bearer token", map[string]string{"Authorization": "Bearer " + tok}, 401, decision.TokenBound},
				{"proof by another key", map[string]string{"Authorization": "DPoP " + tok, "DPoP": other.proof(t, http.MethodGet, lambdaHTU, tok)}, 401, decision.DPoPBindingMismatch},
				{"proof for another method", map[string]string{"Authorization": "DPoP " + tok, "DPoP": client.proof(t, http.MethodPost, lambdaHTU, tok)}, 401, decision.DPoPProofInvalid},
				{"proof for another URL", map[string]string{"Authorization": "DPoP " + tok, "DPoP": client.proof(t, http.MethodGet, lambdaHTU+"/items", tok)}, 401, decision.DPoPProofInvalid},
				{"proof without ath", map[string]string{"Authorization": "DPoP " + tok, "DPoP": client.proof(t, http.MethodGet, lambdaHTU, "")}, 401, decision.DPoPProofInvalid},
			}
			for _, lc := range lambdaCases {
				res := lambda.Evaluate(ctx, restEvent(lc.headers))
				if res.Status != lc.status || res.Decision.Reason != lc.reason {
					t.Errorf("lambda: %s: %d %s (%s), want %d %s", lc.name, res.Status, res.Decision.Reason, res.Decision.Detail, lc.status, lc.reason)
				}
			}

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
			p2 := client.proof(t, http.MethodGet, azureHTU, tok)
			if w := serve(map[string]string{"Authorization": "DPoP " + tok, "DPoP": p2}); w.Code != 200 {
				t.Errorf("azure: DPoP token with its proof: %d %s", w.Code, w.Body)
			}
			w := serve(map[string]string{"Authorization": "DPoP " + tok, "DPoP": p2})
			if ch := w.Header().Get("WWW-Authenticate"); w.Code != 401 || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_dpop_proof"`) {
				t.Errorf("azure: replay: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
			}
			w = serve(map[string]string{"Authorization": "Bearer " + tok})
			if ch := w.Header().Get("WWW-Authenticate"); w.Code != 401 || !strings.Contains(w.Body.String(), "token_bound") || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_token"`) {
				t.Errorf("azure: as a Bearer token: %d %q %s", w.Code, ch, w.Body)
			}
			if w := serve(map[string]string{"Authorization": "DPoP " + tok, "DPoP": client.proof(t, http.MethodGet, lambdaHTU, tok)}); w.Code != 401 || !strings.Contains(w.Body.String(), "dpop_proof_invalid") {
				t.Errorf("azure: proof for the Lambda URL: %d %s", w.Code, w.Body)
			}
		})
	}
}
