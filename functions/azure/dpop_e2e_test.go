package main

import (
	"testing"
	"time"

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
