// Package core wires configuration, the key source and the validator into
// the one object every adapter uses: build it once per process (package
// scope in Lambda, main in the Azure handler) and call Decide per request.
package core

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/keys"
	"github.com/jwtgate/jwtgate/shared/logging"
	"github.com/jwtgate/jwtgate/shared/replaystore"
	"github.com/jwtgate/jwtgate/shared/validate"
)

// Decider is what adapters need from the core. Tests of an adapter may
// substitute a fake.
type Decider interface {
	Decide(ctx context.Context, r *decision.Request) decision.Decision
}

// Option adjusts how a Core is built.
type Option func(*options)

type options struct {
	logger *slog.Logger
	client *http.Client
	now    func() time.Time
}

// WithLogger sets the logger for key-source events (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithHTTPClient sets the client used for discovery and JWKS requests.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithClock sets the clock (tests move time instead of sleeping).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Core is the process-wide validation core.
type Core struct {
	cfg       *config.Config
	keys      *keys.Store
	validator *validate.Validator
	// WarmErr is the warm-up's error, if any (not fatal: keys are fetched
	// again on the request path).
	WarmErr error
}

// FromEnv reads the configuration from the environment (getenv is
// os.Getenv in production) and builds the core, warming the key cache within
// the configured warm-up bound. A config error names the setting; a failed
// warm-up is not an error (keys are fetched again on the request path).
func FromEnv(ctx context.Context, getenv func(string) string, opts ...Option) (*Core, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg, opts...)
}

// New builds the core from a checked configuration and warms the key cache
// within cfg.WarmupTimeout (and ctx); a zero WarmupTimeout skips warm-up.
func New(ctx context.Context, cfg *config.Config, opts ...Option) (*Core, error) {
	o := options{logger: slog.Default(), now: time.Now}
	for _, fn := range opts {
		fn(&o)
	}
	kopts := []keys.Option{keys.WithLogger(o.logger), keys.WithClock(o.now)}
	if o.client != nil {
		kopts = append(kopts, keys.WithHTTPClient(o.client))
	}
	store, err := keys.NewStore(cfg, kopts...)
	if err != nil {
		return nil, fmt.Errorf("key sources: %w", err)
	}
	vopts := []validate.Option{validate.WithClock(o.now)}
	if len(cfg.DecryptionKeys) > 0 {
		d, err := newDecrypter(cfg)
		if err != nil {
			return nil, fmt.Errorf("JWTGATE_DECRYPTION_KEYS: %w", err)
		}
		vopts = append(vopts, validate.WithDecrypter(d))
	}
	replay, err := replaystore.Open(cfg.ReplayStore, replaystore.Options{Timeout: cfg.HTTPTimeout, Now: o.now})
	if err != nil {
		return nil, fmt.Errorf("JWTGATE_REPLAY_STORE: %w", err)
	}
	vopts = append(vopts, validate.WithReplayStore(replay))
	v, err := validate.New(cfg, store, vopts...)
	if err != nil {
		_ = replay.Close()
		return nil, err
	}
	c := &Core{cfg: cfg, keys: store, validator: v}
	// Which key sources serve which issuer, with the kids fetched so far.
	defer store.LogIssuerKeys()
	// JWTGATE_WARMUP_TIMEOUT=0 skips the prefetch: keys are then fetched by
	// the first request (config.Default and FromEnv start from 1s).
	if cfg.WarmupTimeout <= 0 {
		return c, nil
	}
	wctx, cancel := context.WithTimeout(ctx, cfg.WarmupTimeout)
	defer cancel()
	if err := store.Warm(wctx); err != nil {
		c.WarmErr = err
		o.logger.LogAttrs(ctx, slog.LevelWarn, "key warm-up failed; keys will be fetched on the request path", slog.String("error", err.Error()))
	}
	return c, nil
}

// Config returns the configuration the core was built from.
func (c *Core) Config() *config.Config { return c.cfg }

// Decide validates the request's token and returns the decision. It never
// panics and never allows on an error.
func (c *Core) Decide(ctx context.Context, r *decision.Request) decision.Decision {
	if c == nil || c.validator == nil {
		return decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "validator not initialised"}
	}
	return c.validator.Decide(ctx, r)
}

// DecideTraced is Decide, recording every check into tr (see
// validate.Trace); explain uses it, production never does.
func (c *Core) DecideTraced(ctx context.Context, r *decision.Request, tr *validate.Trace) decision.Decision {
	if c == nil || c.validator == nil {
		return decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "validator not initialised"}
	}
	return c.validator.DecideTraced(ctx, r, tr)
}

