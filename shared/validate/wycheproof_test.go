package validate

import (
	"context"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/keys"
	"github.com/jwtgate/jwtgate/shared/testvectors"
)

// TestWycheproofFullPath sends every compact Wycheproof JWS through the
// whole decision path with its key loaded by the real key store (as a
// configured JWKS). None may be allowed: their payloads are not JWT claims.
// Keys marked for encryption (use:"enc", key_ops without verify) must not
// be loaded at all, so their tokens fail on the key, not on the payload.
// The JWS layer itself (valid verifies, invalid fails) is checked case by
// case in package token.
func TestWycheproofFullPath(t *testing.T) {
	v := testvectors.LoadWycheproof(t, "json_web_signature_test.json")
	ctx := context.Background()
	n := 0
	for _, g := range v.TestGroups {
		kraw, secret := g.Key()
		cfg := baseConfig()
		cfg.Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
		if secret {
			cfg.Algorithms = append(cfg.Algorithms, "HS256")
		}
		cfg.StaticKeys = []config.StaticKey{{JWKS: []byte(`{"keys":[` + string(kraw) + `]}`)}}
		store, err := keys.NewStore(cfg)
		if err != nil {
			// The whole set is unusable (e.g. RFC 7520's alg "ES521"):
			// nothing can be verified, which is the safe outcome.
			continue
		}
		val, err := New(cfg, store)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range g.Tests {
			compact, isCompact := tc.Compact()
			if !isCompact {
				continue
			}
			n++
			d := val.Decide(ctx, bearer(compact))
			if d.Outcome == decision.Allow {
				t.Errorf("tcId %d (%s) allowed", tc.TcID, g.Comment)
			}
			if d.Reason == "" || d.Reason == decision.ReasonOK {
				t.Errorf("tcId %d: no reason", tc.TcID)
			}
		}
	}
	if n < 300 {
		t.Fatalf("only %d cases ran", n)
	}
}
