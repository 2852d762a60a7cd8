package ed25519verify

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/jwtgate/jwtgate/shared/testvectors"
)

// same asserts that this package and crypto/ed25519 give the same verdict.
func same(t *testing.T, what string, pub ed25519.PublicKey, msg, sig []byte) bool {
	t.Helper()
	got := New(pub).Verify(msg, sig)
	want := len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
	if got != want {
		t.Errorf("%s: ed25519verify says %v, crypto/ed25519 says %v", what, got, want)
	}
	return got
}

// order is the group order l, little-endian.
var order, _ = hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")

// TestAgreesWithCryptoEd25519: valid signatures verify; flipped bits,
// S = S + l (non-canonical), high bits of S, another message, another key,
// small-order and malformed public keys get crypto/ed25519's verdict.
func TestAgreesWithCryptoEd25519(t *testing.T) {
	for i := 0; i < 20; i++ {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte("header.payload" + string(rune('a'+i)))
		sig := ed25519.Sign(priv, msg)
		if !same(t, "valid", pub, msg, sig) {
			t.Fatal("valid signature refused")
		}
		for bit := 0; bit < 512; bit += 13 {
			b := append([]byte(nil), sig...)
			b[bit/8] ^= 1 << (bit % 8)
			if same(t, "flip", pub, msg, b) {
				t.Errorf("flipped bit %d accepted", bit)
			}
		}
		// S + l: the same scalar, not canonical.
		b := append([]byte(nil), sig...)
		var carry uint16
		for j := 0; j < 32; j++ {
			v := uint16(b[32+j]) + uint16(order[j]) + carry
			b[32+j], carry = byte(v), v>>8
		}
		if same(t, "S+l", pub, msg, b) {
			t.Error("S + l accepted")
		}
		b = append([]byte(nil), sig...)
		b[63] |= 0x80
		if same(t, "high bit", pub, msg, b) {
			t.Error("S with its high bit set accepted")
		}
		if same(t, "other message", pub, []byte("other"), sig) {
			t.Error("signature accepted for another message")
		}
		other, _, _ := ed25519.GenerateKey(rand.Reader)
		if same(t, "other key", other, msg, sig) {
			t.Error("signature accepted under another key")
		}
		for _, n := range []int{0, 63, 65} {
			if same(t, "length", pub, msg, make([]byte, n)) {
				t.Errorf("%d-byte signature accepted", n)
			}
		}
	}
	// Public keys that are not points, not 32 bytes, or of small order.
	msg := []byte("m")
	sig := make([]byte, 64)
	for name, pk := range map[string]string{
		"identity":        "0100000000000000000000000000000000000000000000000000000000000000",
		"order 2":         "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"not on curve":    "0200000000000000000000000000000000000000000000000000000000000000",
		"non-canonical y": "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	} {
		raw, _ := hex.DecodeString(pk)
		same(t, name, raw, msg, sig)
	}
	if New(make([]byte, 31)).Verify(msg, sig) {
		t.Error("31-byte key verified")
	}
}

// TestWycheproofEd25519 runs Wycheproof's ed25519_test.json (read in
// place): valid verify, invalid do not, each verdict equals crypto/ed25519.
func TestWycheproofEd25519(t *testing.T) {
	data, err := os.ReadFile(testvectors.Path(t, "wycheproof/ed25519_test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		TestGroups []struct {
			PublicKey struct {
				PK string `json:"pk"`
			} `json:"publicKey"`
			Tests []struct {
				TcID   int    `json:"tcId"`
				Msg    string `json:"msg"`
				Sig    string `json:"sig"`
				Result string `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range v.TestGroups {
		pub, err := hex.DecodeString(g.PublicKey.PK)
		if err != nil || len(pub) != 32 {
			t.Fatalf("group key %q", g.PublicKey.PK)
		}
		for _, tc := range g.Tests {
			msg, _ := hex.DecodeString(tc.Msg)
			sig, _ := hex.DecodeString(tc.Sig)
			ok := same(t, "vector", pub, msg, sig)
			n++
			switch {
			case tc.Result == "valid" && !ok:
				t.Errorf("tcId %d: valid signature refused", tc.TcID)
			case tc.Result == "invalid" && ok:
				t.Errorf("tcId %d: invalid signature accepted", tc.TcID)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d vectors ran", n)
	}
}

// FuzzAgreesWithCryptoEd25519: any key bytes, message and signature get
// crypto/ed25519's verdict; seeded with valid signatures.
func FuzzAgreesWithCryptoEd25519(f *testing.F) {
	for i := 0; i < 4; i++ {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		msg := []byte{byte(i), 'x'}
		f.Add([]byte(pub), msg, ed25519.Sign(priv, msg))
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != ed25519.PublicKeySize {
			if New(pub).Verify(msg, sig) {
				t.Fatalf("%d-byte key verified", len(pub))
			}
			return
		}
		same(t, "fuzz", pub, msg, sig)
	})
}

// BenchmarkVerify compares a verify with crypto/ed25519's.
func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 700)
	sig := ed25519.Sign(priv, msg)
	k := New(pub)
	b.Run("crypto-ed25519", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("ed25519verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.Verify(msg, sig) {
				b.Fatal("refused")
			}
		}
	})
}
