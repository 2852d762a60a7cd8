package token

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/jwtgate/jwtgate/shared/testvectors"
)

// TestWycheproofRawSignatures checks each verifier against Wycheproof's raw
// signature vectors in the JWS encodings (P1363 R||S for ECDSA, raw
// Ed25519, PKCS#1 v1.5 and PSS with salt = hash length): valid must
// verify, invalid must not; acceptable cases are reported, not asserted.
func TestWycheproofRawSignatures(t *testing.T) {
	files := []struct{ file, alg, jwkField string }{
		{"wycheproof/ecdsa_secp256r1_sha256_p1363_test.json", "ES256", "publicKeyJwk"},
		{"wycheproof/ecdsa_secp384r1_sha384_p1363_test.json", "ES384", "publicKeyJwk"},
		{"wycheproof/ed25519_test.json", "EdDSA", "publicKeyJwk"},
		{"wycheproof/rsa_signature_2048_sha256_test.json", "RS256", "keyJwk"},
		{"wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json", "PS256", "publicKeyJwk"},
	}
	for _, f := range files {
		t.Run(f.alg, func(t *testing.T) {
			data, err := os.ReadFile(testvectors.Path(t, f.file))
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				TestGroups []map[string]json.RawMessage `json:"testGroups"`
			}
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatal(err)
			}
			a := LookupAlgorithm(f.alg)
			n, acceptable := 0, 0
			for _, g := range v.TestGroups {
				raw, ok := g[f.jwkField]
				if !ok {
					continue
				}
				key := keyFromJWK(t, raw)
				if key == nil {
					t.Fatalf("group key did not import")
				}
				key.Alg = "" // vectors' JWKs may pin a different alg name
				var tests []struct {
					TcID   int    `json:"tcId"`
					Msg    string `json:"msg"`
					Sig    string `json:"sig"`
					Result string `json:"result"`
				}
				if err := json.Unmarshal(g["tests"], &tests); err != nil {
					t.Fatal(err)
				}
				for _, tc := range tests {
					msg, err1 := hex.DecodeString(tc.Msg)
					sig, err2 := hex.DecodeString(tc.Sig)
					if err1 != nil || err2 != nil {
						t.Fatalf("tcId %d: bad hex", tc.TcID)
					}
					n++
					ok := a.Verify(key, string(msg), sig) == nil
					switch tc.Result {
					case "valid":
						if !ok {
							t.Errorf("tcId %d: valid signature refused", tc.TcID)
						}
					case "invalid":
						if ok {
							t.Errorf("tcId %d: invalid signature accepted", tc.TcID)
						}
					default:
						acceptable++
					}
				}
			}
			if n < 50 {
				t.Fatalf("only %d vectors ran", n)
			}
			t.Logf("%d vectors, %d acceptable (not asserted)", n, acceptable)
		})
	}
}
