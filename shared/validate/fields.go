package validate

import (
	"slices"

	"github.com/jwtgate/jwtgate/shared/config"
)

// fieldRule is a compiled AppSync field rule: tokens that fail req get
// fields denied.
type fieldRule struct {
	req    requirements
	fields []string
}

func compileFieldRules(rules []config.FieldRule) []fieldRule {
	out := make([]fieldRule, 0, len(rules))
	for _, r := range rules {
		out = append(out, fieldRule{req: requirements{scopes: r.Scopes, claims: r.Claims}, fields: r.Fields})
	}
	return out
}

// deniedFields lists the fields of every rule the token fails, sorted and
// without repeats; nil when there are none.
func deniedFields(rules []fieldRule, ver *verified) []string {
	var out []string
	for i := range rules {
		if !rules[i].req.check(ver.claims, ver.reg.scopes).ok() {
			out = append(out, rules[i].fields...)
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}
