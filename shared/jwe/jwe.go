// Package jwe decrypts encrypted JWTs: a compact JWE (five segments) whose
// plaintext is the signed JWT (a compact JWS) that the core then validates,
// as Azure API Management's <decryption-keys> does.
//
// Only configured keys are used, and each key fixes what it may decrypt:
// the key-management algorithm comes from the key's type and size (or the
// JWK's "alg"), never from the token alone. Allowed key management: dir,
// RSA-OAEP, RSA-OAEP-256, A128KW, A192KW, A256KW. Allowed content
// encryption: A128CBC-HS256, A192CBC-HS384, A256CBC-HS512, A128GCM, A192GCM,
// A256GCM. Refused by design: RSA1_5 (Bleichenbacher padding oracles, RFC
// 8725 section 3.2), ECDH-ES and the AES-GCM and PBES2 key wraps (not needed
// for APIM parity), "zip" compression (decompression bombs), any "crit"
// header, the JSON serialization, and anything that is not strict base64url
// or strict JSON. The cryptography itself is jwx v3's jwe package.
//
// Errors wrap one of the Err* values (see Reason for the matching decision
// reason code) and never contain key material or token contents beyond a
// short, quoted algorithm name.
package jwe

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/jsonstrict"
	jwxjwa "github.com/lestrrat-go/jwx/v3/jwa"
	jwxjwe "github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// The kinds of failure; every error returned by this package wraps one.
var (
	ErrMalformed  = errors.New("jwe: malformed encrypted token")
	ErrTooLarge   = errors.New("jwe: encrypted token too large")
	ErrAlgorithm  = errors.New("jwe: algorithm not allowed")
	ErrCrit       = errors.New("jwe: critical header not supported")
	ErrNoKey      = errors.New("jwe: no decryption key for this token")
	ErrDecryption = errors.New("jwe: decryption failed")
	ErrConfig     = errors.New("jwe: invalid decryption key")
)

// Reason maps an error from Decrypt to the decision reason code the core
// reports (token_malformed, token_too_large, algorithm_not_allowed,
// crit_unsupported, key_unknown, token_decryption_failed).
func Reason(err error) decision.Reason {
	switch {
	case errors.Is(err, ErrTooLarge):
		return decision.TokenTooLarge
	case errors.Is(err, ErrAlgorithm):
		return decision.AlgorithmNotAllowed
	case errors.Is(err, ErrCrit):
		return decision.CritUnsupported
	case errors.Is(err, ErrNoKey):
		return decision.KeyUnknown
	case errors.Is(err, ErrDecryption):
		return decision.DecryptionFailed
	default:
		return decision.TokenMalformed
	}
}

// Key-management algorithms (the header "alg").
const (
	algDir       = "dir"
	algRSAOAEP   = "RSA-OAEP"
	algRSAOAEP25 = "RSA-OAEP-256"
	algA128KW    = "A128KW"
	algA192KW    = "A192KW"
	algA256KW    = "A256KW"
)

// kwKeyLen is the key size of each AES key wrap.
var kwKeyLen = map[string]int{algA128KW: 16, algA192KW: 24, algA256KW: 32}

// encParams describes an allowed content encryption ("enc").
type encParams struct {
	keyLen, ivLen, tagLen int
}

var encs = map[string]encParams{
	"A128CBC-HS256": {32, 16, 16},
	"A192CBC-HS384": {48, 16, 24},
	"A256CBC-HS512": {64, 16, 32},
	"A128GCM":       {16, 12, 16},
	"A192GCM":       {24, 12, 16},
	"A256GCM":       {32, 12, 16},
}

// MinRSABits is the smallest RSA decryption key accepted.
const MinRSABits = 2048

// Decrypter decrypts compact JWE tokens with a fixed set of configured keys.
// It is safe for concurrent use.
type Decrypter struct {
	keys     []decryptionKey // immutable after NewDecrypter
	maxBytes int
}

// decryptionKey is one configured key and what it may be used for.
type decryptionKey struct {
	kid    string
	secret []byte          // symmetric key (dir or AES key wrap), or nil
	rsa    *rsa.PrivateKey // RSA private key, or nil
	algs   []string        // key-management algorithms this key may be used with
	enc    string          // for a JWK whose "alg" names a content encryption: dir with only this enc
}

// Option adjusts a Decrypter.
type Option func(*Decrypter)

// WithMaxBytes sets the largest compact token Decrypt accepts (default
// config.DefaultMaxTokenBytes).
func WithMaxBytes(n int) Option { return func(d *Decrypter) { d.maxBytes = n } }

