// Package authorizer is the AWS API Gateway Lambda authorizer adapter: it
// recognises every authorizer event shape (REST TOKEN, REST REQUEST, HTTP API
// payload 1.0 and 2.0) from the event's content, turns it into a core
// decision.Request, asks the core for a Decision and turns that into the
// answer API Gateway expects: an IAM policy, a simple response, or an error
// ("Unauthorized" for 401, anything else for 500).
//
// The Lambda entry point (functions/lambda) and the replay runner share it:
//
//	a := authorizer.New(core, core.Config(), logger, authorizer.WithMetrics(os.Stdout, ""))
//	lambda.Start(a)              // a implements lambda.Handler (raw bytes in and out)
//	res := a.Evaluate(ctx, ev)   // replay and tests: shape, decision, response, status
//
// Policies are built to be safe under API Gateway's authorizer cache; see
// policyFor for the rules.
package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// Platform is the platform name in decision log lines.
const Platform = "aws-lambda"

// Result is the full outcome of one event, for the replay runner and tests.
type Result struct {
	// Shape is the recognised event shape (ShapeRESTToken, …, ShapeUnknown).
	Shape string
	// Decision is the core's decision, or the adapter's own refusal for a
	// malformed event (reason event_malformed) or an ambiguous token.
	Decision decision.Decision
	// Response is what Handle returns on success: an
	// events.APIGatewayCustomAuthorizerResponse, an
	// events.APIGatewayV2CustomAuthorizerIAMPolicyResponse or an
	// events.APIGatewayV2CustomAuthorizerSimpleResponse. Nil when Err is set.
	Response any
	// Err is the error Handle returns: ErrUnauthorized (401),
	// ErrKeysUnavailable or ErrInternal (500).
	Err error
	// Status is the HTTP status API Gateway answers the caller: 200, 401,
	// 403 or 500.
	Status int
}

// Option adjusts an Authorizer.
type Option func(*Authorizer)

// WithMetrics writes one CloudWatch Embedded Metric Format line per
// decision to w (os.Stdout in Lambda), whatever the log level. A non-empty
// level is written as the line's "level" member, so that Lambda's log-level
// filter keeps it (see logging.MetricsLevel). Without this option no
// metrics are written.
func WithMetrics(w io.Writer, level string) Option {
	return func(a *Authorizer) { a.metrics, a.metricsLevel = w, level }
}

// WithClock sets the clock used for latency and metric timestamps.
func WithClock(now func() time.Time) Option { return func(a *Authorizer) { a.now = now } }

// statser is implemented by *core.Core; a fake Decider may lack it.
type statser interface{ Stats() core.Stats }

// Authorizer answers API Gateway authorizer events. It is safe for
// concurrent use; build one per process so the core's caches stay warm.
type Authorizer struct {
	decider core.Decider
	cfg     *config.Config
	logger  *slog.Logger
	now     func() time.Time
	metrics io.Writer
	// metricsLevel is the EMF line's "level" member ("" for none).
	metricsLevel string

	// mu guards lastStats and serialises metric lines on the writer.
	mu        sync.Mutex
	lastStats core.Stats
}

// New builds an Authorizer around a decider (the core, or a fake in tests).
// cfg supplies the token header name for TOKEN events, the token query
// parameter (checked for duplicates), the HTTP API answer format and the
// usage identifier claim; nil means the defaults. Route rules reach the
// adapter through the Decision (Routes, DeniedRoutes, DefaultsSatisfied). logger receives one line per decision (nil: slog.Default()).
func New(d core.Decider, cfg *config.Config, logger *slog.Logger, opts ...Option) *Authorizer {
	if logger == nil {
		logger = slog.Default()
	}
	a := &Authorizer{decider: d, cfg: cfg, logger: logger, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	if s, ok := d.(statser); ok {
		a.lastStats = s.Stats()
	}
	return a
}

// Handle answers one event; lambda.Start may call it directly. It returns
// the response value or the error API Gateway maps to 401 or 500.
func (a *Authorizer) Handle(ctx context.Context, event json.RawMessage) (any, error) {
	r := a.Evaluate(ctx, event)
	return r.Response, r.Err
}

// Invoke implements lambda.Handler: the raw event in, the JSON answer out.
// Unlike a reflective handler it also sees events that are not valid JSON,
// and refuses them as unauthenticated instead of failing with a 500.
func (a *Authorizer) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r := a.Evaluate(ctx, payload)
	if r.Err != nil {
		return nil, r.Err
	}
	b, err := json.Marshal(r.Response)
	if err != nil {
		return nil, ErrInternal
	}
	return b, nil
}

