// Package rsaverify verifies RSASSA-PKCS1-v1_5 signatures (JWS RS256,
// RS384, RS512) with a public key prepared once, when the key is loaded.
//
// crypto/rsa.VerifyPKCS1v15 rebuilds its Montgomery constants from the
// modulus on every call (R² mod N, about a quarter of a 2048-bit verify);
// a key set serves thousands of tokens with the same modulus, so this
// package computes them once per key and then runs exactly the standard
// library's public-key operation (its Montgomery multiplication and
// assembly, copied from crypto/internal/fips140/bigmod under the Go
// licence in LICENSE-GO) and the same check: the signature is as long as
// the modulus and smaller than it, and s^e mod N equals the expected
// encoding 00 01 FF…FF 00 ‖ DigestInfo ‖ hash byte for byte (RFC 8017
// §8.2.2; no parsing of the decoded block). Keys the fast path does not
// take (above 4096 bits, an even modulus, an exponent crypto/rsa refuses)
// are verified by crypto/rsa itself, so every key gets crypto/rsa's answer.
package rsaverify

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"math/big"
	"math/bits"
)

// ErrVerification is returned for any signature that does not verify.
var ErrVerification = errors.New("rsaverify: verification error")

// PublicKey is an RSA public key with its Montgomery constants computed.
// It is immutable and safe for concurrent use.
type PublicKey struct {
	pub   *rsa.PublicKey
	fast  bool
	size  int // modulus length in bytes
	n     int // modulus length in limbs
	e     uint
	m0inv uint
	m     [maxLimbs]uint // the modulus, little-endian limbs
	rr    [maxLimbs]uint // R² mod N, R = 2^(_W·n)
}

// New prepares pub. It never fails: a key the fast path does not take is
// verified by crypto/rsa.
func New(pub *rsa.PublicKey) *PublicKey {
	k := &PublicKey{pub: pub}
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 || pub.N.Bit(0) == 0 {
		return k
	}
	// crypto/rsa's own limits: at least 1024 bits, an odd exponent in
	// [3, 2³¹−1].
	nb := pub.N.BitLen()
	if nb < 1024 || nb > maxBits || pub.E < 3 || pub.E&1 == 0 || pub.E > 1<<31-1 {
		return k
	}
	k.size = (nb + 7) / 8
	k.n = (nb + _W - 1) / _W
	k.e = uint(pub.E)
	var buf [maxBits / 8]byte
	setBytes(k.m[:k.n], pub.N.FillBytes(buf[:k.size]))
	k.m0inv = minusInverseModW(k.m[0])
	rr := new(big.Int).Lsh(big.NewInt(1), uint(2*_W*k.n))
	rr.Mod(rr, pub.N)
	setBytes(k.rr[:k.n], rr.FillBytes(buf[:k.size]))
	k.fast = true
	return k
}

// Public returns the key New was given.
func (k *PublicKey) Public() *rsa.PublicKey { return k.pub }

// Size is the modulus length in bytes (the length of a valid signature).
func (k *PublicKey) Size() int { return k.pub.Size() }

// digestInfo is the DER prefix of the DigestInfo for each hash (RFC 8017
// §9.2 note 1), as in crypto/rsa.
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// VerifyPKCS1v15 checks sig over the digest hashed with hash (SHA-256,
// SHA-384 or SHA-512), like rsa.VerifyPKCS1v15: nil when it verifies.
func (k *PublicKey) VerifyPKCS1v15(hash crypto.Hash, hashed, sig []byte) error {
	prefix, ok := digestInfo[hash]
	if !ok || !k.fast {
		if err := rsa.VerifyPKCS1v15(k.pub, hash, hashed, sig); err != nil {
			return ErrVerification
		}
		return nil
	}
	if len(hashed) != hash.Size() || len(sig) != k.size || len(prefix)+len(hashed)+11 > k.size {
		return ErrVerification
	}
	var em, want [maxBits / 8]byte
	if !k.encrypt(em[:k.size], sig) {
		return ErrVerification
	}
	// EM = 00 01 FF…FF 00 ‖ DigestInfo prefix ‖ hash.
	w := want[:k.size]
	w[0], w[1] = 0, 1
	ps := k.size - len(prefix) - len(hashed) - 1
	for i := 2; i < ps; i++ {
		w[i] = 0xff
	}
	w[ps] = 0
	copy(w[ps+1:], prefix)
	copy(w[ps+1+len(prefix):], hashed)
	if subtle.ConstantTimeCompare(em[:k.size], w) != 1 {
		return ErrVerification
	}
	return nil
}

// encrypt sets out (k.size bytes) to sig^e mod N; false when sig, read as
// a big-endian number, is not smaller than N.
func (k *PublicKey) encrypt(out, sig []byte) bool {
	n := k.n
	m := k.m[:n]
	var xa, xra, oa, onea [maxLimbs]uint
	x := xa[:n]
	setBytes(x, sig)
	if !less(x, m) {
		return false
	}
	// Square-and-multiply in the Montgomery domain, skipping the exponent's
	// leading zeros (ExpShortVarTime).
	xR := xra[:n]
	montMul(xR, x, k.rr[:n], m, k.m0inv)
	o := oa[:n]
	copy(o, xR)
	e := k.e
	for i := bits.UintSize - bits.Len(e) + 1; i < bits.UintSize; i++ {
		montMul(o, o, o, m, k.m0inv)
		if (e>>(bits.UintSize-i-1))&1 != 0 {
			montMul(o, o, xR, m, k.m0inv)
		}
	}
	one := onea[:n]
	one[0] = 1
	montMul(o, o, one, m, k.m0inv)
	// Big-endian, zero-extended to the modulus length.
	j := len(out)
	for _, limb := range o {
		for s := 0; s < _S && j > 0; s++ {
			j--
			out[j] = byte(limb)
			limb >>= 8
		}
	}
	return true
}

// setBytes sets the limbs of x (little-endian) from the big-endian b,
// which fits in len(x) limbs.
func setBytes(x []uint, b []byte) {
	clear(x)
	for i := range b {
		pos := len(b) - 1 - i // byte position from the least significant
		x[pos/_S] |= uint(b[i]) << (8 * (pos % _S))
	}
}

// less reports whether x < m (same length).
func less(x, m []uint) bool {
	var borrow uint
	for i := range x {
		_, borrow = bits.Sub(x[i], m[i], borrow)
	}
	return borrow == 1
}
