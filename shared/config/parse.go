package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// decodeBase64 decodes standard or URL-safe base64, padded or not.
func DecodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if s == "" {
		return nil, errors.New("empty base64 value")
	}
	std := strings.ContainsAny(s, "+/")
	url := strings.ContainsAny(s, "-_")
	if std && url {
		return nil, errors.New("not base64: mixes the standard (+/) and URL-safe (-_) alphabets")
	}
	enc := base64.RawURLEncoding
	if std {
		enc = base64.RawStdEncoding
	}
	out, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64 (standard or URL-safe)")
	}
	return out, nil
}

// jwksDoc is the part of a JWKS the configuration checks; the key source
// converts the keys themselves (and skips unusable ones).
type jwksDoc struct {
	Keys []map[string]json.RawMessage `json:"keys"`
}

// checkJWKS checks that data is a JSON Web Key Set: an object with a
// non-empty "keys" array of objects that each name their "kty".
func checkJWKS(data []byte) error {
	var doc jwksDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not a JWKS (JSON object with \"keys\"): %v", err)
	}
	if len(doc.Keys) == 0 {
		return errors.New(`not a JWKS: no "keys"`)
	}
	for i, k := range doc.Keys {
		var kty string
		if err := json.Unmarshal(k["kty"], &kty); err != nil || kty == "" {
			return fmt.Errorf(`JWKS key %d has no "kty"`, i+1)
		}
	}
	return nil
}

// jwksHasOct reports whether a JWKS holds a symmetric (kty "oct") key.
func jwksHasOct(data []byte) bool {
	var doc jwksDoc
	if json.Unmarshal(data, &doc) != nil {
		return false
	}
	for _, k := range doc.Keys {
		var kty string
		if json.Unmarshal(k["kty"], &kty) == nil && kty == "oct" {
			return true
		}
	}
	return false
}

// splitPEM splits PEM text into its blocks, re-encoded one by one. Escaped
// newlines ("\n" as two characters, common in consoles that take one-line
// values) are accepted.
func splitPEM(data []byte) ([][]byte, error) {
	if !bytes.Contains(data, []byte("\n")) && bytes.Contains(data, []byte(`\n`)) {
		data = bytes.ReplaceAll(data, []byte(`\n`), []byte("\n"))
	}
	var out [][]byte
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		out = append(out, pem.EncodeToMemory(blk))
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM block found (expected -----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----)")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("unexpected text after the last PEM block")
	}
	return out, nil
}

// checkPublicPEM checks a single PEM block holding a public key or a
// certificate of a kind JWS can use (RSA, EC, Ed25519).
func checkPublicPEM(data []byte) error {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return errors.New("not PEM")
	}
	var pub any
	var err error
	switch {
	case blk.Type == "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(blk.Bytes)
	case blk.Type == "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(blk.Bytes)
	case blk.Type == "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(blk.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	case strings.Contains(blk.Type, "PRIVATE KEY"):
		return fmt.Errorf("PEM block %q is a private key: configure the public key or certificate", blk.Type)
	default:
		return fmt.Errorf("PEM block %q is not a public key or certificate", blk.Type)
	}
	if err != nil {
		return fmt.Errorf("PEM block %q: %v", blk.Type, err)
	}
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("PEM block %q: %T keys cannot verify JWS", blk.Type, pub)
}

// checkPrivateRSAPEM checks a PEM RSA private key (PKCS #1 or PKCS #8), the
// key for RSA-OAEP decryption.
func checkPrivateRSAPEM(data []byte) error {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return errors.New("no PEM block found (expected an RSA private key)")
	}
	switch blk.Type {
	case "RSA PRIVATE KEY":
		_, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		return err
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return err
		}
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return fmt.Errorf("a %T private key: only RSA keys decrypt (RSA-OAEP)", k)
		}
		return nil
	}
	return fmt.Errorf("PEM block %q is not an RSA private key", blk.Type)
}

// parseClaimRequirements reads the compact form of JWTGATE_REQUIRED_CLAIMS:
// requirements separated by spaces, each name[=v1,v2][;match=all|any][;separator=X].
func parseClaimRequirements(v string) ([]ClaimRequirement, error) {
	var out []ClaimRequirement
	for _, field := range strings.Fields(v) {
		parts := strings.Split(field, ";")
		name, vals, hasVals := strings.Cut(parts[0], "=")
		req := ClaimRequirement{Name: name}
		if name == "" {
			return nil, fmt.Errorf("%q: missing claim name", field)
		}
		if hasVals {
			req.Values = splitList(vals)
			if len(req.Values) == 0 {
				return nil, fmt.Errorf("%q: no values after '='", field)
			}
		}
		for _, opt := range parts[1:] {
			k, val, _ := strings.Cut(opt, "=")
			switch k {
			case "match":
				req.Match = strings.ToLower(val)
			case "separator":
				req.Separator = val
			default:
				return nil, fmt.Errorf("%q: unknown option %q (match or separator)", field, k)
			}
		}
		out = append(out, req)
	}
	if len(out) == 0 {
		return nil, errors.New("no requirements")
	}
	return out, nil
}

// parseClaimHeaders reads "claim=Header,claim=Header"; "-" or "none" means
// no identity headers.
func parseClaimHeaders(v string) (map[string]string, error) {
	m := map[string]string{}
	v = strings.TrimSpace(v)
	if v == "-" || strings.EqualFold(v, "none") {
		return m, nil
	}
	for _, item := range splitList(v) {
		claim, header, ok := strings.Cut(item, "=")
		claim, header = strings.TrimSpace(claim), strings.TrimSpace(header)
		if !ok || claim == "" || header == "" {
			return nil, fmt.Errorf("%q is not claim=Header", item)
		}
		if _, dup := m[claim]; dup {
			return nil, fmt.Errorf("claim %q mapped twice", claim)
		}
		m[claim] = header
	}
	if len(m) == 0 {
		return nil, errors.New(`no claim=Header pairs (use "-" for no headers)`)
	}
	return m, nil
}

// validHeaderName reports whether s is an HTTP field name (RFC 9110 token).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// reservedHeaders may not carry claims: they frame or route the request, or
// carry credentials.
var reservedHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true,
	"Connection": true, "Upgrade": true, "Te": true, "Trailer": true, "Keep-Alive": true,
	"Www-Authenticate": true, "Retry-After": true, "Location": true,
}

func checkHeaderName(h string) error {
	if !validToken(h) {
		return fmt.Errorf("%q is not a valid HTTP header name", h)
	}
	if reservedHeaders[textproto.CanonicalMIMEHeaderKey(h)] {
		return fmt.Errorf("%q is reserved and cannot carry a claim", h)
	}
	return nil
}
