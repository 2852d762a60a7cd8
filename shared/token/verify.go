package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"math/big"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/keys"
)

var errBadSignature = &Error{Reason: decision.SignatureInvalid, Msg: "signature does not verify"}

// Verify checks the signature of signingInput with key k under algorithm a.
// The caller has checked a.Fits(k). It allocates only what the standard
// library's verifiers allocate.
func (a *Algorithm) Verify(k *keys.Key, signingInput string, sig []byte) *Error {
	if err := a.Fits(k); err != nil {
		return err
	}
	switch a.fam {
	case famHMAC:
		var h hash.Hash
		switch a.hash.Size() {
		case 32:
			h = hmac.New(sha256.New, k.Secret)
		case 48:
			h = hmac.New(sha512.New384, k.Secret)
		default:
			h = hmac.New(sha512.New, k.Secret)
		}
		h.Write(bytesOf(signingInput))
		var buf [64]byte
		if !hmac.Equal(h.Sum(buf[:0]), sig) {
			return errBadSignature
		}
		return nil
	case famRSA, famPSS:
		pub := k.Public.(*rsa.PublicKey)
		if len(sig) != pub.Size() {
			return errBadSignature
		}
		var digest [64]byte
		d := sum(a, signingInput, digest[:0])
		var err error
		if a.fam == famRSA {
			err = rsa.VerifyPKCS1v15(pub, a.hash, d, sig)
		} else {
			err = rsa.VerifyPSS(pub, a.hash, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash})
		}
		if err != nil {
			return errBadSignature
		}
		return nil
	case famECDSA:
		// JWS carries R||S, each exactly the curve size (RFC 7518 §3.4);
		// a DER signature or any other length is refused.
		if len(sig) != 2*a.size {
			return errBadSignature
		}
		pub := k.Public.(*ecdsa.PublicKey)
		r := new(big.Int).SetBytes(sig[:a.size])
		s := new(big.Int).SetBytes(sig[a.size:])
		if r.Sign() == 0 || s.Sign() == 0 {
			return errBadSignature
		}
		var digest [64]byte
		if !ecdsa.Verify(pub, sum(a, signingInput, digest[:0]), r, s) {
			return errBadSignature
		}
		return nil
	case famEdDSA:
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(k.Public.(ed25519.PublicKey), bytesOf(signingInput), sig) {
			return errBadSignature
		}
		return nil
	}
	return fail(decision.AlgorithmNotAllowed, "algorithm %s is not supported", a.Name)
}

// sum hashes the signing input without allocating on the heap.
func sum(a *Algorithm, in string, dst []byte) []byte {
	switch a.hash.Size() {
	case 32:
		s := sha256.Sum256(bytesOf(in))
		return append(dst, s[:]...)
	case 48:
		s := sha512.Sum384(bytesOf(in))
		return append(dst, s[:]...)
	default:
		s := sha512.Sum512(bytesOf(in))
		return append(dst, s[:]...)
	}
}
