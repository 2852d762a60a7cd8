package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/shared/clientcert"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/replaystore/redistest"
)

// TestTwoHandlersShareTheRedisReplayStore runs two handler binaries on one
// redis-server: a proof accepted by one is refused by the other; with
// Redis down both answer 503 (never allow); when it returns they recover.
func TestTwoHandlersShareTheRedisReplayStore(t *testing.T) {
	srv := redistest.Start(t)
	iss := startIssuer(t)
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	env := gateEnv(t, iss)
	env["JWTGATE_REPLAY_STORE"] = srv.URL(0)
	env["JWTGATE_PUBLIC_URL"] = "https://api.example.com" // both instances behind one name
	env["JWTGATE_HTTP_TIMEOUT"] = "500ms"
	a, b := startHandler(t, env), startHandler(t, env)
	a.ready()
	b.ready()
	tok := mint(t, iss, map[string]any{"cnf": map[string]any{"jkt": client.JKT}})
	const htu = "https://api.example.com/api/authorize/orders/1"
	proof := func() string {
		p, err := client.Proof("GET", htu, tok, time.Now(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	send := func(p *proc, dpopProof string) reply {
		return p.proxied(t, "GET", "/orders/1", "", map[string]string{"Authorization": "DPoP " + tok, "DPoP": dpopProof})
	}
	p1 := proof()
	if r := send(a, p1); r.status != 200 {
		t.Fatalf("first instance, fresh proof: %d %v", r.status, r.body)
	}
	if r := send(b, p1); r.status != 401 || r.body["reason"] != "dpop_replayed" {
		t.Fatalf("second instance, same proof: %d %v", r.status, r.body)
	}
	if r := send(b, proof()); r.status != 200 {
		t.Fatalf("second instance, fresh proof: %d %v", r.status, r.body)
	}

	srv.Stop()
	for name, p := range map[string]*proc{"first": a, "second": b} {
		r := send(p, proof())
		if r.status != 503 || r.body["reason"] != "replay_store_unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("%s instance, Redis down: %d %v", name, r.status, r.body)
		}
	}
	// A Bearer token without cnf does not need the store.
	if r := a.proxied(t, "GET", "/orders/1", mint(t, iss, nil), nil); r.status != 200 {
		t.Fatalf("unbound token with Redis down: %d %v", r.status, r.body)
	}

	srv.Restart()
	p2 := proof()
	if r := send(a, p2); r.status != 200 {
		t.Fatalf("Redis back, fresh proof: %d %v", r.status, r.body)
	}
	if r := send(b, p2); r.status != 401 || r.body["reason"] != "dpop_replayed" {
		t.Fatalf("Redis back, replayed at the other instance: %d %v", r.status, r.body)
	}
}

// TestHandlerBinaryDPoPInEveryMode: a DPoP-bound token through the handler
// binary proxied, as an invocation payload and as forward-auth (per
// instance replay store), each with the htu its mode implies.
func TestHandlerBinaryDPoPInEveryMode(t *testing.T) {
	iss := startIssuer(t)
	client, err := devissuer.NewProofSigner("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	p := startHandler(t, gateEnv(t, iss))
	p.ready()
	tok := mint(t, iss, map[string]any{"cnf": map[string]any{"jkt": client.JKT}})
	proof := func(method, htu string) string {
		pr, err := client.Proof(method, htu, tok, time.Now(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	host := strings.TrimPrefix(p.base, "http://")
	proxied := proof("GET", "https://"+host+"/api/authorize/orders/1")
	if r := p.proxied(t, "GET", "/orders/1", "", map[string]string{"Authorization": "DPoP " + tok, "DPoP": proxied}); r.status != 200 {
		t.Fatalf("proxied: %d %v", r.status, r.body)
	}
	r := p.proxied(t, "GET", "/orders/1", "", map[string]string{"Authorization": "DPoP " + tok, "DPoP": proxied})
	if ch := r.header.Get("WWW-Authenticate"); r.status != 401 || r.body["reason"] != "dpop_replayed" || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `algs="`) {
		t.Fatalf("proxied replay: %d %v %q", r.status, r.body, ch)
	}
	fwd := proof("GET", "https://shop.example.com/orders/2")
	if r := p.proxied(t, "GET", "", "", map[string]string{"Authorization": "DPoP " + tok, "DPoP": fwd, "X-Forwarded-Uri": "/orders/2?a=b", "X-Forwarded-Host": "shop.example.com"}); r.status != 200 {
		t.Fatalf("forward-auth: %d %v", r.status, r.body)
	}
	u := "https://app.azurewebsites.net/api/authorize/orders/3"
	payload, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": map[string]any{
		"Url": u, "Method": "GET",
		"Headers": map[string][]string{"Authorization": {"DPoP " + tok}, "DPoP": {proof("GET", u)}},
	}}, "Metadata": map[string]any{}})
	req, _ := http.NewRequest(http.MethodPost, p.base+customhandler.InvocationPath, bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out customhandler.InvocationResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Outputs.Res.StatusCode != 200 {
		t.Fatalf("invocation: %d %+v %v", resp.StatusCode, out.Outputs.Res, err)
	}
}

// httpClient is the e2e tests' HTTP client (the name client is taken by
// the DPoP client key above).
func httpClient() *http.Client { return client }

// TestHandlerBinaryCertificateBoundTokens: a certificate-bound token
// (cnf.x5t#S256) through the handler binary with the certificate in the
// trusted front end's header (Envoy XFCC here): proxied, as forward-auth
// and as an invocation payload; no header, another certificate and
// garbage in the header are 401 (never 500).
func TestHandlerBinaryCertificateBoundTokens(t *testing.T) {
	iss := startIssuer(t)
	now := time.Now()
	der, err := devissuer.NewClientCertificate(now)
	if err != nil {
		t.Fatal(err)
	}
	otherDER, err := devissuer.NewClientCertificate(now)
	if err != nil {
		t.Fatal(err)
	}
	xfcc := func(der []byte) string {
		pemText := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		return `By=spiffe://gw;Hash=1;Cert="` + url.PathEscape(string(pemText)) + `"` // Envoy: %20, %0A
	}
	env := gateEnv(t, iss)
	env["JWTGATE_CLIENT_CERT_HEADER"] = "X-Forwarded-Client-Cert"
	p := startHandler(t, env)
	p.ready()
	tok := mint(t, iss, map[string]any{"cnf": map[string]any{"x5t#S256": clientcert.Thumbprint(der)}})
	cases := []struct {
		name    string
		path    string
		headers map[string]string
		status  int
		reason  string
	}{
		{"proxied, its certificate", "/orders/1", map[string]string{"X-Forwarded-Client-Cert": xfcc(der)}, 200, "ok"},
		{"forward-auth, its certificate", "", map[string]string{"X-Forwarded-Client-Cert": xfcc(der), "X-Forwarded-Uri": "/orders/2", "X-Forwarded-Host": "shop.example.com"}, 200, "ok"},
		{"proxied, another certificate", "/orders/1", map[string]string{"X-Forwarded-Client-Cert": xfcc(otherDER)}, 401, "certificate_binding_mismatch"},
		{"proxied, no certificate", "/orders/1", nil, 401, "certificate_missing"},
		{"proxied, garbage in the header", "/orders/1", map[string]string{"X-Forwarded-Client-Cert": `Cert="%%%not a certificate"`}, 401, "certificate_missing"},
		{"forward-auth, garbage in the header", "", map[string]string{"X-Forwarded-Client-Cert": `Hash=1;Cert="not-base64!";Cert="twice"`, "X-Forwarded-Uri": "/orders/2"}, 401, "certificate_missing"},
	}
	for _, c := range cases {
		r := p.proxied(t, "GET", c.path, tok, c.headers)
		if r.status != c.status || r.body["reason"] != c.reason {
			t.Errorf("%s: %d %v, want %d %s", c.name, r.status, r.body, c.status, c.reason)
		}
		if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s: challenge %q, want Bearer", c.name, r.header.Get("WWW-Authenticate"))
		}
	}
	for name, want := range map[string]int{xfcc(der): 200, "garbage": 401} {
		payload, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": map[string]any{
			"Url": "https://app.azurewebsites.net/api/authorize/orders/3", "Method": "GET",
			"Headers": map[string][]string{"Authorization": {"Bearer " + tok}, "X-Forwarded-Client-Cert": {name}},
		}}, "Metadata": map[string]any{}})
		req, _ := http.NewRequest(http.MethodPost, p.base+customhandler.InvocationPath, bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out customhandler.InvocationResponse
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || out.Outputs.Res.StatusCode != want {
			t.Errorf("invocation: %d %+v %v, want %d", resp.StatusCode, out.Outputs.Res, err, want)
		}
	}
}

