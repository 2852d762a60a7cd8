package keys

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
)

func discoveryCfg(p *idp) *config.Config {
	return &config.Config{OpenIDConfigURLs: []string{p.discoveryURL()}}
}

func mustLookup(t *testing.T, s *Store, iss, kid, alg string) *Key {
	t.Helper()
	k, err := s.Lookup(bg, iss, kid, alg)
	if err != nil {
		t.Fatalf("Lookup(%q, %q, %q): %v", iss, kid, alg, err)
	}
	return k
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func TestRotation(t *testing.T) {
	k1, k2 := newEC(t, "k1"), newEC(t, "k2")
	p := newIDP(t, jwksJSON(t, k1.jwk()))
	c := newClock()
	s, logs := newTestStore(t, discoveryCfg(p), c)
	iss := p.srv.URL

	got1 := mustLookup(t, s, iss, "k1", "ES256")
	if !got1.Public.(equaler).Equal(&k1.priv.PublicKey) {
		t.Fatal("k1 is not the served key")
	}

	// The IdP publishes k2; a token signed with it is accepted after one fetch
	// once the cooldown that started with the first fetch has passed.
	p.set(func(p *idp) { p.jwks = jwksJSON(t, k1.jwk(), k2.jwk()) })
	_, err := s.Lookup(bg, iss, "k2", "ES256")
	wantErr(t, err, ErrKeyUnknown)
	c.Advance(config.DefaultJWKSCooldown)
	_, j0 := p.counts()
	mustLookup(t, s, iss, "k2", "ES256")
	if _, j := p.counts(); j != j0+1 {
		t.Fatalf("JWKS fetches for the new kid = %d, want 1", j-j0)
	}
	if !logs.has("keys added") {
		t.Error(`no "keys added" log line`)
	}
	if !s.Holds(iss, got1) {
		t.Error("Holds(k1) = false after a refresh that kept k1: the *Key must be reused")
	}

	// The IdP drops k1; after the next scheduled refresh it is rejected.
	p.set(func(p *idp) { p.jwks = jwksJSON(t, k2.jwk()) })
	c.Advance(config.DefaultRefreshInterval)
	mustLookup(t, s, iss, "k2", "ES256") // due: answers from cache and refreshes in the background
	s.waitFetches()
	_, err = s.Lookup(bg, iss, "k1", "ES256")
	wantErr(t, err, ErrKeyUnknown)
	if s.Holds(iss, got1) {
		t.Error("Holds(k1) = true after k1 left the JWKS")
	}
	if !logs.has("keys removed") {
		t.Error(`no "keys removed" log line`)
	}
	if d, _ := p.counts(); d != 1 {
		t.Errorf("discovery fetches = %d, want 1 (JWKS refreshes reuse the discovery document)", d)
	}
}

func TestConcurrentColdLookupsShareOneFetch(t *testing.T) {
	k := newEC(t, "k1")
	p := newIDP(t, jwksJSON(t, k.jwk()))
	release := make(chan struct{})
	p.set(func(p *idp) {
		body := p.jwks
		p.jwksFn = func(w http.ResponseWriter, r *http.Request) {
			<-release // hold the fetch until every caller is queued or started
			w.Write(body)
		}
	})
	s, _ := newTestStore(t, discoveryCfg(p), newClock())
	const n = 100
	var wg, started sync.WaitGroup
	keys := make([]*Key, n)
	errs := make([]error, n)
	started.Add(n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			keys[i], errs[i] = s.Lookup(bg, p.srv.URL, "k1", "ES256")
		}()
	}
	started.Wait()
	close(release)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("lookup %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("lookup %d got another *Key", i)
		}
	}
	if d, j := p.counts(); d != 1 || j != 1 {
		t.Fatalf("discovery, JWKS requests = %d, %d; want 1, 1", d, j)
	}
	if st := s.Stats(); st.DiscoveryFetches != 1 || st.JWKSFetches != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestUnknownKidFloodBoundedByCooldown(t *testing.T) {
	k := newEC(t, "k1")
	p := newIDP(t, jwksJSON(t, k.jwk()))
	c := newClock()
	s, _ := newTestStore(t, discoveryCfg(p), c)
	if err := s.Warm(bg); err != nil {
		t.Fatal(err)
	}
	flood := func(round int) {
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Lookup(bg, p.srv.URL, fmt.Sprintf("bogus-%d-%d", round, i), "ES256")
				if !errors.Is(err, ErrKeyUnknown) {
					t.Errorf("unknown kid: %v, want ErrKeyUnknown", err)
				}
				if _, err := s.Lookup(bg, p.srv.URL, "k1", "ES256"); err != nil {
					t.Errorf("known kid during a flood: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	flood(0) // within the cooldown of the warm-up fetch
	if _, j := p.counts(); j != 1 {
		t.Fatalf("JWKS fetches = %d after a flood within the cooldown, want 1", j)
	}
	for round := 1; round <= 3; round++ {
		c.Advance(config.DefaultJWKSCooldown)
		flood(round)
		if _, j := p.counts(); j != int64(1+round) {
			t.Fatalf("round %d: JWKS fetches = %d, want %d (one per cooldown)", round, j, 1+round)
		}
	}
	if st := s.Stats(); st.KidMisses != 800 {
		t.Errorf("KidMisses = %d, want 800", st.KidMisses)
	}
}

func TestKnownKidNeverFetches(t *testing.T) {
	k := newEC(t, "k1")
	p := newIDP(t, jwksJSON(t, k.jwk()))
	c := newClock()
	s, _ := newTestStore(t, discoveryCfg(p), c)
	mustLookup(t, s, p.srv.URL, "k1", "ES256")
	c.Advance(time.Hour - time.Second)
	for range 50 {
		mustLookup(t, s, p.srv.URL, "k1", "ES256")
	}
	// A known kid with an algorithm that does not fit it is refused without a fetch.
	_, err := s.Lookup(bg, p.srv.URL, "k1", "RS256")
	wantErr(t, err, ErrKeyMismatch)
	s.waitFetches()
	if d, j := p.counts(); d != 1 || j != 1 {
		t.Fatalf("discovery, JWKS requests = %d, %d; want 1, 1", d, j)
	}
}

func TestKnownKidWithAnUnfitAlgorithmIsAMismatch(t *testing.T) {
	secret := []byte(strings.Repeat("k", 64))
	cfg := &config.Config{Issuers: []string{"i"}, StaticKeys: []config.StaticKey{
		{JWKS: jwksJSON(t, newEC(t, "ec").jwk())},
		{Secret: secret, KID: "hs"},
		{Secret: secret[:32], KID: "hs32"},
	}}
	// Two unbound static sources for one issuer are allowed.
	s, _ := newTestStore(t, cfg, nil)
	for _, tc := range []struct {
		name, kid, alg string
		want           error // nil: found
		mismatch       bool
	}{
		{"kid and alg fit", "ec", "ES256", nil, false},
		{"EC kid used with RS256", "ec", "RS256", ErrKeyMismatch, true},
		{"EC kid used with another curve", "ec", "ES384", ErrKeyMismatch, true},
		{"JWK pins ES256, token says ES512", "ec", "ES512", ErrKeyMismatch, true},
		{"secret kid used with an asymmetric alg", "hs", "RS256", ErrKeyMismatch, true},
		{"64-byte secret kid used with HS512", "hs", "HS512", nil, false},
		{"32-byte secret kid used with HS512", "hs32", "HS512", ErrKeyMismatch, true},
		{"unknown kid", "nope", "ES256", ErrKeyUnknown, false},
		{"no kid, no key fits", "", "PS256", ErrKeyUnknown, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := s.Lookup(bg, "i", tc.kid, tc.alg)
			if tc.want == nil {
				if err != nil || k == nil {
					t.Fatalf("Lookup = %v, %v; want a key", k, err)
				}
				return
			}
			if k != nil {
				t.Fatalf("Lookup returned a key for %s/%s", tc.kid, tc.alg)
			}
			wantErr(t, err, tc.want)
			if !errors.Is(err, ErrKeyUnknown) {
				t.Errorf("error %v does not wrap ErrKeyUnknown (callers that only know it must still refuse)", err)
			}
			if errors.Is(err, ErrKeyMismatch) != tc.mismatch {
				t.Errorf("errors.Is(err, ErrKeyMismatch) = %v, want %v (err: %v)", !tc.mismatch, tc.mismatch, err)
			}
		})
	}
}

// badAnswers are IdP failures; each must leave cached keys in service.
func badAnswers(t *testing.T, other *httptest.Server) map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"status 500": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) },
		"timeout":    func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"keys null":  func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"keys":null}`)) },
		"truncated":  func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{`)) },
		"10 MiB body": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[],"pad":"`))
			chunk := []byte(strings.Repeat("a", 64<<10))
			for range 160 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			w.Write([]byte(`"}`))
		},
		"redirect to another host": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/jwks", http.StatusFound)
		},
		"html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>maintenance</body></html>"))
		},
		"trailing data": func(w http.ResponseWriter, r *http.Request) {
			w.Write(jwksJSON(t, newEC(t, "x").jwk()))
			w.Write([]byte(`{}`))
		},
		"no usable key": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`))
		},
	}
}

func TestOutageServesCachedKeys(t *testing.T) {
	k := newEC(t, "k1")
	other := newIDP(t, jwksJSON(t, newEC(t, "evil").jwk()))
	for name, bad := range badAnswers(t, other.srv) {
		t.Run(name, func(t *testing.T) {
			p := newIDP(t, jwksJSON(t, k.jwk()))
			c := newClock()
			cfg := discoveryCfg(p)
			cfg.HTTPTimeout = 100 * time.Millisecond
			s, logs := newTestStore(t, cfg, c)
			want := mustLookup(t, s, p.srv.URL, "k1", "ES256")

			p.set(func(p *idp) { p.jwksFn = bad })
			c.Advance(config.DefaultRefreshInterval)
			if got := mustLookup(t, s, p.srv.URL, "k1", "ES256"); got != want {
				t.Fatal("a due refresh replaced the cached key")
			}
			s.waitFetches()
			if got := mustLookup(t, s, p.srv.URL, "k1", "ES256"); got != want {
				t.Fatal("a failed refresh evicted the cached key")
			}
			st := s.Stats()
			if st.FetchErrors != 1 || st.StaleServed == 0 {
				t.Fatalf("stats = %+v, want 1 fetch error and stale served", st)
			}
			if !logs.has("stale served") || !logs.has("keys fetch failed") {
				t.Error("missing stale served / fetch failed log lines")
			}
			// An unknown kid while keys are usable is ErrKeyUnknown, whatever the IdP answers.
			c.Advance(config.DefaultJWKSCooldown)
			_, err := s.Lookup(bg, p.srv.URL, "k-new", "ES256")
			wantErr(t, err, ErrKeyUnknown)
			if other.jwksHits.Load() != 0 {
				t.Fatal("the redirect to another host was followed")
			}
			// Past the maximum staleness the keys are no longer used.
			c.Advance(config.DefaultMaxStaleness)
			_, err = s.Lookup(bg, p.srv.URL, "k1", "ES256")
			wantErr(t, err, ErrUnavailable)
		})
	}
}

func TestColdOutageIsUnavailable(t *testing.T) {
	other := newIDP(t, nil)
	for name, bad := range badAnswers(t, other.srv) {
		t.Run(name, func(t *testing.T) {
			p := newIDP(t, nil)
			p.set(func(p *idp) { p.jwksFn = bad })
			cfg := discoveryCfg(p)
			cfg.HTTPTimeout = 100 * time.Millisecond
			s, _ := newTestStore(t, cfg, newClock())
			if err := s.Warm(bg); err == nil {
				t.Fatal("Warm succeeded against a failing IdP")
			}
			_, err := s.Lookup(bg, p.srv.URL, "k1", "ES256")
			wantErr(t, err, ErrUnavailable)
		})
	}
}

func TestFailedFirstFetchRetriedAfterCooldown(t *testing.T) {
	k := newEC(t, "k1")
	p := newIDP(t, jwksJSON(t, k.jwk()))
	p.set(func(p *idp) { p.jwksFn = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) } })
	c := newClock()
	s, _ := newTestStore(t, discoveryCfg(p), c)
	_, err := s.Lookup(bg, p.srv.URL, "k1", "ES256")
	wantErr(t, err, ErrUnavailable)

	p.set(func(p *idp) { p.jwksFn = nil }) // the IdP recovers
	_, j0 := p.counts()
	_, err = s.Lookup(bg, p.srv.URL, "k1", "ES256")
	wantErr(t, err, ErrUnavailable) // within the cooldown: fails fast, no request
	if _, j := p.counts(); j != j0 {
		t.Fatalf("a request within the cooldown fetched (%d → %d)", j0, j)
	}
	c.Advance(config.DefaultJWKSCooldown)
	mustLookup(t, s, p.srv.URL, "k1", "ES256")
}

func TestCallerContextBoundsTheWait(t *testing.T) {
	p := newIDP(t, nil)
	release := make(chan struct{})
	p.set(func(p *idp) {
		p.jwksFn = func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			http.Error(w, "late", 500)
		}
	})
	s, _ := newTestStore(t, discoveryCfg(p), newClock())
	t.Cleanup(func() { close(release) }) // runs before the store's cleanup waits for the fetch
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err := s.Lookup(ctx, p.srv.URL, "k1", "ES256")
	wantErr(t, err, ErrUnavailable)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v does not say the caller gave up", err)
	}
}

func TestDiscoveryIssuer(t *testing.T) {
	k := newEC(t, "k1")
	t.Run("mismatch refused", func(t *testing.T) {
		p := newIDP(t, jwksJSON(t, k.jwk()))
		p.set(func(p *idp) { p.issuer = "https://evil.example" })
		s, _ := newTestStore(t, discoveryCfg(p), newClock())
		err := s.Warm(bg)
		if err == nil || !strings.Contains(err.Error(), "announces issuer") {
			t.Fatalf("Warm = %v, want an issuer mismatch error", err)
		}
		_, err = s.Lookup(bg, p.srv.URL, "k1", "ES256")
		wantErr(t, err, ErrUnavailable)
		_, err = s.Lookup(bg, "https://evil.example", "k1", "ES256")
		wantErr(t, err, ErrIssuerUnknown)
		if _, j := p.counts(); j != 0 {
			t.Fatalf("the JWKS of a refused discovery document was fetched")
		}
	})
	t.Run("trailing slash announced (Auth0) accepted, matched exactly", func(t *testing.T) {
		p := newIDP(t, jwksJSON(t, k.jwk()))
		p.set(func(p *idp) { p.issuer = p.srv.URL + "/" })
		s, _ := newTestStore(t, discoveryCfg(p), newClock())
		mustLookup(t, s, p.srv.URL+"/", "k1", "ES256")
		_, err := s.Lookup(bg, p.srv.URL, "k1", "ES256")
		wantErr(t, err, ErrIssuerUnknown)
	})
	t.Run("issuer URL configured instead of the discovery URL", func(t *testing.T) {
		p := newIDP(t, jwksJSON(t, k.jwk()))
		p.set(func(p *idp) { p.issuer = p.srv.URL + "/" })
		s, _ := newTestStore(t, &config.Config{OpenIDConfigURLs: []string{p.srv.URL + "/"}}, newClock())
		mustLookup(t, s, p.srv.URL+"/", "k1", "ES256")
		if d, _ := p.counts(); d != 1 {
			t.Fatalf("discovery fetches = %d, want 1", d)
		}
	})
	t.Run("unrelated issuer never fetches", func(t *testing.T) {
		p := newIDP(t, jwksJSON(t, k.jwk()))
		s, _ := newTestStore(t, discoveryCfg(p), newClock())
		_, err := s.Lookup(bg, "https://attacker.example", "k1", "ES256")
		wantErr(t, err, ErrIssuerUnknown)
		if d, j := p.counts(); d+j != 0 {
			t.Fatal("a token's iss caused a fetch")
		}
	})
	t.Run("jwks_uri over plain http refused", func(t *testing.T) {
		p := newIDP(t, jwksJSON(t, k.jwk()))
		p.set(func(p *idp) {
			p.discFn = func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":"http://example.com/jwks"}`, p.srv.URL)
			}
		})
		s, _ := newTestStore(t, discoveryCfg(p), newClock())
		if err := s.Warm(bg); err == nil || !strings.Contains(err.Error(), "https") {
			t.Fatalf("Warm = %v, want an https error", err)
		}
	})
}

