package hardening

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Segment encodes one token segment (unpadded base64url).
func Segment(b []byte) string { return b64(b) }

// SignRaw signs header and payload exactly as given (any bytes, not
// re-encoded) with k: RS256 (PKCS#1 v1.5) or ES256 (raw R||S). The
// header's alg is whatever the bytes say; only k decides how it is signed.
func SignRaw(k *SigningKey, header, payload []byte) (string, error) {
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	switch {
	case k.RSA != nil:
		sig, err := rsa.SignPKCS1v15(rand.Reader, k.RSA, crypto.SHA256, sum[:])
		if err != nil {
			return "", err
		}
		return input + "." + b64(sig), nil
	case k.EC != nil:
		r, s, err := ecdsa.Sign(rand.Reader, k.EC, sum[:])
		if err != nil {
			return "", err
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return input + "." + b64(sig), nil
	}
	return "", errors.New("hardening: key has no private part")
}

// SignES256DER signs like SignRaw but with an ASN.1 DER ECDSA signature,
// the encoding JWS forbids (RFC 7518 §3.4).
func SignES256DER(k *SigningKey, header, payload []byte) (string, error) {
	if k.EC == nil {
		return "", errors.New("hardening: not an EC key")
	}
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := ecdsa.SignASN1(rand.Reader, k.EC, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// SignHS256 signs header and payload with HMAC-SHA256 under secret (for
// example an RSA public key's bytes, the classic key-confusion attack).
func SignHS256(secret, header, payload []byte) string {
	input := b64(header) + "." + b64(payload)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

// Unsigned joins header and payload with the given signature segment
// (possibly empty), for alg "none" style tokens.
func Unsigned(header, payload []byte, sig string) string {
	return b64(header) + "." + b64(payload) + "." + sig
}

// SignatureOf returns a compact token's last segment.
func SignatureOf(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return ""
	}
	return tok[i+1:]
}

// MustJSON encodes v with encoding/json and panics on error (test input).
func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Header is the protected header {"alg":alg,"kid":kid,"typ":"JWT"} plus
// extra raw members (each `"name":value`), as raw JSON.
func Header(alg, kid string, extra ...string) []byte {
	var sb strings.Builder
	sb.WriteString(`{"alg":`)
	sb.Write(MustJSON(alg))
	if kid != "" {
		sb.WriteString(`,"kid":`)
		sb.Write(MustJSON(kid))
	}
	sb.WriteString(`,"typ":"JWT"`)
	for _, e := range extra {
		sb.WriteString(",")
		sb.WriteString(e)
	}
	sb.WriteString("}")
	return []byte(sb.String())
}
