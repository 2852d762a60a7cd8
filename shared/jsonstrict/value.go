package jsonstrict

import (
	"encoding/json"
	"iter"
	"strconv"
	"unsafe"
)

// Kind is the JSON type of a Value.
type Kind uint8

// The kinds of JSON value. KindInvalid is the zero Value (for example what
// Object.Get returns for a missing member).
const (
	KindInvalid Kind = iota
	KindString
	KindNumber
	KindBool
	KindNull
	KindObject
	KindArray
)

var kindNames = [...]string{"invalid", "string", "number", "boolean", "null", "object", "array"}

// String names the kind ("string", "number", "boolean", "null", "object", "array").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Member is one name/value pair of an Object, in input order.
type Member struct {
	Name  string
	Value Value
}

// Object is a parsed JSON object: its members in input order, with unique
// names. The zero Object is empty.
type Object struct {
	members []Member
}

// Get returns the member's value and whether it is present.
func (o Object) Get(name string) (Value, bool) {
	for i := range o.members {
		if o.members[i].Name == name {
			return o.members[i].Value, true
		}
	}
	return Value{}, false
}

// Has reports whether the object has a member of that name.
func (o Object) Has(name string) bool {
	_, ok := o.Get(name)
	return ok
}

// Len is the number of members.
func (o Object) Len() int { return len(o.members) }

// Members returns the members in input order. The slice is shared: do not
// modify it.
func (o Object) Members() []Member { return o.members }

// Names returns the member names in input order.
func (o Object) Names() []string {
	names := make([]string, len(o.members))
	for i := range o.members {
		names[i] = o.members[i].Name
	}
	return names
}

// All iterates over the members in input order.
func (o Object) All() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		for i := range o.members {
			if !yield(o.members[i].Name, o.members[i].Value) {
				return
			}
		}
	}
}

// Value is one parsed JSON value. The zero Value has KindInvalid.
//
// A Value is 32 bytes: an array's or object's elements are held as a
// pointer to the first element and a count rather than as two slice
// headers, because the parser copies values a lot and every pointer copied
// into the heap costs a GC write barrier. The pointer always comes from a
// slice made by the parser (see arrayValue, objectValue).
type Value struct {
	s    string         // KindString: the unescaped value; KindNumber: the JSON text
	p    unsafe.Pointer // KindArray: *Value; KindObject: *Member (first element, nil when empty)
	n    uint32         // KindArray, KindObject: element count
	kind Kind
	b    bool
}

func arrayValue(elems []Value) Value {
	return Value{kind: KindArray, p: unsafe.Pointer(unsafe.SliceData(elems)), n: uint32(len(elems))}
}

func objectValue(members []Member) Value {
	return Value{kind: KindObject, p: unsafe.Pointer(unsafe.SliceData(members)), n: uint32(len(members))}
}

// elems is an array's elements (nil for other kinds or an empty array).
func (v Value) elems() []Value {
	if v.kind != KindArray || v.n == 0 {
		return nil
	}
	return unsafe.Slice((*Value)(v.p), v.n)
}

// members is an object's members (nil for other kinds or an empty object).
func (v Value) members() []Member {
	if v.kind != KindObject || v.n == 0 {
		return nil
	}
	return unsafe.Slice((*Member)(v.p), v.n)
}

// Kind is the value's JSON type.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether the value is JSON null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// String returns the value of a JSON string; ok is false for other kinds.
func (v Value) String() (s string, ok bool) {
	if v.kind != KindString {
		return "", false
	}
	return v.s, true
}

// Number returns a number's JSON text exactly as it appeared (for example
// "1.5", "1e400" or "-0"); ok is false for other kinds.
func (v Value) Number() (text string, ok bool) {
	if v.kind != KindNumber {
		return "", false
	}
	return v.s, true
}

// Bool returns the value of a JSON boolean; ok is false for other kinds.
func (v Value) Bool() (b bool, ok bool) {
	return v.b, v.kind == KindBool
}

// Array returns the elements of a JSON array, or nil for other kinds. The
// slice is shared: do not modify it.
func (v Value) Array() []Value {
	if v.kind != KindArray {
		return nil
	}
	if v.n == 0 {
		return []Value{}
	}
	return v.elems()
}

// Object returns the value as an Object; for other kinds it is empty (check
// Kind first when that matters).
func (v Value) Object() Object {
	if v.kind != KindObject {
		return Object{}
	}
	return Object{members: v.members()}
}

// Strings returns a JSON string as a one-element slice, or the elements of
// an array whose elements are all strings (an empty array gives an empty
// slice). This is the shape of aud, scp and permissions. ok is false for
// any other value.
func (v Value) Strings() ([]string, bool) {
	switch v.kind {
	case KindString:
		return []string{v.s}, true
	case KindArray:
		elems := v.elems()
		out := make([]string, len(elems))
		for i := range elems {
			if elems[i].kind != KindString {
				return nil, false
			}
			out[i] = elems[i].s
		}
		return out, true
	}
	return nil, false
}