func TestMultipleIssuersKeepTheirOwnKeys(t *testing.T) {
	ka, kb := newEC(t, "shared-kid"), newEC(t, "shared-kid")
	pa, pb := newIDP(t, jwksJSON(t, ka.jwk())), newIDP(t, jwksJSON(t, kb.jwk()))
	cfg := &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL(), pb.discoveryURL()}}
	s, _ := newTestStore(t, cfg, newClock())
	if err := s.Warm(bg); err != nil {
		t.Fatal(err)
	}
	a := mustLookup(t, s, pa.srv.URL, "shared-kid", "ES256")
	b := mustLookup(t, s, pb.srv.URL, "shared-kid", "ES256")
	if !a.Public.(equaler).Equal(&ka.priv.PublicKey) || !b.Public.(equaler).Equal(&kb.priv.PublicKey) {
		t.Fatal("an issuer was given another issuer's key")
	}
	if s.Holds(pb.srv.URL, a) {
		t.Fatal("Holds accepted issuer A's key for issuer B")
	}
}

func TestJWKSURLServesConfiguredIssuers(t *testing.T) {
	k := newEC(t, "k1")
	p := newIDP(t, jwksJSON(t, k.jwk()))
	cfg := &config.Config{JWKSURLs: []string{p.srv.URL + "/jwks"}, Issuers: []string{"https://a.example", "https://b.example"}}
	s, _ := newTestStore(t, cfg, newClock())
	mustLookup(t, s, "https://a.example", "k1", "ES256")
	mustLookup(t, s, "https://b.example", "k1", "ES256")
	_, err := s.Lookup(bg, "https://c.example", "k1", "ES256")
	wantErr(t, err, ErrIssuerUnknown)
	if _, j := p.counts(); j != 1 {
		t.Fatalf("JWKS fetches = %d, want 1", j)
	}
}

