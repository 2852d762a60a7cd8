package validate

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// BenchmarkFloorRS256 is the bare signature check on the same token.
func BenchmarkFloorRS256(b *testing.B) {
	testKeys(b)
	tok := sign(b, "RS256", []byte(`{"alg":"RS256","kid":"rsa1","typ":"JWT"}`), mustJSON(claims(t0, nil)))
	i := strings.LastIndexByte(tok, '.')
	sig, _ := decodeForBench(tok[i+1:])
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256([]byte(tok[:i]))
		if err := rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideUncachedRS256: a token never seen before each time.
func BenchmarkDecideUncachedRS256(b *testing.B) {
	testKeys(b)
	now := t0
	cfg := baseConfig()
	cfg.RequiredScopes = []string{"read:orders"}
	cfg.TokenCacheSize = 0
	v, _ := New(cfg, newFakeKeys(b), WithClock(func() time.Time { return now }))
	tok := sign(b, "RS256", []byte(`{"alg":"RS256","kid":"rsa1","typ":"JWT"}`), mustJSON(claims(t0, nil)))
	r := bearer(tok)
	b.ReportAllocs()
	for b.Loop() {
		if d := v.Decide(context.Background(), r); d.Outcome != decision.Allow {
			b.Fatal(d.Reason)
		}
	}
}

func BenchmarkDecideCached(b *testing.B) {
	testKeys(b)
	now := t0
	cfg := baseConfig()
	cfg.RequiredScopes = []string{"read:orders"}
	v, _ := New(cfg, newFakeKeys(b), WithClock(func() time.Time { return now }))
	tok := sign(b, "RS256", []byte(`{"alg":"RS256","kid":"rsa1","typ":"JWT"}`), mustJSON(claims(t0, map[string]any{"n": strconv.Itoa(1)})))
	r := bearer(tok)
	v.Decide(context.Background(), r)
	b.ReportAllocs()
	for b.Loop() {
		if d := v.Decide(context.Background(), r); d.Outcome != decision.Allow || !d.CacheHit {
			b.Fatal(d.Reason)
		}
	}
}

// BenchmarkDecideUncachedHS256 shows the cost of everything but the
// public-key signature check (HMAC is about a microsecond).
func BenchmarkDecideUncachedHS256(b *testing.B) {
	testKeys(b)
	now := t0
	cfg := baseConfig()
	cfg.Algorithms = []string{"HS256"}
	cfg.RequiredScopes = []string{"read:orders"}
	cfg.TokenCacheSize = 0
	v, _ := New(cfg, newFakeKeys(b), WithClock(func() time.Time { return now }))
	tok := sign(b, "HS256", []byte(`{"alg":"HS256","kid":"hs1","typ":"JWT"}`), mustJSON(claims(t0, nil)))
	r := bearer(tok)
	b.ReportAllocs()
	for b.Loop() {
		if d := v.Decide(context.Background(), r); d.Outcome != decision.Allow {
			b.Fatal(d.Reason)
		}
	}
}

// benchDPoP: an RS256 token bound to an ES256 proof key, a fresh proof
// per request (made before the timer starts), the in-memory replay store.
// cache=false verifies the token every time (a new token and proof); with
// cache=true the token is a repeat and only the proof is new.
func benchDPoP(b *testing.B, cache bool) {
	testKeys(b)
	now := t0
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		b.Fatal(err)
	}
	cfg := baseConfig()
	cfg.RequiredScopes = []string{"read:orders"}
	if !cache {
		cfg.TokenCacheSize = 0
	}
	v, _ := New(cfg, newFakeKeys(b), WithClock(func() time.Time { return now }))
	tok := sign(b, "RS256", []byte(`{"alg":"RS256","kid":"rsa1","typ":"JWT"}`), mustJSON(claims(t0, map[string]any{"cnf": map[string]any{"jkt": client.JKT}})))
	reqs := make([]*decision.Request, b.N)
	for i := range reqs {
		p, err := client.Proof("GET", "https://api.example.com/orders/42", tok, now, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = &decision.Request{Header: http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {p}}, Method: "GET", Path: "/orders/42", CalledHost: "api.example.com", CalledPath: "/orders/42"}
	}
	if cache {
		warm, _ := client.Proof("GET", "https://api.example.com/orders/42", tok, now, nil, nil)
		v.Decide(context.Background(), &decision.Request{Header: http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {warm}}, Method: "GET", CalledHost: "api.example.com", CalledPath: "/orders/42"})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := v.Decide(context.Background(), reqs[i]); d.Outcome != decision.Allow {
			b.Fatal(d.Reason, d.Detail)
		}
	}
}

// BenchmarkDecideDPoPNewTokenES256Proof: target ≤ 2.2× BenchmarkFloorRS256.
func BenchmarkDecideDPoPNewTokenES256Proof(b *testing.B) { benchDPoP(b, false) }

// BenchmarkDecideDPoPRepeatTokenES256Proof: about one ES256 verify.
func BenchmarkDecideDPoPRepeatTokenES256Proof(b *testing.B) { benchDPoP(b, true) }

// BenchmarkFloorES256 is one bare ES256 verification, for comparison.
func BenchmarkFloorES256(b *testing.B) {
	testKeys(b)
	tok := sign(b, "ES256", []byte(`{"alg":"ES256","kid":"ec1"}`), mustJSON(claims(t0, nil)))
	i := strings.LastIndexByte(tok, '.')
	sig, _ := decodeForBench(tok[i+1:])
	der, _ := asn1Sig(sig)
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256([]byte(tok[:i]))
		if !ecdsa.VerifyASN1(&ecKey.PublicKey, h[:], der) {
			b.Fatal("verify")
		}
	}
}

func asn1Sig(sig []byte) ([]byte, error) {
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	return asn1.Marshal(struct{ R, S *big.Int }{r, s})
}

// BenchmarkDecideCachedRule is BenchmarkDecideCached with one rule of
// three representative kinds; the difference is what a rule adds to a
// cached-token decision.
func BenchmarkDecideCachedRule(b *testing.B) {
	for _, bc := range []struct{ name, rule string }{
		{"role-or-read", `"write:orders" in claims.permissions || request.method == "GET"`},
		{"tenant-in-path", `request.path.split("/")[1] == "orders" && claims.sub.startsWith("auth0|")`},
		{"header-and-hours", `request.headers["x-tenant"] == "acme" && now.getHours("UTC") >= 8 && now.getHours("UTC") < 18`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			testKeys(b)
			now := t0
			cfg := baseConfig()
			cfg.RequiredScopes = []string{"read:orders"}
			cfg.Rule = bc.rule
			v, err := New(cfg, newFakeKeys(b), WithClock(func() time.Time { return now }))
			if err != nil {
				b.Fatal(err)
			}
			tok := sign(b, "RS256", []byte(`{"alg":"RS256","kid":"rsa1","typ":"JWT"}`), mustJSON(claims(t0, map[string]any{"n": strconv.Itoa(1)})))
			r := bearer(tok)
			r.Method, r.Path = "GET", "/orders/42"
			r.Header.Set("X-Tenant", "acme")
			r.Header.Set("Accept", "application/json")
			r.Header.Set("User-Agent", "bench")
			v.Decide(context.Background(), r)
			b.ReportAllocs()
			for b.Loop() {
				if d := v.Decide(context.Background(), r); d.Outcome != decision.Allow || !d.CacheHit {
					b.Fatal(d.Reason, d.RuleFailure)
				}
			}
		})
	}
}
