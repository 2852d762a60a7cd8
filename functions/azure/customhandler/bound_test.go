package customhandler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/clientcert"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// boundHandler is the handler around the real core with extra settings.
func boundHandler(t *testing.T, extra map[string]string) *Handler {
	t.Helper()
	env := map[string]string{
		"JWTGATE_HMAC_SECRETS":   base64.StdEncoding.EncodeToString(secTestSecret),
		"JWTGATE_ALGORITHMS":     "HS256",
		"JWTGATE_ISSUERS":        secTestIssuer,
		"JWTGATE_AUDIENCES":      secTestAudience,
		"JWTGATE_WARMUP_TIMEOUT": "0",
	}
	for k, v := range extra {
		env[k] = v
	}
	c, err := core.FromEnv(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return New(c, c.Config(), nil)
}

func boundHS256(t *testing.T, cnf map[string]any) string {
	return hs256With(t, map[string]any{"cnf": cnf})
}

func TestDPoPThroughEveryHandlerMode(t *testing.T) {
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := boundHS256(t, map[string]any{"jkt": client.JKT})
	proof := func(method, htu string) string {
		p, err := client.Proof(method, htu, tok, time.Now(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	h := boundHandler(t, nil)
	proxied := func(p string) *http.Request {
		r := rawRequest("GET", "https://app.azurewebsites.net/api/authorize/orders/42?x=1", map[string]string{"Authorization": "DPoP " + tok, "DPoP": p}, "")
		r.RequestURI = "/api/authorize/orders/42?x=1"
		return r
	}
	t.Run("proxy: htu is the request's host and whole path", func(t *testing.T) {
		p := proof("GET", "https://app.azurewebsites.net/api/authorize/orders/42")
		if res := serve(t, h, proxied(p)); res.status != 200 {
			t.Fatalf("status %d %v", res.status, res.body)
		}
		res := serve(t, h, proxied(p))
		if res.status != 401 || res.body["reason"] != "dpop_replayed" {
			t.Fatalf("replay: %d %v", res.status, res.body)
		}
		ch := res.header.Get("WWW-Authenticate")
		if !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_dpop_proof"`) || !strings.Contains(ch, `algs="ES256 ES384 ES512 RS256 PS256 EdDSA"`) {
			t.Fatalf("challenge %q", ch)
		}
	})
	t.Run("proxy: a proof for another path", func(t *testing.T) {
		res := serve(t, h, proxied(proof("GET", "https://app.azurewebsites.net/orders/42")))
		if res.status != 401 || res.body["reason"] != "dpop_proof_invalid" {
			t.Fatalf("%d %v", res.status, res.body)
		}
	})
	t.Run("proxy: bound token as Bearer gets a DPoP invalid_token challenge", func(t *testing.T) {
		r := rawRequest("GET", "/api/authorize/orders/42", nil, tok)
		res := serve(t, h, r)
		ch := res.header.Get("WWW-Authenticate")
		if res.status != 401 || res.body["reason"] != "token_bound" || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_token"`) {
			t.Fatalf("%d %v %q", res.status, res.body, ch)
		}
	})
	t.Run("forward-auth: htu is the forwarded host and URI", func(t *testing.T) {
		r := rawRequest("GET", "/api/authorize", map[string]string{
			"Authorization": "DPoP " + tok, "DPoP": proof("DELETE", "https://shop.example.com/orders/7"),
			"X-Forwarded-Method": "DELETE", "X-Forwarded-Uri": "/orders/7?force=1", "X-Forwarded-Host": "shop.example.com",
		}, "")
		if res := serve(t, h, r); res.status != 200 {
			t.Fatalf("%d %v", res.status, res.body)
		}
	})
	t.Run("invocation: htu is Data.req.Url", func(t *testing.T) {
		u := "https://app.azurewebsites.net/api/authorize/orders/9?q=1"
		res := invoke(t, h, map[string]any{"Data": map[string]any{"req": map[string]any{
			"Url": u, "Method": "GET",
			"Headers": map[string]any{"Authorization": []string{"DPoP " + tok}, "DPoP": []string{proof("GET", u)}},
		}}})
		if res.status != 200 {
			t.Fatalf("%d %v", res.status, res.body)
		}
	})
	t.Run("public URL replaces scheme and host", func(t *testing.T) {
		hp := boundHandler(t, map[string]string{"JWTGATE_PUBLIC_URL": "https://api.example.com/v1"})
		r := rawRequest("GET", "/api/authorize/orders/42", map[string]string{"Authorization": "DPoP " + tok, "DPoP": proof("GET", "https://api.example.com/v1/api/authorize/orders/42")}, "")
		if res := serve(t, hp, r); res.status != 200 {
			t.Fatalf("%d %v", res.status, res.body)
		}
	})
}

func TestCertificateBoundTokensThroughTheHandler(t *testing.T) {
	der, err := devissuer.NewClientCertificate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok := boundHS256(t, map[string]any{"x5t#S256": clientcert.Thumbprint(der)})
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	escaped := strings.ReplaceAll(url.QueryEscape(pemText), "+", "%20")
	cases := []struct {
		name, setting, header, value string
		status                       int
		reason                       string
	}{
		{"App Service X-ARR-ClientCert", "X-ARR-ClientCert", "X-ARR-ClientCert", base64.StdEncoding.EncodeToString(der), 200, "ok"},
		{"Envoy XFCC", "X-Forwarded-Client-Cert", "X-Forwarded-Client-Cert", `By=spiffe://gw;Hash=1;Cert="` + escaped + `"`, 200, "ok"},
		{"nginx escaped PEM", "X-SSL-Client-Cert", "X-SSL-Client-Cert", escaped, 200, "ok"},
		{"garbage in the header", "X-ARR-ClientCert", "X-ARR-ClientCert", "not-a-cert", 401, "certificate_missing"},
		{"no header", "X-ARR-ClientCert", "", "", 401, "certificate_missing"},
		{"header not trusted (setting off)", "", "X-ARR-ClientCert", base64.StdEncoding.EncodeToString(der), 401, "certificate_missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := boundHandler(t, map[string]string{"JWTGATE_CLIENT_CERT_HEADER": c.setting})
			hdrs := map[string]string{}
			if c.header != "" {
				hdrs[c.header] = c.value
			}
			res := serve(t, h, rawRequest("GET", "/api/authorize/orders/1", hdrs, tok))
			if res.status != c.status || res.body["reason"] != c.reason {
				t.Fatalf("%d %v, want %d %s", res.status, res.body, c.status, c.reason)
			}
			if c.status == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Fatalf("a certificate refusal is a Bearer challenge, got %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestDPoPProofAndTokenNeverShown: for every DPoP outcome (allow, replay,
// another key's proof, a proof for another URL, a garbage proof, the token
// as Bearer), no log line (core and handler, debug level), response
// header or body holds the token, the proof or either one's signature.
func TestDPoPProofAndTokenNeverShown(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := map[string]string{
		"JWTGATE_HMAC_SECRETS": base64.StdEncoding.EncodeToString(secTestSecret),
		"JWTGATE_ALGORITHMS":   "HS256", "JWTGATE_ISSUERS": secTestIssuer, "JWTGATE_AUDIENCES": secTestAudience,
		"JWTGATE_WARMUP_TIMEOUT": "0", "JWTGATE_LOG_LEVEL": "debug",
	}
	c, err := core.FromEnv(context.Background(), func(k string) string { return env[k] }, core.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	h := New(c, c.Config(), logger)
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	other, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := boundHS256(t, map[string]any{"jkt": client.JKT})
	const htu = "https://app.azurewebsites.net/api/authorize/orders/42"
	proof := func(s *devissuer.ProofSigner, u string) string {
		p, err := s.Proof("GET", u, tok, time.Now(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := proof(client, htu)
	proofs := []string{good, good, proof(other, htu), proof(client, htu+"/x"), "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2lnbmF0dXJlLWdhcmJhZ2UtZ2FyYmFnZQ"}
	var seen []string
	statuses := map[int]bool{}
	for _, p := range append(proofs, "") {
		headers := map[string]string{"Authorization": "DPoP " + tok, "DPoP": p}
		if p == "" {
			headers = map[string]string{"Authorization": "Bearer " + tok}
		}
		res := serve(t, h, rawRequest("GET", htu, headers, ""))
		statuses[res.status] = true
		for k, vs := range res.header {
			seen = append(seen, k+": "+strings.Join(vs, ", "))
		}
		seen = append(seen, fmt.Sprint(res.body))
	}
	if !statuses[200] || !statuses[401] {
		t.Fatalf("statuses %v: want an allow and refusals", statuses)
	}
	all := strings.Join(seen, "\n") + "\n" + logs.String()
	if !strings.Contains(all, `"reason":"dpop_replayed"`) {
		t.Fatal("no decision log line for the replay")
	}
	sig := func(s string) string { return s[strings.LastIndexByte(s, '.')+1:] }
	needles := map[string]string{"token": tok, "token signature": sig(tok)}
	for i, p := range proofs {
		needles[fmt.Sprintf("proof %d", i)] = p
		needles[fmt.Sprintf("proof %d signature", i)] = sig(p)
	}
	for name, n := range needles {
		if strings.Contains(all, n) {
			t.Errorf("the %s is shown", name)
		}
	}
}