func TestKidlessLookup(t *testing.T) {
	k1, k2 := newEC(t, ""), newEC(t, "")
	p := newIDP(t, jwksJSON(t, k1.jwk()))
	cfg := &config.Config{JWKSURLs: []string{p.srv.URL + "/jwks"}, Issuers: []string{"https://a.example"}}
	c := newClock()
	s, _ := newTestStore(t, cfg, c)
	mustLookup(t, s, "https://a.example", "", "ES256")
	_, err := s.Lookup(bg, "https://a.example", "", "RS256")
	wantErr(t, err, ErrKeyUnknown)

	p.set(func(p *idp) { p.jwks = jwksJSON(t, k1.jwk(), k2.jwk()) })
	c.Advance(config.DefaultRefreshInterval)
	mustLookup(t, s, "https://a.example", "", "ES256")
	s.waitFetches()
	_, err = s.Lookup(bg, "https://a.example", "", "ES256")
	wantErr(t, err, ErrKeyUnknown) // two keys fit: ambiguous
}

func TestCacheControlMaxAge(t *testing.T) {
	k := newEC(t, "k1")
	for _, tc := range []struct {
		name     string
		header   string
		notYet   time.Duration // no refresh when this old
		dueAfter time.Duration // refresh when this old
	}{
		{"below minimum is clamped to 5m", "max-age=60", 4 * time.Minute, config.MinRefreshInterval},
		{"honoured", "public, max-age=7200", 90 * time.Minute, 2 * time.Hour},
		{"above maximum is clamped to 24h", "max-age=999999", 23 * time.Hour, config.MaxRefreshInterval},
		{"absent uses the configured interval", "", 59 * time.Minute, config.DefaultRefreshInterval},
		{"no-cache uses the minimum", "no-cache", 4 * time.Minute, config.MinRefreshInterval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newIDP(t, jwksJSON(t, k.jwk()))
			if tc.header != "" {
				p.set(func(p *idp) { p.jwksHeader = http.Header{"Cache-Control": {tc.header}} })
			}
			c := newClock()
			s, _ := newTestStore(t, discoveryCfg(p), c)
			start := c.Now()
			mustLookup(t, s, p.srv.URL, "k1", "ES256")
			c.Advance(tc.notYet)
			mustLookup(t, s, p.srv.URL, "k1", "ES256")
			s.waitFetches()
			if _, j := p.counts(); j != 1 {
				t.Fatalf("refreshed after %s", tc.notYet)
			}
			c.Advance(start.Add(tc.dueAfter).Sub(c.Now()))
			mustLookup(t, s, p.srv.URL, "k1", "ES256")
			s.waitFetches()
			if _, j := p.counts(); j != 2 {
				t.Fatalf("not refreshed after %s", tc.dueAfter)
			}
		})
	}
}

