package core

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func startIssuer(t *testing.T) *devissuer.Issuer {
	t.Helper()
	iss, err := devissuer.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { iss.Close() })
	return iss
}

func req(tok string) *decision.Request {
	return &decision.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}}
}

// TestFromEnvEndToEnd runs the whole path: env → discovery → JWKS → cache →
// validation, against a loopback issuer.
func TestFromEnvEndToEnd(t *testing.T) {
	iss := startIssuer(t)
	c, err := FromEnv(context.Background(), env(map[string]string{
		"JWTGATE_OPENID_CONFIG":   iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":       "api://orders",
		"JWTGATE_REQUIRED_SCOPES": "read",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WarmErr != nil {
		t.Fatalf("warm-up: %v", c.WarmErr)
	}
	if iss.DiscoveryRequests() != 1 || iss.JWKSRequests() != 1 {
		t.Fatalf("warm-up fetched %d discovery, %d JWKS", iss.DiscoveryRequests(), iss.JWKSRequests())
	}
	now := time.Now()
	mint := func(over map[string]any) string {
		cl := map[string]any{"iss": iss.Issuer(), "sub": "svc", "aud": "api://orders", "exp": now.Add(time.Hour).Unix(), "scope": "read write"}
		for k, v := range over {
			cl[k] = v
		}
		tok, err := iss.Mint(cl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ctx := context.Background()
	cases := []struct {
		name    string
		tok     string
		outcome decision.Outcome
		reason  decision.Reason
	}{
		{"valid", mint(nil), decision.Allow, decision.ReasonOK},
		{"missing scope", mint(map[string]any{"scope": "write"}), decision.Forbidden, decision.ScopeMissing},
		{"wrong audience", mint(map[string]any{"aud": "api://other"}), decision.Unauthenticated, decision.AudienceInvalid},
		{"expired", mint(map[string]any{"exp": now.Add(-time.Hour).Unix()}), decision.Unauthenticated, decision.TokenExpired},
	}
	for _, tc := range cases {
		d := c.Decide(ctx, req(tc.tok))
		if d.Outcome != tc.outcome || d.Reason != tc.reason {
			t.Errorf("%s: got %s/%s (%s)", tc.name, d.Outcome, d.Reason, d.Detail)
		}
	}
	if n := iss.JWKSRequests(); n != 1 {
		t.Fatalf("decisions fetched the JWKS again: %d", n)
	}
	st := c.Stats()
	if st.Keys.JWKSFetches != 1 || st.TokenCacheMisses == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConfigErrorNamesTheSetting(t *testing.T) {
	_, err := FromEnv(context.Background(), env(map[string]string{"JWTGATE_OPENID_CONFIG": "https://example.com/.well-known/openid-configuration"}))
	if err == nil || !strings.Contains(err.Error(), "JWTGATE_AUDIENCES") {
		t.Fatalf("err = %v", err)
	}
}

// TestKeysUnavailableWhenIssuerDown: nothing cached and the IdP failing
// gives "unavailable", never allow; after recovery and the cooldown, the
// same token is allowed.
func TestKeysUnavailableWhenIssuerDown(t *testing.T) {
	iss := startIssuer(t)
	iss.SetDown(true)
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, err := FromEnv(context.Background(), env(map[string]string{
		"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":     "api://orders",
	}), WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := iss.Mint(map[string]any{"iss": iss.Issuer(), "sub": "svc", "aud": "api://orders", "exp": now.Add(time.Hour).Unix()})
	d := c.Decide(context.Background(), req(tok))
	if d.Outcome != decision.Unavailable || d.Reason != decision.KeysUnavailable {
		t.Fatalf("issuer down: %s/%s", d.Outcome, d.Reason)
	}
	iss.SetDown(false)
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	if d := c.Decide(context.Background(), req(tok)); d.Outcome != decision.Allow {
		t.Fatalf("after recovery: %s/%s (%s)", d.Outcome, d.Reason, d.Detail)
	}
}

// TestWarmupTimeoutZeroSkipsPrefetch: JWTGATE_WARMUP_TIMEOUT=0 builds the
// core without a request to the IdP; the first decision fetches the keys.
func TestWarmupTimeoutZeroSkipsPrefetch(t *testing.T) {
	iss := startIssuer(t)
	c, err := FromEnv(context.Background(), env(map[string]string{
		"JWTGATE_OPENID_CONFIG":  iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":      "api://orders",
		"JWTGATE_WARMUP_TIMEOUT": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if n := iss.DiscoveryRequests() + iss.JWKSRequests(); n != 0 {
		t.Fatalf("warm-up made %d requests with JWTGATE_WARMUP_TIMEOUT=0", n)
	}
	tok, _ := iss.Mint(map[string]any{"iss": iss.Issuer(), "sub": "svc", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()})
	if d := c.Decide(context.Background(), req(tok)); d.Outcome != decision.Allow {
		t.Fatalf("first decision: %s/%s (%s)", d.Outcome, d.Reason, d.Detail)
	}
	if iss.JWKSRequests() != 1 {
		t.Fatalf("JWKS requests %d", iss.JWKSRequests())
	}
}
