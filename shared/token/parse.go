package token

import (
	"encoding/base64"
	"strings"
	"unsafe"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/jsonstrict"
)

// Limits on the parts of a token, on top of the caller's total size cap.
const (
	maxHeaderBytes    = 4 << 10
	maxSignatureBytes = 1 << 10 // RSA-8192 is 1024 bytes
)

// Parsed is a compact JWS split, decoded and parsed, not yet verified.
// Nothing in it may be trusted before Verify succeeds.
type Parsed struct {
	Alg    *Algorithm
	KeyID  string
	Type   string
	Header jsonstrict.Object
	// Payload is the decoded payload; ParseClaims reads it as JWT claims.
	Payload []byte
	Claims  jsonstrict.Object
	// SigningInput is "header.payload" as it appeared in the token.
	SigningInput string
	Signature    []byte
}

// Segments counts the dot-separated segments of a compact serialization
// (3 for JWS, 5 for JWE), without decoding anything.
func Segments(tok string) int { return strings.Count(tok, ".") + 1 }

// Parse splits and decodes a compact JWS (the payload stays raw: see
// ParseClaims). It refuses anything but three
// strict base64url segments (no padding, no whitespace, no '+' or '/'),
// a header that is not a JSON object with unique member names, an alg
// outside allowed, and any crit header (no extension is understood, so
// b64:false is never honoured).
func Parse(tok string, maxBytes int, allowed func(*Algorithm) bool) (Parsed, *Error) {
	var p Parsed
	if len(tok) > maxBytes {
		return p, fail(decision.TokenTooLarge, "token is larger than %d bytes", maxBytes)
	}
	h, rest, ok1 := strings.Cut(tok, ".")
	pl, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return p, fail(decision.TokenMalformed, "token is not a compact JWS (three segments)")
	}
	if len(h) == 0 || len(s) == 0 {
		return p, fail(decision.TokenMalformed, "token has an empty header or signature")
	}
	if len(h) > base64.RawURLEncoding.EncodedLen(maxHeaderBytes) {
		return p, fail(decision.TokenTooLarge, "token header is too large")
	}
	if len(s) > base64.RawURLEncoding.EncodedLen(maxSignatureBytes) {
		return p, fail(decision.TokenMalformed, "token signature is too large")
	}
	// One buffer holds the three decoded parts.
	hn := base64.RawURLEncoding.DecodedLen(len(h))
	pn := base64.RawURLEncoding.DecodedLen(len(pl))
	sn := base64.RawURLEncoding.DecodedLen(len(s))
	buf := make([]byte, hn+pn+sn)
	hb, err := decodeSegment(buf[:hn], h)
	if err != nil {
		return p, fail(decision.TokenMalformed, "token header is not strict base64url")
	}
	pb, err := decodeSegment(buf[hn:hn+pn], pl)
	if err != nil {
		return p, fail(decision.TokenMalformed, "token payload is not strict base64url")
	}
	sb, err := decodeSegment(buf[hn+pn:], s)
	if err != nil {
		return p, fail(decision.TokenMalformed, "token signature is not strict base64url")
	}
	hdr, jerr := jsonstrict.ParseObject(hb)
	if jerr != nil {
		return p, &Error{Reason: decision.TokenMalformed, Msg: "token header is not a strict JSON object", Err: jerr}
	}
	if pe := p.readHeader(hdr, allowed); pe != nil {
		return p, pe
	}
	p.Header = hdr
	p.Payload = pb
	p.SigningInput = tok[:len(h)+1+len(pl)]
	p.Signature = sb
	return p, nil
}

// ParseClaims reads the payload as a JWT claims set: a strict JSON object.
func (p *Parsed) ParseClaims() *Error {
	claims, err := jsonstrict.ParseObject(p.Payload)
	if err != nil {
		return &Error{Reason: decision.ClaimsMalformed, Msg: "token payload is not a strict JSON object", Err: err}
	}
	p.Claims = claims
	return nil
}

func (p *Parsed) readHeader(hdr jsonstrict.Object, allowed func(*Algorithm) bool) *Error {
	v, ok := hdr.Get("alg")
	if !ok {
		return fail(decision.TokenMalformed, "token header has no alg")
	}
	name, ok := v.String()
	if !ok {
		return fail(decision.TokenMalformed, "token header alg is not a string")
	}
	a := LookupAlgorithm(name)
	if a == nil || !allowed(a) {
		return fail(decision.AlgorithmNotAllowed, "algorithm %q is not allowed", printable(name))
	}
	p.Alg = a
	if v, ok := hdr.Get("kid"); ok {
		kid, ok := v.String()
		if !ok {
			return fail(decision.TokenMalformed, "token header kid is not a string")
		}
		p.KeyID = kid
	}
	if v, ok := hdr.Get("typ"); ok {
		typ, ok := v.String()
		if !ok {
			return fail(decision.TokenMalformed, "token header typ is not a string")
		}
		p.Type = typ
	}
	if hdr.Has("crit") {
		// RFC 7515 §4.1.11: a recipient must reject crit extensions it does
		// not understand; jwtgate understands none (b64 included).
		return fail(decision.CritUnsupported, "token header lists critical extensions jwtgate does not support")
	}
	return nil
}

// decodeSegment decodes strict unpadded base64url. The standard decoder
// skips CR and LF, so the alphabet is checked first.
func decodeSegment(dst []byte, seg string) ([]byte, error) {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, base64.CorruptInputError(i)
		}
	}
	n, err := base64.RawURLEncoding.Strict().Decode(dst, bytesOf(seg))
	if err != nil {
		return nil, err
	}
	return dst[:n], nil
}

// bytesOf views a string as bytes without copying. The result must not be
// written to.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// printable shortens and cleans an attacker-chosen string before it goes
// into an error message.
func printable(s string) string {
	const max = 32
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