// NewDecrypter checks and loads the configured keys. Each key is exactly one
// of: Secret (raw bytes; 16, 24, 32, 48 or 64 long), PEM (an RSA private key,
// PKCS#1 or PKCS#8, at least 2048 bits) or JWK (a private "oct" or "RSA"
// JWK; its "alg", if any, pins the key to that algorithm, and an "alg" that
// names a content encryption such as "A128GCM" means dir with that enc).
//
// A raw secret may be used with dir when its length is the enc's key size
// (16 A128GCM, 24 A192GCM, 32 A128CBC-HS256 or A256GCM, 48 A192CBC-HS384,
// 64 A256CBC-HS512) and with the AES key wrap of its size (16 A128KW,
// 24 A192KW, 32 A256KW). A PEM key may be used with RSA-OAEP and RSA-OAEP-256.
// An error names the key by its position and kid, never its material.
func NewDecrypter(keys []config.DecryptionKey, opts ...Option) (*Decrypter, error) {
	d := &Decrypter{maxBytes: config.DefaultMaxTokenBytes}
	for _, o := range opts {
		o(d)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no decryption keys configured", ErrConfig)
	}
	for i, ck := range keys {
		k, err := loadKey(ck)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d (kid %q): %s", ErrConfig, i+1, ck.KID, err)
		}
		d.keys = append(d.keys, k)
	}
	return d, nil
}

func loadKey(ck config.DecryptionKey) (decryptionKey, error) {
	n := 0
	for _, set := range []bool{len(ck.Secret) > 0, len(ck.PEM) > 0, len(ck.JWK) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return decryptionKey{}, errors.New("exactly one of secret, PEM and JWK must be given")
	}
	switch {
	case len(ck.Secret) > 0:
		return secretKey(ck.KID, ck.Secret)
	case len(ck.PEM) > 0:
		priv, err := parsePEM(ck.PEM)
		if err != nil {
			return decryptionKey{}, err
		}
		return rsaKey(ck.KID, priv)
	default:
		return jwkKey(ck.KID, ck.JWK)
	}
}

func secretKey(kid string, secret []byte) (decryptionKey, error) {
	k := decryptionKey{kid: kid, secret: bytes.Clone(secret)}
	for _, p := range encs {
		if p.keyLen == len(secret) {
			k.algs = []string{algDir}
			break
		}
	}
	for alg, n := range kwKeyLen {
		if n == len(secret) {
			k.algs = append(k.algs, alg)
		}
	}
	if len(k.algs) == 0 {
		return decryptionKey{}, fmt.Errorf("secret is %d bytes; want 16, 24, 32, 48 or 64", len(secret))
	}
	return k, nil
}

func rsaKey(kid string, priv *rsa.PrivateKey) (decryptionKey, error) {
	if priv.N.BitLen() < MinRSABits {
		return decryptionKey{}, fmt.Errorf("RSA key is %d bits; want at least %d", priv.N.BitLen(), MinRSABits)
	}
	if err := priv.Validate(); err != nil {
		return decryptionKey{}, errors.New("RSA private key is inconsistent")
	}
	priv.Precompute()
	return decryptionKey{kid: kid, rsa: priv, algs: []string{algRSAOAEP, algRSAOAEP25}}, nil
}

func parsePEM(data []byte) (*rsa.PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("PEM: no PEM block found")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("PEM: more than one block")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return nil, errors.New("PEM: encrypted private keys are not supported")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("PEM: invalid PKCS#1 RSA private key")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("PEM: invalid PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PEM: %T is not an RSA private key", k)
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("PEM: block type %q is not an RSA private key", block.Type)
	}
}

