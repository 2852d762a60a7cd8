package validate

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/keys"
	"github.com/jwtgate/jwtgate/shared/token"
)

// Trace records, for one DecideTraced call, every check the validator ran,
// in order, with its result: the raw material of `explain`. It comes from
// the real checks, so an explanation cannot drift from the decision.
//
// Production calls Decide, which passes a nil *Trace: every recording
// method is a no-op on nil, so the hot path pays one pointer test per
// check and allocates nothing.
//
// How a new check reports into the trace is in the package comment
// ("Explaining a decision"). Never put a token, a signature or a secret
// in a detail; claim values are fine (they are not secret to whoever
// holds the token).
type Trace struct {
	// Steps are the checks in the order they ran.
	Steps []Step `json:"checks"`
	// Header is the token's protected header (set once it parsed).
	Header *TraceHeader `json:"header,omitempty"`
	// Claims is the token's payload as JSON (set once it parsed).
	Claims []byte `json:"-"`
	// Times are the time claims and the clock (set once the claims parsed).
	Times *TraceTimes `json:"-"`
	// KeySource names where the verification key came from.
	KeySource string `json:"key_source,omitempty"`
	// hint is context for the next failure (what was accepted instead).
	hint string
}

// TraceHeader is the part of the protected header explain shows.
type TraceHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
	// Encrypted: the token was a JWE that was decrypted first.
	Encrypted bool `json:"encrypted,omitempty"`
}

// TraceTimes are a token's time claims (Unix seconds) and the clock and
// skew they were checked with.
type TraceTimes struct {
	Now    int64
	Skew   int64
	Exp    int64
	HasExp bool
	Nbf    int64
	HasNbf bool
	Iat    int64
	HasIat bool
}

// Step is one check and its result.
type Step struct {
	Check  string          `json:"check"`
	Result Result          `json:"result"`
	Reason decision.Reason `json:"reason,omitempty"`
	Detail string          `json:"detail,omitempty"`
}

// Result is a check's outcome.
type Result string

// Results.
const (
	Passed  Result = "pass"
	Failed  Result = "fail"
	Skipped Result = "skip" // the check does not apply (nothing configured, not encrypted)
	// NotReached is never recorded by the validator: a renderer uses it
	// for checks that an earlier refusal kept from running.
	NotReached Result = "not reached"
)

// Check names, as they appear in explanations.
const (
	CheckExtraction     = "extraction"
	CheckSize           = "size"
	CheckDecryption     = "decryption"
	CheckHeader         = "header"
	CheckClaims         = "claims"
	CheckType           = "type"
	CheckIssuer         = "issuer"
	CheckKey            = "key lookup"
	CheckSignature      = "signature"
	CheckAudience       = "audience"
	CheckTimes          = "times"
	CheckKeyIssuer      = "key issuer"
	CheckTokenUse       = "token use"
	CheckClient         = "client"
	CheckBinding        = "sender binding"
	CheckRoutes         = "route rules"
	CheckScopes         = "scopes"
	CheckRequiredClaims = "required claims"
)

// Checks lists every check in the order Decide runs them.
var Checks = []string{
	CheckExtraction, CheckSize, CheckDecryption, CheckHeader, CheckClaims,
	CheckType, CheckIssuer, CheckKey, CheckSignature, CheckKeyIssuer,
	CheckTokenUse, CheckAudience, CheckTimes, CheckBinding, CheckClient, CheckRoutes,
	CheckScopes, CheckRequiredClaims, CheckRules,
}

// On reports whether the trace records (false for nil).
func (t *Trace) On() bool { return t != nil }

// Pass records a check that passed.
func (t *Trace) Pass(check, detail string) {
	if t != nil {
		t.Steps = append(t.Steps, Step{Check: check, Result: Passed, Detail: detail})
	}
}

// Skip records a check that does not apply.
func (t *Trace) Skip(check, detail string) {
	if t != nil {
		t.Steps = append(t.Steps, Step{Check: check, Result: Skipped, Detail: detail})
	}
}

// Fail records a check that refused the token with e's reason and message.
func (t *Trace) Fail(check string, e *token.Error) {
	if t != nil && e != nil {
		detail := e.Msg
		if t.hint != "" {
			detail += " (" + t.hint + ")"
			t.hint = ""
		}
		t.Steps = append(t.Steps, Step{Check: check, Result: Failed, Reason: e.Reason, Detail: detail})
	}
}

// Hint adds context (what would have been accepted) to the next Fail.
func (t *Trace) Hint(h string) {
	if t != nil {
		t.hint = h
	}
}

// Result records e as a failure of check, or a pass with detail when e is nil.
func (t *Trace) Result(check string, e *token.Error, detail string) {
	if e != nil {
		t.Fail(check, e)
	} else {
		t.Pass(check, detail)
	}
}

// failure records a requirements failure (authorization checks).
func (t *Trace) failure(check string, f failure) {
	if t != nil {
		t.Steps = append(t.Steps, Step{Check: check, Result: Failed, Reason: f.reason, Detail: f.detail})
	}
}

