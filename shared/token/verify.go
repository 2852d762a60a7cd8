package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

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
			// The key's prepared form: crypto/rsa's check without
			// recomputing the modulus' constants on every token.
			err = k.RSAVerifier().VerifyPKCS1v15(a.hash, d, sig)
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
		r, s := trimInt(sig[:a.size]), trimInt(sig[a.size:])
		if len(r) == 0 || len(s) == 0 {
			return errBadSignature
		}
		var digest [64]byte
		var der [2*(66+3) + 3]byte
		if !ecdsa.VerifyASN1(k.Public.(*ecdsa.PublicKey), sum(a, signingInput, digest[:0]), derSignature(der[:0], r, s)) {
			return errBadSignature
		}
		return nil
	case famEdDSA:
		// The key's point decoded once, then crypto/ed25519's check.
		if len(sig) != ed25519.SignatureSize || !k.Ed25519Verifier().Verify(bytesOf(signingInput), sig) {
			return errBadSignature
		}
		return nil
	}
	return fail(decision.AlgorithmNotAllowed, "algorithm %s is not supported", a.Name)
}

// trimInt drops the leading zero bytes of a big-endian integer.
func trimInt(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// derSignature encodes r and s (big-endian, no leading zeros, non-empty) as
// the ASN.1 SEQUENCE of two INTEGERs that ecdsa.VerifyASN1 takes, without
// going through math/big. Lengths stay below 128 for every JWS curve
// (P-521: at most 2*(2+1+66) = 138 content bytes, so the sequence uses the
// long form then).
func derSignature(dst, r, s []byte) []byte {
	ilen := func(x []byte) int {
		if x[0]&0x80 != 0 {
			return len(x) + 1
		}
		return len(x)
	}
	content := 2 + ilen(r) + 2 + ilen(s)
	dst = append(dst, 0x30)
	if content >= 0x80 {
		dst = append(dst, 0x81)
	}
	dst = append(dst, byte(content))
	for _, x := range [2][]byte{r, s} {
		dst = append(dst, 0x02, byte(ilen(x)))
		if x[0]&0x80 != 0 {
			dst = append(dst, 0)
		}
		dst = append(dst, x...)
	}
	return dst
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
