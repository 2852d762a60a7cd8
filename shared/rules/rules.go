//go:build !jwtgate_lean

package rules

import (
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
)

// Variable names a rule can read.
const (
	varClaims   = "claims"
	varHeader   = "token.header"
	varMethod   = "request.method"
	varPath     = "request.path"
	varHost     = "request.host"
	varHeaders  = "request.headers"
	varQuery    = "request.query"
	varSourceIP = "request.source_ip"
	varNow      = "now"
)

// Env compiles rules. Build it only when a rule is configured: creating
// the CEL environment is the costly part of start-up.
type Env struct {
	env    *cel.Env
	limits Limits
}

var (
	baseOnce sync.Once
	baseEnv  *cel.Env
	baseErr  error
)

// base is the CEL environment shared by every Env: the standard library,
// the strings extension and the variables.
func base() (*cel.Env, error) {
	baseOnce.Do(func() {
		strMap := cel.MapType(cel.StringType, cel.StringType)
		dynMap := cel.MapType(cel.StringType, cel.DynType)
		baseEnv, baseErr = cel.NewEnv(
			ext.Strings(),
			cel.CrossTypeNumericComparisons(true),
			cel.Variable(varClaims, dynMap),
			cel.Variable(varHeader, dynMap),
			cel.Variable(varMethod, cel.StringType),
			cel.Variable(varPath, cel.StringType),
			cel.Variable(varHost, cel.StringType),
			cel.Variable(varHeaders, strMap),
			cel.Variable(varQuery, strMap),
			cel.Variable(varSourceIP, cel.StringType),
			cel.Variable(varNow, cel.TimestampType),
		)
	})
	return baseEnv, baseErr
}

// NewEnv builds the environment rules are compiled in.
func NewEnv(l Limits) (*Env, error) {
	e, err := base()
	if err != nil {
		return nil, fmt.Errorf("rules: CEL environment: %w", err)
	}
	if l.CostLimit == 0 {
		l.CostLimit = DefaultCostLimit
	}
	if l.TokenBytes == 0 {
		l.TokenBytes = 16 << 10
	}
	return &Env{env: e, limits: l}, nil
}

// Rule is a compiled rule, safe for concurrent use.
type Rule struct {
	place string
	// prg evaluates without run-time cost tracking: the start-up estimate
	// proves that the rule stays within the cost limit for every input
	// within the sizes it assumed (withinEstimate). tracked is the same
	// rule with CEL's run-time cost tracking, for any other input.
	prg, tracked cel.Program
	reads        Reads
	headers      bool   // reads request.headers
	query        bool   // reads request.query
	tokenBytes   uint64 // the estimate's bound on the token's values
}

// Place is where the rule was configured ("JWTGATE_RULE", "routes[2].when").
func (r *Rule) Place() string { return r.place }

// Reads tells what the rule reads beyond the token.
func (r *Rule) Reads() Reads { return r.reads }

// Compile parses and type-checks expr. It refuses a syntax or type error,
// a result other than bool, and a rule whose estimated cost exceeds the
// cost limit even for the smallest inputs or, where CEL can bound it, for
// the largest inputs the limits allow.
func (e *Env) Compile(place, expr string) (*Rule, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, &Error{Place: place, Msg: "empty rule"}
	}
	src := common.NewStringSource(expr, place)
	ast, iss := e.env.CompileSource(src)
	if iss.Err() != nil {
		msgs := make([]string, 0, len(iss.Errors()))
		for _, ce := range iss.Errors() {
			msgs = append(msgs, fmt.Sprintf("line %d, column %d: %s", ce.Location.Line(), ce.Location.Column()+1, ce.Message))
		}
		return nil, &Error{Place: place, Msg: strings.Join(msgs, "; ")}
	}
	// dyn (a claim used as the condition, `claims.active`) is checked at
	// run time: a value that is not a bool is then a rule_error.
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, &Error{Place: place, Msg: fmt.Sprintf("the rule gives %s, not bool (compare it, e.g. `size(x) > 0`)", t)}
	}
	est, err := e.env.EstimateCost(ast, sizeEstimator{e.limits})
	if err != nil {
		return nil, &Error{Place: place, Msg: "cost estimate: " + err.Error()}
	}
	if est.Max > e.limits.CostLimit {
		return nil, &Error{Place: place, Msg: fmt.Sprintf("estimated cost up to %d exceeds the cost limit %d (JWTGATE_RULE_COST_LIMIT); bound the loops or raise the limit", est.Max, e.limits.CostLimit)}
	}
	// est.Max is at most the limit here: evaluating without tracking is
	// equivalent for every input within the sizes the estimate assumed.
	prg, err := e.env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, &Error{Place: place, Msg: err.Error()}
	}
	tracked, err := e.env.Program(ast, cel.CostLimit(e.limits.CostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, &Error{Place: place, Msg: err.Error()}
	}
	r := &Rule{place: place, prg: prg, tracked: tracked, reads: readsOf(ast), tokenBytes: e.limits.TokenBytes}
	for _, ref := range ast.NativeRep().ReferenceMap() {
		r.headers = r.headers || ref.Name == varHeaders
		r.query = r.query || ref.Name == varQuery
	}
	return r, nil
}