// Last returns the last step (zero when none was recorded).
func (t *Trace) Last() Step {
	if t == nil || len(t.Steps) == 0 {
		return Step{}
	}
	return t.Steps[len(t.Steps)-1]
}

// DecideTraced is Decide recording every check into tr (nil: plain
// Decide). It bypasses the verified-token cache in both directions, so the
// trace always shows the signature and registered-claim checks.
func (v *Validator) DecideTraced(ctx context.Context, r *decision.Request, tr *Trace) decision.Decision {
	return v.decide(ctx, r, tr)
}

// keyDescriber is implemented by key sources that can name where a key
// came from (*keys.Store); explain uses it, the hot path never does.
type keyDescriber interface {
	SourceOf(issuer string, k *keys.Key) string
}

// traceKey records the key lookup's success.
func (v *Validator) traceKey(tr *Trace, iss string, k *keys.Key) {
	if !tr.On() {
		return
	}
	if d, ok := v.keys.(keyDescriber); ok {
		tr.KeySource = d.SourceOf(iss, k)
	}
	detail := "kid " + strconv.Quote(k.ID)
	if k.ID == "" {
		detail = "the one key without kid that fits the algorithm"
	}
	detail += " (" + k.Kty
	if k.Crv != "" {
		detail += " " + k.Crv
	}
	detail += ")"
	if tr.KeySource != "" {
		detail += " from " + tr.KeySource
	}
	tr.Pass(CheckKey, detail)
}

// traceRequirements records the scope and required-claim checks of the
// requirements that applied (the top-level ones or a route rule's).
// ruleName is " by the rule METHOD PATH" for a matched rule, "" for none.
// Built only when a trace records, so a decision pays nothing for it.
func ruleName(g *decision.RouteGrant) string {
	if g == nil {
		return ""
	}
	return " by the rule " + g.Method + " " + g.Path
}

func traceRequirements(tr *Trace, q *requirements, f failure, scopes []string, whose string) {
	if !tr.On() {
		return
	}
	switch {
	case len(q.scopes) == 0:
		tr.Skip(CheckScopes, "no scopes required"+whose)
	case f.reason == decision.ScopeMissing:
		tr.failure(CheckScopes, failure{reason: f.reason, detail: f.detail + whose + ": missing " + strings.Join(f.missing, " ") + "; the token has " + quoteScopes(scopes)})
		return
	default:
		tr.Pass(CheckScopes, "required "+strings.Join(q.scopes, " ")+whose+": all present")
	}
	switch {
	case len(q.claims) == 0:
		tr.Skip(CheckRequiredClaims, "no claims required"+whose)
	case f.reason == decision.ClaimMissing:
		tr.failure(CheckRequiredClaims, failure{reason: f.reason, detail: f.detail + whose})
	default:
		names := make([]string, len(q.claims))
		for i := range q.claims {
			names[i] = q.claims[i].Name
		}
		tr.Pass(CheckRequiredClaims, "required "+strings.Join(names, ", ")+whose+": all satisfied")
	}
}

func quoteScopes(s []string) string {
	if len(s) == 0 {
		return "no scopes"
	}
	return strconv.Quote(strings.Join(s, " "))
}

// traceRoutes records which route rule (if any) decides the request.
func (v *Validator) traceRoutes(tr *Trace, r *decision.Request, matched bool, whose string) {
	call := strings.TrimSpace(r.Method + " " + r.Path)
	switch {
	case matched:
		tr.Pass(CheckRoutes, call+" matches"+strings.TrimPrefix(whose, " by")+"; its requirements apply")
	case r.Method == "":
		tr.Pass(CheckRoutes, "the platform gives no method (REST TOKEN): the top-level requirements apply; the answer lists the routes the token may call")
	default:
		tr.Pass(CheckRoutes, call+" matches no rule: the top-level requirements apply")
	}
}

// acceptedIssuers names the accepted issuers for an explanation.
func (v *Validator) acceptedIssuers() string {
	if v.issuers == nil {
		return "the issuers the key sources serve (JWTGATE_ISSUERS not set)"
	}
	list := make([]string, 0, len(v.issuers))
	for _, iss := range v.issuers {
		list = append(list, strconv.Quote(iss))
	}
	sort.Strings(list)
	return strings.Join(list, ", ")
}

// issuerRefused is the refusal of a token whose issuer is not accepted.
func (v *Validator) issuerRefused(tr *Trace, iss string) *token.Error {
	if tr.On() {
		tr.Hint("token iss " + strconv.Quote(iss) + "; accepted: " + v.acceptedIssuers())
	}
	return &token.Error{Reason: decision.IssuerInvalid, Msg: "token issuer is not accepted"}
}

// allowedAlgorithms names the allowed algorithms for an explanation.
func (v *Validator) allowedAlgorithms() string {
	list := make([]string, 0, len(v.algByName))
	for a := range v.algByName {
		list = append(list, a)
	}
	sort.Strings(list)
	return strings.Join(list, ",")
}
