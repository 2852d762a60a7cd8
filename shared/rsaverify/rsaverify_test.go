package rsaverify

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/shared/testvectors"
)

var (
	keysOnce sync.Once
	testKeys map[int]*rsa.PrivateKey
)

// sizes are the modulus sizes tested: the three with assembly (1024, 1536
// and 2048 bits on 64-bit machines), the generic loop (3072, 4096), and
// odd sizes whose top limb is partly used.
// With -short (the run under qemu for arm64, see the Makefile's
// crossarch target) only the sizes with assembly are generated.
var sizes = []int{1024, 1536, 2048, 2056, 3072, 4096}

func keySizes() []int {
	if testing.Short() {
		return sizes[:3]
	}
	return sizes
}

func privateKeys(t testing.TB) map[int]*rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		testKeys = map[int]*rsa.PrivateKey{}
		for _, bits := range keySizes() {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			testKeys[bits] = k
		}
	})
	return testKeys
}

type hashCase struct {
	h   crypto.Hash
	sum func([]byte) []byte
}

var hashes = []hashCase{
	{crypto.SHA256, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
	{crypto.SHA384, func(b []byte) []byte { s := sha512.Sum384(b); return s[:] }},
	{crypto.SHA512, func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }},
}

// same asserts that this package and crypto/rsa give the same verdict.
func same(t *testing.T, what string, k *PublicKey, h crypto.Hash, hashed, sig []byte) bool {
	t.Helper()
	got := k.VerifyPKCS1v15(h, hashed, sig) == nil
	want := rsa.VerifyPKCS1v15(k.Public(), h, hashed, sig) == nil
	if got != want {
		t.Errorf("%s: rsaverify says %v, crypto/rsa says %v", what, got, want)
	}
	return got
}

