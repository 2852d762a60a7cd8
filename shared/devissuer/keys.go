package devissuer

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// GenerateKey generates an RS256 2048-bit private JWK with alg, use=sig and
// a thumbprint kid.
func GenerateKey() (jwk.Key, error) { return GenerateKeyFor("RS256") }

// GenerateKeyFor generates a private JWK for a signature algorithm: RS*/PS*
// (RSA 2048), ES256/ES384/ES512 (P-256/384/521), EdDSA (Ed25519), or
// HS256/384/512 (a 256/384/512-bit secret, kty oct).
func GenerateKeyFor(alg string) (jwk.Key, error) {
	var raw any
	var err error
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		raw, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		raw, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	case "HS256", "HS384", "HS512":
		n := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg]
		b := make([]byte, n)
		_, err = rand.Read(b)
		raw = b
	default:
		return nil, fmt.Errorf("devissuer: cannot generate a key for algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("devissuer: generate %s key: %w", alg, err)
	}
	return ImportKey(raw, alg)
}

// ImportKey wraps a Go private key (*rsa.PrivateKey, *ecdsa.PrivateKey,
// ed25519.PrivateKey or an HMAC []byte) as a JWK with alg, use=sig and a
// thumbprint kid.
func ImportKey(raw any, alg string) (jwk.Key, error) {
	k, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("devissuer: import key: %w", err)
	}
	sa, ok := jwa.LookupSignatureAlgorithm(alg)
	if !ok {
		return nil, fmt.Errorf("devissuer: unknown algorithm %q", alg)
	}
	if err := k.Set(jwk.AlgorithmKey, sa); err != nil {
		return nil, fmt.Errorf("devissuer: set alg: %w", err)
	}
	if err := k.Set(jwk.KeyUsageKey, "sig"); err != nil {
		return nil, fmt.Errorf("devissuer: set use: %w", err)
	}
	if err := jwk.AssignKeyID(k); err != nil {
		return nil, fmt.Errorf("devissuer: assign kid: %w", err)
	}
	return k, nil
}

// LoadKey reads a private JWK (or a JWKS holding exactly one private key)
// from a file. The key must carry alg and kid.
func LoadKey(path string) (jwk.Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devissuer: read key: %w", err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("devissuer: %s: %w", path, err)
	}
	return k, nil
}

// ParseKey parses a private JWK (or a JWKS holding exactly one key) and
// checks it has alg, kid and private material.
func ParseKey(b []byte) (jwk.Key, error) {
	var probe struct {
		Keys json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	var k jwk.Key
	if probe.Keys != nil {
		set, err := jwk.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("parse key set: %w", err)
		}
		if set.Len() != 1 {
			return nil, fmt.Errorf("key set holds %d keys, want exactly 1", set.Len())
		}
		k, _ = set.Key(0)
	} else {
		var err error
		if k, err = jwk.ParseKey(b); err != nil {
			return nil, fmt.Errorf("parse key: %w", err)
		}
	}
	if err := checkPrivate(k); err != nil {
		return nil, err
	}
	return k, nil
}

// MarshalKey encodes a private JWK as indented JSON (for key files).
func MarshalKey(k jwk.Key) ([]byte, error) {
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("devissuer: marshal key: %w", err)
	}
	return append(b, '\n'), nil
}

func checkPrivate(k jwk.Key) error {
	if keyID(k) == "" {
		return errors.New("devissuer: key has no kid")
	}
	if keyAlg(k) == "" {
		return fmt.Errorf("devissuer: key %q has no alg", keyID(k))
	}
	if k.KeyType() == jwa.OctetSeq() {
		return nil
	}
	priv, err := jwk.IsPrivateKey(k)
	if err != nil {
		return fmt.Errorf("devissuer: key %q: %w", keyID(k), err)
	}
	if !priv {
		return fmt.Errorf("devissuer: key %q is a public key; signing needs the private key", keyID(k))
	}
	return nil
}

// rawPrivate returns the Go private key behind a JWK.
func rawPrivate(k jwk.Key) (any, error) {
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, fmt.Errorf("devissuer: export key %q: %w", keyID(k), err)
	}
	return raw, nil
}
