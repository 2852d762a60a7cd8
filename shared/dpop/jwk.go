package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"

	"github.com/jwtgate/jwtgate/shared/jsonstrict"
	"github.com/jwtgate/jwtgate/shared/keys"
)

// privateMembers are JWK members that carry private key material (RFC 7518
// §6.2.2, §6.3.2, §6.4; RFC 8037 §2). A proof's jwk must have none.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// publicJWK converts a proof's jwk to a key and computes its RFC 7638
// thumbprint. Only the members the thumbprint covers make the key, each a
// strict base64url string of the exact size the key type needs.
func publicJWK(j jsonstrict.Object) (*keys.Key, string, error) {
	for _, m := range privateMembers {
		if j.Has(m) {
			return nil, "", errors.New("jwk holds private key material")
		}
	}
	kty, err := member(j, "kty")
	if err != nil {
		return nil, "", err
	}
	var pub any
	var canon []byte // the RFC 7638 canonical JSON: required members, sorted
	switch kty {
	case "EC":
		crv, x, y, err := members3(j, "crv", "x", "y")
		if err != nil {
			return nil, "", err
		}
		var curve elliptic.Curve
		switch crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, "", errors.New("unsupported EC curve")
		}
		size := (curve.Params().BitSize + 7) / 8
		xb, err1 := coordinate(x, size)
		yb, err2 := coordinate(y, size)
		if err1 != nil || err2 != nil {
			return nil, "", errors.New("EC x or y is not a base64url coordinate of the curve's size")
		}
		point := make([]byte, 0, 1+2*size)
		point = append(append(append(point, 4), xb...), yb...)
		k, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, "", errors.New("EC point is not on the curve")
		}
		pub = k
		canon = jsonMembers(nil, "crv", crv, "kty", kty, "x", x, "y", y)
	case "RSA":
		e, n, err := members2(j, "e", "n")
		if err != nil {
			return nil, "", err
		}
		nb, err1 := base64.RawURLEncoding.Strict().DecodeString(n)
		eb, err2 := base64.RawURLEncoding.Strict().DecodeString(e)
		if err1 != nil || err2 != nil || len(nb) == 0 || nb[0] == 0 || len(eb) == 0 || len(eb) > 4 || eb[0] == 0 {
			return nil, "", errors.New("RSA n or e is not a minimal base64url integer")
		}
		ev := 0
		for _, b := range eb {
			ev = ev<<8 | int(b)
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: ev}
		canon = jsonMembers(nil, "e", e, "kty", kty, "n", n)
	case "OKP":
		crv, x, err := members2(j, "crv", "x")
		if err != nil {
			return nil, "", err
		}
		if crv != "Ed25519" {
			return nil, "", errors.New("unsupported OKP curve")
		}
		xb, err := coordinate(x, ed25519.PublicKeySize)
		if err != nil {
			return nil, "", errors.New("OKP x is not a base64url Ed25519 key")
		}
		pub = ed25519.PublicKey(xb)
		canon = jsonMembers(nil, "crv", crv, "kty", kty, "x", x)
	default:
		return nil, "", errors.New("unsupported kty (EC, RSA or OKP)")
	}
	k, err := keys.FromPublic(pub)
	if err != nil {
		return nil, "", err
	}
	if alg, ok := j.Get("alg"); ok {
		a, ok := alg.String()
		if !ok {
			return nil, "", errors.New("alg is not a string")
		}
		k.Alg = a
	}
	sum := sha256.Sum256(canon)
	return k, base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint (base64url) of a
// public JWK given as JSON, as an access token's cnf.jkt carries it.
func Thumbprint(jwk []byte) (string, error) {
	j, err := jsonstrict.ParseObject(jwk)
	if err != nil {
		return "", err
	}
	_, t, err := publicJWK(j)
	return t, err
}

func member(j jsonstrict.Object, name string) (string, error) {
	v, ok := j.Get(name)
	if !ok {
		return "", errors.New("no " + name)
	}
	s, ok := v.String()
	if !ok || s == "" {
		return "", errors.New(name + " is not a non-empty string")
	}
	return s, nil
}

func members2(j jsonstrict.Object, a, b string) (string, string, error) {
	va, err := member(j, a)
	if err != nil {
		return "", "", err
	}
	vb, err := member(j, b)
	return va, vb, err
}

func members3(j jsonstrict.Object, a, b, c string) (string, string, string, error) {
	va, vb, err := members2(j, a, b)
	if err != nil {
		return "", "", "", err
	}
	vc, err := member(j, c)
	return va, vb, vc, err
}

// coordinate decodes strict base64url of exactly size bytes.
func coordinate(s string, size int) ([]byte, error) {
	if len(s) != base64.RawURLEncoding.EncodedLen(size) {
		return nil, errors.New("wrong length")
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// jsonMembers writes {"k1":"v1",...} without whitespace. Values are
// base64url text or fixed names, so nothing needs escaping.
func jsonMembers(dst []byte, kv ...string) []byte {
	dst = append(dst, '{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(append(append(append(append(dst, '"'), kv[i]...), `":"`...), kv[i+1]...), '"')
	}
	return append(dst, '}')
}
