// Package config reads jwtgate's configuration from the environment, a policy
// file (YAML or JSON) or an Azure API Management policy XML, and checks it.
// A Config that FromEnv, LoadPolicy or LoadAPIM returned without error is
// complete, defaulted and consistent; an invalid setting stops start-up with
// an error that names it (the variable, the policy file field or the APIM
// policy item).
package config

import "time"

// Config is the whole validation model. Every adapter and the replay runner
// build the core from the same Config.
type Config struct {
	// Key sources.
	OpenIDConfigURLs []string     // JWTGATE_OPENID_CONFIG
	JWKSURLs         []string     // JWTGATE_JWKS_URL: unbound (serve every accepted issuer that discovery does not serve)
	JWKSSources      []JWKSSource // policy file keys[].jwks_url: JWKS URLs bound to their issuers
	StaticKeys       []StaticKey  // JWTGATE_JWKS (inline/file), JWTGATE_PUBLIC_KEYS, JWTGATE_HMAC_SECRETS, policy keys
	SeedJWKS         []byte       // JWTGATE_SEED_JWKS: used until the first successful fetch
	DecryptionKeys   []DecryptionKey

	// OpenIDConfigIssuers maps a discovery URL (as written in
	// OpenIDConfigURLs) to accepted issuers, other than the one its document
	// announces, whose tokens that source's keys may also sign: an APIM
	// policy's <issuers> that no <openid-config> stands for (APIM checks
	// every issuer of a policy against all of the policy's keys). Never
	// another discovery source's issuer. Nil when there are none.
	OpenIDConfigIssuers map[string][]string

	// Token acceptance.
	Issuers           []string      // JWTGATE_ISSUERS; empty: the issuers of the discovery documents
	Audiences         []string      // JWTGATE_AUDIENCES (required)
	AnyAudience       bool          // JWTGATE_AUDIENCES="*": audience check explicitly off
	Algorithms        []string      // JWTGATE_ALGORITHMS
	ClockSkew         time.Duration // JWTGATE_CLOCK_SKEW
	RequireExpiration bool          // JWTGATE_REQUIRE_EXPIRATION (default true)
	TokenTypes        []string      // JWTGATE_TOKEN_TYPES: allowed header typ values (empty: any)
	MaxTokenBytes     int           // JWTGATE_MAX_TOKEN_BYTES (default 16 KiB)

	// Tenants and calling applications (Entra ID, Cognito).
	Tenants        []string // JWTGATE_TENANTS: tenant ids accepted for issuer templates
	AnyTenant      bool     // JWTGATE_TENANTS="*": any tenant, set on purpose
	ClientIDs      []string // JWTGATE_CLIENT_IDS: accepted azp/appid/client_id/cid (empty: any)
	TokenUse       string   // JWTGATE_TOKEN_USE: "access", "id" or "" (not checked)
	EntraAuthority string   // JWTGATE_ENTRA_AUTHORITY: discovery base of validate-azure-ad-token imports
	// APIMImport is true when the configuration came from an APIM
	// <validate-azure-ad-token> policy: a wrong client is then a failed
	// validation (401 or the policy's failed-validation-httpcode), as APIM
	// answers.
	APIMImport bool

	// Extraction (APIM header-name, require-scheme, query-parameter-name).
	// After loading, "" means no such source: HeaderName "" reads no header,
	// Scheme "" means the header holds the bare token (env "-" or "none").
	// Build configs in code from Default() to get Authorization / Bearer.
	HeaderName string // JWTGATE_TOKEN_HEADER (default Authorization)
	Scheme     string // JWTGATE_TOKEN_SCHEME (default Bearer; "-" for none)
	QueryParam string // JWTGATE_TOKEN_QUERY
	CookieName string // JWTGATE_TOKEN_COOKIE
	// Subprotocol is the Sec-WebSocket-Protocol marker whose next protocol
	// is the token (JWTGATE_TOKEN_SUBPROTOCOL; "" reads no subprotocol).
	Subprotocol string

	// Authorization.
	RequiredScopes []string           // JWTGATE_REQUIRED_SCOPES
	RequiredClaims []ClaimRequirement // policy file / APIM required-claims
	Routes         []RouteRule        // policy file
	// DeniedFields maps requirements to AppSync fields: an allowed token
	// that fails a rule's requirements gets its fields in deniedFields
	// (policy file denied_fields; AppSync answers only).
	DeniedFields []FieldRule

	// Rules (CEL expressions, see package shared/rules).
	Rule          string // JWTGATE_RULE / policy rule: every allowed request must satisfy it
	RuleCostLimit int    // JWTGATE_RULE_COST_LIMIT: bound on one evaluation of one rule (1000000)

	// Key cache.
	HTTPTimeout     time.Duration // JWTGATE_HTTP_TIMEOUT (2s)
	JWKSCooldown    time.Duration // JWTGATE_JWKS_COOLDOWN (30s)
	RefreshInterval time.Duration // JWTGATE_JWKS_REFRESH (1h; Cache-Control max-age wins, clamped to [5m, 24h])
	MaxStaleness    time.Duration // JWTGATE_JWKS_MAX_STALENESS (24h)
	WarmupTimeout   time.Duration // JWTGATE_WARMUP_TIMEOUT (1s)

	// Verified-token cache.
	TokenCacheSize   int           // JWTGATE_TOKEN_CACHE_SIZE (10000; 0 disables)
	TokenCacheMaxTTL time.Duration // JWTGATE_TOKEN_CACHE_TTL (5m)

	// Output.
	ForwardClaims        []string          // JWTGATE_FORWARD_CLAIMS: extra claims put in context/headers
	ClaimHeaders         map[string]string // JWTGATE_CLAIM_HEADERS: "sub=X-Auth-Subject,scope=X-Auth-Scopes"
	UsageIdentifierClaim string            // JWTGATE_USAGE_IDENTIFIER_CLAIM (Lambda usageIdentifierKey)
	HTTPAPIResponse      string            // JWTGATE_HTTPAPI_RESPONSE: "simple" or "iam"
	FailedStatus         int               // APIM failed-validation-httpcode / policy failed_validation_httpcode (Azure handler only; default 401)
	FailedMessage        string            // APIM failed-validation-error-message / policy failed_validation_error_message

	// Sender-constrained tokens (DPoP, RFC 9449; certificate-bound, RFC 8705).
	DPoPAlgorithms     []string      // JWTGATE_DPOP_ALGORITHMS (default DefaultDPoPAlgorithms)
	DPoPMaxAge         time.Duration // JWTGATE_DPOP_MAX_AGE (60s): oldest acceptable proof iat, plus the clock skew
	ReplayStore        string        // JWTGATE_REPLAY_STORE: "memory" (default) or redis://… / rediss://…
	PublicURL          string        // JWTGATE_PUBLIC_URL: scheme://host[:port][/prefix] a proof's htu starts with
	ClientCertHeader   string        // JWTGATE_CLIENT_CERT_HEADER: trusted front end's certificate header (Azure handler)
	RequireBoundTokens bool          // JWTGATE_REQUIRE_BOUND_TOKENS: refuse tokens without cnf
}