// TestAgreesWithCryptoRSA: every key size and hash, valid signatures
// verify, and every kind of broken signature is refused exactly when
// crypto/rsa refuses it.
func TestAgreesWithCryptoRSA(t *testing.T) {
	for bits, priv := range privateKeys(t) {
		k := New(&priv.PublicKey)
		if !k.fast {
			t.Fatalf("%d-bit key not on the fast path", bits)
		}
		for _, hc := range hashes {
			msg := []byte("jwtgate " + hc.h.String())
			hashed := hc.sum(msg)
			sig, err := rsa.SignPKCS1v15(nil, priv, hc.h, hashed)
			if err != nil {
				t.Fatal(err)
			}
			if !same(t, "valid", k, hc.h, hashed, sig) {
				t.Errorf("%d-bit %s: valid signature refused", bits, hc.h)
			}
			N := priv.N.FillBytes(make([]byte, k.Size()))
			nMinus1 := new(big.Int).Sub(priv.N, big.NewInt(1)).FillBytes(make([]byte, k.Size()))
			sigPlusN := new(big.Int).Add(new(big.Int).SetBytes(sig), priv.N)
			broken := map[string][]byte{
				"empty":          nil,
				"one byte short": sig[1:],
				"one byte long":  append([]byte{0}, sig...),
				"zero":           make([]byte, k.Size()),
				"N":              N,
				"N-1":            nMinus1,
				"all ones":       bytesOf(0xff, k.Size()),
			}
			if sigPlusN.BitLen() <= k.Size()*8 {
				broken["sig+N"] = sigPlusN.FillBytes(make([]byte, k.Size()))
			}
			for i := 0; i < len(sig); i += 7 {
				b := append([]byte(nil), sig...)
				b[i] ^= 1 << (i % 8)
				broken["flip"] = b
				if same(t, "bit flip", k, hc.h, hashed, b) {
					t.Errorf("%d-bit %s: flipped bit %d accepted", bits, hc.h, i)
				}
			}
			for name, b := range broken {
				if same(t, name, k, hc.h, hashed, b) {
					t.Errorf("%d-bit %s: %s accepted", bits, hc.h, name)
				}
			}
			// The right signature for another digest, or under another hash.
			other := hc.sum([]byte("something else"))
			if same(t, "other digest", k, hc.h, other, sig) {
				t.Errorf("%d-bit %s: signature accepted for another digest", bits, hc.h)
			}
			for _, hd := range hashes {
				if hd.h != hc.h && same(t, "other hash", k, hd.h, hd.sum(msg), sig) {
					t.Errorf("%d-bit: %s signature accepted as %s", bits, hc.h, hd.h)
				}
			}
			if same(t, "short digest", k, hc.h, hashed[1:], sig) {
				t.Errorf("%d-bit %s: short digest accepted", bits, hc.h)
			}
		}
	}
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// TestExponents: e = 3, 65537 and a large odd e go through the fast path
// and agree with crypto/rsa; e that crypto/rsa refuses (even, 1, above
// 2³¹−1) are left to crypto/rsa, which refuses them.
func TestExponents(t *testing.T) {
	priv := privateKeys(t)[2048]
	hashed := hashes[0].sum([]byte("m"))
	for _, e := range []int{3, 17, 65537, 1<<31 - 1} {
		// A key with exponent e: find d for it and sign with it.
		pk := rsaKeyWithE(t, priv, e)
		if pk == nil {
			continue
		}
		sig, err := rsa.SignPKCS1v15(nil, pk, crypto.SHA256, hashed)
		if err != nil {
			t.Fatalf("e=%d: %v", e, err)
		}
		k := New(&pk.PublicKey)
		if !k.fast {
			t.Fatalf("e=%d: not on the fast path", e)
		}
		if !same(t, "valid", k, crypto.SHA256, hashed, sig) {
			t.Errorf("e=%d: valid signature refused", e)
		}
		sig[len(sig)-1] ^= 1
		same(t, "flipped", k, crypto.SHA256, hashed, sig)
	}
	for _, e := range []int{0, 1, 2, 65536, 1 << 31, -3} {
		pub := &rsa.PublicKey{N: priv.N, E: e}
		k := New(pub)
		if k.fast {
			t.Errorf("e=%d taken by the fast path", e)
		}
		if k.VerifyPKCS1v15(crypto.SHA256, hashed, make([]byte, 256)) == nil {
			t.Errorf("e=%d: verified", e)
		}
	}
}

// rsaKeyWithE rebuilds priv's primes with public exponent e, or nil when e
// is not invertible mod λ(N).
func rsaKeyWithE(t *testing.T, priv *rsa.PrivateKey, e int) *rsa.PrivateKey {
	t.Helper()
	p, q := priv.Primes[0], priv.Primes[1]
	one := big.NewInt(1)
	pm1, qm1 := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
	lambda := new(big.Int).Div(new(big.Int).Mul(pm1, qm1), new(big.Int).GCD(nil, nil, pm1, qm1))
	d := new(big.Int).ModInverse(big.NewInt(int64(e)), lambda)
	if d == nil {
		return nil
	}
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: priv.N, E: e}, D: d, Primes: []*big.Int{p, q}}
	if err := k.Validate(); err != nil {
		t.Fatalf("e=%d: %v", e, err)
	}
	k.Precompute()
	return k
}

// TestKeysLeftToCryptoRSA: keys outside the fast path still get
// crypto/rsa's verdict.
func TestKeysLeftToCryptoRSA(t *testing.T) {
	even := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 2047), E: 65537}
	small := &rsa.PublicKey{N: big.NewInt(3233), E: 17}
	for name, pub := range map[string]*rsa.PublicKey{"even modulus": even, "tiny modulus": small, "nil": nil} {
		k := New(pub)
		if k.fast {
			t.Errorf("%s taken by the fast path", name)
		}
		if pub != nil && k.VerifyPKCS1v15(crypto.SHA256, make([]byte, 32), make([]byte, pub.Size())) == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if testing.Short() {
		return
	}
	big4104, err := rsa.GenerateKey(rand.Reader, 4104)
	if err != nil {
		t.Fatal(err)
	}
	k := New(&big4104.PublicKey)
	if k.fast {
		t.Fatal("4104-bit key taken by the fast path")
	}
	hashed := hashes[0].sum([]byte("m"))
	sig, _ := rsa.SignPKCS1v15(nil, big4104, crypto.SHA256, hashed)
	if k.VerifyPKCS1v15(crypto.SHA256, hashed, sig) != nil {
		t.Fatal("valid signature of a 4104-bit key refused")
	}
}

