//go:build jwtgate_lean

package rules

import (
	"errors"

	"github.com/jwtgate/jwtgate/shared/jsonstrict"
)

// ErrNotBuiltIn is the start-up error of a lean build (-tags
// jwtgate_lean): it leaves cel-go and protobuf out of the binary, so that
// their package initialisers do not run at every cold start, and it
// refuses a configuration that has a rule rather than ignore the rule.
var ErrNotBuiltIn = errors.New("CEL rules are not built into this binary (built with -tags jwtgate_lean): use the standard build, or remove the rule")

// Env compiles nothing in a lean build.
type Env struct{}

// NewEnv returns an Env whose Compile refuses every rule, naming its
// place (JWTGATE_RULE, routes[2].when).
func NewEnv(Limits) (*Env, error) { return &Env{}, nil }

// Compile refuses: a lean build has no CEL.
func (*Env) Compile(place, _ string) (*Rule, error) {
	return nil, &Error{Place: place, Msg: ErrNotBuiltIn.Error()}
}

// Rule is never compiled in a lean build.
type Rule struct{ place string }

// Place is where the rule was configured.
func (r *Rule) Place() string { return r.place }

// Reads is empty: there is no rule to read anything.
func (r *Rule) Reads() Reads { return Reads{} }

// Eval fails closed; it cannot be reached, since Compile refuses.
func (r *Rule) Eval(*Input) (bool, error) {
	return false, &EvalError{Place: r.place, Err: ErrNotBuiltIn}
}

// Token is empty in a lean build.
type Token struct{}

// NewToken returns an empty token: no rule reads it.
func NewToken(_, _ jsonstrict.Object) *Token { return &Token{} }
