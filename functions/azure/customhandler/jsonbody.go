package customhandler

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// headerWWWAuthenticate is WWW-Authenticate in canonical form (the key
// http.Header.Set would use).
const headerWWWAuthenticate = "Www-Authenticate"

// appendBody appends b as JSON, byte for byte what encoding/json writes
// for the body struct, without reflection or a sort of the claims through
// an interface. ok is false when a claim has a type it does not encode (or
// a NaN or infinite number); the caller then falls back to encoding/json.
func appendBody(dst []byte, b body) ([]byte, bool) {
	dst = append(dst, `{"allow":`...)
	dst = strconv.AppendBool(dst, b.Allow)
	dst = append(dst, `,"outcome":`...)
	dst = appendJSONString(dst, b.Outcome)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, b.Reason)
	for _, f := range [...]struct{ name, v string }{
		{`,"error":`, b.Error}, {`,"detail":`, b.Detail}, {`,"principal":`, b.Principal}, {`,"issuer":`, b.Issuer},
	} {
		if f.v != "" {
			dst = append(dst, f.name...)
			dst = appendJSONString(dst, f.v)
		}
	}
	if len(b.Claims) > 0 {
		var small [16]string
		keys := small[:0]
		for k := range b.Claims {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, `,"claims":{`...)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendClaim(dst, b.Claims[k]); !ok {
				return dst, false
			}
		}
		dst = append(dst, '}')
	}
	if len(b.MissingScopes) > 0 {
		dst = append(dst, `,"missing_scopes":[`...)
		for i, s := range b.MissingScopes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, s)
		}
		dst = append(dst, ']')
	}
	if b.RetryAfter != 0 {
		dst = append(dst, `,"retry_after":`...)
		dst = strconv.AppendInt(dst, int64(b.RetryAfter), 10)
	}
	return append(dst, '}'), true
}

// appendClaim appends a flattened claim value (decision.Decision.Claims:
// string, int64 or float64, bool).
func appendClaim(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		return appendJSONString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case float64:
		return appendJSONFloat(dst, x)
	case nil:
		return append(dst, "null"...), true
	}
	return dst, false
}

// appendJSONFloat is encoding/json's float64 encoding; ok is false for NaN
// and infinities, which JSON cannot hold.
func appendJSONFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

const hexDigits = "0123456789abcdef"

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// htmlSafe marks the bytes encoding/json writes as they are (with its
// default HTML escaping): printable ASCII other than " \ < > &.
var htmlSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString is encoding/json's string encoding with HTML escaping
// (its default): <, > and & as \u003c…, control characters escaped,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
// The plain prefix (usually all of s) is scanned eight bytes at a time
// and copied at once.
func appendJSONString(dst []byte, s string) []byte {
	i := 0
	for len(s) >= 8 && i < len(s) {
		j := min(i, len(s)-8) // the last word overlaps bytes already known plain
		// Eight plain bytes: none < 0x20 or ≥ 0x80, none of " \ < > &
		// (a zero byte of x^c for each).
		x := uint64(s[j]) | uint64(s[j+1])<<8 | uint64(s[j+2])<<16 | uint64(s[j+3])<<24 |
			uint64(s[j+4])<<32 | uint64(s[j+5])<<40 | uint64(s[j+6])<<48 | uint64(s[j+7])<<56
		q, bs, lt, gt, amp := x^(lsb*'"'), x^(lsb*'\\'), x^(lsb*'<'), x^(lsb*'>'), x^(lsb*'&')
		m := ((x - lsb*0x20) &^ x) | x | ((q - lsb) &^ q) | ((bs - lsb) &^ bs) |
			((lt - lsb) &^ lt) | ((gt - lsb) &^ gt) | ((amp - lsb) &^ amp)
		if m&msb != 0 {
			break
		}
		i = j + 8
	}
	for i < len(s) && htmlSafe[s[i]] {
		i++
	}
	dst = append(dst, '"')
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// pooledBody is marshalBody into a pooled buffer (nil when the body
// needs encoding/json's fallback): see answer.release.
func pooledBody(b body) ([]byte, *[]byte) {
	buf := bodyPool.Get().(*[]byte)
	if out, ok := appendBody((*buf)[:0], b); ok {
		return append(out, '\n'), buf
	}
	bodyPool.Put(buf)
	return marshal(b), nil
}

// marshalBody is the body's JSON and a newline.
func marshalBody(b body) []byte {
	if out, ok := appendBody(make([]byte, 0, 256), b); ok {
		return append(out, '\n')
	}
	return marshal(b)
}
