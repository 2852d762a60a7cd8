// Package jsonstrict is a small, fast and strict JSON parser for the header
// and claims of a JWT, which are hostile input.
//
// ParseObject accepts exactly one JSON object (RFC 8259) and refuses what
// lenient parsers let through and what an attacker could use to make two
// parsers disagree: duplicate member names at any depth (compared after
// unescaping), invalid UTF-8 and lone surrogate escapes, control characters
// in strings, nesting deeper than MaxDepth, trailing data, leading zeros,
// NaN/Infinity, comments, trailing commas and single quotes. It never
// panics and never recurses deeper than MaxDepth, whatever the input.
//
// The result is built for the hot path: an Object is a slice of members
// looked up linearly (claims sets are small), strings without escapes and
// all numbers share one copy of the input, and numbers keep their JSON text
// so the caller decides how to read them (Value.Int64 for NumericDate).
// Callers cap the input size.
package jsonstrict

import (
	"errors"
	"strconv"
	"sync"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays accepted; the
// top-level object is depth 1.
const MaxDepth = 32

// Errors that a parse error wraps, so callers and tests can tell the kinds of
// refusal apart with errors.Is.
var (
	ErrSyntax     = errors.New("jsonstrict: invalid JSON")
	ErrNotObject  = errors.New("jsonstrict: top-level value is not an object")
	ErrDuplicate  = errors.New("jsonstrict: duplicate member name")
	ErrUTF8       = errors.New("jsonstrict: invalid UTF-8")
	ErrDepth      = errors.New("jsonstrict: nesting too deep")
	ErrTrailing   = errors.New("jsonstrict: data after the top-level object")
	ErrControl    = errors.New("jsonstrict: control character in string")
	ErrNumber     = errors.New("jsonstrict: invalid number")
	ErrNotNumber  = errors.New("jsonstrict: value is not a number")
	ErrNotInteger = errors.New("jsonstrict: number is out of range for a date")
)

// SyntaxError reports where and why the input was refused. It wraps one of
// the Err* values above. The message never quotes the input, so it is safe to
// log even when the input is a secret.
type SyntaxError struct {
	Offset int    // byte offset in the input where the problem was found
	Msg    string // what was wrong
	kind   error
}

func (e *SyntaxError) Error() string {
	return e.kind.Error() + ": " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the kind of refusal (ErrSyntax, ErrDuplicate, ...).
func (e *SyntaxError) Unwrap() error { return e.kind }

// ParseObject parses data, which must hold exactly one JSON object
// (surrounding whitespace allowed). The returned Object does not reference
// data, which the caller may reuse.
func ParseObject(data []byte) (Object, error) {
	return parse(string(data))
}

// ParseObjectString is ParseObject for a string: strings in the result
// share its memory, so nothing is copied. Callers that own a byte slice
// they will never modify again can pass unsafe.String(&b[0], len(b)).
func ParseObjectString(data string) (Object, error) {
	return parse(data)
}

func parse(data string) (Object, error) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	p := parser{s: data, mstack: sc.m[:0], vstack: sc.v[:0]}
	defer func() { sc.m, sc.v = clearStack(p.mstack, p.mhigh), clearStack(p.vstack, p.vhigh) }()
	p.skipWS()
	if p.i >= len(p.s) {
		return Object{}, p.fail(ErrNotObject, "empty input")
	}
	if p.s[p.i] != '{' {
		return Object{}, p.fail(ErrNotObject, "top-level value must be an object")
	}
	v, err := p.parseObject(1)
	if err != nil {
		return Object{}, err
	}
	p.skipWS()
	if p.i != len(p.s) {
		return Object{}, p.fail(ErrTrailing, "unexpected data after the object")
	}
	return Object{members: v.members()}, nil
}

// scratch is a parser's reusable element stacks, kept in a pool so the hot
// path does not grow them afresh for every token.
type scratch struct {
	m []Member
	v []Value
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{m: make([]Member, 0, 32), v: make([]Value, 0, 32)}
}}

// maxPooledStack bounds the stacks kept in the pool, so one huge input does
// not pin its memory.
const maxPooledStack = 1024

