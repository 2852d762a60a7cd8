// Package ed25519verify verifies Ed25519 signatures (JWS EdDSA) with a
// public key decoded once, when the key is loaded.
//
// crypto/ed25519.Verify decodes the public key's point on every call (a
// field square root, about 8 % of a verify); a key set serves thousands of
// tokens with the same key, so this package decodes it once and then runs
// exactly the standard library's check (crypto/internal/fips140/ed25519's
// verifyWithDom for pure Ed25519) on filippo.io/edwards25519, the public
// module the standard library's internal edwards25519 package comes from:
// S canonical and below the group order, k = SHA-512(R ‖ A ‖ M) reduced,
// and the encoding of [S]B − [k]A equal to R byte for byte (cofactorless,
// like crypto/ed25519).
package ed25519verify

import (
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/subtle"

	"filippo.io/edwards25519"
)

// PublicKey is an Ed25519 public key with its point decoded and negated.
// It is immutable and safe for concurrent use.
type PublicKey struct {
	minusA edwards25519.Point
	a      [ed25519.PublicKeySize]byte
	valid  bool
}

// New prepares pub. A key that is not 32 bytes or not a point on the
// curve gives a PublicKey that verifies nothing (crypto/ed25519.Verify
// returns false for such a point, and panics on a wrong length).
func New(pub ed25519.PublicKey) *PublicKey {
	k := &PublicKey{}
	if len(pub) != ed25519.PublicKeySize {
		return k
	}
	var a edwards25519.Point
	if _, err := a.SetBytes(pub); err != nil {
		return k
	}
	k.minusA.Negate(&a)
	copy(k.a[:], pub)
	k.valid = true
	return k
}

// Verify reports whether sig is a valid Ed25519 signature of message by
// this key, with crypto/ed25519.Verify's verdict.
func (k *PublicKey) Verify(message, sig []byte) bool {
	if !k.valid || len(sig) != ed25519.SignatureSize || sig[63]&224 != 0 {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(k.a[:])
	h.Write(message)
	var digest [sha512.Size]byte
	kk, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(digest[:0]))
	if err != nil {
		return false
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	// [S]B = R + [k]A  ⇔  [k](−A) + [S]B = R
	var r edwards25519.Point
	r.VarTimeDoubleScalarBaseMult(kk, &k.minusA, s)
	return subtle.ConstantTimeCompare(sig[:32], r.Bytes()) == 1
}
