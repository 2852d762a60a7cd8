// Package customhandler is jwtgate's Azure Functions custom handler as an
// http.Handler: it turns what the Functions host (or a forward-auth proxy)
// sends into a core decision.Request and the core's Decision into an HTTP
// answer. It serves three request shapes:
//
//   - proxy: the caller's own request, proxied by the host to
//     /api/authorize[/path] (host.json enableProxyingHttpRequest);
//   - forward-auth: the same endpoint called by nginx auth_request, Traefik
//     forwardAuth, Envoy ext_authz or APIM send-request, with the original
//     method and URI in X-Forwarded-Method/X-Forwarded-Uri or
//     X-Original-Method/X-Original-URI;
//   - invocation: the host's invocation payload, POST /authorize with
//     {"Data":{"req":{…}},"Metadata":{…}}, answered with
//     {"Outputs":{"res":{…}},"Logs":[…],"ReturnValue":null}.
//
// "/" is a decision endpoint too (the Functions host's readiness ping
// accepts any answer, and a proxy aimed at "/" must never get an
// unconditional 200); GET or HEAD /healthz is the liveness check, never a
// decision. Route rules see the original path exactly as received (still
// escaped, never decoded or cleaned), so the core can refuse ambiguous
// paths. No validation logic lives here; the package holds no mutable
// state, so one handler serves concurrent requests.
package customhandler

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// Endpoint paths.
const (
	// FunctionName is the function folder name (authorize/function.json).
	FunctionName = "authorize"
	// ProxyPrefix is where the host delivers proxied requests: the default
	// route prefix "api" plus the function's route "authorize/{*path}".
	ProxyPrefix = "/api/" + FunctionName
	// InvocationPath is where the host POSTs invocation payloads.
	InvocationPath = "/" + FunctionName
	// HealthPath answers GET and HEAD with {"status":"ready"} (or
	// "starting") and 200, without a decision: a liveness check, never an
	// auth endpoint.
	HealthPath = "/healthz"
)

// Shapes reported in the decision log line.
const (
	ShapeProxy       = "proxy"
	ShapeForwardAuth = "forward-auth"
	ShapeInvocation  = "invocation"
	// Platform is the platform name in the decision log line.
	Platform = "azure-functions"
)

// InvocationIDHeader is the header carrying the host's invocation id.
const InvocationIDHeader = "X-Azure-Functions-InvocationId"

// invocationIDKey is InvocationIDHeader in canonical form, so a lookup
// does not canonicalise (and allocate) per request.
var invocationIDKey = http.CanonicalHeaderKey(InvocationIDHeader)

// invocationID is r's InvocationIDHeader (first value), like Header.Get.
func invocationID(r *http.Request) string {
	if vs := r.Header[invocationIDKey]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// DefaultRealm is the realm announced in WWW-Authenticate.
const DefaultRealm = "jwtgate"

// DefaultRetryAfter is the Retry-After announced with a 503.
const DefaultRetryAfter = 5 * time.Second

// Option adjusts a handler built by New.
type Option func(*Handler)

// WithRealm sets the realm announced in WWW-Authenticate.
func WithRealm(realm string) Option { return func(h *Handler) { h.realm = realm } }

// WithRetryAfter sets the Retry-After announced with a 503 (rounded up to
// whole seconds, at least 1).
func WithRetryAfter(d time.Duration) Option { return func(h *Handler) { h.retryAfter = d } }

// WithForwardedHeaders sets which forward-auth headers are read
// (JWTGATE_FORWARDED_HEADERS; the default is ForwardedAuto).
func WithForwardedHeaders(m ForwardedHeaders) Option { return func(h *Handler) { h.fwd = m } }

// WithClock sets the clock used to measure decision latency.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// Handler answers the Functions host and forward-auth proxies. Its fields
// are set once by New and only read afterwards.
type Handler struct {
	d          core.Decider
	logger     *slog.Logger
	claimHdrs  []claimHeader
	failStatus int
	failMsg    string
	realm      string
	retryAfter time.Duration
	fwd        ForwardedHeaders
	now        func() time.Time
	// Rendered once by New: the challenge without an error code (a request
	// without a token) and the Retry-After value. Shared by every answer:
	// read-only.
	bareChallenge   []string
	retryAfterValue []string
}

type claimHeader struct{ claim, header string }

// New builds the handler around a decider. cfg supplies the claim → header
// mapping (ClaimHeaders) and APIM's failed-validation status and message
// (FailedStatus, FailedMessage); nil means the defaults. A nil logger
// discards the decision log.
func New(d core.Decider, cfg *config.Config, logger *slog.Logger, opts ...Option) *Handler {
	if cfg == nil {
		cfg = config.Default()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		d:          d,
		logger:     logger,
		failStatus: cfg.FailedStatus,
		failMsg:    cfg.FailedMessage,
		realm:      DefaultRealm,
		retryAfter: DefaultRetryAfter,
		fwd:        ForwardedAuto,
		now:        time.Now,
	}
	// A failed validation must never be answered with a success or a
	// redirect, whatever the configuration says.
	if h.failStatus < 400 || h.failStatus > 599 {
		h.failStatus = http.StatusUnauthorized
	}
	for claim, header := range cfg.ClaimHeaders {
		if claim == "" || !validHeaderName(header) {
			continue
		}
		h.claimHdrs = append(h.claimHdrs, claimHeader{claim: claim, header: http.CanonicalHeaderKey(header)})
	}
	sortClaimHeaders(h.claimHdrs)
	for _, o := range opts {
		o(h)
	}
	h.bareChallenge = []string{h.challenge()}
	h.retryAfterValue = []string{strconv.Itoa(h.retryAfterSeconds())}
	return h
}

// ServeHTTP dispatches on the path as received (still escaped): the
// liveness check, the invocation payload endpoint, and the decision
// endpoints (/api/authorize[/path] and "/"). Anything else is a 404, never
// an allow.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := rawRequestPath(r)
	switch {
	case p == HealthPath:
		serveHealth(w, r, true)
	case strings.EqualFold(p, InvocationPath):
		h.serveInvocation(w, r)
	case hasProxyPrefix(p):
		h.serveProxy(w, r, stripProxyPrefix(p))
	case p == "/":
		// The Functions host's readiness ping (any answer will do), or a
		// forward-auth proxy aimed at the root: decide either way.
		h.serveProxy(w, r, "/")
	default:
		writeError(w, http.StatusNotFound, "not_found", "jwtgate answers at "+ProxyPrefix+"[/path] and / (proxy and forward-auth), POST "+InvocationPath+" (invocation payload) and "+HealthPath+" (liveness, not a decision)")
	}
}

