//go:build !jwtgate_lean

package rules

import (
	"math"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"

	"github.com/jwtgate/jwtgate/shared/jsonstrict"
)

// Token is a verified token as rules see it. Build it once per verified
// token (NewToken) and reuse it for every request that token makes.
type Token struct {
	claims ref.Val
	header ref.Val
	// size is the largest size the start-up cost estimate has to assume
	// for this token: the longest string (name or value) and twice the
	// largest list or object (an element costs at least two bytes of JSON).
	size uint64
}

// NewToken converts the token's claims and header to CEL values.
func NewToken(claims, header jsonstrict.Object) *Token {
	t := &Token{}
	t.claims = objectVal(claims, &t.size)
	t.header = objectVal(header, &t.size)
	return t
}

// activation resolves the variables of one evaluation. request.headers
// and request.query are views of the request's own maps (reqMap): a rule
// that looks up a name reads it in place, and only a rule that iterates,
// sizes or compares the whole map has it converted, once per evaluation.
// Activations are pooled, so an evaluation allocates nothing of its own
// beyond the values it boxes.
type activation struct {
	in      Input
	headers reqMap
	query   reqMap
	path    ref.Val // boxed on first use: a rule may read it more than once
	now     ref.Val
}

var activations = sync.Pool{New: func() any { return new(activation) }}

func activationFor(in *Input) *activation {
	a := activations.Get().(*activation)
	a.in = *in
	a.headers = reqMap{header: in.Header, isHeader: true}
	a.query = reqMap{query: in.Query}
	return a
}

func releaseActivation(a *activation) {
	*a = activation{}
	activations.Put(a)
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	in := &a.in
	switch name {
	case varClaims:
		if in.Token == nil {
			return emptyMap, true
		}
		return in.Token.claims, true
	case varHeader:
		if in.Token == nil {
			return emptyMap, true
		}
		return in.Token.header, true
	case varMethod:
		return methodVal(in.Method), true
	case varPath:
		if a.path == nil {
			a.path = types.String(in.Path)
		}
		return a.path, true
	case varHost:
		return types.String(in.Host), true
	case varSourceIP:
		return types.String(in.SourceIP), true
	case varHeaders:
		return &a.headers, true
	case varQuery:
		return &a.query, true
	case varNow:
		if a.now == nil {
			a.now = types.Timestamp{Time: in.Now}
		}
		return a.now, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

var emptyMap = types.NewRefValMap(types.DefaultTypeAdapter, map[ref.Val]ref.Val{})

// methods are the common methods as CEL values, boxed once.
var methods = map[string]ref.Val{}

func init() {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", ""} {
		methods[m] = types.String(m)
	}
}

func methodVal(m string) ref.Val {
	if v, ok := methods[m]; ok {
		return v
	}
	return types.String(m)
}

// reqMap is request.headers or request.query as a CEL map(string, string)
// read in place: a lookup (`m["x"]`, `"x" in m`) finds the name in the
// request's own map without converting it; anything else (size, iteration,
// comparison, conversion) works on the converted map, built on first use.
// It lives in a pooled activation and is valid for one evaluation only.
type reqMap struct {
	header   http.Header
	query    url.Values
	isHeader bool
	full     traits.Mapper
}

var _ traits.Mapper = (*reqMap)(nil)

// whole is the converted map.
func (m *reqMap) whole() traits.Mapper {
	if m.full == nil {
		if m.isHeader {
			m.full = types.NewStringStringMap(types.DefaultTypeAdapter, headerMap(m.header))
		} else {
			m.full = types.NewStringStringMap(types.DefaultTypeAdapter, queryMap(m.query))
		}
	}
	return m.full
}

// lookup is the value of one name, as the converted map would give it.
func (m *reqMap) lookup(key string) (string, bool) {
	if m.full != nil {
		v, ok := m.full.Find(types.String(key))
		if !ok {
			return "", false
		}
		s, _ := v.(types.String)
		return string(s), true
	}
	if !m.isHeader {
		vs := m.query[key]
		switch len(vs) {
		case 0:
			return "", false
		case 1:
			return vs[0], true
		}
		return strings.Join(vs, ","), true
	}
	// Header names that differ only in case are one name: look at each.
	var first []string
	found := 0
	for k, vs := range m.header {
		if len(vs) == 0 || !lowerEquals(k, key) {
			continue
		}
		found++
		if found == 1 {
			first = vs
			continue
		}
		// A second spelling of the name: join as headerMap does.
		return headerMap(m.header)[key], true
	}
	switch {
	case found == 0:
		return "", false
	case len(first) == 1:
		return first[0], true
	}
	return strings.Join(first, ", "), true
}

// lowerEquals reports whether strings.ToLower(name) == key without
// allocating for ASCII names.
func lowerEquals(name, key string) bool {
	if len(name) != len(key) {
		return !isASCII(name) && strings.ToLower(name) == key
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(name) == key
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != key[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Find implements traits.Mapper.
func (m *reqMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return m.whole().Find(key)
	}
	v, found := m.lookup(string(k))
	if !found {
		return nil, false
	}
	return types.String(v), true
}

// Get implements traits.Indexer.
func (m *reqMap) Get(key ref.Val) ref.Val {
	if v, found := m.Find(key); found {
		return v
	}
	return m.whole().Get(key)
}

// Contains implements traits.Container.
func (m *reqMap) Contains(key ref.Val) ref.Val {
	if k, ok := key.(types.String); ok {
		_, found := m.lookup(string(k))
		return types.Bool(found)
	}
	return m.whole().Contains(key)
}

// Size implements traits.Sizer.
func (m *reqMap) Size() ref.Val { return m.whole().Size() }

// Iterator implements traits.Iterable.
func (m *reqMap) Iterator() traits.Iterator { return m.whole().Iterator() }

// ConvertToNative implements ref.Val.
func (m *reqMap) ConvertToNative(t reflect.Type) (any, error) { return m.whole().ConvertToNative(t) }

// ConvertToType implements ref.Val.
func (m *reqMap) ConvertToType(t ref.Type) ref.Val { return m.whole().ConvertToType(t) }

// Equal implements ref.Val.
func (m *reqMap) Equal(other ref.Val) ref.Val { return m.whole().Equal(other) }

// Type implements ref.Val.
func (m *reqMap) Type() ref.Type { return types.MapType }

// Value implements ref.Val.
func (m *reqMap) Value() any { return m.whole().Value() }

// IsZeroValue implements traits.Zeroer.
func (m *reqMap) IsZeroValue() bool {
	if m.full != nil {
		return m.full.Size() == types.IntZero
	}
	if m.isHeader {
		for _, vs := range m.header {
			if len(vs) > 0 {
				return false
			}
		}
		return true
	}
	for _, vs := range m.query {
		if len(vs) > 0 {
			return false
		}
	}
	return true
}

// headerBytes bounds request.headers as the start-up cost estimate sees
// it: no name or value (values joined) is longer, and it has at most half
// as many entries.
func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += len(k)
		for _, v := range vs {
			n += len(v) + 2
		}
	}
	return n
}

// queryBytes is headerBytes for request.query.
func queryBytes(q url.Values) int { return headerBytes(http.Header(q)) }

// headerMap lower-cases the names and joins repeated values with ", "
// (RFC 9110 §5.3). Names that differ only in case are merged.
func headerMap(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	var collided []string
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		lk := strings.ToLower(k)
		if _, ok := m[lk]; ok {
			collided = append(collided, lk)
			continue
		}
		m[lk] = strings.Join(vs, ", ")
	}
	for _, lk := range collided {
		m[lk] = joinSpellings(h, lk)
	}
	return m
}