func TestSeedJWKSNeedsNoNetwork(t *testing.T) {
	k := newEC(t, "k1")
	p := newIDP(t, jwksJSON(t, k.jwk()))
	for name, cfg := range map[string]*config.Config{
		"discovery": {OpenIDConfigURLs: []string{p.discoveryURL()}, SeedJWKS: jwksJSON(t, k.jwk())},
		"jwks url":  {JWKSURLs: []string{p.srv.URL + "/jwks"}, Issuers: []string{p.srv.URL}, SeedJWKS: jwksJSON(t, k.jwk())},
	} {
		t.Run(name, func(t *testing.T) {
			d0, j0 := p.counts()
			s, _ := newTestStore(t, cfg, newClock())
			got := mustLookup(t, s, p.srv.URL, "k1", "ES256")
			if !s.Holds(p.srv.URL, got) {
				t.Error("Holds(seed key) = false")
			}
			s.waitFetches()
			if d, j := p.counts(); d != d0 || j != j0 {
				t.Fatalf("a seeded lookup made %d discovery and %d JWKS requests", d-d0, j-j0)
			}
		})
	}
}

func TestSeedReplacedByFirstFetch(t *testing.T) {
	seedKey, live := newEC(t, "seed"), newEC(t, "live")
	p := newIDP(t, jwksJSON(t, live.jwk()))
	cfg := &config.Config{OpenIDConfigURLs: []string{p.discoveryURL()}, SeedJWKS: jwksJSON(t, seedKey.jwk())}
	s, _ := newTestStore(t, cfg, newClock())
	if err := s.Warm(bg); err != nil {
		t.Fatal(err)
	}
	mustLookup(t, s, p.srv.URL, "live", "ES256")
	_, err := s.Lookup(bg, p.srv.URL, "seed", "ES256")
	wantErr(t, err, ErrKeyUnknown)
}