// Raw returns a scalar as text for forwarding: a number's JSON text, a
// string's value, "true"/"false", or "null". It returns "" for objects and
// arrays (use AppendJSON for those).
func (v Value) Raw() string {
	switch v.kind {
	case KindString, KindNumber:
		return v.s
	case KindBool:
		if v.b {
			return "true"
		}
		return "false"
	case KindNull:
		return "null"
	}
	return ""
}

// MaxSafeInteger bounds the values Int64 accepts: ±(2^53−1), the integers
// that every JSON implementation (IEEE 754 doubles) represents exactly.
// Dates near it lie hundreds of millions of years away.
const MaxSafeInteger = 1<<53 - 1

// Int64 reads a number as a NumericDate (RFC 7519 section 2): seconds as an
// integer or a decimal, with any fractional part truncated toward zero
// ("1700000000.9" → 1700000000). Exponent forms are evaluated exactly
// ("1.7e9" → 1700000000). A value whose magnitude exceeds MaxSafeInteger is
// refused with ErrNotInteger; a non-number with ErrNotNumber.
func (v Value) Int64() (int64, error) {
	if v.kind != KindNumber {
		return 0, ErrNotNumber
	}
	return parseTruncated(v.s)
}

// parseTruncated evaluates a JSON number text exactly and truncates it.
func parseTruncated(s string) (int64, error) {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[intStart:i]
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[fs:i]
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		ed := s[es:i]
		for len(ed) > 1 && ed[0] == '0' {
			ed = ed[1:]
		}
		if len(ed) > 4 {
			// |exponent| ≥ 10000: the value is 0 after truncation, or
			// astronomically large, or exactly zero.
			if eneg || allZero(intPart) && allZero(frac) {
				return 0, nil
			}
			return 0, ErrNotInteger
		}
		for k := 0; k < len(ed); k++ {
			exp = exp*10 + int(ed[k]-'0')
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) || intPart == "" {
		return 0, ErrNumber
	}
	// The digits are intPart+frac with the decimal point after
	// len(intPart)+exp of them; keep what lies before the point.
	point := len(intPart) + exp
	var mag uint64
	nd := 0 // significant digits consumed
	for k := 0; k < point; k++ {
		var d byte
		switch {
		case k < len(intPart):
			d = intPart[k] - '0'
		case k-len(intPart) < len(frac):
			d = frac[k-len(intPart)] - '0'
		default:
			d = 0
		}
		if mag == 0 && d == 0 {
			if allZero(intPart) && allZero(frac) {
				return 0, nil
			}
			continue
		}
		nd++
		if nd > 16 {
			return 0, ErrNotInteger
		}
		mag = mag*10 + uint64(d)
	}
	if mag > MaxSafeInteger {
		return 0, ErrNotInteger
	}
	if neg {
		return -int64(mag), nil
	}
	return int64(mag), nil
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// Interface converts the value to the types encoding/json produces with
// Decoder.UseNumber: map[string]any, []any, string, json.Number, bool or nil.
func (v Value) Interface() any {
	switch v.kind {
	case KindString:
		return v.s
	case KindNumber:
		return json.Number(v.s)
	case KindBool:
		return v.b
	case KindObject:
		return Object{members: v.members()}.Map()
	case KindArray:
		elems := v.elems()
		out := make([]any, len(elems))
		for i := range elems {
			out[i] = elems[i].Interface()
		}
		return out
	}
	return nil
}

// Map converts the object as Value.Interface does.
func (o Object) Map() map[string]any {
	m := make(map[string]any, len(o.members))
	for i := range o.members {
		m[o.members[i].Name] = o.members[i].Value.Interface()
	}
	return m
}

// AppendJSON appends the value as compact JSON (numbers as their original
// text) and returns the extended buffer.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.kind {
	case KindString:
		return appendQuoted(dst, v.s)
	case KindNumber:
		return append(dst, v.s...)
	case KindBool:
		return strconv.AppendBool(dst, v.b)
	case KindObject:
		return Object{members: v.members()}.AppendJSON(dst)
	case KindArray:
		dst = append(dst, '[')
		for i, e := range v.elems() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.AppendJSON(dst)
		}
		return append(dst, ']')
	}
	return append(dst, "null"...)
}

// AppendJSON appends the object as compact JSON and returns the extended
// buffer.
func (o Object) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i := range o.members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendQuoted(dst, o.members[i].Name)
		dst = append(dst, ':')
		dst = o.members[i].Value.AppendJSON(dst)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes s (valid UTF-8, as every parsed string is) as a JSON
// string literal.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