func jwkKey(kid string, data []byte) (decryptionKey, error) {
	obj, err := jsonstrict.ParseObject(data)
	if err != nil {
		return decryptionKey{}, errors.New("JWK: not a strict JSON object")
	}
	str := func(name string) (string, error) {
		v, ok := obj.Get(name)
		if !ok {
			return "", nil
		}
		s, ok := v.String()
		if !ok {
			return "", fmt.Errorf("JWK: %q is not a string", name)
		}
		return s, nil
	}
	kty, err := str("kty")
	if err != nil {
		return decryptionKey{}, err
	}
	use, err := str("use")
	if err != nil {
		return decryptionKey{}, err
	}
	if use != "" && use != "enc" {
		return decryptionKey{}, fmt.Errorf("JWK: use %q is not \"enc\"", use)
	}
	jkid, err := str("kid")
	if err != nil {
		return decryptionKey{}, err
	}
	switch {
	case kid == "":
		kid = jkid
	case jkid != "" && jkid != kid:
		return decryptionKey{}, errors.New("JWK: kid differs from the configured kid")
	}
	alg, err := str("alg")
	if err != nil {
		return decryptionKey{}, err
	}
	if ops, ok := obj.Get("key_ops"); ok {
		list, ok := ops.Strings()
		if !ok || (!slices.Contains(list, "decrypt") && !slices.Contains(list, "unwrapKey")) {
			return decryptionKey{}, errors.New("JWK: key_ops allow neither decrypt nor unwrapKey")
		}
	}
	key, err := jwk.ParseKey(data)
	if err != nil {
		return decryptionKey{}, errors.New("JWK: cannot parse key")
	}
	var k decryptionKey
	switch kty {
	case "oct":
		var raw []byte
		if err := jwk.Export(key, &raw); err != nil {
			return decryptionKey{}, errors.New("JWK: invalid oct key")
		}
		if k, err = secretKey(kid, raw); err != nil {
			return decryptionKey{}, fmt.Errorf("JWK: %w", err)
		}
	case "RSA":
		var raw any
		if err := jwk.Export(key, &raw); err != nil {
			return decryptionKey{}, errors.New("JWK: invalid RSA key")
		}
		priv, ok := raw.(*rsa.PrivateKey)
		if !ok {
			return decryptionKey{}, errors.New("JWK: not an RSA private key")
		}
		if k, err = rsaKey(kid, priv); err != nil {
			return decryptionKey{}, fmt.Errorf("JWK: %w", err)
		}
	default:
		return decryptionKey{}, fmt.Errorf("JWK: kty %q is not supported (want oct or RSA)", kty)
	}
	if alg == "" {
		return k, nil
	}
	// "alg" pins the key: a key-management algorithm, or (RFC 7520 style)
	// a content encryption meaning dir with that enc.
	if p, ok := encs[alg]; ok && k.secret != nil {
		if p.keyLen != len(k.secret) {
			return decryptionKey{}, fmt.Errorf("JWK: alg %q needs a %d-byte key", alg, p.keyLen)
		}
		k.algs, k.enc = []string{algDir}, alg
		return k, nil
	}
	if !slices.Contains(k.algs, alg) {
		return decryptionKey{}, fmt.Errorf("JWK: alg %q is not allowed for this key", alg)
	}
	k.algs = []string{alg}
	return k, nil
}

