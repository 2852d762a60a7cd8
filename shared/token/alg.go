package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/keys"
)

// family groups algorithms that share a key type and verification method.
type family uint8

const (
	famHMAC family = iota + 1
	famRSA
	famPSS
	famECDSA
	famEdDSA
)

// Algorithm describes one JWS algorithm this package can verify.
type Algorithm struct {
	Name  string
	fam   family
	hash  crypto.Hash
	curve elliptic.Curve // ECDSA only
	size  int            // ECDSA: bytes per coordinate; EdDSA: signature size
}

var algorithms = map[string]*Algorithm{
	"HS256": {Name: "HS256", fam: famHMAC, hash: crypto.SHA256},
	"HS384": {Name: "HS384", fam: famHMAC, hash: crypto.SHA384},
	"HS512": {Name: "HS512", fam: famHMAC, hash: crypto.SHA512},
	"RS256": {Name: "RS256", fam: famRSA, hash: crypto.SHA256},
	"RS384": {Name: "RS384", fam: famRSA, hash: crypto.SHA384},
	"RS512": {Name: "RS512", fam: famRSA, hash: crypto.SHA512},
	"PS256": {Name: "PS256", fam: famPSS, hash: crypto.SHA256},
	"PS384": {Name: "PS384", fam: famPSS, hash: crypto.SHA384},
	"PS512": {Name: "PS512", fam: famPSS, hash: crypto.SHA512},
	"ES256": {Name: "ES256", fam: famECDSA, hash: crypto.SHA256, curve: elliptic.P256(), size: 32},
	"ES384": {Name: "ES384", fam: famECDSA, hash: crypto.SHA384, curve: elliptic.P384(), size: 48},
	"ES512": {Name: "ES512", fam: famECDSA, hash: crypto.SHA512, curve: elliptic.P521(), size: 66},
	"EdDSA": {Name: "EdDSA", fam: famEdDSA, size: ed25519.SignatureSize},
}

// LookupAlgorithm returns the algorithm with this exact (case-sensitive)
// name, or nil. "none" and unknown names return nil.
func LookupAlgorithm(name string) *Algorithm { return algorithms[name] }

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// Fits reports whether key k may verify tokens of this algorithm: the key
// type and curve must match, and a JWK that pins an alg must pin this one.
// HMAC needs a configured secret; a fetched key never has one.
func (a *Algorithm) Fits(k *keys.Key) *Error {
	if k.Alg != "" && k.Alg != a.Name {
		return fail(decision.KeyMismatch, "key %q is for %s, token says %s", k.ID, k.Alg, a.Name)
	}
	ok := false
	switch a.fam {
	case famHMAC:
		ok = k.Kty == "oct" && k.Static && len(k.Secret) > 0
	case famRSA, famPSS:
		pub, isRSA := k.Public.(*rsa.PublicKey)
		ok = isRSA && pub.N != nil && pub.N.BitLen() >= minRSABits
	case famECDSA:
		pub, isEC := k.Public.(*ecdsa.PublicKey)
		ok = isEC && pub.Curve == a.curve
	case famEdDSA:
		pub, isEd := k.Public.(ed25519.PublicKey)
		ok = isEd && len(pub) == ed25519.PublicKeySize
	}
	if !ok {
		return fail(decision.KeyMismatch, "key %q does not fit %s", k.ID, a.Name)
	}
	return nil
}
