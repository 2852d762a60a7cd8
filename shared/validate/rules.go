package validate

import (
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/rules"
)

// compileRules compiles the top-level rule and each route's when. It builds
// the CEL environment only when a rule is configured, so a configuration
// without rules pays nothing for them at start-up. A rule refused by CEL is
// a configuration error naming its place.
func (v *Validator) compileRules(cfg *config.Config) error {
	if !cfg.HasRules() {
		return nil
	}
	limit := cfg.RuleCostLimit
	if limit <= 0 {
		limit = config.DefaultRuleCostLimit
	}
	env, err := rules.NewEnv(rules.Limits{TokenBytes: uint64(v.maxBytes), CostLimit: uint64(limit)})
	if err != nil {
		return err
	}
	var errs []error
	compile := func(place, expr string) *rules.Rule {
		r, err := env.Compile(place, expr)
		if err != nil {
			var re *rules.Error
			if errors.As(err, &re) {
				err = &config.Error{Setting: re.Place, Msg: re.Msg}
			}
			errs = append(errs, err)
		}
		return r
	}
	if cfg.Rule != "" {
		v.rule = compile("JWTGATE_RULE", cfg.Rule)
	}
	for i, r := range cfg.Routes {
		if r.When != "" {
			v.routes[i].when = compile(fmt.Sprintf("routes[%d].when", i), r.When)
		}
	}
	v.hasRules = true
	return errors.Join(errs...)
}

// ruleInput is the input of the rules for one request.
func (v *Validator) ruleInput(ver *verified, r *decision.Request, path string, now time.Time) rules.Input {
	return rules.Input{
		Token:    ver.rules,
		Method:   r.Method,
		Path:     path,
		Host:     r.Host,
		SourceIP: r.SourceIP,
		Header:   r.Header,
		Query:    r.Query,
		Now:      now,
	}
}

// evalRule runs one rule; a false result or an error is a failure with the
// rule's place (the log names it; the caller's detail does not).
func evalRule(rule *rules.Rule, in *rules.Input) (failure, string, string) {
	ok, err := rule.Eval(in)
	if err != nil {
		kind := "evaluation error"
		var ee *rules.EvalError
		if errors.As(err, &ee) {
			kind = ee.Kind()
		}
		return failure{reason: decision.RuleError, detail: "an authorization rule could not be evaluated"}, rule.Place(), kind
	}
	if !ok {
		return failure{reason: decision.RuleDenied, detail: "the request does not satisfy an authorization rule"}, rule.Place(), ""
	}
	return failure{}, "", ""
}

// tokenOnly reports whether a rule's result depends on the token alone,
// so that it holds for every call the token makes.
func tokenOnly(r *rules.Rule) bool {
	rd := r.Reads()
	return !rd.Request && !rd.Clock
}

// CheckRules names the CEL rules in a trace.
const CheckRules = "rules"

// traceRules records the rules' verdict: the rule that refused and why
// (never a claim value), or that they passed.
func traceRules(tr *Trace, applied failure, place, kind string) {
	switch {
	case applied.reason == decision.RuleDenied || applied.reason == decision.RuleError:
		f := applied
		f.detail = place + ": " + applied.detail
		if kind != "" {
			f.detail += " (" + kind + ")"
		}
		tr.failure(CheckRules, f)
	case applied.ok():
		tr.Pass(CheckRules, "every rule that applies holds")
	}
}
