package main

import (
	"context"
	"net/http"
	"runtime"
	"runtime/debug"

	"github.com/jwtgate/jwtgate/shared/bench"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// dpopRepeatCase: one -alg token bound (cnf.jkt) to an ES256 client key,
// decided once so it sits in the verified-token cache, then a fresh proof
// for every call (made before the measured loop): each call checks and
// records a proof for a cached token, which should cost about one ES256
// verify (compare with `-alg ES256 -case floor`).
func dpopRepeatCase(f *bench.Fixture, alg string, n int) (func(string) bool, []string, error) {
	withGC := setupWithoutGC()
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		return nil, nil, err
	}
	c := f.Claims()
	c["cnf"] = map[string]any{"jkt": client.JKT}
	tok, err := devissuer.Sign(f.Keys[alg], c, nil)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := f.Config()
	if err != nil {
		return nil, nil, err
	}
	cfg.DPoPMaxAge = config.MaxDPoPMaxAge // valgrind is slow: the proofs must outlive the setup
	gate, err := core.New(context.Background(), cfg)
	if err != nil {
		return nil, nil, err
	}
	const htu = "https://api.example.com/orders/42"
	toks := []string{tok}
	reqs := make([]*decision.Request, n+1) // +1: the warm call
	for i := range reqs {
		p, err := client.Proof(http.MethodGet, htu, tok, f.Now, nil, nil)
		if err != nil {
			return nil, nil, err
		}
		r := bench.Request(tok)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set("DPoP", p)
		r.CalledHost, r.CalledPath = "api.example.com", "/orders/42"
		reqs[i] = r
	}
	next := 0
	return withGC(func(string) bool {
		r := reqs[next]
		next++
		d := gate.Decide(context.Background(), r)
		// After the warm call every decision must come from the cache.
		return d.Outcome == decision.Allow && d.CacheHit == (next > 1)
	}), toks, nil
}

// setupWithoutGC turns the garbage collector off while a DPoP case makes
// its proofs (hundreds of signatures, outside the measured loop) and
// returns a wrapper of the case's check that turns it back on, and
// collects the setup's garbage, at the first (warm-up) call. Under
// valgrind, a collection makes Go's sysmon thread spin on a runtime lock,
// which executes rdtscp, an instruction valgrind 3.19 cannot run; fewer
// collections outside the loop make the run finish. The measured loop runs
// with the collector on, as the other cases do.
func setupWithoutGC() func(func(string) bool) func(string) bool {
	old := debug.SetGCPercent(-1)
	return func(check func(string) bool) func(string) bool {
		restored := false
		return func(tok string) bool {
			if !restored {
				restored = true
				debug.SetGCPercent(old)
				runtime.GC()
			}
			return check(tok)
		}
	}
}