// KeySources lists the configured key sources and the issuers each serves.
func (c *Core) KeySources() []keys.SourceInfo { return c.keys.Sources() }

// Stats are counters adapters report as metrics.
type Stats struct {
	Keys             keys.Stats
	TokenCacheHits   int64
	TokenCacheMisses int64
}

// Stats returns the current counters.
func (c *Core) Stats() Stats {
	st := Stats{Keys: c.keys.Stats()}
	st.TokenCacheHits, st.TokenCacheMisses = c.validator.CacheStats()
	return st
}

// DecisionLevel is the level of a decision's log line: info for allow,
// warn for a refusal (401 or 403), error for "keys unavailable". So
// JWTGATE_LOG_LEVEL=warn keeps refusals and faults only.
func DecisionLevel(o decision.Outcome) slog.Level {
	switch o {
	case decision.Allow:
		return slog.LevelInfo
	case decision.Unavailable:
		return slog.LevelError
	default:
		return slog.LevelWarn
	}
}

// LogDecision writes the one structured line per decision: platform, shape,
// outcome, reason, status, kid, iss, sub, latency and cache hit, at
// DecisionLevel. It never logs the token. Extra attributes (e.g. an
// invocation id) may be appended. Below the logger's level it builds none
// of its own attributes (the caller's extra ones are already built).
//
// With the logger logging.New builds (the adapters'), the line is rendered
// directly into a pooled buffer, byte for byte what slog's JSONHandler
// writes for the same attributes (decisionAttrs, the path every other
// handler takes); TestDecisionLineFastPathMatchesSlog holds them equal.
func LogDecision(ctx context.Context, l *slog.Logger, platform, shape string, d decision.Decision, latency time.Duration, extra ...slog.Attr) {
	level := DecisionLevel(d.Outcome)
	if !l.Enabled(ctx, level) {
		return
	}
	if h, ok := l.Handler().(*logging.Handler); ok && logging.Renderable(extra) {
		ln := h.Start(level, "decision")
		appendDecision(ln, platform, shape, d, latency, extra)
		h.End(ln)
		return
	}
	l.LogAttrs(ctx, level, "decision", decisionAttrs(platform, shape, d, latency, extra)...)
}

// decisionAttrs are the decision line's attributes, in order.
func decisionAttrs(platform, shape string, d decision.Decision, latency time.Duration, extra []slog.Attr) []slog.Attr {
	attrs := make([]slog.Attr, 0, 12+len(extra))
	attrs = append(attrs,
		slog.String("platform", platform),
		slog.String("shape", shape),
		slog.String("outcome", d.Outcome.String()),
		slog.String("reason", string(d.Reason)),
		slog.Int("status", d.Outcome.HTTPStatus()),
		slog.String("kid", d.KeyID),
		slog.String("iss", d.Issuer),
		slog.String("sub", d.Principal),
		slog.Float64("latency_ms", latencyMS(latency)),
		slog.Bool("cache_hit", d.CacheHit),
	)
	if d.RulePlace != "" {
		attrs = append(attrs, slog.String("rule", d.RulePlace))
		if d.RuleFailure != "" {
			attrs = append(attrs, slog.String("rule_failure", d.RuleFailure))
		}
	}
	return append(attrs, extra...)
}

func latencyMS(latency time.Duration) float64 { return float64(latency.Microseconds()) / 1000 }

// appendDecision renders decisionAttrs into ln, with the constant keys
// pre-rendered.
func appendDecision(ln *logging.Line, platform, shape string, d decision.Decision, latency time.Duration, extra []slog.Attr) {
	ln.Raw(`,"platform":`)
	ln.String(platform)
	ln.Raw(`,"shape":`)
	ln.String(shape)
	ln.Raw(`,"outcome":`)
	ln.String(d.Outcome.String())
	ln.Raw(`,"reason":`)
	ln.String(string(d.Reason))
	ln.Raw(`,"status":`)
	ln.Int(int64(d.Outcome.HTTPStatus()))
	ln.Raw(`,"kid":`)
	ln.String(d.KeyID)
	ln.Raw(`,"iss":`)
	ln.String(d.Issuer)
	ln.Raw(`,"sub":`)
	ln.String(d.Principal)
	ln.Raw(`,"latency_ms":`)
	ln.Float(latencyMS(latency))
	ln.Raw(`,"cache_hit":`)
	ln.Bool(d.CacheHit)
	if d.RulePlace != "" {
		ln.Raw(`,"rule":`)
		ln.String(d.RulePlace)
		if d.RuleFailure != "" {
			ln.Raw(`,"rule_failure":`)
			ln.String(d.RuleFailure)
		}
	}
	for _, a := range extra {
		ln.Attr(a)
	}
}
