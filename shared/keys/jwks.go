package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Limits on what a key set may hold.
const (
	// maxKeysPerSet bounds the work one JWKS document can cause.
	maxKeysPerSet = 256
	// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
	minRSABits = 2048
	// maxRSABits bounds verification cost (a 16 kbit key is a cheap DoS).
	maxRSABits = 8192
)

// skipped describes one key left out of a set, for logs and tests. It never
// holds key material.
type skipped struct {
	KID    string
	Reason string
}

// parsedSet is the result of parsing one JWKS document.
type parsedSet struct {
	Keys    []*Key
	Skipped []skipped
	// PrivateMaterial counts keys that carried private parts; only their
	// public part was kept.
	PrivateMaterial int
}

// parseJWKS parses a JSON Web Key Set strictly and converts each usable key
// to a Go crypto key. The document must be one JSON object whose "keys"
// member is an array of objects; anything else (null, trailing data,
// duplicate member names, wrong types) is an error for the whole document.
// A key that cannot be used is skipped and reported, not fatal:
// unknown or unsupported kty, use other than "sig", key_ops without
// "verify", an alg that does not fit the key, RSA below 2048 (or above 8192)
// bits, an even or tiny exponent, a ROCA-weak modulus, an invalid EC point,
// and every key of a kid that appears more than once (the set is ambiguous
// about which one is meant, so none of them is trusted).
//
// Symmetric keys (kty "oct") are kept only when allowOct is true, which the
// store sets for key sets given in configuration, never for fetched ones.
func parseJWKS(data []byte, allowOct bool) (*parsedSet, error) {
	top, err := strictObject(data)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	rawKeys, ok := top["keys"]
	if !ok {
		return nil, errors.New(`JWKS: no "keys" member`)
	}
	if len(rawKeys) == 0 || rawKeys[0] != '[' {
		return nil, errors.New(`JWKS: "keys" is not an array`)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(rawKeys, &elems); err != nil {
		return nil, fmt.Errorf(`JWKS: "keys": %w`, err)
	}
	if len(elems) > maxKeysPerSet {
		return nil, fmt.Errorf("JWKS: %d keys, more than the limit of %d", len(elems), maxKeysPerSet)
	}
	out := &parsedSet{}
	// kids counts every entry's kid, usable or not: a kid shared with a
	// skipped entry is still ambiguous.
	kids := make(map[string]int, len(elems))
	for i, raw := range elems {
		if kid := peekKID(raw); kid != "" {
			kids[kid]++
		}
		k, private, err := convertJWK(raw, allowOct)
		if err != nil {
			out.Skipped = append(out.Skipped, skipped{KID: clip(peekKID(raw), 64), Reason: fmt.Sprintf("key %d: %v", i, err)})
			continue
		}
		if private {
			out.PrivateMaterial++
		}
		out.Keys = append(out.Keys, k)
	}
	out.Keys, out.Skipped = dropDuplicateKIDs(out.Keys, out.Skipped, kids)
	return out, nil
}

// dropDuplicateKIDs removes every key whose non-empty kid is shared with
// another entry of the set.
func dropDuplicateKIDs(ks []*Key, skips []skipped, count map[string]int) ([]*Key, []skipped) {
	kept := ks[:0]
	for _, k := range ks {
		if n := count[k.ID]; k.ID != "" && n > 1 {
			skips = append(skips, skipped{KID: clip(k.ID, 64), Reason: fmt.Sprintf("kid is used by %d keys in the set; all of them are dropped", n)})
			continue
		}
		kept = append(kept, k)
	}
	return kept, skips
}

// peekKID returns the key's kid for a log line when it is a plain string.
func peekKID(raw []byte) string {
	var v struct {
		KID any `json:"kid"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	s, _ := v.KID.(string)
	return s
}

// convertJWK turns one JWK into a Key. private reports that the JWK carried
// private material (only the public part is kept).
func convertJWK(raw []byte, allowOct bool) (k *Key, private bool, err error) {
	m, err := strictObject(raw)
	if err != nil {
		return nil, false, err
	}
	kty, err := optString(m, "kty")
	if err != nil {
		return nil, false, err
	}
	kid, err := optString(m, "kid")
	if err != nil {
		return nil, false, err
	}
	alg, err := optString(m, "alg")
	if err != nil {
		return nil, false, err
	}
	use, err := optString(m, "use")
	if err != nil {
		return nil, false, err
	}
	issuer, err := optString(m, "issuer")
	if err != nil {
		return nil, false, err
	}
	if use != "" && use != "sig" {
		return nil, false, fmt.Errorf("use %q is not \"sig\"", clip(use, 16))
	}
	if ops, ok := m["key_ops"]; ok {
		var list []string
		if err := json.Unmarshal(ops, &list); err != nil || list == nil {
			return nil, false, errors.New(`"key_ops" is not an array of strings`)
		}
		verify := false
		for _, op := range list {
			verify = verify || op == "verify"
		}
		if !verify {
			return nil, false, errors.New(`"key_ops" does not allow "verify"`)
		}
	}

	switch kty {
	case "RSA", "EC", "OKP":
		k, private, err = convertAsymmetric(raw)
	case "oct":
		if !allowOct {
			return nil, false, errors.New(`symmetric key (kty "oct") in a fetched key set; HMAC secrets come only from configuration`)
		}
		k, err = convertOct(m)
	case "":
		return nil, false, errors.New(`no "kty"`)
	default:
		return nil, false, fmt.Errorf("unsupported kty %q", clip(kty, 16))
	}
	if err != nil {
		return nil, false, err
	}
	if k.Kty != kty {
		return nil, false, fmt.Errorf("kty %q does not match the key material", clip(kty, 16))
	}
	k.ID = kid
	k.Issuer = issuer
	if alg != "" {
		k.Alg = alg
		if !k.Fits(alg) {
			return nil, false, fmt.Errorf("alg %q does not fit a %s key", clip(alg, 16), describe(k))
		}
	}
	return k, private, nil
}

// convertAsymmetric parses an RSA, EC or OKP JWK with jwx and exports its
// public part as a Go crypto key.
func convertAsymmetric(raw []byte) (*Key, bool, error) {
	jk, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, false, fmt.Errorf("not a valid JWK: %s", scrub(err))
	}
	private, err := jwk.IsPrivateKey(jk)
	if err != nil {
		return nil, false, errors.New("not a valid JWK")
	}
	pub, err := jk.PublicKey()
	if err != nil {
		return nil, false, errors.New("no public key in the JWK")
	}
	if err := pub.Validate(); err != nil {
		return nil, false, fmt.Errorf("invalid public key: %v", scrub(err))
	}
	var rawPub any
	if err := jwk.Export(pub, &rawPub); err != nil {
		return nil, false, errors.New("cannot convert the JWK to a public key")
	}
	k, err := publicKey(rawPub)
	if err != nil {
		return nil, false, err
	}
	return k, private, nil
}

// scrub keeps an error message short; jwx validation errors name fields,
// never values.
func scrub(err error) string { return clip(err.Error(), 240) }

// convertOct decodes a configured symmetric JWK.
func convertOct(m map[string]json.RawMessage) (*Key, error) {
	s, err := optString(m, "k")
	if err != nil {
		return nil, err
	}
	secret, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New(`"k" is not base64url`)
	}
	if len(secret) < 32 {
		return nil, fmt.Errorf("symmetric key of %d bytes is shorter than 32 bytes", len(secret))
	}
	return &Key{Kty: "oct", Secret: secret}, nil
}

// publicKey checks a Go public key and wraps it in a Key with its kty and
// crv set. It is shared by JWKS, PEM and n/e keys.
func publicKey(pub any) (*Key, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if err := checkRSA(p); err != nil {
			return nil, err
		}
		k := &Key{Kty: "RSA", Public: p}
		k.RSAVerifier() // prepared once here, not on the first token
		return k, nil
	case *ecdsa.PublicKey:
		if p.Curve == nil {
			return nil, errors.New("EC key without a curve")
		}
		name := p.Curve.Params().Name
		switch name {
		case "P-256", "P-384", "P-521":
		default:
			return nil, fmt.Errorf("unsupported curve %q", clip(name, 16))
		}
		if _, err := p.ECDH(); err != nil { // refuses points off the curve and the point at infinity
			return nil, errors.New("EC point is not on the curve")
		}
		return &Key{Kty: "EC", Crv: name, Public: p}, nil
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("Ed25519 key of %d bytes", len(p))
		}
		k := &Key{Kty: "OKP", Crv: "Ed25519", Public: p}
		k.Ed25519Verifier() // the point decoded once here
		return k, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", pub)
}

// checkRSA refuses RSA keys that are weak or costly to use.
func checkRSA(p *rsa.PublicKey) error {
	if p.N == nil || p.N.Sign() <= 0 {
		return errors.New("RSA key without a modulus")
	}
	bits := p.N.BitLen()
	if bits < minRSABits {
		return fmt.Errorf("RSA key of %d bits is shorter than %d bits", bits, minRSABits)
	}
	if bits > maxRSABits {
		return fmt.Errorf("RSA key of %d bits is longer than %d bits", bits, maxRSABits)
	}
	if p.N.Bit(0) == 0 {
		return errors.New("RSA modulus is even")
	}
	if p.E < 3 || p.E%2 == 0 {
		return fmt.Errorf("RSA exponent %d is not an odd number of at least 3", p.E)
	}
	if rocaWeak(p.N) {
		return errors.New("RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
	}
	return nil
}

// rocaPrimes are the small primes of the ROCA fingerprint test.
var rocaPrimes = []int64{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73,
	79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167}

// rocaGroups[i] marks the residues in the subgroup generated by 65537
// modulo rocaPrimes[i].
var rocaGroups = func() [][]bool {
	g := make([][]bool, len(rocaPrimes))
	for i, p := range rocaPrimes {
		g[i] = make([]bool, p)
		x := int64(1)
		for {
			g[i][x] = true
			x = x * (65537 % p) % p
			if x == 1 {
				break
			}
		}
	}
	return g
}()

// rocaWeak reports whether n has the fingerprint of a modulus generated by
// the Infineon library affected by ROCA: n mod p lies in the subgroup
// generated by 65537 for every small prime p. A random modulus has this
// property with negligible probability.
func rocaWeak(n *big.Int) bool {
	var r, m big.Int
	for i, p := range rocaPrimes {
		m.SetInt64(p)
		r.Mod(n, &m)
		if !rocaGroups[i][r.Int64()] {
			return false
		}
	}
	return true
}

// describe names a key's type for error messages.
func describe(k *Key) string {
	if k.Crv != "" {
		return k.Kty + "/" + k.Crv
	}
	return k.Kty
}

// strictObject decodes one JSON object into its members, refusing
// duplicate member names, a top level that is not an object, and data after
// the object.
func strictObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not valid JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("not valid JSON")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("not valid JSON")
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("duplicate member %q", clip(name, 32))
		}
		m[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, errors.New("not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return m, nil
}

// optString reads an optional string member; a member of another type
// (including null) is an error.
func optString(m map[string]json.RawMessage, name string) (string, error) {
	raw, ok := m[name]
	if !ok {
		return "", nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", fmt.Errorf("%q is not a string", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q is not a string", name)
	}
	return s, nil
}

// clip shortens s for messages and logs.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
