package difffuzz

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/jwtgate/jwtgate/shared/config"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// claimNames are the claims whose peer parse decides what jwtgate must
// forward.
var claimNames = append(append([]string{"iss", "sub", "scope", "scp"}, config.ClientClaims...), Forward...)

// peerClaims keeps the claims of interest from golang-jwt's parse
// (numbers are json.Number).
func peerClaims(c gjwt.MapClaims) map[string]any {
	out := map[string]any{}
	for _, n := range claimNames {
		if v, ok := c[n]; ok {
			out[n] = v
		}
	}
	return out
}

// jwxClaims keeps the claims of interest from jwx's parse.
func jwxClaims(t jwxjwt.Token) map[string]any {
	out := map[string]any{}
	for _, n := range claimNames {
		if !t.Has(n) {
			continue
		}
		var v any
		if err := t.Get(n, &v); err == nil {
			out[n] = v
		}
	}
	return out
}

// sameClaims checks that jwtgate's decision forwards exactly what the
// peer's parse says: the principal and issuer, the scope, the client id,
// and every configured claim flattened as jwtgate documents (arrays joined
// with a space, objects as JSON text, null omitted).
func sameClaims(d decision.Decision, peer map[string]any) error {
	str := func(name string) (string, bool) { s, ok := peer[name].(string); return s, ok }
	sub, _ := str("sub")
	iss, _ := str("iss")
	if d.Principal != sub {
		return fmt.Errorf("principal %q, peer sub %q", d.Principal, sub)
	}
	if d.Issuer != iss {
		return fmt.Errorf("issuer %q, peer iss %q", d.Issuer, iss)
	}
	want := map[string]any{"iss": iss}
	if sub != "" {
		want["sub"] = sub
	}
	var scopes []string
	scope, hasScope := str("scope")
	scopes = append(scopes, strings.Fields(scope)...)
	scp, hasScp := peer["scp"]
	switch s := scp.(type) {
	case string:
		scopes = append(scopes, strings.Fields(s)...)
	case []any:
		for _, e := range s {
			if es, ok := e.(string); ok {
				scopes = append(scopes, strings.Fields(es)...)
			}
		}
	case []string:
		for _, es := range s {
			scopes = append(scopes, strings.Fields(es)...)
		}
	}
	if len(scopes) > 0 {
		if hasScope && !hasScp {
			want["scope"] = scope
		} else {
			want["scope"] = strings.Join(scopes, " ")
		}
	}
	for _, n := range config.ClientClaims { // the first present, if a non-empty string
		if _, present := peer[n]; present {
			if s, ok := str(n); ok && s != "" {
				want["client_id"] = s
			}
			break
		}
	}
	for _, n := range Forward {
		if v, ok := peer[n]; ok && v != nil {
			want[n] = v
		}
	}
	got := d.Claims.Map()
	for n := range got {
		if _, ok := want[n]; !ok {
			return fmt.Errorf("forwards %q = %#v, the peer has no such claim", n, got[n])
		}
	}
	for n, pv := range want {
		gv, ok := got[n]
		if !ok {
			return fmt.Errorf("does not forward %q, the peer has %#v", n, pv)
		}
		if slices.Contains(Forward, n) {
			if err := flatEqual(gv, pv); err != nil {
				return fmt.Errorf("claim %q: %w", n, err)
			}
		} else if gv != pv {
			return fmt.Errorf("claim %q: forwards %#v, peer %#v", n, gv, pv)
		}
	}
	return nil
}

// flatEqual compares a forwarded value with the peer's JSON value.
func flatEqual(g, p any) error {
	switch pv := p.(type) {
	case string, bool:
		if g != p {
			return fmt.Errorf("forwards %#v, peer %#v", g, p)
		}
		return nil
	case json.Number:
		return numberEqual(g, pv)
	case float64: // jwx decodes numbers as float64
		if f, ok := asFloat(g); !ok || f != pv {
			return fmt.Errorf("forwards %#v, peer number %v", g, pv)
		}
		return nil
	case []string: // jwx's aud-like registered claims
		if s, ok := g.(string); !ok || s != strings.Join(pv, " ") {
			return fmt.Errorf("forwards %#v, peer %#v", g, p)
		}
		return nil
	case []any:
		s, ok := g.(string)
		if !ok {
			return fmt.Errorf("forwards %#v for an array", g)
		}
		return joinedEqual(s, pv)
	case map[string]any:
		s, ok := g.(string)
		if !ok {
			return fmt.Errorf("forwards %#v for an object", g)
		}
		var back any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&back); err != nil || !reflect.DeepEqual(floats(back), floats(p)) {
			return fmt.Errorf("forwards %q, peer %#v", s, p)
		}
		return nil
	}
	return fmt.Errorf("peer value %#v of an unexpected type", p)
}

func numberEqual(g any, n json.Number) error {
	switch gv := g.(type) {
	case int64:
		if i, err := n.Int64(); err == nil && i == gv {
			return nil
		}
	case float64:
		if f, err := n.Float64(); err == nil && f == gv {
			return nil
		}
	case string:
		if gv == n.String() {
			return nil
		}
	}
	return fmt.Errorf("forwards %#v, peer number %s", g, n)
}

// floats turns the json.Number values inside v into float64, as jwx
// decodes them, so nested values of both peers compare alike.
func floats(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = floats(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = floats(e)
		}
		return out
	}
	return v
}

func asFloat(g any) (float64, bool) {
	switch gv := g.(type) {
	case int64:
		return float64(gv), true
	case float64:
		return gv, true
	case string:
		f, err := strconv.ParseFloat(gv, 64)
		return f, err == nil || errors.Is(err, strconv.ErrRange)
	}
	return 0, false
}

// joinedEqual reads s as the forwarded form of the array elems: each
// string element as is, anything else as JSON, separated by one space.
func joinedEqual(s string, elems []any) error {
	rest := s
	for i, e := range elems {
		if i > 0 {
			if !strings.HasPrefix(rest, " ") {
				return fmt.Errorf("forwards %q: no separator before element %d", s, i)
			}
			rest = rest[1:]
		}
		if es, ok := e.(string); ok {
			if !strings.HasPrefix(rest, es) {
				return fmt.Errorf("forwards %q: element %d %q missing", s, i, es)
			}
			rest = rest[len(es):]
			continue
		}
		dec := json.NewDecoder(strings.NewReader(rest))
		dec.UseNumber()
		var back any
		if err := dec.Decode(&back); err != nil || !reflect.DeepEqual(floats(back), floats(e)) {
			return fmt.Errorf("forwards %q: element %d is not %#v", s, i, e)
		}
		rest = rest[dec.InputOffset():]
	}
	if rest != "" {
		return fmt.Errorf("forwards %q: %q left over", s, rest)
	}
	return nil
}
