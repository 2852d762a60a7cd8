package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
)

// TestCrossIssuerKeysNeverServe: a token is checked only against the keys
// of its own issuer's sources. A discovery issuer gets its discovery keys
// and the keys bound to it by name; a bound JWKS URL or static key serves
// only its issuers; a discovery source serves its own issuer and the ones
// bound to it, never another discovery source's. A token signed with
// another source's key is refused (ErrKeyUnknown or ErrIssuerUnknown), never
// answered with a key.
func TestCrossIssuerKeysNeverServe(t *testing.T) {
	ka, kb := newEC(t, "a1"), newEC(t, "b1")
	secret := []byte(strings.Repeat("s", 32))
	const (
		issA     = "https://tenant-a.example"
		issB     = "https://partner-b.example"
		internal = "https://internal.example"
	)
	type lookup struct {
		iss, kid, alg string
		owner         string // "a", "b", "hs"; "" → refused
	}
	for _, tc := range []struct {
		name string
		// cfg builds the configuration from the two loopback IdPs (a also
		// answers discovery, announcing aIss).
		cfg     func(pa, pb *idp, aIss string) *config.Config
		slash   bool // IdP a announces its issuer with a trailing slash
		lookups func(aIss, bDisc string) []lookup
	}{
		{
			name: "JWKS URLs bound to their issuers",
			cfg: func(pa, pb *idp, _ string) *config.Config {
				return &config.Config{Issuers: []string{issA, issB}, JWKSSources: []config.JWKSSource{
					{URL: pa.srv.URL + "/jwks", Issuers: []string{issA}},
					{URL: pb.srv.URL + "/jwks", Issuers: []string{issB}},
				}}
			},
			lookups: func(string, string) []lookup {
				return []lookup{{issA, "a1", "ES256", "a"}, {issB, "b1", "ES256", "b"}, {issA, "", "ES256", "a"},
					{issA, "b1", "ES256", ""}, {issB, "a1", "ES256", ""}}
			},
		},
		{
			name: "discovery plus a partner JWKS URL bound to the partner",
			cfg: func(pa, pb *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, Issuers: []string{aIss, issB},
					JWKSSources: []config.JWKSSource{{URL: pb.srv.URL + "/jwks", Issuers: []string{issB}}}}
			},
			lookups: func(aIss, _ string) []lookup {
				return []lookup{{aIss, "a1", "ES256", "a"}, {issB, "b1", "ES256", "b"},
					{aIss, "b1", "ES256", ""}, {aIss, "", "ES256", "a"}, {issB, "a1", "ES256", ""}}
			},
		},
		{
			name: "discovery plus an unbound partner JWKS URL",
			cfg: func(pa, pb *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, JWKSURLs: []string{pb.srv.URL + "/jwks"}, Issuers: []string{aIss, issB}}
			},
			lookups: func(aIss, _ string) []lookup {
				return []lookup{{aIss, "a1", "ES256", "a"}, {issB, "b1", "ES256", "b"},
					{aIss, "b1", "ES256", ""}, {issB, "a1", "ES256", ""}}
			},
		},
		{
			name:  "discovery (issuer with a slash) plus an internal HMAC secret",
			slash: true,
			cfg: func(pa, _ *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, Issuers: []string{aIss, internal},
					StaticKeys: []config.StaticKey{{Secret: secret, KID: "hs"}}}
			},
			lookups: func(aIss, _ string) []lookup {
				noSlash := strings.TrimSuffix(aIss, "/")
				return []lookup{{aIss, "a1", "ES256", "a"}, {internal, "hs", "HS256", "hs"},
					{aIss, "hs", "HS256", ""}, {aIss, "", "HS256", ""},
					{noSlash, "hs", "HS256", ""}, {noSlash, "", "HS256", ""},
					{internal, "a1", "ES256", ""}}
			},
		},
		{
			name: "static key with no configured issuers never serves a discovery issuer",
			cfg: func(pa, _ *idp, _ string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, StaticKeys: []config.StaticKey{{Secret: secret, KID: "hs"}}}
			},
			lookups: func(aIss, _ string) []lookup {
				return []lookup{{"https://anything.example", "hs", "HS256", "hs"}, {aIss, "a1", "ES256", "a"},
					{aIss, "hs", "HS256", ""}, {aIss, "", "HS256", ""}}
			},
		},
		{
			name:  "static key bound to the discovery issuer serves it next to the discovery keys",
			slash: true,
			cfg: func(pa, _ *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, Issuers: []string{aIss},
					StaticKeys: []config.StaticKey{{Secret: secret, KID: "hs", Issuers: []string{aIss}}}}
			},
			lookups: func(aIss, _ string) []lookup {
				noSlash := strings.TrimSuffix(aIss, "/")
				return []lookup{{aIss, "a1", "ES256", "a"}, {aIss, "hs", "HS256", "hs"}, {aIss, "", "HS256", "hs"},
					{noSlash, "hs", "HS256", ""}, {noSlash, "a1", "ES256", ""}}
			},
		},
		{
			name:  "static key bound to the discovery issuer as its URL reads, no issuers configured: serves the announced issuer",
			slash: true,
			cfg: func(pa, _ *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()},
					StaticKeys: []config.StaticKey{{Secret: secret, KID: "hs", Issuers: []string{strings.TrimSuffix(aIss, "/")}}}}
			},
			lookups: func(aIss, _ string) []lookup {
				noSlash := strings.TrimSuffix(aIss, "/")
				return []lookup{{aIss, "hs", "HS256", "hs"}, {aIss, "a1", "ES256", "a"}, {noSlash, "hs", "HS256", ""}, {"https://anything.example", "hs", "HS256", ""}}
			},
		},
		{
			name: "discovery keys also serve an issuer bound to them, next to that issuer's own JWKS",
			cfg: func(pa, pb *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, Issuers: []string{aIss, issB},
					OpenIDConfigIssuers: map[string][]string{pa.discoveryURL(): {issB}},
					JWKSSources:         []config.JWKSSource{{URL: pb.srv.URL + "/jwks", Issuers: []string{issB}}}}
			},
			lookups: func(aIss, _ string) []lookup {
				return []lookup{{issB, "a1", "ES256", "a"}, {issB, "b1", "ES256", "b"}, {aIss, "a1", "ES256", "a"}, {aIss, "b1", "ES256", ""}}
			},
		},
		{
			name: "two discovery sources and a static key bound to both: the discovery keys stay apart",
			cfg: func(pa, pb *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL(), pb.discoveryURL()}, Issuers: []string{aIss, pb.srv.URL},
					StaticKeys: []config.StaticKey{{Secret: secret, KID: "hs", Issuers: []string{aIss, pb.srv.URL}}}}
			},
			lookups: func(aIss, bIss string) []lookup {
				return []lookup{{aIss, "a1", "ES256", "a"}, {bIss, "b1", "ES256", "b"}, {aIss, "hs", "HS256", "hs"}, {bIss, "hs", "HS256", "hs"},
					{aIss, "b1", "ES256", ""}, {bIss, "a1", "ES256", ""}}
			},
		},
		{
			name: "a static key without a kid serves its issuer's tokens whatever their kid, after discovery keys",
			cfg: func(pa, _ *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, Issuers: []string{aIss, internal},
					StaticKeys: []config.StaticKey{{Secret: secret, Issuers: []string{aIss, internal}}}}
			},
			lookups: func(aIss, _ string) []lookup {
				return []lookup{{internal, "any-kid", "HS256", "hs"}, {internal, "", "HS256", "hs"}, {aIss, "a1", "ES256", "a"},
					{aIss, "other-kid", "HS256", "hs"}, {internal, "any-kid", "ES256", ""}}
			},
		},
		{
			name: "two static keys without a kid: a token with an unknown kid gets no single key (the caller tries both)",
			cfg: func(_, _ *idp, _ string) *config.Config {
				return &config.Config{Issuers: []string{internal},
					StaticKeys: []config.StaticKey{{Secret: secret, Issuers: []string{internal}}, {Secret: []byte(strings.Repeat("t", 32)), Issuers: []string{internal}}}}
			},
			lookups: func(string, string) []lookup {
				return []lookup{{internal, "any-kid", "HS256", ""}}
			},
		},
		{
			name: "a seed stands in for its discovery source only",
			cfg: func(pa, _ *idp, aIss string) *config.Config {
				return &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, Issuers: []string{aIss, internal},
					SeedJWKS: jwksJSON(t, kb.jwk()), StaticKeys: []config.StaticKey{{Secret: secret, KID: "hs"}}}
			},
			lookups: func(string, string) []lookup {
				return []lookup{{internal, "b1", "ES256", ""}, {internal, "hs", "HS256", "hs"}}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa, pb := newIDP(t, jwksJSON(t, ka.jwk())), newIDP(t, jwksJSON(t, kb.jwk()))
			aIss := pa.srv.URL
			if tc.slash {
				aIss += "/"
				pa.set(func(p *idp) { p.issuer = aIss })
			}
			s, _ := newTestStore(t, tc.cfg(pa, pb, aIss), newClock())
			owners := map[string]func(*Key) bool{
				"a":  func(k *Key) bool { e, ok := k.Public.(equaler); return ok && e.Equal(&ka.priv.PublicKey) },
				"b":  func(k *Key) bool { e, ok := k.Public.(equaler); return ok && e.Equal(&kb.priv.PublicKey) },
				"hs": func(k *Key) bool { return bytes.Equal(k.Secret, secret) },
			}
			var found []*Key
			for _, l := range tc.lookups(aIss, pb.srv.URL) {
				_, bHits := pb.counts()
				k, err := s.Lookup(bg, l.iss, l.kid, l.alg)
				if l.owner == "" {
					if k != nil {
						t.Errorf("Lookup(%q, %q, %s) = a key; want a refusal", l.iss, l.kid, l.alg)
					}
					if !errors.Is(err, ErrKeyUnknown) && !errors.Is(err, ErrIssuerUnknown) {
						t.Errorf("Lookup(%q, %q, %s) error = %v; want ErrKeyUnknown or ErrIssuerUnknown", l.iss, l.kid, l.alg, err)
					}
					if _, after := pb.counts(); l.iss != issB && after != bHits {
						t.Errorf("Lookup(%q, %q, %s) fetched the partner's JWKS", l.iss, l.kid, l.alg)
					}
					continue
				}
				if err != nil {
					t.Errorf("Lookup(%q, %q, %s): %v", l.iss, l.kid, l.alg, err)
					continue
				}
				if !owners[l.owner](k) {
					t.Errorf("Lookup(%q, %q, %s) returned a key that is not %s's", l.iss, l.kid, l.alg, l.owner)
				}
				found = append(found, k)
			}
			// Holds answers like Lookup: a key is held for exactly the
			// issuers whose lookups may return it.
			allowed := map[string]map[string]bool{}
			for _, l := range tc.lookups(aIss, pb.srv.URL) {
				if allowed[l.iss] == nil {
					allowed[l.iss] = map[string]bool{}
				}
				if l.owner != "" {
					allowed[l.iss][l.owner] = true
				}
			}
			for _, k := range found {
				owner := ""
				for name, is := range owners {
					if is(k) {
						owner = name
					}
				}
				for iss, ok := range allowed {
					if got := s.Holds(iss, k); got != ok[owner] {
						t.Errorf("Holds(%q, key of %s) = %v, want %v", iss, owner, got, ok[owner])
					}
				}
			}
		})
	}
}

