package validate

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/decision"
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