// withinEstimate reports whether the input fits the sizes the start-up
// estimate assumed (sizeEstimator): the token's values within TokenBytes,
// the request's strings and maps within requestBytes. Then the estimate,
// at most the cost limit, bounds the evaluation's cost and run-time
// tracking cannot stop it. Anything larger (a test can build a request
// no platform accepts) is evaluated with tracking.
func (r *Rule) withinEstimate(in *Input) bool {
	if in.Token != nil && in.Token.size > r.tokenBytes {
		return false
	}
	if len(in.Method) > requestBytes || len(in.Path) > requestBytes || len(in.Host) > requestBytes || len(in.SourceIP) > requestBytes {
		return false
	}
	if r.headers && headerBytes(in.Header) > requestBytes {
		return false
	}
	if r.query && queryBytes(in.Query) > requestBytes {
		return false
	}
	return true
}

func readsOf(ast *cel.Ast) Reads {
	var r Reads
	for _, ref := range ast.NativeRep().ReferenceMap() {
		switch {
		case ref.Name == varPath:
			r.Path, r.Request = true, true
		case strings.HasPrefix(ref.Name, "request."):
			r.Request = true
		case ref.Name == varNow:
			r.Clock = true
		}
	}
	return r
}

// Eval runs the rule over the input. Any error (a missing claim, a type
// mismatch, the cost limit) is returned, never a guess: the caller fails
// closed. The error never holds claim values.
func (r *Rule) Eval(in *Input) (bool, error) {
	prg := r.prg
	if !r.withinEstimate(in) {
		prg = r.tracked
	}
	return r.eval(prg, in)
}

func (r *Rule) eval(prg cel.Program, in *Input) (bool, error) {
	a := activationFor(in)
	out, _, err := prg.Eval(a)
	// out may be a view into the activation (request.headers as the
	// result of a dyn rule): read it before the activation is reused.
	b, isBool := false, false
	if err == nil {
		b, isBool = out.Value().(bool)
	}
	releaseActivation(a)
	if err != nil {
		return false, &EvalError{Place: r.place, Err: err}
	}
	if !isBool {
		return false, &EvalError{Place: r.place, Err: ErrNotBool}
	}
	return b, nil
}

// sizeEstimator bounds the sizes of the variables for the start-up cost
// estimate: claims and the token header fit in the largest token; request
// strings and maps in what API Gateway and Azure accept.
type sizeEstimator struct{ l Limits }

// requestBytes bounds request.* values (API Gateway: 10 KiB of headers;
// Azure: 8 KiB URLs).
const requestBytes = 16 << 10

func (s sizeEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	p := n.Path()
	if len(p) == 0 {
		return nil
	}
	max := uint64(requestBytes)
	if p[0] == varClaims || p[0] == varHeader {
		max = s.l.TokenBytes
	}
	// An element of a list or a map costs at least two bytes of JSON
	// ("1," or "a:"), a string byte is a byte.
	if n.Type() != nil && (n.Type().Kind() == types.ListKind || n.Type().Kind() == types.MapKind) {
		max /= 2
	}
	return &checker.SizeEstimate{Min: 0, Max: max}
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}