// joinSpellings joins the values of every spelling of one header name
// (names that differ only in case), the spellings in sorted order, so that
// the value does not depend on Go's map order.
func joinSpellings(h http.Header, lower string) string {
	var names []string
	for k, vs := range h {
		if len(vs) > 0 && strings.ToLower(k) == lower {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, strings.Join(h[k], ", "))
	}
	return strings.Join(parts, ", ")
}

// queryMap joins repeated query values with ",".
func queryMap(q url.Values) map[string]string {
	m := make(map[string]string, len(q))
	for k, vs := range q {
		if len(vs) > 0 {
			m[k] = strings.Join(vs, ",")
		}
	}
	return m
}

// objectVal converts a JSON object to a CEL map once, so that evaluations
// read it without converting again.
func objectVal(o jsonstrict.Object, size *uint64) ref.Val {
	m := make(map[ref.Val]ref.Val, o.Len())
	grow(size, 2*o.Len())
	for _, mem := range o.Members() {
		grow(size, len(mem.Name))
		m[types.String(mem.Name)] = jsonVal(mem.Value, size)
	}
	return types.NewRefValMap(types.DefaultTypeAdapter, m)
}

// jsonVal converts one JSON value: integers that fit in 64 bits become
// int, other numbers double (±Inf beyond its range).
func jsonVal(v jsonstrict.Value, size *uint64) ref.Val {
	switch v.Kind() {
	case jsonstrict.KindString:
		s, _ := v.String()
		grow(size, len(s))
		return types.String(s)
	case jsonstrict.KindBool:
		b, _ := v.Bool()
		return types.Bool(b)
	case jsonstrict.KindNumber:
		text, _ := v.Number()
		if !strings.ContainsAny(text, ".eE") {
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				return types.Int(n)
			}
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !math.IsInf(f, 0) {
			return types.NullValue
		}
		return types.Double(f)
	case jsonstrict.KindArray:
		elems := v.Array()
		grow(size, 2*len(elems))
		out := make([]ref.Val, len(elems))
		for i := range elems {
			out[i] = jsonVal(elems[i], size)
		}
		return types.NewRefValList(types.DefaultTypeAdapter, out)
	case jsonstrict.KindObject:
		return objectVal(v.Object(), size)
	}
	return types.NullValue
}

// grow raises *size to n.
func grow(size *uint64, n int) {
	if uint64(n) > *size {
		*size = uint64(n)
	}
}