// TestHandlersShareAReplayStoreOverTLS: JWTGATE_REPLAY_STORE=rediss://
// (ElastiCache and Azure Cache for Redis in-transit encryption) against a
// TLS-only redis-server. Two handlers that trust its CA (SSL_CERT_FILE,
// as a private CA would be added to the system roots) share the store; a
// handler that does not trust it answers 503, never allow.
func TestHandlersShareAReplayStoreOverTLS(t *testing.T) {
	srv := redistest.StartTLS(t)
	iss := startIssuer(t)
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	env := gateEnv(t, iss)
	env["JWTGATE_REPLAY_STORE"] = srv.URL(0)
	env["JWTGATE_PUBLIC_URL"] = "https://api.example.com"
	env["JWTGATE_HTTP_TIMEOUT"] = "500ms"
	untrusting := startHandler(t, env)
	env["SSL_CERT_FILE"] = srv.CAFile()
	a, b := startHandler(t, env), startHandler(t, env)
	for _, p := range []*proc{a, b, untrusting} {
		p.ready()
	}
	tok := mint(t, iss, map[string]any{"cnf": map[string]any{"jkt": client.JKT}})
	proof := func() string {
		p, err := client.Proof("GET", "https://api.example.com/api/authorize/orders/1", tok, time.Now(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	send := func(p *proc, dpopProof string) reply {
		return p.proxied(t, "GET", "/orders/1", "", map[string]string{"Authorization": "DPoP " + tok, "DPoP": dpopProof})
	}
	if !strings.HasPrefix(srv.URL(0), "rediss://") {
		t.Fatalf("store URL %s", srv.URL(0))
	}
	p1 := proof()
	if r := send(a, p1); r.status != 200 {
		t.Fatalf("first instance over TLS: %d %v", r.status, r.body)
	}
	if r := send(b, p1); r.status != 401 || r.body["reason"] != "dpop_replayed" {
		t.Fatalf("second instance over TLS, same proof: %d %v", r.status, r.body)
	}
	if r := send(untrusting, proof()); r.status != 503 || r.body["reason"] != "replay_store_unavailable" {
		t.Fatalf("an instance that does not trust the server's certificate: %d %v", r.status, r.body)
	}
}
