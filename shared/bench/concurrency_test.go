package bench

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/keys"
	"github.com/jwtgate/jwtgate/shared/validate"
)

// TestThousandColdRequestsShareOneFetch: 1,000 concurrent first requests
// on a cold core (key store built, never warmed) all get a decision from
// exactly one discovery request and one JWKS request.
func TestThousandColdRequestsShareOneFetch(t *testing.T) {
	const callers = 1000
	iss, err := devissuer.Start(devissuer.WithGeneratedKeys("ES256"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })

	fx := &Fixture{Now: time.Now()}
	toks := make([]string, 50)
	for i := range toks {
		c := fx.Claims()
		c["iss"] = iss.Issuer()
		if toks[i], err = iss.Mint(c, devissuer.MintAlg("ES256")); err != nil {
			t.Fatal(err)
		}
	}

	cfg := config.Default()
	cfg.OpenIDConfigURLs = []string{iss.DiscoveryURL()}
	cfg.Audiences = []string{Audience}
	cfg.RequiredScopes = []string{RequiredScope}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	store, err := keys.NewStore(cfg, keys.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(cfg, store)
	if err != nil {
		t.Fatal(err)
	}

	start := make(chan struct{})
	outcomes := make([]decision.Decision, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			r := Request(toks[i%len(toks)])
			<-start
			outcomes[i] = v.Decide(context.Background(), r)
		})
	}
	close(start)
	wg.Wait()

	for i, d := range outcomes {
		if d.Outcome != decision.Allow {
			t.Fatalf("caller %d: %s %s (%s)", i, d.Outcome, d.Reason, d.Detail)
		}
	}
	if n := iss.DiscoveryRequests(); n != 1 {
		t.Errorf("discovery requests = %d, want 1", n)
	}
	if n := iss.JWKSRequests(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1", n)
	}
	if st := store.Stats(); st.DiscoveryFetches != 1 || st.JWKSFetches != 1 {
		t.Errorf("store stats: %d discovery, %d JWKS fetches; want 1 and 1", st.DiscoveryFetches, st.JWKSFetches)
	}
}
