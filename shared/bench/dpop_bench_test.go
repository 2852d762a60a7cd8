package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// dpopHTU is the URL every benchmarked DPoP request calls.
const dpopHTU = "https://api.example.com/orders/42"

// dpopRig is a DPoP client (an ES256 key) and distinctTokens RS256 tokens
// bound to it (cnf.jkt), for the DPoP rows of the table: a new token with
// a new proof (the token and the proof verified, the proof recorded in the
// in-memory replay store), and a repeat token with a new proof (the token
// from the verified-token cache: about one ES256 verify).
type dpopRig struct {
	w      *world
	client *devissuer.ProofSigner
	toks   []string
}

func newDPoPRig(tb testing.TB) *dpopRig {
	tb.Helper()
	w := getWorld(tb)
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		tb.Fatal(err)
	}
	r := &dpopRig{w: w, client: client, toks: make([]string, distinctTokens)}
	for i := range r.toks {
		c := w.fx.Claims()
		c["cnf"] = map[string]any{"jkt": client.JKT}
		if r.toks[i], err = devissuer.Sign(w.fx.Keys["RS256"], c, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return r
}

// core is a fresh core (and so a fresh in-memory replay store), with or
// without the verified-token cache.
func (r *dpopRig) core(tb testing.TB, cache bool) *core.Core {
	tb.Helper()
	cfg, err := r.w.fx.Config()
	if err != nil {
		tb.Fatal(err)
	}
	if !cache {
		cfg.TokenCacheSize = 0
	}
	c, err := core.New(context.Background(), cfg, core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// requests are n requests cycling through toks, each with its own proof
// (made now, before the timed loop, as a client would have made it).
func (r *dpopRig) requests(tb testing.TB, n int, toks []string) []*decision.Request {
	tb.Helper()
	now := time.Now()
	out := make([]*decision.Request, n)
	for i := range out {
		tok := toks[i%len(toks)]
		p, err := r.client.Proof(http.MethodGet, dpopHTU, tok, now, nil, nil)
		if err != nil {
			tb.Fatal(err)
		}
		req := Request(tok)
		req.Header.Set("Authorization", "DPoP "+tok)
		req.Header.Set("DPoP", p)
		req.CalledHost, req.CalledPath = "api.example.com", "/orders/42"
		out[i] = req
	}
	return out
}

func decideDPoP(c *core.Core, req *decision.Request, wantHit bool) error {
	d := c.Decide(context.Background(), req)
	if d.Outcome != decision.Allow {
		return fmt.Errorf("jwtgate: %s %s: %s", d.Outcome, d.Reason, d.Detail)
	}
	if d.CacheHit != wantHit {
		return fmt.Errorf("jwtgate: cache hit %v, want %v", d.CacheHit, wantHit)
	}
	return nil
}

// BenchmarkDPoP: the RS256 floor and a DPoP request with a new RS256 token
// and a new ES256 proof (target ≤ 2.2× that floor); the ES256 floor (one
// proof's signature) and a repeat token with a new proof (target: about
// one ES256 verify). The table's "× floor" column is each row's ratio.
func BenchmarkDPoP(b *testing.B) {
	r := newDPoPRig(b)
	loop := func(c checker) func(*testing.B) {
		return func(b *testing.B) {
			if err := c(0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := c(n % distinctTokens); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
	}
	// The DPoP rows need one proof per iteration, made before the timer
	// starts, so they use b.N rather than b.Loop.
	dpop := func(cache bool) func(*testing.B) {
		return func(b *testing.B) {
			c := r.core(b, cache)
			toks := r.toks
			if cache {
				toks = toks[:1]
				if err := decideDPoP(c, r.requests(b, 1, toks)[0], false); err != nil {
					b.Fatal(err)
				}
			}
			reqs := r.requests(b, b.N, toks)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := decideDPoP(c, reqs[i], cache); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("RS256-token/floor", loop(r.w.floor(b, "RS256", r.w.tokens["RS256"], false)))
	b.Run("RS256-token/dpop-new-token-and-proof", dpop(false))
	b.Run("ES256-proof/floor", loop(r.w.floor(b, "ES256", r.w.tokens["ES256"], false)))
	b.Run("ES256-proof/dpop-repeat-token-new-proof", dpop(true))
}

// TestDPoPBenchCasesDoTheirWork: the benchmarked DPoP requests are
// allowed, verify the token when they should (no cache hit) and take it
// from the cache when they should, and record each proof (the same
// request again is a replay).
func TestDPoPBenchCasesDoTheirWork(t *testing.T) {
	r := newDPoPRig(t)
	for _, cache := range []bool{false, true} {
		c := r.core(t, cache)
		reqs := r.requests(t, 3, r.toks[:1])
		if err := decideDPoP(c, reqs[0], false); err != nil {
			t.Fatalf("cache %v: first request: %v", cache, err)
		}
		if err := decideDPoP(c, reqs[1], cache); err != nil {
			t.Fatalf("cache %v: second request: %v", cache, err)
		}
		if d := c.Decide(context.Background(), reqs[1]); d.Reason != decision.DPoPReplayed {
			t.Fatalf("cache %v: the same proof again: %s %s", cache, d.Outcome, d.Reason)
		}
	}
}