// IsHealthCheck reports whether r asks for the liveness check: GET or HEAD
// of HealthPath. It is never a decision.
func IsHealthCheck(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && rawRequestPath(r) == HealthPath
}

// IsRoot reports whether r is for "/", the decision endpoint the Functions
// host also pings for readiness.
func IsRoot(r *http.Request) bool { return rawRequestPath(r) == "/" }

// serveHealth answers HealthPath: GET and HEAD only.
func serveHealth(w http.ResponseWriter, r *http.Request, ready bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", HealthPath+" takes GET or HEAD")
		return
	}
	WriteHealth(w, r, ready)
}

// WriteHealth answers the liveness check; ready tells whether the core is
// built. Both are 200 with {"status":"ready"|"starting"}: a body that is
// clearly not a decision.
func WriteHealth(w http.ResponseWriter, r *http.Request, ready bool) {
	status := "starting"
	if ready {
		status = "ready"
	}
	setCommonHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(`{"status":"` + status + `"}` + "\n"))
	}
}

// hasProxyPrefix reports whether p is /api/authorize or below it (the host
// matches routes case-insensitively, so this does too).
func hasProxyPrefix(p string) bool {
	if len(p) < len(ProxyPrefix) || !strings.EqualFold(p[:len(ProxyPrefix)], ProxyPrefix) {
		return false
	}
	return len(p) == len(ProxyPrefix) || p[len(ProxyPrefix)] == '/'
}

// decide asks the core, logs the one decision line and returns the answer.
func (h *Handler) decide(ctx context.Context, req *decision.Request, shape, invocationID string) answer {
	start := h.now()
	d := h.safeDecide(ctx, req)
	a := h.render(d)
	h.log(ctx, shape, d, h.now().Sub(start), invocationID, req, a.status)
	return a
}

// safeDecide calls the decider and turns a panic into an unavailable
// decision: a bug must never crash the handler or allow.
func (h *Handler) safeDecide(ctx context.Context, req *decision.Request) (d decision.Decision) {
	defer func() {
		if rec := recover(); rec != nil {
			h.logger.ErrorContext(ctx, "decider panicked", slog.Any("panic", rec))
			d = decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "internal error"}
		}
	}()
	if h.d == nil {
		return decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "no decider configured"}
	}
	return h.d.Decide(ctx, req)
}

// refuse logs and answers a request that could not be turned into a
// decision.Request (a malformed payload or forwarded header): 400, never
// allow.
func (h *Handler) refuse(ctx context.Context, shape, invocationID, detail string) answer {
	d := decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.EventMalformed, Detail: detail}
	a := h.renderMalformed(detail)
	h.log(ctx, shape, d, 0, invocationID, nil, a.status)
	return a
}

func (h *Handler) log(ctx context.Context, shape string, d decision.Decision, latency time.Duration, invocationID string, req *decision.Request, status int) {
	var buf [4]slog.Attr // on the stack: LogDecision does not keep extra
	extra := append(buf[:0], slog.Int("http_status", status))
	if invocationID != "" {
		extra = append(extra, slog.String("invocation_id", sanitizeLog(invocationID)))
	}
	if req != nil {
		// Method and path only: the query may carry a token.
		extra = append(extra, slog.String("method", req.Method), slog.String("path", sanitizeLog(req.Path)))
	}
	core.LogDecision(ctx, h.logger, Platform, shape, d, latency, extra...)
}

// sanitizeLog bounds a caller-supplied string written to the log.
func sanitizeLog(s string) string {
	const max = 256
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