// StaticKey is a key given in configuration rather than fetched.
type StaticKey struct {
	// JWKS is a JSON Web Key Set document; or
	JWKS []byte
	// PEM is a PEM public key or certificate; or
	PEM []byte
	// N and E are base64url RSA modulus and exponent (APIM <key n e>); or
	N, E string
	// Secret is a symmetric key for HS256/384/512 (only ever configured).
	Secret []byte
	// KID optionally names the key; Alg optionally pins its algorithm.
	KID string
	Alg string
	// Issuers binds the key to these issuers, discovery issuers included
	// (empty: unbound, it serves every accepted issuer that discovery does
	// not serve; see CheckKeyBindings).
	Issuers []string
}

// JWKSSource is a JWKS URL bound to the issuers whose tokens its keys sign
// (policy file: keys[] with jwks_url and issuers). Without Issuers it is
// unbound, like a JWTGATE_JWKS_URL entry.
type JWKSSource struct {
	URL     string
	Issuers []string
}

// DecryptionKey is a key for encrypted (JWE) tokens.
type DecryptionKey struct {
	KID    string
	Secret []byte // dir / AES key
	PEM    []byte // RSA private key (RSA-OAEP, RSA-OAEP-256)
	JWK    []byte // a private JWK
}

// ClaimRequirement mirrors APIM's <required-claims><claim>: the named claim
// must be present and, when Values is non-empty, hold all or any of them.
type ClaimRequirement struct {
	Name      string   `json:"name" yaml:"name"`
	Values    []string `json:"values,omitempty" yaml:"values,omitempty"`
	Match     string   `json:"match,omitempty" yaml:"match,omitempty"`         // "all" (default) or "any"
	Separator string   `json:"separator,omitempty" yaml:"separator,omitempty"` // splits a string claim into values
}

