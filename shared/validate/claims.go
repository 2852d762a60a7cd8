package validate

import (
	"strings"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/jsonstrict"
	"github.com/jwtgate/jwtgate/shared/token"
)

// registered holds the registered claims of a token, read with strict types.
type registered struct {
	iss    string
	sub    string
	exp    int64
	hasExp bool
	nbf    int64
	hasNbf bool
	iat    int64
	hasIat bool
	scopes []string
}

// readRegistered reads iss, sub, exp, nbf, iat and the scopes. A claim of
// the wrong JSON type is malformed, never "absent" (a string exp is not a
// token without exp).
func readRegistered(c jsonstrict.Object) (registered, *token.Error) {
	var r registered
	var ok bool
	if v, present := c.Get("iss"); present {
		if r.iss, ok = v.String(); !ok {
			return r, malformed("iss is not a string")
		}
	}
	if v, present := c.Get("sub"); present {
		if r.sub, ok = v.String(); !ok {
			return r, malformed("sub is not a string")
		}
	}
	// jti is not used, but RFC 7519 §4.1.7 makes it a string and jwx
	// refuses any other type: never accept what a peer refuses.
	if v, present := c.Get("jti"); present && v.Kind() != jsonstrict.KindString {
		return r, malformed("jti is not a string")
	}
	var err *token.Error
	if r.exp, r.hasExp, err = numericDate(c, "exp"); err != nil {
		return r, err
	}
	if r.nbf, r.hasNbf, err = numericDate(c, "nbf"); err != nil {
		return r, err
	}
	if r.iat, r.hasIat, err = numericDate(c, "iat"); err != nil {
		return r, err
	}
	if v, present := c.Get("scope"); present {
		s, ok := v.String()
		if !ok {
			return r, malformed("scope is not a space-separated string")
		}
		r.scopes = strings.Fields(s)
	}
	if v, present := c.Get("scp"); present {
		s, ok := v.Strings()
		if !ok {
			return r, malformed("scp is not a string or an array of strings")
		}
		for _, one := range s {
			r.scopes = append(r.scopes, strings.Fields(one)...)
		}
	}
	return r, nil
}

func numericDate(c jsonstrict.Object, name string) (int64, bool, *token.Error) {
	v, present := c.Get(name)
	if !present {
		return 0, false, nil
	}
	if v.Kind() != jsonstrict.KindNumber {
		return 0, false, malformed(name + " is not a NumericDate")
	}
	n, err := v.Int64()
	if err != nil {
		return 0, false, &token.Error{Reason: decision.ClaimsMalformed, Msg: name + " is out of range", Err: err}
	}
	return n, true, nil
}

// audienceMatches reports whether aud (a string or an array of strings)
// holds any accepted audience. A wrong type is malformed.
func audienceMatches(c jsonstrict.Object, accepted []string, any bool) *token.Error {
	v, present := c.Get("aud")
	if !present {
		if any {
			return nil
		}
		return &token.Error{Reason: decision.AudienceInvalid, Msg: "token has no aud"}
	}
	var auds []string
	switch v.Kind() {
	case jsonstrict.KindString:
		s, _ := v.String()
		auds = []string{s}
	case jsonstrict.KindArray:
		var ok bool
		if auds, ok = v.Strings(); !ok {
			return malformed("aud is not an array of strings")
		}
	default:
		return malformed("aud is not a string or an array of strings")
	}
	if any {
		return nil
	}
	for _, a := range auds {
		for _, want := range accepted {
			if a == want {
				return nil
			}
		}
	}
	return &token.Error{Reason: decision.AudienceInvalid, Msg: "token audience is not accepted"}
}

func malformed(msg string) *token.Error {
	return &token.Error{Reason: decision.ClaimsMalformed, Msg: msg}
}