func TestNewStoreRefusesBadSources(t *testing.T) {
	ok := "https://idp.example/.well-known/openid-configuration"
	for _, tc := range []struct {
		name string
		cfg  config.Config
		want string // substring of the error; "" means NewStore must succeed
	}{
		{"https discovery", config.Config{OpenIDConfigURLs: []string{ok}}, ""},
		{"http on 127.0.0.2", config.Config{OpenIDConfigURLs: []string{"http://127.0.0.2:8080/.well-known/openid-configuration"}}, ""},
		{"http on ::1", config.Config{OpenIDConfigURLs: []string{"http://[::1]:8080/.well-known/openid-configuration"}}, ""},
		{"http on localhost", config.Config{OpenIDConfigURLs: []string{"http://localhost/.well-known/openid-configuration"}}, ""},
		{"http discovery elsewhere", config.Config{OpenIDConfigURLs: []string{"http://idp.example/.well-known/openid-configuration"}}, "https"},
		{"http on a name that starts like loopback", config.Config{OpenIDConfigURLs: []string{"http://127.0.0.1.evil.example/.well-known/openid-configuration"}}, "https"},
		{"http JWKS elsewhere", config.Config{JWKSURLs: []string{"http://idp.example/jwks"}, Issuers: []string{"x"}}, "https"},
		{"other scheme", config.Config{JWKSURLs: []string{"file:///etc/jwks.json"}, Issuers: []string{"x"}}, "https"},
		{"credentials in URL", config.Config{JWKSURLs: []string{"https://user:hunter2@idp.example/jwks"}, Issuers: []string{"x"}}, "credentials"},
		{"JWKS URL without issuers", config.Config{JWKSURLs: []string{"https://idp.example/jwks"}}, "JWTGATE_ISSUERS"},
		{"nothing configured", config.Config{}, "no key source"},
		{"bad seed", config.Config{OpenIDConfigURLs: []string{ok}, SeedJWKS: []byte(`{"keys":null}`)}, "JWTGATE_SEED_JWKS"},
		{"seed without usable key", config.Config{OpenIDConfigURLs: []string{ok}, SeedJWKS: []byte(`{"keys":[]}`)}, "no usable key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewStore(&tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("NewStore: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("NewStore = %v, want an error containing %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("error leaks the URL password: %v", err)
			}
		})
	}
}

