package rules

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"github.com/jwtgate/jwtgate/shared/jsonstrict"
)

// Token is a verified token as rules see it. Build it once per verified
// token (NewToken) and reuse it for every request that token makes.
type Token struct {
	claims ref.Val
	header ref.Val
}

// NewToken converts the token's claims and header to CEL values.
func NewToken(claims, header jsonstrict.Object) *Token {
	return &Token{claims: objectVal(claims), header: objectVal(header)}
}

// Input is what one evaluation reads.
type Input struct {
	Token *Token
	// Request fields; Header and Query are read only when a rule uses them.
	Method   string
	Path     string // as route rules see it (normalised)
	Host     string
	SourceIP string
	Header   http.Header
	Query    url.Values
	Now      time.Time
}

// activation resolves the variables of one evaluation, converting the
// request maps only when the rule reads them, and once per evaluation
// (a comprehension resolves its variables on every step).
type activation struct {
	in      Input
	headers ref.Val
	query   ref.Val
}

var activations = sync.Pool{New: func() any { return new(activation) }}

func activationFor(in *Input) *activation {
	a := activations.Get().(*activation)
	a.in = *in
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
		return types.String(in.Method), true
	case varPath:
		return types.String(in.Path), true
	case varHost:
		return types.String(in.Host), true
	case varSourceIP:
		return types.String(in.SourceIP), true
	case varHeaders:
		if a.headers == nil {
			a.headers = types.NewStringStringMap(types.DefaultTypeAdapter, headerMap(in.Header))
		}
		return a.headers, true
	case varQuery:
		if a.query == nil {
			a.query = types.NewStringStringMap(types.DefaultTypeAdapter, queryMap(in.Query))
		}
		return a.query, true
	case varNow:
		return types.Timestamp{Time: in.Now}, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

var emptyMap = types.NewRefValMap(types.DefaultTypeAdapter, map[ref.Val]ref.Val{})

// headerMap lower-cases the names and joins repeated values with ", "
// (RFC 9110 §5.3). Names that differ only in case are merged.
func headerMap(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		k = strings.ToLower(k)
		v := strings.Join(vs, ", ")
		if prev, ok := m[k]; ok {
			v = prev + ", " + v
		}
		m[k] = v
	}
	return m
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
func objectVal(o jsonstrict.Object) ref.Val {
	m := make(map[ref.Val]ref.Val, o.Len())
	for _, mem := range o.Members() {
		m[types.String(mem.Name)] = jsonVal(mem.Value)
	}
	return types.NewRefValMap(types.DefaultTypeAdapter, m)
}

// jsonVal converts one JSON value: integers that fit in 64 bits become
// int, other numbers double (±Inf beyond its range).
func jsonVal(v jsonstrict.Value) ref.Val {
	switch v.Kind() {
	case jsonstrict.KindString:
		s, _ := v.String()
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
		out := make([]ref.Val, len(elems))
		for i := range elems {
			out[i] = jsonVal(elems[i])
		}
		return types.NewRefValList(types.DefaultTypeAdapter, out)
	case jsonstrict.KindObject:
		return objectVal(v.Object())
	}
	return types.NullValue
}
