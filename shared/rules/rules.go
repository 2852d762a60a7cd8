// Package rules compiles and evaluates authorization rules written in CEL
// (Common Expression Language) over a verified token and its request. A
// rule is compiled and type-checked once at start-up; evaluating it is
// bounded by a cost limit and never touches the network or the file system
// (the CEL standard library and the strings extension only).
//
// Variables:
//
//	claims          map(string, dyn)     the verified token's claims
//	token.header    map(string, dyn)     the token's JOSE header
//	request.method  string               "GET" ("" when the platform does not say)
//	request.path    string               the path route rules see
//	request.host    string               "" when the platform does not say
//	request.headers map(string, string)  lower-case names, repeated values joined with ", "
//	request.query   map(string, string)  repeated values joined with ","
//	request.source_ip string             "" when the platform does not say
//	now             timestamp            the decision's clock
//
// JSON numbers become int when they are integers that fit in 64 bits and
// double otherwise; null is null.
package rules

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
)

// DefaultCostLimit bounds one evaluation of one rule, in CEL cost units (the
// order Kubernetes uses for its validation rules).
const DefaultCostLimit = 1_000_000

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

// Limits assumed by the start-up cost estimate: the largest sizes the
// variables can have.
type Limits struct {
	// TokenBytes bounds claims and token.header (the largest accepted token).
	TokenBytes uint64
	// CostLimit bounds every evaluation; 0 means DefaultCostLimit.
	CostLimit uint64
}

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

// Reads tells which inputs beyond the token a rule reads.
type Reads struct {
	Request bool // any request.* variable
	Path    bool // request.path
	Clock   bool // now
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

// Error is a rule refused at start-up: its place and CEL's messages (each
// with line and column).
type Error struct {
	Place string
	Msg   string
}

func (e *Error) Error() string { return e.Place + ": " + e.Msg }

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

// ErrNotBool is returned when a rule's value is not a bool at run time
// (a dyn expression the checker could not type).
var ErrNotBool = errors.New("rule did not give a bool")

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

// EvalError is a rule that failed at run time. Its message names the
// rule's place and the kind of failure; it is meant for logs and never
// carries claim or request values.
type EvalError struct {
	Place string
	Err   error
}

func (e *EvalError) Error() string { return e.Place + ": " + e.Kind() }

func (e *EvalError) Unwrap() error { return e.Err }

// Kind is a short description of the failure that never quotes input
// values: CEL's own messages can ("no such key: <key>").
func (e *EvalError) Kind() string {
	if errors.Is(e.Err, ErrNotBool) {
		return ErrNotBool.Error()
	}
	msg := e.Err.Error()
	switch {
	case strings.Contains(msg, "cost limit"):
		return "cost limit exceeded"
	case strings.HasPrefix(msg, "no such key"):
		return "no such key"
	case strings.HasPrefix(msg, "no such overload"), strings.Contains(msg, "no such overload"):
		return "no such overload (a value of an unexpected type)"
	case strings.Contains(msg, "overflow"):
		return "arithmetic overflow"
	case strings.Contains(msg, "division by zero"), strings.Contains(msg, "modulus by zero"):
		return "division by zero"
	case strings.Contains(msg, "index out of"), strings.Contains(msg, "invalid index"):
		return "index out of range"
	}
	return "evaluation error"
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