// clearStack drops the references held by the first high elements of a
// stack (so pooled memory does not keep parsed strings alive) and returns it
// empty, or nil when it grew too large to keep.
func clearStack[T any](s []T, high int) []T {
	if cap(s) > maxPooledStack {
		return nil
	}
	clear(s[:high])
	return s[:0]
}

// parser holds the input and scratch stacks shared by all nesting levels: a
// container's elements are collected on the stack and copied into an
// exactly-sized slice when it closes, so each object or array costs one
// allocation.
type parser struct {
	s      string
	i      int
	mstack []Member
	vstack []Value
	mhigh  int // most elements mstack has held
	vhigh  int // most elements vstack has held
}

func (p *parser) fail(kind error, msg string) error {
	return &SyntaxError{Offset: p.i, Msg: msg, kind: kind}
}

func (p *parser) skipWS() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// parseValue parses the value at p.i; depth is the depth a container
// starting here would have.
func (p *parser) parseValue(depth int) (Value, error) {
	if p.i >= len(p.s) {
		return Value{}, p.fail(ErrSyntax, "unexpected end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.parseObject(depth)
	case c == '[':
		return p.parseArray(depth)
	case c == '"':
		s, err := p.parseString()
		return Value{kind: KindString, s: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.parseNumber()
	case c == 't':
		return p.literal("true", Value{kind: KindBool, b: true})
	case c == 'f':
		return p.literal("false", Value{kind: KindBool})
	case c == 'n':
		return p.literal("null", Value{kind: KindNull})
	default:
		return Value{}, p.fail(ErrSyntax, "unexpected character")
	}
}

func (p *parser) literal(word string, v Value) (Value, error) {
	if len(p.s)-p.i < len(word) || p.s[p.i:p.i+len(word)] != word {
		return Value{}, p.fail(ErrSyntax, "invalid literal")
	}
	p.i += len(word)
	return v, nil
}

// dupMapThreshold is the member count above which duplicate detection uses a
// map instead of a linear scan (a hostile object with thousands of members
// must not cost quadratic time).
const dupMapThreshold = 16

func (p *parser) parseObject(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, p.fail(ErrDepth, "nesting deeper than "+strconv.Itoa(MaxDepth))
	}
	p.i++ // '{'
	base := len(p.mstack)
	defer func() { p.mstack = p.mstack[:base] }()
	var seen map[string]struct{}
	p.skipWS()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return objectValue(nil), nil
	}
	for {
		if p.i >= len(p.s) {
			return Value{}, p.fail(ErrSyntax, "unterminated object")
		}
		if p.s[p.i] != '"' {
			return Value{}, p.fail(ErrSyntax, "expected a member name")
		}
		at := p.i
		name, err := p.parseString()
		if err != nil {
			return Value{}, err
		}
		n := len(p.mstack) - base
		if seen != nil {
			if _, dup := seen[name]; dup {
				p.i = at
				return Value{}, p.fail(ErrDuplicate, "member name repeated")
			}
			seen[name] = struct{}{}
		} else {
			for _, m := range p.mstack[base:] {
				if m.Name == name {
					p.i = at
					return Value{}, p.fail(ErrDuplicate, "member name repeated")
				}
			}
			if n+1 > dupMapThreshold {
				seen = make(map[string]struct{}, 2*dupMapThreshold)
				for _, m := range p.mstack[base:] {
					seen[m.Name] = struct{}{}
				}
				seen[name] = struct{}{}
			}
		}
		p.skipWS()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return Value{}, p.fail(ErrSyntax, "expected ':'")
		}
		p.i++
		p.skipWS()
		v, err := p.parseValue(depth + 1)
		if err != nil {
			return Value{}, err
		}
		p.mstack = append(p.mstack, Member{Name: name, Value: v})
		p.mhigh = max(p.mhigh, len(p.mstack))
		p.skipWS()
		if p.i >= len(p.s) {
			return Value{}, p.fail(ErrSyntax, "unterminated object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.skipWS()
		case '}':
			p.i++
			members := make([]Member, len(p.mstack)-base)
			copy(members, p.mstack[base:])
			return objectValue(members), nil
		default:
			return Value{}, p.fail(ErrSyntax, "expected ',' or '}'")
		}
	}
}

