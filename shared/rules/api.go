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
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultCostLimit bounds one evaluation of one rule, in CEL cost units (the
// order Kubernetes uses for its validation rules).
const DefaultCostLimit = 1_000_000

// Limits assumed by the start-up cost estimate: the largest sizes the
// variables can have.
type Limits struct {
	// TokenBytes bounds claims and token.header (the largest accepted token).
	TokenBytes uint64
	// CostLimit bounds every evaluation; 0 means DefaultCostLimit.
	CostLimit uint64
}

// Reads tells which inputs beyond the token a rule reads.
type Reads struct {
	Request bool // any request.* variable
	Path    bool // request.path
	Clock   bool // now
}

// Error is a rule refused at start-up: its place and CEL's messages (each
// with line and column).
type Error struct {
	Place string
	Msg   string
}

func (e *Error) Error() string { return e.Place + ": " + e.Msg }

// ErrNotBool is returned when a rule's value is not a bool at run time
// (a dyn expression the checker could not type).
var ErrNotBool = errors.New("rule did not give a bool")

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