// TestNewStoreRefusesAmbiguousKeySources: configurations in which a key
// source would be trusted for an issuer that is not its own stop NewStore
// with a message naming the settings.
func TestNewStoreRefusesAmbiguousKeySources(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	const disc = "https://idp.example/.well-known/openid-configuration" // issuer https://idp.example
	for _, tc := range []struct {
		name string
		cfg  config.Config
		want string
	}{
		{"two JWKS URLs, two issuers",
			config.Config{JWKSURLs: []string{"https://a.example/jwks", "https://b.example/jwks"}, Issuers: []string{"https://a.example", "https://b.example"}},
			"ambiguous key sources: JWTGATE_JWKS_URL entry 1 (https://a.example/jwks), JWTGATE_JWKS_URL entry 2 (https://b.example/jwks)"},
		{"discovery plus two JWKS URLs for two other issuers",
			config.Config{OpenIDConfigURLs: []string{disc}, JWKSURLs: []string{"https://a.example/jwks", "https://b.example/jwks"}, Issuers: []string{"https://idp.example", "https://a.example", "https://b.example"}},
			"ambiguous key sources"},
		{"JWKS URL and secret, two issuers",
			config.Config{JWKSURLs: []string{"https://a.example/jwks"}, StaticKeys: []config.StaticKey{{Secret: secret}}, Issuers: []string{"https://a.example", "https://b.example"}},
			"ambiguous key sources: JWTGATE_JWKS_URL entry 1 (https://a.example/jwks), JWTGATE_HMAC_SECRETS (static key 1)"},
		{"two secrets, two issuers",
			config.Config{StaticKeys: []config.StaticKey{{Secret: secret}, {Secret: secret}}, Issuers: []string{"https://a.example", "https://b.example"}},
			"ambiguous key sources"},
		{"bound JWKS URL next to an unbound secret, two issuers",
			config.Config{JWKSSources: []config.JWKSSource{{URL: "https://b.example/jwks", Issuers: []string{"https://b.example"}}}, StaticKeys: []config.StaticKey{{Secret: secret}}, Issuers: []string{"https://a.example", "https://b.example"}},
			"ambiguous key sources: JWTGATE_HMAC_SECRETS (static key 1)"},
		{"secret for the discovery issuer only",
			config.Config{OpenIDConfigURLs: []string{disc}, StaticKeys: []config.StaticKey{{Secret: secret}}, Issuers: []string{"https://idp.example/"}},
			"JWTGATE_HMAC_SECRETS: no issuer to serve"},
		{"JWKS URL for the discovery issuer only",
			config.Config{OpenIDConfigURLs: []string{disc}, JWKSURLs: []string{"https://partner.example/jwks"}, Issuers: []string{"https://idp.example"}},
			"JWTGATE_JWKS_URL: no issuer to serve"},
		{"seed with two discovery sources",
			config.Config{OpenIDConfigURLs: []string{disc, "https://other.example"}, SeedJWKS: jwksJSON(t, newEC(t, "s").jwk())},
			"JWTGATE_SEED_JWKS: stands in for every fetched key source"},
		{"bound JWKS URL without an https URL",
			config.Config{JWKSSources: []config.JWKSSource{{URL: "http://b.example/jwks", Issuers: []string{"https://b.example"}}}, Issuers: []string{"https://b.example"}},
			"keys[].jwks_url entry 1: URL must use https"},
		{"unbound keys[].jwks_url without issuers",
			config.Config{JWKSSources: []config.JWKSSource{{URL: "https://b.example/jwks"}}},
			"needs JWTGATE_ISSUERS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewStore(&tc.cfg)
			if err == nil || s != nil {
				t.Fatalf("NewStore = %v, %v; want an error", s, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestStartupLogsKeySourcesPerIssuer: LogIssuerKeys (called by the core
// after the warm-up) logs, per accepted issuer, the key sources that serve
// it with the kids they hold, and never key material.
func TestStartupLogsKeySourcesPerIssuer(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	pa := newIDP(t, jwksJSON(t, newEC(t, "a1").jwk()))
	aIss := pa.srv.URL
	const internal = "https://internal.example"
	cfg := &config.Config{OpenIDConfigURLs: []string{pa.discoveryURL()}, Issuers: []string{aIss, internal},
		StaticKeys: []config.StaticKey{{Secret: secret, KID: "hs", Issuers: []string{aIss, internal}}, {Secret: secret, Issuers: []string{internal}}}}
	s, logs := newTestStore(t, cfg, newClock())
	if err := s.Warm(bg); err != nil {
		t.Fatal(err)
	}
	s.LogIssuerKeys()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "issuer keys" {
			lines = append(lines, m)
		}
	}
	got := map[string]string{}
	for _, m := range lines {
		b, _ := json.Marshal(m["sources"])
		got[m["issuer"].(string)] = string(b)
	}
	want := map[string]string{
		aIss:     `[{"kids":["a1"],"kind":"discovery","source":"` + pa.discoveryURL() + `"},{"kids":["hs"],"kind":"static","source":"static key 1"}]`,
		internal: `[{"kids":["hs"],"kind":"static","source":"static key 1"},{"kids":["(no kid)"],"kind":"static","source":"static key 2"}]`,
	}
	for iss, w := range want {
		if got[iss] != w {
			t.Errorf("issuer %s: sources %s\nwant %s", iss, got[iss], w)
		}
	}
	if strings.Contains(logs.String(), string(secret)) {
		t.Error("the start-up log holds a secret")
	}
}

// TestSeveralFittingKeysAreOfferedToTry: when no kid singles out a key, a
// bounded number of fitting keys is returned for the caller to try (APIM
// tries every key of a policy); beyond the bound the token must name its key.
func TestSeveralFittingKeysAreOfferedToTry(t *testing.T) {
	const iss = "https://internal.example"
	secrets := func(n int) []config.StaticKey {
		var out []config.StaticKey
		for i := range n {
			out = append(out, config.StaticKey{Secret: []byte(strings.Repeat(string(rune('a'+i)), 32)), Issuers: []string{iss}})
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		keys      int
		kid       string
		wantTries int // 0: a plain ErrKeyUnknown
	}{
		{"two keys, no kid", 2, "", 2},
		{"two kid-less keys, an unknown kid", 2, "other", 2},
		{"more keys than the bound", maxCandidates + 1, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, &config.Config{Issuers: []string{iss}, StaticKeys: secrets(tc.keys)}, newClock())
			_, err := s.Lookup(bg, iss, tc.kid, "HS256")
			if !errors.Is(err, ErrKeyUnknown) {
				t.Fatalf("error %v; want one matching ErrKeyUnknown", err)
			}
			var several *SeveralKeysError
			if got := errors.As(err, &several); got != (tc.wantTries > 0) || (got && len(several.Keys) != tc.wantTries) {
				t.Fatalf("error %v; want %d keys to try", err, tc.wantTries)
			}
			if several != nil {
				last := several.Keys[len(several.Keys)-1]
				if k := several.Find(func(k *Key) bool { return k == last }); k != last || !s.Holds(iss, k) {
					t.Error("Find does not return the key that verifies, or the store does not hold it")
				}
			}
		})
	}
}