func (p *parser) parseArray(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, p.fail(ErrDepth, "nesting deeper than "+strconv.Itoa(MaxDepth))
	}
	p.i++ // '['
	base := len(p.vstack)
	defer func() { p.vstack = p.vstack[:base] }()
	p.skipWS()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return arrayValue(nil), nil
	}
	for {
		v, err := p.parseValue(depth + 1)
		if err != nil {
			return Value{}, err
		}
		p.vstack = append(p.vstack, v)
		p.vhigh = max(p.vhigh, len(p.vstack))
		p.skipWS()
		if p.i >= len(p.s) {
			return Value{}, p.fail(ErrSyntax, "unterminated array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.skipWS()
		case ']':
			p.i++
			elems := make([]Value, len(p.vstack)-base)
			copy(elems, p.vstack[base:])
			return arrayValue(elems), nil
		default:
			return Value{}, p.fail(ErrSyntax, "expected ',' or ']'")
		}
	}
}

// parseString parses the string starting at p.i (a '"') and returns its
// value. A string without escapes is a substring of the input (no copy).
func (p *parser) parseString() (string, error) {
	p.i++ // opening quote
	start := p.i
	// The common run of plain ASCII is scanned with locals, so the index
	// stays in a register instead of going through p on every byte.
	s, i := p.s, p.i
	for i < len(s) && plainASCII[s[i]] {
		i++
	}
	p.i = i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if plainASCII[c] {
			p.i++
			continue
		}
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.parseEscaped(start)
		case c < 0x20:
			return "", p.fail(ErrControl, "control character must be escaped")
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.fail(ErrUTF8, "invalid UTF-8 in string")
			}
			p.i += size
		}
	}
	return "", p.fail(ErrSyntax, "unterminated string")
}

// plainASCII marks the bytes a string holds as themselves: printable
// ASCII other than '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// parseEscaped continues a string that contains an escape; the bytes from
// start to p.i are already checked.
func (p *parser) parseEscaped(start int) (string, error) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.fail(ErrSyntax, "unterminated escape")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.fail(ErrSyntax, "invalid \\u escape")
				}
				switch {
				case r >= 0xDC00 && r <= 0xDFFF:
					return "", p.fail(ErrUTF8, "lone low surrogate escape")
				case r >= 0xD800 && r <= 0xDBFF:
					if len(p.s)-p.i < 6 || p.s[p.i] != '\\' || p.s[p.i+1] != 'u' {
						return "", p.fail(ErrUTF8, "lone high surrogate escape")
					}
					p.i += 2
					lo, ok := p.hex4()
					if !ok {
						return "", p.fail(ErrSyntax, "invalid \\u escape")
					}
					if lo < 0xDC00 || lo > 0xDFFF {
						return "", p.fail(ErrUTF8, "high surrogate not followed by a low surrogate")
					}
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.i--
				return "", p.fail(ErrSyntax, "invalid escape")
			}
		case c < 0x20:
			return "", p.fail(ErrControl, "control character must be escaped")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.fail(ErrUTF8, "invalid UTF-8 in string")
			}
			buf = append(buf, p.s[p.i:p.i+size]...)
			p.i += size
		}
	}
	return "", p.fail(ErrSyntax, "unterminated string")
}

// hex4 reads four hex digits at p.i.
func (p *parser) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := p.s[p.i+k]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// parseNumber checks the RFC 8259 number grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and keeps its text.
func (p *parser) parseNumber() (Value, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.s) {
		return Value{}, p.fail(ErrNumber, "missing digits")
	}
	switch c := p.s[p.i]; {
	case c == '0':
		p.i++
		if p.i < len(p.s) && isDigit(p.s[p.i]) {
			return Value{}, p.fail(ErrNumber, "leading zero")
		}
	case c >= '1' && c <= '9':
		p.digits()
	default:
		return Value{}, p.fail(ErrNumber, "missing digits")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return Value{}, p.fail(ErrNumber, "missing digits after '.'")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return Value{}, p.fail(ErrNumber, "missing exponent digits")
		}
	}
	return Value{kind: KindNumber, s: p.s[start:p.i]}, nil
}

func (p *parser) digits() int {
	start := p.i
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
	return p.i - start
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
