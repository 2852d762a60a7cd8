// Package clientcert reads a client certificate from the value a platform
// or a trusted front end delivers it in, and computes the RFC 8705
// x5t#S256 thumbprint a certificate-bound access token names. The format
// is recognised from the value itself, whatever the header is called:
// base64 DER (App Service's X-ARR-ClientCert), PEM (API Gateway's
// clientCertPem), URL-encoded PEM (nginx's $ssl_client_escaped_cert) or an
// Envoy X-Forwarded-Client-Cert element list (its Cert="…" member).
package clientcert

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"
)

// MaxValueBytes bounds a certificate value (a chain of a few certificates
// in URL-encoded PEM fits easily).
const MaxValueBytes = 32 << 10

// Errors that Parse wraps.
var (
	ErrEmpty     = errors.New("clientcert: no certificate in the value")
	ErrTooLarge  = errors.New("clientcert: value larger than 32 KiB")
	ErrMalformed = errors.New("clientcert: value is not a certificate in a known format")
)

// Parse returns the DER bytes of the (first, leaf) certificate in value.
// The DER must parse as an X.509 certificate.
func Parse(value string) ([]byte, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return nil, ErrEmpty
	}
	if len(v) > MaxValueBytes {
		return nil, ErrTooLarge
	}
	var der []byte
	var err error
	switch {
	case strings.HasPrefix(v, "-----BEGIN%20") || strings.HasPrefix(strings.ToUpper(v), "%2D%2D%2D%2D%2DBEGIN"):
		der, err = fromEscapedPEM(v)
	case strings.HasPrefix(v, "-----BEGIN"):
		der, err = fromPEM(v)
	case isXFCC(v):
		der, err = fromXFCC(v)
	default:
		der, err = fromBase64(v)
	}
	if err != nil {
		return nil, err
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return nil, ErrMalformed
	}
	return der, nil
}

// Thumbprint is base64url(SHA-256(der)): RFC 8705's x5t#S256.
func Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fromPEM takes the first CERTIFICATE block. API Gateway may deliver the
// PEM with literal "\n" sequences in place of newlines.
func fromPEM(v string) ([]byte, error) {
	if !strings.Contains(v, "\n") && strings.Contains(v, `\n`) {
		v = strings.ReplaceAll(v, `\n`, "\n")
	}
	// A PEM squashed onto one line (spaces for newlines) is what some
	// front ends forward; put the lines back.
	if !strings.Contains(v, "\n") {
		v = unfoldPEM(v)
	}
	rest := []byte(v)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, ErrMalformed
		}
		if b.Type == "CERTIFICATE" {
			return b.Bytes, nil
		}
	}
}

// unfoldPEM restores a one-line PEM whose line breaks became spaces.
func unfoldPEM(v string) string {
	const begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
	body, ok := strings.CutPrefix(v, begin)
	if !ok {
		return v
	}
	body, _, ok = strings.Cut(body, end)
	if !ok {
		return v
	}
	return begin + "\n" + strings.Join(strings.Fields(body), "\n") + "\n" + end + "\n"
}

func fromEscapedPEM(v string) ([]byte, error) {
	u, err := url.PathUnescape(v)
	if err != nil {
		return nil, ErrMalformed
	}
	return fromPEM(u)
}

// fromBase64 reads base64 DER, standard or URL alphabet, padded or not.
func fromBase64(v string) ([]byte, error) {
	v = strings.Join(strings.Fields(v), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if der, err := enc.Strict().DecodeString(v); err == nil && len(der) > 0 {
			return der, nil
		}
	}
	return nil, ErrMalformed
}

// xfccKeys are the member names of an Envoy XFCC element.
var xfccKeys = []string{"by=", "hash=", "cert=", "chain=", "subject=", "uri=", "dns="}

func isXFCC(v string) bool {
	l := strings.ToLower(v)
	for _, k := range xfccKeys {
		if strings.HasPrefix(l, k) {
			return true
		}
	}
	return false
}

// fromXFCC reads an X-Forwarded-Client-Cert value: comma-separated elements
// of semicolon-separated key=value pairs, values optionally in double
// quotes (with \" escapes). Exactly one element may carry a Cert (several
// proxies each adding one would make it ambiguous which client is meant);
// its value is URL-encoded PEM.
func fromXFCC(v string) ([]byte, error) {
	elems, err := splitXFCC(v)
	if err != nil {
		return nil, err
	}
	var cert string
	found := 0
	for _, e := range elems {
		for _, kv := range e {
			if strings.EqualFold(kv[0], "Cert") {
				cert = kv[1]
				found++
			}
		}
	}
	switch {
	case found == 0:
		return nil, ErrEmpty
	case found > 1:
		return nil, ErrMalformed
	}
	return fromEscapedPEM(cert)
}

// splitXFCC tokenises an XFCC value into elements of key/value pairs.
func splitXFCC(v string) ([][][2]string, error) {
	var elems [][][2]string
	var cur [][2]string
	i := 0
	for i <= len(v) {
		// key
		j := strings.IndexByte(v[i:], '=')
		if j <= 0 {
			return nil, ErrMalformed
		}
		key := strings.TrimSpace(v[i : i+j])
		i += j + 1
		var val strings.Builder
		if i < len(v) && v[i] == '"' {
			i++
			closed := false
			for i < len(v) {
				c := v[i]
				if c == '\\' && i+1 < len(v) {
					val.WriteByte(v[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return nil, ErrMalformed
			}
		} else {
			k := strings.IndexAny(v[i:], ";,")
			if k < 0 {
				k = len(v) - i
			}
			val.WriteString(v[i : i+k])
			i += k
		}
		cur = append(cur, [2]string{key, val.String()})
		if i >= len(v) {
			break
		}
		switch v[i] {
		case ';':
			i++
		case ',':
			elems = append(elems, cur)
			cur = nil
			i++
		default:
			return nil, ErrMalformed
		}
	}
	return append(elems, cur), nil
}
