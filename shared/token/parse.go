package token

import (
	"encoding/base64"
	"encoding/binary"
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
	return parse(tok, maxBytes, allowed, false)
}

// ParseWithJWK is Parse for a JWS whose header carries the signer's own
// public key in jwk, as a DPoP proof does (RFC 9449 §4.2): the jwk member
// is left to the caller, which must check it and verify with it. Tokens
// never take this path: their keys come only from configuration.
func ParseWithJWK(tok string, maxBytes int, allowed func(*Algorithm) bool) (Parsed, *Error) {
	return parse(tok, maxBytes, allowed, true)
}

func parse(tok string, maxBytes int, allowed func(*Algorithm) bool, allowJWK bool) (Parsed, *Error) {
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
	hb, err := decodeSegment(buf[:hn:hn], h)
	if err != nil {
		return p, fail(decision.TokenMalformed, "token header is not strict base64url")
	}
	pb, err := decodeSegment(buf[hn:hn+pn:hn+pn], pl)
	if err != nil {
		return p, fail(decision.TokenMalformed, "token payload is not strict base64url")
	}
	sb, err := decodeSegment(buf[hn+pn:], s)
	if err != nil {
		return p, fail(decision.TokenMalformed, "token signature is not strict base64url")
	}
	// Whitespace around the header object is valid JSON, but jwx v3
	// verifies such a token against the trimmed header and refuses it; no
	// issuer emits it, so jwtgate refuses it too (never accept what a peer
	// refuses).
	if len(hb) == 0 || hb[0] != '{' || hb[len(hb)-1] != '}' {
		return p, fail(decision.TokenMalformed, "token header is not a bare JSON object")
	}
	// buf is never written again, so the JSON parser may keep strings
	// pointing into it instead of copying.
	hdr, jerr := jsonstrict.ParseObjectString(stringOf(hb))
	if jerr != nil {
		return p, &Error{Reason: decision.TokenMalformed, Msg: "token header is not a strict JSON object", Err: jerr}
	}
	if pe := p.readHeader(hdr, allowed, allowJWK); pe != nil {
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
	claims, err := jsonstrict.ParseObjectString(stringOf(p.Payload))
	if err != nil {
		return &Error{Reason: decision.ClaimsMalformed, Msg: "token payload is not a strict JSON object", Err: err}
	}
	p.Claims = claims
	return nil
}

func (p *Parsed) readHeader(hdr jsonstrict.Object, allowed func(*Algorithm) bool, allowJWK bool) *Error {
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
	return checkRegisteredHeader(hdr, allowJWK)
}

// decodeSegment decodes strict unpadded base64url in one pass: any byte
// outside the URL-safe alphabet (padding, '+', '/', whitespace, which the
// standard decoder would skip or accept) and non-zero trailing bits are
// refused. dst must hold RawURLEncoding.DecodedLen(len(seg)) bytes.
func decodeSegment(dst []byte, seg string) ([]byte, error) {
	out := dst[:cap(dst)]
	si, di := 0, 0
	// Eight characters at a time into six bytes, stored as one 8-byte
	// word (its last two bytes are overwritten by the next group), while
	// out has room for the whole word.
	for len(seg)-si >= 8 && len(out)-di >= 8 {
		q := seg[si : si+8]
		a, b, c, d := b64dec[q[0]], b64dec[q[1]], b64dec[q[2]], b64dec[q[3]]
		e, f, g, h := b64dec[q[4]], b64dec[q[5]], b64dec[q[6]], b64dec[q[7]]
		if a|b|c|d|e|f|g|h == 0xff {
			return nil, base64.CorruptInputError(si)
		}
		v := uint64(a)<<58 | uint64(b)<<52 | uint64(c)<<46 | uint64(d)<<40 |
			uint64(e)<<34 | uint64(f)<<28 | uint64(g)<<22 | uint64(h)<<16
		binary.BigEndian.PutUint64(out[di:], v)
		si += 8
		di += 6
	}
	for len(seg)-si >= 4 {
		q := seg[si : si+4]
		a, b, c, d := b64dec[q[0]], b64dec[q[1]], b64dec[q[2]], b64dec[q[3]]
		if a|b|c|d == 0xff {
			return nil, base64.CorruptInputError(si)
		}
		if len(out)-di < 3 {
			return nil, base64.CorruptInputError(si) // dst too short: not a caller's size
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		out[di], out[di+1], out[di+2] = byte(v>>16), byte(v>>8), byte(v)
		si += 4
		di += 3
	}
	rest := seg[si:]
	switch len(rest) {
	case 0:
	case 2:
		a, b := b64dec[rest[0]], b64dec[rest[1]]
		if a|b == 0xff || b&0x0f != 0 || len(out)-di < 1 {
			return nil, base64.CorruptInputError(len(seg) - 2)
		}
		out[di] = a<<2 | b>>4
		di++
	case 3:
		a, b, c := b64dec[rest[0]], b64dec[rest[1]], b64dec[rest[2]]
		if a|b|c == 0xff || c&0x03 != 0 || len(out)-di < 2 {
			return nil, base64.CorruptInputError(len(seg) - 3)
		}
		v := uint32(a)<<10 | uint32(b)<<4 | uint32(c)>>2
		out[di], out[di+1] = byte(v>>8), byte(v)
		di += 2
	default: // one leftover character cannot encode a byte
		return nil, base64.CorruptInputError(len(seg) - 1)
	}
	return out[:di], nil
}

// b64dec maps the base64url alphabet to its values and every other byte to
// 0xff. Valid values fit in 6 bits, so the OR of several is 0xff exactly
// when one of them is invalid.
var b64dec = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

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

// bytesOf views a string as bytes without copying. The result must not be
// written to.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// stringOf views bytes that are never written again as a string.
func stringOf(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