// TestOtherHashesLeftToCryptoRSA: a hash the fast path has no DigestInfo
// for gets crypto/rsa's verdict.
func TestOtherHashesLeftToCryptoRSA(t *testing.T) {
	priv := privateKeys(t)[2048]
	h1 := make([]byte, 20)
	sig1, _ := rsa.SignPKCS1v15(nil, priv, crypto.SHA1, h1)
	same(t, "SHA-1", New(&priv.PublicKey), crypto.SHA1, h1, sig1)
	sig1[0] ^= 1
	same(t, "SHA-1 flipped", New(&priv.PublicKey), crypto.SHA1, h1, sig1)
}

// BenchmarkVerify compares a 2048-bit RS256 verify with crypto/rsa's.
func BenchmarkVerify(b *testing.B) {
	priv := privateKeys(b)[2048]
	hashed := hashes[0].sum([]byte("m"))
	sig, _ := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, hashed)
	k := New(&priv.PublicKey)
	b.Run("crypto-rsa", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, hashed, sig) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("rsaverify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if k.VerifyPKCS1v15(crypto.SHA256, hashed, sig) != nil {
				b.Fatal("refused")
			}
		}
	})
}

// TestWycheproofRSASignatures runs Wycheproof's PKCS#1 v1.5 vectors
// (rsa_signature_2048_sha256_test.json, read in place): valid verify,
// invalid do not, and every verdict equals crypto/rsa's.
func TestWycheproofRSASignatures(t *testing.T) {
	data, err := os.ReadFile(testvectors.Path(t, "wycheproof/rsa_signature_2048_sha256_test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		TestGroups []struct {
			N     string                                   `json:"n"`
			E     string                                   `json:"e"`
			Key   struct{ Modulus, PublicExponent string } `json:"publicKey"`
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
		mod, e := g.Key.Modulus, g.Key.PublicExponent
		if mod == "" {
			mod, e = g.N, g.E
		}
		nb, err1 := hex.DecodeString(mod)
		eb, err2 := hex.DecodeString(e)
		if err1 != nil || err2 != nil || len(nb) == 0 {
			t.Fatalf("group key: %v %v", err1, err2)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
		k := New(pub)
		if !k.fast {
			t.Fatal("Wycheproof key not on the fast path")
		}
		for _, tc := range g.Tests {
			msg, _ := hex.DecodeString(tc.Msg)
			sig, _ := hex.DecodeString(tc.Sig)
			hashed := hashes[0].sum(msg)
			ok := same(t, "tcId", k, crypto.SHA256, hashed, sig)
			n++
			switch {
			case tc.Result == "valid" && !ok:
				t.Errorf("tcId %d: valid signature refused", tc.TcID)
			case tc.Result == "invalid" && ok:
				t.Errorf("tcId %d: invalid signature accepted", tc.TcID)
			}
		}
	}
	if n < 200 {
		t.Fatalf("only %d vectors ran", n)
	}
}

// FuzzAgreesWithCryptoRSA: any signature bytes, digest and key choice get
// the same verdict from this package and crypto/rsa. The seeds include
// valid signatures, so mutations explore near-valid encodings.
func FuzzAgreesWithCryptoRSA(f *testing.F) {
	ks := privateKeys(f)
	for i, bits := range keySizes() {
		hc := hashes[i%len(hashes)]
		hashed := hc.sum([]byte{byte(i)})
		sig, _ := rsa.SignPKCS1v15(nil, ks[bits], hc.h, hashed)
		f.Add(uint8(i), uint8(i%len(hashes)), hashed, sig)
	}
	pubs := make([]*PublicKey, len(keySizes()))
	for i, bits := range keySizes() {
		pubs[i] = New(&ks[bits].PublicKey)
	}
	f.Fuzz(func(t *testing.T, ki, hi uint8, hashed, sig []byte) {
		k := pubs[int(ki)%len(pubs)]
		same(t, "fuzz", k, hashes[int(hi)%len(hashes)].h, hashed, sig)
	})
}
