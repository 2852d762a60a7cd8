// Package jsonesc writes Go strings and numbers as JSON, fast, exactly as
// one of two encoders does: log/slog's JSONHandler (the decision log line)
// and encoding/json (the Azure handler's answer body). Its tests compare
// every byte with the encoder it stands in for.
package jsonesc

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendFloat appends f as encoding/json writes a float64 (which slog's
// JSONHandler also uses); ok is false for NaN and infinities, which JSON
// cannot hold.
func AppendFloat(dst []byte, f float64) ([]byte, bool) {
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

// Style is one encoder's escaping rules.
type Style struct {
	safe [256]bool // bytes written as they are
	html bool      // <, > and & escaped as \u003c, \u003e, \u0026
	bf   bool      // \b and \f short forms (else \u0008, \u000c)
}

var (
	// Slog is log/slog's JSONHandler: ", \ and control characters
	// escaped (\n, \r, \t, else \u00XX), invalid UTF-8 as \ufffd, U+2028
	// and U+2029 escaped, no HTML escaping.
	Slog = newStyle(false, false)
	// EncodingJSON is encoding/json's default: the same plus \b and \f,
	// and <, > and & escaped (HTML-safe).
	EncodingJSON = newStyle(true, true)
)

func newStyle(html, bf bool) *Style {
	st := &Style{html: html, bf: bf}
	for c := 0x20; c < 0x80; c++ {
		st.safe[c] = c != '"' && c != '\\' && !(html && (c == '<' || c == '>' || c == '&'))
	}
	return st
}

const (
	hexDigits = "0123456789abcdef"
	lsb       = 0x0101010101010101
	msb       = 0x8080808080808080
)

// Append appends s as a quoted JSON string literal. The plain prefix
// (usually all of s) is scanned eight bytes at a time and copied at once.
func (st *Style) Append(dst []byte, s string) []byte {
	i := 0
	for len(s) >= 8 && i < len(s) {
		j := min(i, len(s)-8) // the last word overlaps bytes already known plain
		// Eight plain bytes: none < 0x20 or ≥ 0x80, none a byte to escape
		// (a zero byte of x^c for each such c).
		x := uint64(s[j]) | uint64(s[j+1])<<8 | uint64(s[j+2])<<16 | uint64(s[j+3])<<24 |
			uint64(s[j+4])<<32 | uint64(s[j+5])<<40 | uint64(s[j+6])<<48 | uint64(s[j+7])<<56
		q, bs := x^(lsb*'"'), x^(lsb*'\\')
		m := ((x - lsb*0x20) &^ x) | x | ((q - lsb) &^ q) | ((bs - lsb) &^ bs)
		if st.html {
			lt, gt, amp := x^(lsb*'<'), x^(lsb*'>'), x^(lsb*'&')
			m |= ((lt - lsb) &^ lt) | ((gt - lsb) &^ gt) | ((amp - lsb) &^ amp)
		}
		if m&msb != 0 {
			break
		}
		i = j + 8
	}
	for i < len(s) && st.safe[s[i]] {
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
			if st.safe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch {
			case c == '\\' || c == '"':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == '\b' && st.bf:
				dst = append(dst, '\\', 'b')
			case c == '\f' && st.bf:
				dst = append(dst, '\\', 'f')
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
