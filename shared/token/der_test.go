package token

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestDERSignatureMatchesASN1 compares the hand-built DER with
// encoding/asn1 for integers of every length a JWS curve uses, with and
// without the high bit set.
func TestDERSignatureMatchesASN1(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{32, 48, 66} {
		for i := 0; i < 2000; i++ {
			r := make([]byte, 1+rng.IntN(size))
			s := make([]byte, 1+rng.IntN(size))
			for j := range r {
				r[j] = byte(rng.Uint32())
			}
			for j := range s {
				s[j] = byte(rng.Uint32())
			}
			r, s = trimInt(r), trimInt(s)
			if len(r) == 0 || len(s) == 0 {
				continue
			}
			want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)})
			if err != nil {
				t.Fatal(err)
			}
			if got := derSignature(nil, r, s); !bytes.Equal(got, want) {
				t.Fatalf("r=%x s=%x: %x, want %x", r, s, got, want)
			}
		}
	}
}