// RouteRule gives requirements for calls whose method and path match.
// A call that matches no rule falls back to the top-level requirements.
type RouteRule struct {
	Method string             `json:"method" yaml:"method"` // "GET", or "*" / "" for any
	Path   string             `json:"path" yaml:"path"`     // "/orders/{id}", "/admin/*"
	Scopes []string           `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	Claims []ClaimRequirement `json:"claims,omitempty" yaml:"claims,omitempty"`
	// When is a CEL rule the call must also satisfy (see package shared/rules).
	When string `json:"when,omitempty" yaml:"when,omitempty"`
}

// HasRules reports whether any rule (top-level or a route's when) is
// configured: only then is the CEL environment built.
func (c *Config) HasRules() bool {
	if c.Rule != "" {
		return true
	}
	for _, r := range c.Routes {
		if r.When != "" {
			return true
		}
	}
	return false
}

// FieldRule denies AppSync fields ("TypeName.fieldName") to tokens that
// lack one of Scopes or fail one of Claims.
type FieldRule struct {
	Scopes []string           `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	Claims []ClaimRequirement `json:"claims,omitempty" yaml:"claims,omitempty"`
	Fields []string           `json:"fields" yaml:"fields"`
}

// Defaults used when a setting is absent.
const (
	DefaultHTTPTimeout      = 2 * time.Second
	DefaultDPoPMaxAge       = 60 * time.Second
	DefaultJWKSCooldown     = 30 * time.Second
	DefaultRefreshInterval  = time.Hour
	MinRefreshInterval      = 5 * time.Minute
	MaxRefreshInterval      = 24 * time.Hour
	DefaultMaxStaleness     = 24 * time.Hour
	DefaultWarmupTimeout    = time.Second
	DefaultClockSkew        = 30 * time.Second
	DefaultMaxTokenBytes    = 16 << 10
	DefaultEntraAuthority   = "https://login.microsoftonline.com"
	DefaultTokenCacheSize   = 10000
	DefaultTokenCacheMaxTTL = 5 * time.Minute
	DefaultRuleCostLimit    = 1_000_000
)

// DefaultAlgorithms are the asymmetric algorithms allowed by default.
// HS256/384/512 are added only for configured secrets.
// DefaultDPoPAlgorithms are the DPoP proof algorithms accepted by default:
// the asymmetric ones clients use (never none, never HMAC).
var DefaultDPoPAlgorithms = []string{"ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"}

// ReplayStoreMemory is JWTGATE_REPLAY_STORE's default: a per-process store.
const ReplayStoreMemory = "memory"

var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Defaults for token extraction and answers.
const (
	DefaultHeaderName   = "Authorization"
	DefaultScheme       = "Bearer"
	DefaultFailedStatus = 401
)

// HTTPAPIResponse values.
const (
	HTTPAPISimple = "simple"
	HTTPAPIIAM    = "iam"
)

// Algorithm names.
var (
	hmacAlgorithms  = []string{"HS256", "HS384", "HS512"}
	knownAlgorithms = map[string]bool{
		"RS256": true, "RS384": true, "RS512": true,
		"PS256": true, "PS384": true, "PS512": true,
		"ES256": true, "ES384": true, "ES512": true,
		"EdDSA": true,
		"HS256": true, "HS384": true, "HS512": true,
	}
)
