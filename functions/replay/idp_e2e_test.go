package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/core"
)

// The test IdP's client and resources (functions/replay/idp/server.mjs).
const (
	idpClientID     = "jwtgate-e2e"
	idpClientSecret = "jwtgate-e2e-test-only-secret"
	idpAPI          = "https://api.example.com"
	idpOtherAPI     = "https://other.example.com"
)

// startIdP runs the oidc-provider test IdP on a free loopback port and
// returns its issuer URL. It skips unless JWTGATE_IDP_DIR points at the
// installed npm project (make test sets it after npm ci).
func startIdP(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("JWTGATE_IDP_DIR")
	if dir == "" {
		t.Skip("JWTGATE_IDP_DIR not set (make test sets it after installing functions/replay/idp)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		t.Skipf("oidc-provider not installed in %s (run `make idp`)", dir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "server.mjs", "0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "IDP_API="+idpAPI, "IDP_OTHER_API="+idpOtherAPI)
	cmd.Stderr = io.Discard // oidc-provider's development warnings
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- u
				break
			}
		}
		close(ready)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case u, ok := <-ready:
		if !ok {
			t.Fatal("the IdP exited before it was ready")
		}
		return u
	case <-time.After(30 * time.Second): // a bound on a real process, not a timing assertion
		t.Fatal("the IdP did not print READY within 30s")
	}
	return ""
}

// clientCredentialsToken asks the IdP's token endpoint for an access token
// for resource.
func clientCredentialsToken(t *testing.T, issuer, resource string) string {
	t.Helper()
	tok, _ := idpTokenRequest(t, issuer, resource, "")
	return tok
}

// idpTokenRequest is a client-credentials request for resource; with a DPoP
// proof (RFC 9449 §5) the token is bound to the proof's key. It returns
// the access token and its token_type.
func idpTokenRequest(t *testing.T, issuer, resource, dpopProof string) (string, string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {resource}, "scope": {"orders:read"}}
	req, err := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if dpopProof != "" {
		req.Header.Set("DPoP", dpopProof)
	}
	req.SetBasicAuth(idpClientID, idpClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token response: %v", err)
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("token endpoint: status %d error %q %q", resp.StatusCode, body.Error, body.Description)
	}
	return body.AccessToken, body.TokenType
}

func TestRealIdPTokensThroughBothAdapters(t *testing.T) {
	issuer := startIdP(t)
	env := map[string]string{
		"JWTGATE_OPENID_CONFIG": issuer + "/.well-known/openid-configuration",
		"JWTGATE_AUDIENCES":     idpAPI,
		"JWTGATE_TOKEN_TYPES":   "at+jwt",
		// as events/replay.env, for the WebSocket shapes
		"JWTGATE_TOKEN_QUERY":       TokenQuery,
		"JWTGATE_TOKEN_SUBPROTOCOL": TokenProtocol,
	}
	ctx := context.Background()
	c, err := core.FromEnv(ctx, envGetter(env), core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("core from the IdP's configuration: %v", err)
	}
	p := newAdapters(c, c.Config(), slog.New(slog.DiscardHandler))

	tests := []struct {
		name     string
		resource string
		want     Expectation
	}{
		{"token for the configured API is allowed", idpAPI, Expectation{"allow", "ok", 200}},
		{"token for another resource is refused", idpOtherAPI, Expectation{"unauthenticated", "audience_invalid", 401}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := clientCredentialsToken(t, issuer, tc.resource)
			for _, s := range shapes() {
				body, err := s.build(token)
				if err != nil {
					t.Fatal(err)
				}
				name := s.prefix + s.ext
				kind, err := detectKind(name, body)
				if err != nil {
					t.Fatal(err)
				}
				o := p.Run(ctx, eventFile{Name: name, Kind: kind, Body: body})
				o.Expect = &tc.want
				if !o.Met() {
					t.Errorf("%s: got %s %s %d (err %v), want %+v", s.prefix, o.Outcome, o.Reason, o.Status, o.Err, tc.want)
				}
			}
		})
	}
}