// Decrypt checks and decrypts a compact JWE and returns its plaintext (for
// an encrypted JWT, the inner compact JWS, which the caller must then
// validate as any other token).
func (d *Decrypter) Decrypt(compact []byte) ([]byte, error) {
	if len(compact) > d.maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(compact), d.maxBytes)
	}
	var segs [5][]byte
	rest := compact
	for i := 0; i < 4; i++ {
		j := bytes.IndexByte(rest, '.')
		if j < 0 {
			return nil, fmt.Errorf("%w: want 5 dot-separated segments", ErrMalformed)
		}
		segs[i], rest = rest[:j], rest[j+1:]
	}
	if bytes.IndexByte(rest, '.') >= 0 {
		return nil, fmt.Errorf("%w: want 5 dot-separated segments", ErrMalformed)
	}
	segs[4] = rest
	names := [5]string{"header", "encrypted key", "iv", "ciphertext", "tag"}
	var raw [5][]byte
	for i, s := range segs {
		if len(s) == 0 && i != 1 {
			return nil, fmt.Errorf("%w: empty %s", ErrMalformed, names[i])
		}
		b, err := decodeSegment(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not strict base64url", ErrMalformed, names[i])
		}
		raw[i] = b
	}
	hdr, err := jsonstrict.ParseObject(raw[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	alg, err := headerString(hdr, "alg", true)
	if err != nil {
		return nil, err
	}
	enc, err := headerString(hdr, "enc", true)
	if err != nil {
		return nil, err
	}
	kid, err := headerString(hdr, "kid", false)
	if err != nil {
		return nil, err
	}
	if hdr.Has("crit") {
		return nil, fmt.Errorf("%w: no critical extensions are understood", ErrCrit)
	}
	if hdr.Has("zip") {
		return nil, fmt.Errorf("%w: compressed (zip) tokens are refused", ErrAlgorithm)
	}
	ep, ok := encs[enc]
	if !ok {
		return nil, fmt.Errorf("%w: enc %s", ErrAlgorithm, quoteShort(enc))
	}
	if !allowedAlg(alg) {
		return nil, fmt.Errorf("%w: alg %s", ErrAlgorithm, quoteShort(alg))
	}
	if len(raw[2]) != ep.ivLen {
		return nil, fmt.Errorf("%w: iv is %d bytes, %s needs %d", ErrMalformed, len(raw[2]), enc, ep.ivLen)
	}
	if len(raw[4]) != ep.tagLen {
		return nil, fmt.Errorf("%w: tag is %d bytes, %s needs %d", ErrMalformed, len(raw[4]), enc, ep.tagLen)
	}
	if ep.ivLen == 16 && len(raw[3])%16 != 0 {
		return nil, fmt.Errorf("%w: CBC ciphertext is not a whole number of blocks", ErrMalformed)
	}
	switch {
	case alg == algDir && len(raw[1]) != 0:
		return nil, fmt.Errorf("%w: dir requires an empty encrypted key", ErrMalformed)
	case kwKeyLen[alg] != 0 && len(raw[1]) != ep.keyLen+8:
		return nil, fmt.Errorf("%w: wrapped key is %d bytes, want %d", ErrMalformed, len(raw[1]), ep.keyLen+8)
	case alg != algDir && len(raw[1]) == 0:
		return nil, fmt.Errorf("%w: empty encrypted key", ErrMalformed)
	}

	tried := 0
	for i := range d.keys {
		k := &d.keys[i]
		if !k.fits(kid, alg, enc, ep, len(raw[1])) {
			continue
		}
		tried++
		if pt, ok := decryptWith(compact, alg, k); ok {
			return pt, nil
		}
	}
	if tried == 0 {
		if kid != "" {
			return nil, fmt.Errorf("%w: none for kid %s with alg %s and enc %s", ErrNoKey, quoteShort(kid), alg, enc)
		}
		return nil, fmt.Errorf("%w: none for alg %s and enc %s", ErrNoKey, alg, enc)
	}
	return nil, ErrDecryption
}

// fits reports whether the key may decrypt a token with these header values.
func (k *decryptionKey) fits(kid, alg, enc string, ep encParams, encryptedKeyLen int) bool {
	if kid != "" && k.kid != "" && k.kid != kid {
		return false
	}
	if !slices.Contains(k.algs, alg) {
		return false
	}
	switch {
	case alg == algDir:
		return len(k.secret) == ep.keyLen && (k.enc == "" || k.enc == enc)
	case kwKeyLen[alg] != 0:
		return len(k.secret) == kwKeyLen[alg]
	default: // RSA-OAEP*
		return k.rsa != nil && encryptedKeyLen == k.rsa.Size()
	}
}

// decryptWith hands the (already checked) token to jwx with exactly one key
// and algorithm. Any failure, including a panic inside the library, is
// reported only as "did not decrypt": the cause could reveal padding or
// key details.
func decryptWith(compact []byte, alg string, k *decryptionKey) (pt []byte, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if panicHook != nil {
				panicHook(r)
			}
			pt, ok = nil, false
		}
	}()
	kalg, found := jwxjwa.LookupKeyEncryptionAlgorithm(alg)
	if !found {
		return nil, false
	}
	var key any
	if k.rsa != nil {
		key = k.rsa
	} else {
		key = k.secret
	}
	out, err := jwxjwe.Decrypt(compact, jwxjwe.WithKey(kalg, key), jwxjwe.WithCritValidation(true))
	if err != nil {
		return nil, false
	}
	return out, true
}

// panicHook, when set (by tests and fuzzing), is told about a panic that
// decryptWith turned into a failure, so that it is not hidden.
var panicHook func(any)

func allowedAlg(alg string) bool {
	switch alg {
	case algDir, algRSAOAEP, algRSAOAEP25, algA128KW, algA192KW, algA256KW:
		return true
	}
	return false
}

func headerString(hdr jsonstrict.Object, name string, required bool) (string, error) {
	v, ok := hdr.Get(name)
	if !ok {
		if required {
			return "", fmt.Errorf("%w: header has no %q", ErrMalformed, name)
		}
		return "", nil
	}
	s, ok := v.String()
	if !ok || (required && s == "") {
		return "", fmt.Errorf("%w: header %q is not a non-empty string", ErrMalformed, name)
	}
	return s, nil
}

// decodeSegment decodes strict unpadded base64url: no padding, no '+' or
// '/', no whitespace (which encoding/base64 would skip), no stray bits.
func decodeSegment(s []byte) ([]byte, error) {
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return nil, errors.New("invalid base64url character")
		}
	}
	out := make([]byte, base64.RawURLEncoding.DecodedLen(len(s)))
	n, err := base64.RawURLEncoding.Strict().Decode(out, s)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// quoteShort quotes attacker-chosen header text for an error message,
// bounded in length.
func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return strconv.Quote(s)
}