func TestWarmBoundedByContext(t *testing.T) {
	p := newIDP(t, nil)
	release := make(chan struct{})
	p.set(func(p *idp) {
		p.jwksFn = func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	s, _ := newTestStore(t, discoveryCfg(p), newClock())
	ctx, cancel := context.WithCancel(bg)
	cancel()
	err := s.Warm(ctx)
	close(release)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Warm = %v, want the context's error", err)
	}
}

func BenchmarkLookupWarm(b *testing.B) {
	k := newEC(b, "k1")
	p := newIDP(b, jwksJSON(b, k.jwk(), newEC(b, "k2").jwk()))
	s, err := NewStore(discoveryCfg(p), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Warm(bg); err != nil {
		b.Fatal(err)
	}
	iss := p.srv.URL
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key, err := s.Lookup(bg, iss, "k1", "ES256")
			if err != nil || !s.Holds(iss, key) {
				b.Fatal("lookup failed")
			}
		}
	})
}

func TestRediscoveryFailureKeepsTheKnownJWKSURI(t *testing.T) {
	k1, k2 := newEC(t, "k1"), newEC(t, "k2")
	p := newIDP(t, jwksJSON(t, k1.jwk()))
	c := newClock()
	s, _ := newTestStore(t, discoveryCfg(p), c)
	mustLookup(t, s, p.srv.URL, "k1", "ES256")
	p.set(func(p *idp) {
		p.discFn = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }
		p.jwks = jwksJSON(t, k1.jwk(), k2.jwk())
	})
	c.Advance(config.MaxRefreshInterval)
	mustLookup(t, s, p.srv.URL, "k1", "ES256")
	s.waitFetches()
	if d, j := p.counts(); d != 2 || j != 2 {
		t.Fatalf("discovery, JWKS requests = %d, %d; want 2, 2", d, j)
	}
	mustLookup(t, s, p.srv.URL, "k2", "ES256")
}

