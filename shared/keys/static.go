package keys

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/jwtgate/jwtgate/shared/config"
)

// minSecretBytes is the shortest HMAC secret accepted (HS256 needs 32 bytes;
// HS384 and HS512 need 48 and 64, which Key.Fits checks per token).
const minSecretBytes = 32

// staticKeys converts one configured key into Keys. Errors describe the
// problem without quoting key material.
func staticKeys(sk config.StaticKey) ([]*Key, error) {
	kinds := 0
	for _, set := range []bool{len(sk.JWKS) > 0, len(sk.PEM) > 0, sk.N != "" || sk.E != "", len(sk.Secret) > 0} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errors.New("give exactly one of a JWKS, a PEM key, an RSA n/e pair or a secret")
	}
	var ks []*Key
	switch {
	case len(sk.JWKS) > 0:
		if sk.KID != "" {
			return nil, errors.New("a kid cannot be given for a JWKS (each key carries its own)")
		}
		set, err := parseJWKS(sk.JWKS, true)
		if err != nil {
			return nil, err
		}
		if len(set.Skipped) > 0 {
			s := set.Skipped[0]
			return nil, fmt.Errorf("JWKS holds an unusable key (kid %q): %s", s.KID, s.Reason)
		}
		if set.PrivateMaterial > 0 {
			return nil, errors.New("JWKS holds private key material; configure public keys only")
		}
		if len(set.Keys) == 0 {
			return nil, errors.New("JWKS holds no keys")
		}
		oct, asym := 0, 0
		for _, k := range set.Keys {
			if k.Kty == "oct" {
				oct++
			} else {
				asym++
			}
		}
		if oct > 0 && asym > 0 {
			return nil, errors.New("JWKS mixes symmetric and asymmetric keys; configure HMAC secrets on their own")
		}
		ks = set.Keys
	case len(sk.PEM) > 0:
		pks, err := pemKeys(sk.PEM)
		if err != nil {
			return nil, err
		}
		if sk.KID != "" && len(pks) > 1 {
			return nil, errors.New("a kid was given for a PEM with several keys")
		}
		ks = pks
	case sk.N != "" || sk.E != "":
		k, err := rsaFromNE(sk.N, sk.E)
		if err != nil {
			return nil, err
		}
		ks = []*Key{k}
	default:
		if len(sk.Secret) < minSecretBytes {
			return nil, fmt.Errorf("HMAC secret of %d bytes is shorter than %d bytes", len(sk.Secret), minSecretBytes)
		}
		ks = []*Key{{Kty: "oct", Secret: append([]byte(nil), sk.Secret...)}}
	}
	for _, k := range ks {
		k.Static = true
		if sk.KID != "" {
			k.ID = sk.KID
		}
		if sk.Alg != "" {
			if k.Alg != "" && k.Alg != sk.Alg {
				return nil, fmt.Errorf("alg %q conflicts with the key's alg %q", clip(sk.Alg, 16), k.Alg)
			}
			k.Alg = sk.Alg
			if !k.Fits(sk.Alg) {
				return nil, fmt.Errorf("alg %q does not fit a %s key", clip(sk.Alg, 16), describe(k))
			}
		}
	}
	return ks, nil
}

// pemKeys reads every PEM block: PUBLIC KEY (PKIX), RSA PUBLIC KEY (PKCS#1)
// or CERTIFICATE. Private keys are refused: configuration holds public keys.
func pemKeys(data []byte) ([]*Key, error) {
	var ks []*Key
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var pub any
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			c, err = x509.ParseCertificate(b.Bytes)
			if err == nil {
				pub = c.PublicKey
			}
		default:
			if strings.Contains(b.Type, "PRIVATE") {
				return nil, errors.New("PEM holds a private key; configure the public key")
			}
			return nil, fmt.Errorf("unsupported PEM block %q", clip(b.Type, 32))
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: cannot parse", b.Type)
		}
		k, err := publicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", b.Type, err)
		}
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		return nil, errors.New("no PEM block found")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("data after the last PEM block")
	}
	return ks, nil
}

// rsaFromNE builds an RSA key from base64url modulus and exponent, as in an
// APIM <key n="…" e="…"/>, read with config.DecodeBase64 (padding and the
// standard alphabet are tolerated, mixed alphabets are not).
func rsaFromNE(n64, e64 string) (*Key, error) {
	n, err := config.DecodeBase64(n64)
	if err != nil || len(n) == 0 {
		return nil, errors.New("RSA n is not base64url")
	}
	e, err := config.DecodeBase64(e64)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("RSA e is not a base64url number of at most 4 bytes")
	}
	var ev int
	for _, b := range e {
		ev = ev<<8 | int(b)
	}
	return publicKey(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev})
}
