// Package decision holds the platform-neutral contract between the adapters
// and the validation core: the Request an adapter builds from a platform
// event, and the Decision the core returns for it.
package decision

import (
	"net/http"
	"net/url"
	"time"
)

// Outcome is the kind of a decision. The zero value is Unauthenticated so
// that a Decision nobody filled in never allows.
type Outcome int

const (
	// Unauthenticated: the token is missing or not acceptable (HTTP 401).
	Unauthenticated Outcome = iota
	// Allow: the token is valid and satisfies every requirement.
	Allow
	// Forbidden: a valid token that lacks a scope, a claim or a route (HTTP 403).
	Forbidden
	// Unavailable: no usable keys, so nothing can be verified (HTTP 503).
	Unavailable
)

// String returns the outcome as a lower-case word used in logs and bodies.
func (o Outcome) String() string {
	switch o {
	case Allow:
		return "allow"
	case Forbidden:
		return "forbidden"
	case Unavailable:
		return "unavailable"
	default:
		return "unauthenticated"
	}
}

// HTTPStatus is the status an HTTP front end answers for the outcome.
func (o Outcome) HTTPStatus() int {
	switch o {
	case Allow:
		return http.StatusOK
	case Forbidden:
		return http.StatusForbidden
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusUnauthorized
	}
}

// Request is what an adapter extracts from a platform event. The core finds
// the token in it according to the configured extraction rules.
type Request struct {
	// Header holds the request headers (canonical keys, as http.Header).
	// A REST TOKEN event's authorizationToken is placed under the configured
	// header name.
	Header http.Header
	// Query holds the query string parameters.
	Query url.Values
	// Cookies holds raw cookie pairs ("name=value"), as HTTP API payload 2.0
	// delivers them; Cookie headers in Header are read too.
	Cookies []string
	// Method is the HTTP method of the protected call ("GET"), or "" when the
	// platform does not say (REST TOKEN authorizers).
	Method string
	// Path is the path of the protected call relative to the API/stage
	// ("/orders/42"), or "" when unknown.
	Path string

	// --- Sender-constrained tokens (DPoP, RFC 9449; mTLS, RFC 8705) ---

	// CalledHost and CalledPath are the host (with any port) and the path
	// the client called, as it sent them (stage or base-path mapping
	// included), from which the core builds the URL a DPoP proof's htu
	// must match (JWTGATE_PUBLIC_URL replaces the scheme and host).
	CalledHost string
	CalledPath string
	// ClientCert is the client certificate the platform saw: PEM (API
	// Gateway mutual TLS), or the raw value of the trusted front end's
	// certificate header (base64 DER, PEM, URL-encoded PEM or an Envoy
	// XFCC element). "" when there is none.
	ClientCert string
	// ClientCertFromPlatform tells that the platform itself is the source
	// of client certificates (API Gateway mutual TLS), even when it saw
	// none: the core then never reads JWTGATE_CLIENT_CERT_HEADER, which a
	// client could set itself.
	ClientCertFromPlatform bool
	// NoBindingChannel tells that the platform cannot deliver a DPoP proof
	// or a client certificate (REST TOKEN authorizers receive one header),
	// so a sender-constrained token is refused.
	NoBindingChannel bool
	// Fields for rules (request.host, request.source_ip); "" when the
	// platform does not give them.
	// Host is the host the caller addressed ("api.example.com").
	Host string
	// SourceIP is the caller's address as the platform saw it.
	SourceIP string
}

// RouteGrant is one route rule (method and path pattern) that a token
// satisfies. Adapters turn grants into cache-safe IAM policy resources.
type RouteGrant struct {
	Method string // "GET", or "*" for any method
	Path   string // pattern as configured, e.g. "/orders/{id}" or "/admin/*"
}

// Decision is the core's answer for one request.
type Decision struct {
	Outcome Outcome
	// Reason is a stable snake_case code (see the Reason constants).
	Reason Reason
	// Detail is a short human-readable explanation. It never contains the
	// token, a signature or a secret, and may be shown to the caller.
	Detail string

	// Principal is the token's sub (empty unless the signature verified).
	Principal string
	// Issuer and KeyID identify what verified the token (empty if none did).
	Issuer string
	KeyID  string
	// Claims holds the claims selected for forwarding (see Claims: built
	// only when an adapter or a test reads them).
	Claims Claims
	// MissingScopes lists required scopes the token lacks (forbidden only),
	// for RFC 6750's scope attribute.
	MissingScopes []string
	// RoutesConfigured tells whether route rules exist at all. When they
	// do, Routes and DeniedRoutes together cover every rule, and
	// DefaultsSatisfied tells whether the token meets the requirements of
	// calls that match no rule. Adapters whose answer is cached across
	// routes (API Gateway policies) build it from these three, not from
	// Outcome alone.
	RoutesConfigured bool
	// Routes lists the route rules the token satisfies.
	Routes []RouteGrant
	// DeniedRoutes lists the route rules the token does not satisfy.
	DeniedRoutes []RouteGrant
	// DefaultsSatisfied: the token meets the top-level requirements.
	DefaultsSatisfied bool
	// PerCall tells that a rule read the request or the clock: the
	// decision holds for this call only, and an answer cached across
	// routes must not extend it to other calls.
	PerCall bool
	// RulePlace names the rule that denied or failed ("JWTGATE_RULE",
	// "routes[2].when") for the log line; empty otherwise.
	RulePlace string
	// RuleFailure is the kind of a rule's run-time error ("no such key",
	// "cost limit exceeded"), never an input value; empty otherwise.
	RuleFailure string
	// CacheUntil is the latest time the decision may be reused (never after
	// the token's exp). Zero means do not cache.
	CacheUntil time.Time
	// CacheHit tells whether the signature check was answered by the
	// verified-token cache.
	CacheHit bool

	// AppSync (issue 19).

	// DeniedFields lists the "TypeName.fieldName" entries of the configured
	// field rules (config.FieldRule) whose requirements an allowed token
	// does not meet, sorted and without repeats. AppSync nulls them.
	DeniedFields []string

	// --- Sender-constrained tokens ---

	// SenderConstrained tells that the decision depended on a DPoP proof or
	// a client certificate: it holds for this request only, so adapters
	// must not let it be reused (CacheUntil is zero, and Lambda policies
	// name exactly this call).
	SenderConstrained bool
	// DPoP tells that the request used the DPoP scheme or the token is
	// DPoP-bound: a 401 then carries a DPoP challenge (RFC 9449 §7.1).
	DPoP bool
	// DPoPAlgorithms lists the proof algorithms accepted, for the
	// challenge's algs parameter (set when DPoP is).
	DPoPAlgorithms []string
}

// Allowed reports whether the decision allows the request.
func (d Decision) Allowed() bool { return d.Outcome == Allow }