func TestLogsNeverCarryKeyMaterial(t *testing.T) {
	ec := newEC(t, "withd")
	d := b64.EncodeToString(ec.priv.D.FillBytes(make([]byte, 32)))
	secret := b64.EncodeToString([]byte("this-is-a-very-secret-hmac-key-0123456789"))
	doc := jwksJSON(t, with(ec.jwk(), "d", d), map[string]any{"kty": "oct", "kid": "hs", "k": secret})
	p := newIDP(t, doc)
	s, logs := newTestStore(t, discoveryCfg(p), newClock())
	k := mustLookup(t, s, p.srv.URL, "withd", "ES256")
	if _, ok := k.Public.(*ecdsa.PublicKey); !ok {
		t.Fatalf("Public is %T", k.Public)
	}
	if _, err := s.Lookup(bg, p.srv.URL, "hs", "HS256"); !errors.Is(err, ErrKeyUnknown) {
		t.Fatalf("fetched HMAC key used: %v", err)
	}
	out := logs.String()
	if !logs.has("private key material ignored") || !logs.has("key skipped") {
		t.Fatalf("missing log lines:\n%s", out)
	}
	if strings.Contains(out, d) || strings.Contains(out, secret) {
		t.Fatal("logs carry key material")
	}
	if s.Stats().KeysSkipped != 1 {
		t.Fatalf("KeysSkipped = %d", s.Stats().KeysSkipped)
	}
}
