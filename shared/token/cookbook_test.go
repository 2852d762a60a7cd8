package token

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/testvectors"
)

// TestCookbookJWS verifies the RFC 7520 (and RFC 8037 Ed25519) compact
// examples at the JWS layer, and checks that their plain-text payloads are
// refused as JWT claims.
func TestCookbookJWS(t *testing.T) {
	dir := testvectors.Path(t, "jose-cookbook")
	files := []string{
		"jws/4_1.rsa_v15_signature.json",
		"jws/4_2.rsa-pss_signature.json",
		"jws/4_3.ecdsa_signature.json",
		"jws/4_4.hmac-sha2_integrity_protection.json",
		"curve25519/jws.json",
	}
	all := func(*Algorithm) bool { return true }
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Skipf("%s: %v", f, err)
			}
			var ex struct {
				Input struct {
					Key json.RawMessage `json:"key"`
				} `json:"input"`
				Output struct {
					Compact string `json:"compact"`
				} `json:"output"`
			}
			if err := json.Unmarshal(data, &ex); err != nil {
				t.Fatal(err)
			}
			key := keyFromJWK(t, ex.Input.Key)
			if key == nil {
				t.Fatal("example key did not import")
			}
			p, perr := Parse(ex.Output.Compact, 1<<16, all)
			if perr != nil {
				t.Fatalf("parse: %v", perr)
			}
			if err := p.Alg.Verify(key, p.SigningInput, p.Signature); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if err := p.ParseClaims(); err == nil || err.Reason != decision.ClaimsMalformed {
				t.Fatalf("plain-text payload accepted as claims: %v", err)
			}
			// One flipped signature bit must fail.
			sig := append([]byte(nil), p.Signature...)
			sig[len(sig)/2] ^= 1
			if err := p.Alg.Verify(key, p.SigningInput, sig); err == nil {
				t.Fatal("tampered signature verified")
			}
		})
	}
}
