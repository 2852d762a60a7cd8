package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"hash"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/testvectors"
)

// verifyJWS checks a compact JWS with k, for the algorithms the vectors use.
func verifyJWS(t *testing.T, k *Key, alg, jws string) bool {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return false
	}
	input := []byte(parts[0] + "." + parts[1])
	var h hash.Hash
	var ch crypto.Hash
	switch alg[2:] {
	case "256":
		h, ch = sha256.New(), crypto.SHA256
	case "384":
		h, ch = sha512.New384(), crypto.SHA384
	case "512":
		h, ch = sha512.New(), crypto.SHA512
	default:
		return false
	}
	switch alg[:2] {
	case "HS":
		m := hmac.New(ch.New, k.Secret)
		m.Write(input)
		return hmac.Equal(m.Sum(nil), sig)
	case "RS":
		h.Write(input)
		return rsa.VerifyPKCS1v15(k.Public.(*rsa.PublicKey), ch, h.Sum(nil), sig) == nil
	case "ES":
		pub := k.Public.(*ecdsa.PublicKey)
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		h.Write(input)
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, h.Sum(nil), r, s)
	}
	t.Fatalf("verifyJWS: unhandled alg %s", alg)
	return false
}

func jwsHeader(t *testing.T, jws string) (alg, kid string) {
	t.Helper()
	raw, err := b64.DecodeString(strings.SplitN(jws, ".", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg, h.Kid
}

// TestWycheproofJSONWebKey loads every Wycheproof JsonWebKey key set two
// ways and checks each JWS is accepted or rejected as its result says:
//
//   - as a configured key set (JWTGATE_JWKS): all 26 cases agree;
//   - as a fetched JWKS: the "valid" HMAC cases (2, 13, 14, 15) are
//     deliberately rejected, because jwtgate never uses a symmetric key
//     that came over the network (HMAC secrets come only from configuration).
func TestWycheproofJSONWebKey(t *testing.T) {
	f := testvectors.LoadWycheproof(t, "json_web_key_test.json")
	deliberate := map[int]string{
		2: "fetched oct key", 13: "fetched oct key", 14: "fetched oct key", 15: "fetched oct key",
	}
	n := 0
	for _, g := range f.TestGroups {
		set, _ := g.Key()
		for _, tc := range g.Tests {
			jws, isCompact := tc.Compact()
			if !isCompact {
				t.Fatalf("tcId %d: jws is not a compact string", tc.TcID)
			}
			n++
			alg, kid := jwsHeader(t, jws)
			wantValid := tc.Result == "valid"

			// Configured key set.
			static := func() (bool, error) {
				s, err := NewStore(&config.Config{StaticKeys: []config.StaticKey{{JWKS: set}}, Issuers: []string{"iss"}})
				if err != nil {
					return false, err
				}
				k, err := s.Lookup(bg, "iss", kid, alg)
				if err != nil {
					return false, err
				}
				return verifyJWS(t, k, alg, jws), nil
			}
			if got, why := static(); got != wantValid {
				t.Errorf("tcId %d (%s, %s) as configured keys: accepted=%v, want %v (%v)", tc.TcID, g.Comment, tc.Comment, got, wantValid, why)
			}

			// Fetched key set.
			fetched := func() (bool, error) {
				ps, err := parseJWKS(set, false)
				if err != nil {
					return false, err
				}
				k, _, _ := find([]served{{snap: newSnapshot("", nil, time.Time{}, ps.Keys, time.Time{}, false)}}, kid, alg)
				if k == nil {
					return false, errors.New("no key")
				}
				return verifyJWS(t, k, alg, jws), nil
			}
			want := wantValid
			if _, ok := deliberate[tc.TcID]; ok {
				want = false
			}
			if got, why := fetched(); got != want {
				t.Errorf("tcId %d (%s, %s) as a fetched JWKS: accepted=%v, want %v (%v)", tc.TcID, g.Comment, tc.Comment, got, want, why)
			}
		}
	}
	if n != 26 {
		t.Errorf("ran %d cases, the file announces 26", n)
	}
}
