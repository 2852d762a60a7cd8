package validate

import (
	"strings"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/jsonstrict"
)

// requirements are what a valid token must also hold to be allowed: the
// top-level ones, or those of a route rule.
type requirements struct {
	scopes []string
	claims []config.ClaimRequirement
}

// failure explains why requirements are not met (zero: they are met).
type failure struct {
	reason  decision.Reason
	detail  string
	missing []string
}

func (f failure) ok() bool { return f.reason == "" }

// check evaluates the requirements against the token's claims.
func (q *requirements) check(c jsonstrict.Object, scopes []string) failure {
	var missing []string
	for _, want := range q.scopes {
		if !contains(scopes, want) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return failure{reason: decision.ScopeMissing, detail: "token lacks a required scope", missing: missing}
	}
	for i := range q.claims {
		if !claimSatisfied(c, &q.claims[i]) {
			return failure{reason: decision.ClaimMissing, detail: "token lacks required claim " + q.claims[i].Name}
		}
	}
	return failure{}
}

// claimSatisfied follows APIM's <required-claims><claim>: the claim must be
// present; with values, match="all" (default) needs every value and
// match="any" at least one. A string claim is split by the separator when
// one is given; an array claim's elements are its values.
func claimSatisfied(c jsonstrict.Object, req *config.ClaimRequirement) bool {
	v, ok := c.Get(req.Name)
	if !ok || v.IsNull() {
		return false
	}
	if len(req.Values) == 0 {
		return true
	}
	sep := req.Separator
	if sep == "" && (req.Name == "scp" || req.Name == "scope") {
		sep = " " // OAuth scopes: one space-separated string (Entra scp, RFC 8693 scope)
	}
	have := claimValues(v, sep)
	if strings.EqualFold(req.Match, "any") {
		for _, want := range req.Values {
			if contains(have, want) {
				return true
			}
		}
		return false
	}
	for _, want := range req.Values {
		if !contains(have, want) {
			return false
		}
	}
	return true
}

func claimValues(v jsonstrict.Value, sep string) []string {
	switch v.Kind() {
	case jsonstrict.KindString:
		s, _ := v.String()
		if sep == " " {
			return strings.Fields(s)
		}
		if sep != "" {
			return strings.Split(s, sep)
		}
		return []string{s}
	case jsonstrict.KindArray:
		var out []string
		for _, e := range v.Array() {
			if s, ok := e.String(); ok {
				out = append(out, s)
			} else if e.Kind() == jsonstrict.KindNumber || e.Kind() == jsonstrict.KindBool {
				out = append(out, e.Raw())
			}
		}
		return out
	case jsonstrict.KindNumber, jsonstrict.KindBool:
		return []string{v.Raw()}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
