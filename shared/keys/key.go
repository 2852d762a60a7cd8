// Package keys is jwtgate's key source: it discovers issuers (OpenID
// discovery), fetches their JWKS, loads statically configured keys, and keeps
// them in a process-wide cache that stays warm across invocations, survives
// rotation and IdP outages, and never fetches more than it must.
package keys

import (
	"crypto"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jwtgate/jwtgate/shared/ed25519verify"
	"github.com/jwtgate/jwtgate/shared/rsaverify"
)

// Key is one verification key, converted to a Go crypto key once per fetch.
type Key struct {
	// ID is the JWK kid ("" when the key has none).
	ID string
	// Alg is the JWK alg, or "" when the JWK does not pin one.
	Alg string
	// Kty is "RSA", "EC", "OKP" or "oct".
	Kty string
	// Crv is the curve for EC/OKP keys ("P-256", "P-384", "P-521", "Ed25519").
	Crv string
	// Public is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	Public crypto.PublicKey
	// Secret is the HMAC key for kty "oct"; only configured keys have one.
	Secret []byte
	// Static is true for keys given in configuration (never fetched).
	Static bool
	// Issuer is the JWK's "issuer" member ("" when it has none): Entra
	// publishes one on each v2.0 key, often a {tenantid} template. Such a
	// key signs only tokens of that issuer (the validator checks it).
	Issuer string

	// preparedRSA and preparedEd are the key prepared for its signature
	// check, built once (see RSAVerifier and Ed25519Verifier).
	preparedRSA atomic.Pointer[rsaverify.PublicKey]
	preparedEd  atomic.Pointer[ed25519verify.PublicKey]
}

// RSAVerifier returns k's RSA public key prepared for PKCS#1 v1.5
// verification (package rsaverify: its Montgomery constants computed), and
// Ed25519Verifier its Ed25519 key with the point decoded (package
// ed25519verify). Each is built once: by the key source when it loads the
// key, or on first use for a Key built elsewhere. They are nil for a key
// of another type.
func (k *Key) RSAVerifier() *rsaverify.PublicKey {
	return prepare(&k.preparedRSA, k.Public, rsaverify.New)
}

// Ed25519Verifier: see RSAVerifier.
func (k *Key) Ed25519Verifier() *ed25519verify.PublicKey {
	return prepare(&k.preparedEd, k.Public, ed25519verify.New)
}

// prepare returns the prepared form in slot, building it from pub when pub
// is a T. Concurrent first callers may each build one; they are equal.
func prepare[T, P any](slot *atomic.Pointer[P], pub crypto.PublicKey, build func(T) *P) *P {
	if p := slot.Load(); p != nil {
		return p
	}
	t, ok := pub.(T)
	if !ok {
		return nil
	}
	p := build(t)
	slot.Store(p)
	return p
}

// Errors returned by Lookup. Callers map them to reason codes with errors.Is.
var (
	// ErrIssuerUnknown: no configured source serves this issuer.
	ErrIssuerUnknown = errors.New("keys: issuer not accepted")
	// ErrKeyUnknown: the issuer has usable keys, but none with this kid
	// (or, without kid, not exactly one that fits the algorithm).
	ErrKeyUnknown = errors.New("keys: unknown key")
	// ErrUnavailable: the issuer has no usable keys at all (never fetched
	// successfully, or past the maximum staleness).
	ErrUnavailable = errors.New("keys: no usable keys")
	// ErrKeyMismatch: the issuer has a key with the token's kid, but it does
	// not fit the token's alg (the JWK pins another alg, or the key type or
	// curve does not suit it). It wraps ErrKeyUnknown, so callers that only
	// know ErrKeyUnknown still refuse the token; test for ErrKeyMismatch
	// first to report it as an algorithm mismatch.
	ErrKeyMismatch = fmt.Errorf("%w: the key with this kid does not fit the algorithm", ErrKeyUnknown)
)

// Fits reports whether the key may verify a JWS signed with alg: the JWK's
// own alg (when it pins one) must equal alg, and alg must suit the key type
// and curve. HMAC algorithms fit only keys with a secret at least as long as
// the hash output (RFC 7518 §3.2). "none" and unknown algorithms never fit.
func (k *Key) Fits(alg string) bool {
	if k == nil || (k.Alg != "" && k.Alg != alg) {
		return false
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return k.Kty == "RSA" && k.Public != nil
	case "ES256":
		return k.Kty == "EC" && k.Crv == "P-256" && k.Public != nil
	case "ES384":
		return k.Kty == "EC" && k.Crv == "P-384" && k.Public != nil
	case "ES512":
		return k.Kty == "EC" && k.Crv == "P-521" && k.Public != nil
	case "EdDSA", "Ed25519":
		return k.Kty == "OKP" && k.Crv == "Ed25519" && k.Public != nil
	case "HS256":
		return k.Kty == "oct" && len(k.Secret) >= 32
	case "HS384":
		return k.Kty == "oct" && len(k.Secret) >= 48
	case "HS512":
		return k.Kty == "oct" && len(k.Secret) >= 64
	}
	return false
}

// FromPublic checks a Go public key (*rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey) as a fetched key is checked (RSA size and exponent,
// curve, point on the curve) and wraps it in a Key with its kty and crv
// set. DPoP proofs carry their key in the header and use it.
func FromPublic(pub any) (*Key, error) { return publicKey(pub) }