// Evaluate answers one event and reports everything about it. It never
// panics and never allows unless the decider allowed a well-formed event.
func (a *Authorizer) Evaluate(ctx context.Context, event json.RawMessage) Result {
	start := a.now()
	p, err := parseEvent(event, a.headerName())
	var res Result
	if err != nil {
		res = Result{
			Shape:    ShapeUnknown,
			Decision: decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.EventMalformed, Detail: err.Error()},
			Err:      ErrUnauthorized,
			Status:   401,
		}
	} else {
		d := a.decide(ctx, &p)
		resp, status, aerr := answer(p, d, a.cfg)
		res = Result{Shape: p.shape, Decision: d, Response: resp, Err: aerr, Status: status}
	}
	a.record(ctx, res, a.now().Sub(start))
	return res
}

// decide asks the decider, after refusing requests whose token is
// ambiguous (two values where the core looks for one).
func (a *Authorizer) decide(ctx context.Context, p *parsed) (d decision.Decision) {
	name := a.headerName()
	if vals := p.req.Header.Values(name); len(vals) > 1 {
		return decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenMalformed,
			Detail: fmt.Sprintf("more than one %s header", name)}
	}
	if q := a.queryParam(); q != "" && len(p.req.Query[q]) > 1 {
		return decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenMalformed,
			Detail: fmt.Sprintf("more than one %s query parameter", q)}
	}
	if a.decider == nil {
		return decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "no decider"}
	}
	defer func() {
		if r := recover(); r != nil {
			d = decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "decider panicked"}
		}
	}()
	return a.decider.Decide(ctx, &p.req)
}

func (a *Authorizer) headerName() string {
	if a.cfg != nil && a.cfg.HeaderName != "" {
		return a.cfg.HeaderName
	}
	return "Authorization"
}

func (a *Authorizer) queryParam() string {
	if a.cfg != nil {
		return a.cfg.QueryParam
	}
	return ""
}

// record writes the decision log line and the metric line.
func (a *Authorizer) record(ctx context.Context, res Result, latency time.Duration) {
	var extra []slog.Attr
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		extra = append(extra, slog.String("aws_request_id", lc.AwsRequestID))
	}
	if res.Err != nil && !errors.Is(res.Err, ErrUnauthorized) {
		extra = append(extra, slog.String("error", res.Err.Error()))
	}
	extra = append(extra, slog.Int("gateway_status", res.Status))
	core.LogDecision(ctx, a.logger, Platform, res.Shape, res.Decision, latency, extra...)

	var fetches, fetchErrors int64
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.decider.(statser); ok {
		now := s.Stats()
		fetches = (now.Keys.JWKSFetches - a.lastStats.Keys.JWKSFetches) + (now.Keys.DiscoveryFetches - a.lastStats.Keys.DiscoveryFetches)
		fetchErrors = now.Keys.FetchErrors - a.lastStats.Keys.FetchErrors
		a.lastStats = now
	}
	if a.metrics != nil {
		line := emfLine(a.now(), a.metricsLevel, res.Decision.Outcome.String(), res.Shape, latency, fetches, fetchErrors)
		_, _ = a.metrics.Write(line)
	}
}
