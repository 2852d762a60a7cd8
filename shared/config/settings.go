package config

// Setting describes one JWTGATE_ environment variable.
type Setting struct {
	Name        string // the environment variable
	Default     string // "" when the setting has no default
	Description string
}

// Settings lists every JWTGATE_ environment variable the product reads:
// FromEnv reads all of them except the few an adapter reads itself (the
// Azure handler's listen host and forwarded-headers mode). Infra templates and documentation are
// checked against this list. Test and tooling variables are not settings.
var Settings = []Setting{
	{"JWTGATE_OPENID_CONFIG", "", "comma-separated OpenID discovery URLs (…/.well-known/openid-configuration)"},
	{"JWTGATE_JWKS_URL", "", "comma-separated JWKS URLs, for issuers without discovery (needs JWTGATE_ISSUERS)"},
	{"JWTGATE_ISSUERS", "each discovery document's issuer", "comma-separated accepted iss values (exact match, or a template holding {tenantid}); also vouches for a discovery document that announces an issuer other than its URL's"},
	{"JWTGATE_TENANTS", "", `comma-separated accepted Entra tenant ids (GUIDs), or "*" for any tenant; required when an issuer holds {tenantid}`},
	{"JWTGATE_CLIENT_IDS", "", "comma-separated accepted client (application) ids, matched against the first of azp, appid, client_id, cid (403 client_not_allowed)"},
	{"JWTGATE_TOKEN_USE", "", "access or id: the token_use claim (Cognito) every token must carry"},
	{"JWTGATE_ENTRA_AUTHORITY", "https://login.microsoftonline.com", "Entra authority for APIM validate-azure-ad-token imports: discovery at {authority}/{tenant-id}/v2.0/.well-known/openid-configuration"},
	{"JWTGATE_AUDIENCES", "required", `comma-separated accepted aud values (any one matches; a token without aud is judged by its client_id); "*" disables the audience check explicitly`},
	{"JWTGATE_ALGORITHMS", "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA (+HS256,HS384,HS512 when secrets are configured)", "comma-separated allowed JWS algorithms; none is always refused, HS* only with JWTGATE_HMAC_SECRETS"},
	{"JWTGATE_CLOCK_SKEW", "30s", "Go duration allowed on exp, nbf and iat (0 to 10m)"},
	{"JWTGATE_REQUIRE_EXPIRATION", "true", "refuse tokens without exp"},
	{"JWTGATE_TOKEN_TYPES", "", "comma-separated allowed header typ values, e.g. at+jwt (empty: any)"},
	{"JWTGATE_MAX_TOKEN_BYTES", "16384", "largest accepted token, in bytes (512 to 1048576)"},
	{"JWTGATE_TOKEN_HEADER", "Authorization", `request header carrying the token ("-" or "none": no header)`},
	{"JWTGATE_TOKEN_SCHEME", "Bearer", `scheme before the token in the header ("-" or "none": the header holds the bare token)`},
	{"JWTGATE_TOKEN_QUERY", "", "query parameter carrying the token"},
	{"JWTGATE_TOKEN_COOKIE", "", "cookie carrying the token"},
	{"JWTGATE_TOKEN_SUBPROTOCOL", "", "Sec-WebSocket-Protocol marker (e.g. jwtgate.bearer): the protocol after it is the token (WebSocket clients that cannot set headers)"},
	{"JWTGATE_REQUIRED_SCOPES", "", "space-separated scopes that must all be present (scope string, or scp string/array)"},
	{"JWTGATE_REQUIRED_CLAIMS", "", "space-separated required claims: name[=v1,v2][;match=all|any][;separator=X]"},
	{"JWTGATE_RULE", "", "CEL rule every allowed request must also satisfy, e.g. claims.tenant == request.path.split('/')[1] (see docs/rules.md)"},
	{"JWTGATE_RULE_COST_LIMIT", "1000000", "CEL cost bound on one evaluation of one rule (1000 to 1000000000); over it the request is refused with rule_error"},
	{"JWTGATE_HTTP_TIMEOUT", "2s", "bound on one key fetch (discovery plus JWKS together; up to 1m)"},
	{"JWTGATE_JWKS_COOLDOWN", "30s", "least time between two JWKS fetches caused by unknown kids (1s to 1h)"},
	{"JWTGATE_JWKS_REFRESH", "1h", "JWKS refresh interval when the response has no max-age (5m to 24h)"},
	{"JWTGATE_JWKS_MAX_STALENESS", "24h", "how long the last good keys are served while the IdP is unreachable (JWTGATE_JWKS_REFRESH to 30 days)"},
	{"JWTGATE_WARMUP_TIMEOUT", "1s", "bound on the key prefetch at start-up (0: no prefetch; up to 30s)"},
	{"JWTGATE_TOKEN_CACHE_SIZE", "10000", "verified tokens kept in memory (0 disables the cache)"},
	{"JWTGATE_TOKEN_CACHE_TTL", "5m", "longest time a verified token is cached, also the most an AppSync answer may be cached (never past its exp)"},
	{"JWTGATE_FORWARD_CLAIMS", "", "comma-separated extra claims put in the authorizer context / identity headers"},
	{"JWTGATE_CLAIM_HEADERS", "sub=X-Auth-Subject,scope=X-Auth-Scopes,iss=X-Auth-Issuer", `claim=Header pairs for identity headers ("-" or "none": no headers)`},
	{"JWTGATE_USAGE_IDENTIFIER_CLAIM", "", "claim returned as the Lambda authorizer's usageIdentifierKey"},
	{"JWTGATE_HTTPAPI_RESPONSE", "simple", "HTTP API (payload 2.0) answer: simple or iam"},
	{"JWTGATE_JWKS", "", "static JWKS: inline JSON, or @/path/file.json"},
	{"JWTGATE_PUBLIC_KEYS", "", "static PEM public keys or certificates: PEM text, or @/path/file.pem"},
	{"JWTGATE_HMAC_SECRETS", "", "comma-separated base64 HMAC secrets (at least 32 bytes), each optionally prefixed kid:"},
	{"JWTGATE_SEED_JWKS", "", "JWKS used until the first successful fetch: inline JSON, or @/path/file.json"},
	{"JWTGATE_DECRYPTION_KEYS", "", "comma-separated JWE keys: base64 secret or @/path/rsa-private.pem, each optionally prefixed kid:"},
	{"JWTGATE_POLICY_FILE", "", "path to a policy file (YAML or JSON); environment variables override it"},
	{"JWTGATE_APIM_POLICY_FILE", "", "path to an Azure API Management policy XML; its <validate-jwt> is the config"},
	{"JWTGATE_DPOP_ALGORITHMS", "ES256,ES384,ES512,RS256,PS256,EdDSA", "comma-separated DPoP proof algorithms (asymmetric only; never none or HS*)"},
	{"JWTGATE_DPOP_MAX_AGE", "60s", "oldest accepted DPoP proof (its iat), plus the clock skew (1s to 10m)"},
	{"JWTGATE_REPLAY_STORE", "memory", "where DPoP proofs are remembered against replay: memory (per instance) or redis://host:port/db, rediss://… (shared)"},
	{"JWTGATE_PUBLIC_URL", "", "scheme://host[:port][/prefix] the clients call; a DPoP proof's htu is it plus the request path (empty: https:// and the request's host)"},
	{"JWTGATE_CLIENT_CERT_HEADER", "", "Azure handler / forward-auth: header a trusted front end puts the client certificate in (X-ARR-ClientCert, X-Forwarded-Client-Cert, …; empty: none)"},
	{"JWTGATE_REQUIRE_BOUND_TOKENS", "false", "refuse every token without cnf (DPoP- or certificate-bound only)"},
	{"JWTGATE_LISTEN_HOST", "127.0.0.1", "Azure handler: interface to listen on (e.g. 0.0.0.0 as a standalone forward-auth service in a container)"},
	{"JWTGATE_LOG_LEVEL", "info", "decision log level: debug, info (every decision), warn (refusals and faults only) or error (faults only); on Lambda raised to AWS_LAMBDA_LOG_LEVEL when that is stricter; metrics are written at every level"},
	{"JWTGATE_FORWARDED_HEADERS", "auto", "Azure handler: forward-auth headers trusted for the original method and URI: auto (both families, which must agree), traefik (X-Forwarded-*), nginx (X-Original-*) or none"},
}

// adapterSettings are read by an adapter, not by FromEnv.
var adapterSettings = map[string]bool{"JWTGATE_LISTEN_HOST": true, "JWTGATE_FORWARDED_HEADERS": true, "JWTGATE_LOG_LEVEL": true}
