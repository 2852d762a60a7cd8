package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Bounds checked by Validate.
const (
	MaxClockSkew        = 10 * time.Minute
	MinMaxTokenBytes    = 512
	MaxMaxTokenBytes    = 1 << 20
	MaxHTTPTimeout      = time.Minute
	MinJWKSCooldown     = time.Second
	MaxJWKSCooldown     = time.Hour
	MaxMaxStaleness     = 30 * 24 * time.Hour
	MaxWarmupTimeout    = 30 * time.Second
	MaxTokenCacheSize   = 10_000_000
	MaxTokenCacheMaxTTL = 24 * time.Hour
	MinHMACSecretBytes  = 32
	MinDPoPMaxAge       = time.Second
	MaxDPoPMaxAge       = 10 * time.Minute
	MinRuleCostLimit    = 1_000
	MaxRuleCostLimit    = 1_000_000_000
)

// routeMethods are the methods a route rule may name ("*": any).
var routeMethods = map[string]bool{
	"*": true, "GET": true, "HEAD": true, "POST": true, "PUT": true,
	"PATCH": true, "DELETE": true, "OPTIONS": true,
	"CONNECT": true, // API Gateway WebSocket $connect
}

// Validate checks that c is complete and consistent. Each error names the
// setting by its environment variable (or policy field for settings that
// have none); all problems are reported, joined.
func (c *Config) Validate() error {
	v := &validator{}
	v.keySources(c)
	v.acceptance(c)
	v.tenancy(c)
	v.extraction(c)
	v.authorization(c)
	v.deniedFields(c)
	v.rules(c)
	v.cache(c)
	v.output(c)
	v.senderConstrained(c)
	return errors.Join(v.errs...)
}

type validator struct{ errs []error }

func (v *validator) fail(setting, format string, args ...any) {
	v.errs = append(v.errs, &Error{Setting: setting, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) keySources(c *Config) {
	if len(c.OpenIDConfigURLs) == 0 && len(c.JWKSURLs) == 0 && len(c.JWKSSources) == 0 && len(c.StaticKeys) == 0 {
		v.fail("JWTGATE_OPENID_CONFIG", "no key source: set JWTGATE_OPENID_CONFIG, JWTGATE_JWKS_URL, JWTGATE_JWKS, JWTGATE_PUBLIC_KEYS or JWTGATE_HMAC_SECRETS")
	}
	for _, u := range c.OpenIDConfigURLs {
		if err := checkFetchURL(u); err != nil {
			v.fail("JWTGATE_OPENID_CONFIG", "%v", err)
		}
	}
	for _, u := range c.JWKSURLs {
		if err := checkFetchURL(u); err != nil {
			v.fail("JWTGATE_JWKS_URL", "%v", err)
		}
	}
	for _, j := range c.JWKSSources {
		if err := checkFetchURL(j.URL); err != nil {
			v.fail(settingJWKSSources, "%v", err)
		}
	}
	if len(c.Issuers) == 0 {
		// Without JWTGATE_ISSUERS the accepted issuers are the discovery
		// documents': a key source needs issuers of its own, and may only
		// be bound to a discovery issuer.
		switch {
		case len(c.JWKSURLs) > 0:
			v.fail("JWTGATE_ISSUERS", "required with JWTGATE_JWKS_URL (only discovery documents name their issuer)")
		case slices.ContainsFunc(c.JWKSSources, func(j JWKSSource) bool { return len(j.Issuers) == 0 }):
			v.fail("JWTGATE_ISSUERS", "required with keys[].jwks_url (only discovery documents name their issuer)")
		case slices.ContainsFunc(c.StaticKeys, func(k StaticKey) bool { return len(k.Issuers) == 0 }):
			v.fail("JWTGATE_ISSUERS", "required with static keys (only discovery documents name their issuer)")
		}
	}
	accepted := func(iss string) bool {
		if len(c.Issuers) == 0 {
			return c.DiscoveryServes(iss)
		}
		return contains(c.Issuers, iss)
	}
	for _, iss := range c.Issuers {
		if iss == "" || strings.TrimSpace(iss) != iss {
			v.fail("JWTGATE_ISSUERS", "%q: empty or surrounded by spaces", iss)
		}
	}
	for _, j := range c.JWKSSources {
		for _, iss := range j.Issuers {
			if !accepted(iss) {
				v.fail(settingJWKSSources, "%s: issuer %q is not in JWTGATE_ISSUERS", clipURL(j.URL), iss)
			}
		}
	}
	for _, u := range c.OpenIDConfigURLs {
		for _, iss := range c.OpenIDConfigIssuers[u] {
			if !contains(c.Issuers, iss) {
				v.fail("JWTGATE_OPENID_CONFIG", "%s: issuer %q is not in JWTGATE_ISSUERS", clipURL(u), iss)
			}
		}
	}
	for i, k := range c.StaticKeys {
		v.staticKey(c, i, k, accepted)
	}
	if err := c.CheckKeyBindings(); err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			v.errs = append(v.errs, j.Unwrap()...)
		} else {
			v.errs = append(v.errs, err)
		}
	}
	if len(c.SeedJWKS) > 0 {
		if len(c.OpenIDConfigURLs) == 0 && len(c.JWKSURLs) == 0 && len(c.JWKSSources) == 0 {
			v.fail("JWTGATE_SEED_JWKS", "seeds a fetched key set: needs JWTGATE_OPENID_CONFIG or JWTGATE_JWKS_URL (use JWTGATE_JWKS for static keys)")
		}
		if err := checkJWKS(c.SeedJWKS); err != nil {
			v.fail("JWTGATE_SEED_JWKS", "%v", err)
		}
	}
	for i, k := range c.DecryptionKeys {
		n := 0
		for _, has := range []bool{len(k.Secret) > 0, len(k.PEM) > 0, len(k.JWK) > 0} {
			if has {
				n++
			}
		}
		if n != 1 {
			v.fail("JWTGATE_DECRYPTION_KEYS", "key %d: give exactly one of a secret, a PEM private key or a JWK", i+1)
			continue
		}
		switch {
		case len(k.Secret) > 0:
			switch len(k.Secret) {
			case 16, 24, 32, 48, 64:
			default:
				v.fail("JWTGATE_DECRYPTION_KEYS", "key %d: a %d-byte secret fits no content encryption (16, 24 or 32 bytes for AES-GCM; 32, 48 or 64 for AES-CBC-HMAC)", i+1, len(k.Secret))
			}
		case len(k.PEM) > 0:
			if err := checkPrivateRSAPEM(k.PEM); err != nil {
				v.fail("JWTGATE_DECRYPTION_KEYS", "key %d: %v", i+1, err)
			}
		default:
			var m map[string]json.RawMessage
			if json.Unmarshal(k.JWK, &m) != nil || len(m["kty"]) == 0 {
				v.fail("JWTGATE_DECRYPTION_KEYS", `key %d: the JWK is not a JSON object with "kty"`, i+1)
			}
		}
	}
}

func (v *validator) staticKey(c *Config, i int, k StaticKey, accepted func(string) bool) {
	n := 0
	for _, has := range []bool{len(k.JWKS) > 0, len(k.PEM) > 0, k.N != "" || k.E != "", len(k.Secret) > 0} {
		if has {
			n++
		}
	}
	setting := keySetting(k)
	if n != 1 {
		v.fail(setting, "static key %d: give exactly one of a JWKS, a PEM key, n/e or a secret", i+1)
		return
	}
	switch {
	case len(k.JWKS) > 0:
		if err := checkJWKS(k.JWKS); err != nil {
			v.fail(setting, "static key %d: %v", i+1, err)
		}
	case len(k.PEM) > 0:
		if err := checkPublicPEM(k.PEM); err != nil {
			v.fail(setting, "static key %d: %v", i+1, err)
		}
	case len(k.Secret) > 0:
		min := MinHMACSecretBytes
		switch k.Alg {
		case "HS384":
			min = 48
		case "HS512":
			min = 64
		}
		if len(k.Secret) < min {
			v.fail(setting, "static key %d: secret is %d bytes; at least %d are required (RFC 7518 §3.2)", i+1, len(k.Secret), min)
		}
	default:
		if _, err := DecodeBase64(k.N); err != nil {
			v.fail(setting, "static key %d: n: %v", i+1, err)
		}
		if _, err := DecodeBase64(k.E); err != nil {
			v.fail(setting, "static key %d: e: %v", i+1, err)
		}
	}
	if k.Alg != "" {
		if !knownAlgorithms[k.Alg] {
			v.fail(setting, "static key %d: unknown algorithm %q", i+1, k.Alg)
		} else if !contains(c.Algorithms, k.Alg) {
			v.fail(setting, "static key %d: algorithm %s is not in JWTGATE_ALGORITHMS", i+1, k.Alg)
		}
		if isHMAC(k.Alg) != (len(k.Secret) > 0) && len(k.JWKS) == 0 {
			v.fail(setting, "static key %d: algorithm %s does not fit the key", i+1, k.Alg)
		}
	}
	for _, iss := range k.Issuers {
		if !accepted(iss) {
			v.fail(setting, "static key %d: issuer %q is not in JWTGATE_ISSUERS", i+1, iss)
		}
	}
}

// checkFetchURL checks a discovery or JWKS URL: absolute, https (plain http
// only on a loopback host), no credentials or fragment.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// Not quoted: an unparsable URL may still hold a password.
		return fmt.Errorf("a value is not a URL (%d characters)", len(raw))
	}
	shown := u.Redacted() // never repeat a password in an error or a log
	if !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", shown)
	}
	if u.User != nil {
		return fmt.Errorf("%q: credentials in the URL are not allowed", shown)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%q: a fragment is not allowed", shown)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: https is required (plain http only for loopback hosts: localhost, 127.0.0.0/8, ::1)", shown)
	}
	return fmt.Errorf("%q: scheme %q is not https", shown, u.Scheme)
}

// IsLoopbackHost reports whether host (a URL's Hostname, without brackets
// or port) is localhost or a loopback address (127.0.0.0/8, ::1, also as an
// IPv4-mapped IPv6 address). Only such hosts may be fetched over plain http.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func (v *validator) acceptance(c *Config) {
	switch {
	case c.AnyAudience && len(c.Audiences) > 0:
		v.fail("JWTGATE_AUDIENCES", `"*" (any audience) cannot be combined with other audiences`)
	case !c.AnyAudience && len(c.Audiences) == 0:
		v.fail("JWTGATE_AUDIENCES", `required (set "*" to disable the audience check explicitly)`)
	}
	for _, a := range c.Audiences {
		if a == "*" {
			v.fail("JWTGATE_AUDIENCES", `"*" (any audience) cannot be combined with other audiences`)
		} else if a == "" || strings.TrimSpace(a) != a {
			v.fail("JWTGATE_AUDIENCES", "%q: empty or surrounded by spaces", a)
		}
	}
	if len(c.Algorithms) == 0 {
		v.fail("JWTGATE_ALGORITHMS", "no algorithms allowed")
	}
	secrets := hasSecrets(c.StaticKeys)
	anyHMAC := false
	for _, alg := range c.Algorithms {
		switch {
		case strings.EqualFold(alg, "none"):
			v.fail("JWTGATE_ALGORITHMS", `"none" is never accepted: unsigned tokens prove nothing`)
		case !knownAlgorithms[alg]:
			hint := ""
			for k := range knownAlgorithms {
				if strings.EqualFold(k, alg) {
					hint = fmt.Sprintf(" (did you mean %s?)", k)
				}
			}
			v.fail("JWTGATE_ALGORITHMS", "unknown algorithm %q%s", alg, hint)
		case isHMAC(alg):
			anyHMAC = true
			if !secrets {
				v.fail("JWTGATE_ALGORITHMS", "%s needs configured secrets (JWTGATE_HMAC_SECRETS): an HMAC algorithm without one would let a public key act as a secret", alg)
			}
		}
	}
	if secrets && !anyHMAC && len(c.Algorithms) > 0 {
		v.fail("JWTGATE_HMAC_SECRETS", "secrets are configured but JWTGATE_ALGORITHMS allows no HS256/HS384/HS512")
	}
	if c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew {
		v.fail("JWTGATE_CLOCK_SKEW", "%v is outside 0 to %v", c.ClockSkew, MaxClockSkew)
	}
	if c.MaxTokenBytes < MinMaxTokenBytes || c.MaxTokenBytes > MaxMaxTokenBytes {
		v.fail("JWTGATE_MAX_TOKEN_BYTES", "%d is outside %d to %d", c.MaxTokenBytes, MinMaxTokenBytes, MaxMaxTokenBytes)
	}
	for _, t := range c.TokenTypes {
		if !validToken(strings.ReplaceAll(t, "/", "")) {
			v.fail("JWTGATE_TOKEN_TYPES", "%q is not a media type name", t)
		}
	}
}

func (v *validator) extraction(c *Config) {
	if c.HeaderName == "" && c.QueryParam == "" && c.CookieName == "" && c.Subprotocol == "" {
		v.fail("JWTGATE_TOKEN_HEADER", "no token source: set a header, JWTGATE_TOKEN_QUERY, JWTGATE_TOKEN_COOKIE or JWTGATE_TOKEN_SUBPROTOCOL")
	}
	if c.HeaderName != "" && !validToken(c.HeaderName) {
		v.fail("JWTGATE_TOKEN_HEADER", "%q is not a valid HTTP header name", c.HeaderName)
	}
	if c.Scheme != "" && !validToken(c.Scheme) {
		v.fail("JWTGATE_TOKEN_SCHEME", `%q is not a valid auth scheme (use "-" for none)`, c.Scheme)
	}
	if c.QueryParam != "" && strings.ContainsAny(c.QueryParam, "&=#? \t") {
		v.fail("JWTGATE_TOKEN_QUERY", "%q is not a valid query parameter name", c.QueryParam)
	}
	if c.CookieName != "" && !validToken(c.CookieName) {
		v.fail("JWTGATE_TOKEN_COOKIE", "%q is not a valid cookie name", c.CookieName)
	}
	if c.Subprotocol != "" && !validToken(c.Subprotocol) {
		v.fail("JWTGATE_TOKEN_SUBPROTOCOL", "%q is not a valid WebSocket subprotocol name", c.Subprotocol)
	}
}

// requirements checks a rule's scopes and claims; at labels the rule.
func (v *validator) requirements(at string, scopes []string, claims []ClaimRequirement) {
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			v.fail(at+".scopes", "%q is not a scope token", s)
		}
	}
	for j, cr := range claims {
		if err := checkClaimRequirement(cr); err != nil {
			v.fail(fmt.Sprintf("%s.claims[%d]", at, j), "%v", err)
		}
	}
}

// deniedFields checks the AppSync field rules: each names at least one
// scope or claim and at least one field as TypeName.fieldName.
func (v *validator) deniedFields(c *Config) {
	for i, r := range c.DeniedFields {
		at := fmt.Sprintf("%s[%d]", settingDeniedFields, i)
		if len(r.Scopes) == 0 && len(r.Claims) == 0 {
			v.fail(at, "a rule needs scopes or claims (the fields are denied to tokens that lack them)")
		}
		if len(r.Fields) == 0 {
			v.fail(at+".fields", "no fields")
		}
		v.requirements(at, r.Scopes, r.Claims)
		for _, f := range r.Fields {
			typ, field, ok := strings.Cut(f, ".")
			if !ok || !isGraphQLName(typ) || !isGraphQLName(field) {
				v.fail(at+".fields", "%q is not TypeName.fieldName", f)
			}
		}
	}
}

// isGraphQLName reports whether s is a GraphQL Name: /[_A-Za-z][_0-9A-Za-z]*/.
func isGraphQLName(s string) bool {
	return isIdent(s) && (s[0] < '0' || s[0] > '9')
}

func (v *validator) authorization(c *Config) {
	for _, s := range c.RequiredScopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			v.fail("JWTGATE_REQUIRED_SCOPES", "%q is not a scope token", s)
		}
	}
	for i, r := range c.RequiredClaims {
		if err := checkClaimRequirement(r); err != nil {
			v.fail(fmt.Sprintf("JWTGATE_REQUIRED_CLAIMS[%d]", i), "%v", err)
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Routes {
		at := fmt.Sprintf("%s[%d]", settingRoutes, i)
		if !routeMethods[r.Method] && r.Method != "" {
			v.fail(at+".method", "%q is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT or *", r.Method)
		}
		if err := checkRoutePath(r.Path); err != nil {
			v.fail(at+".path", "%v", err)
		}
		key := r.Method + " " + r.Path
		if r.Method == "" {
			key = "* " + r.Path
		}
		if seen[key] {
			v.fail(at, "duplicate rule for %s", key)
		}
		seen[key] = true
		v.requirements(at, r.Scopes, r.Claims)
	}
}

// rules checks what can be checked without compiling: the cost limit's
// range. The rules themselves are compiled (and refused, with their place)
// when the validator is built.
func (v *validator) rules(c *Config) {
	if c.RuleCostLimit != 0 && (c.RuleCostLimit < MinRuleCostLimit || c.RuleCostLimit > MaxRuleCostLimit) {
		v.fail("JWTGATE_RULE_COST_LIMIT", "%d is outside %d to %d", c.RuleCostLimit, MinRuleCostLimit, MaxRuleCostLimit)
	}
}

func checkClaimRequirement(r ClaimRequirement) error {
	if r.Name == "" {
		return errors.New("claim name is empty")
	}
	switch r.Match {
	case "", "all", "any":
	default:
		return fmt.Errorf("match %q is neither all nor any", r.Match)
	}
	for _, val := range r.Values {
		if val == "" {
			return fmt.Errorf("claim %q: empty value", r.Name)
		}
	}
	if r.Separator != "" && len(r.Values) == 0 {
		return fmt.Errorf("claim %q: a separator needs values to match", r.Name)
	}
	return nil
}

// checkRoutePath checks a route pattern: "/" then segments that are literal,
// "{param}", or a final "*" (the rest of the path).
func checkRoutePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q must start with /", p)
	}
	if strings.ContainsAny(p, "?# \t\r\n%") {
		return fmt.Errorf("%q: no query, fragment, spaces or escapes in a route path", p)
	}
	if p == "/" {
		return nil
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case s == "" && last:
			// trailing slash: "/orders/"
		case s == "":
			return fmt.Errorf("%q: empty segment", p)
		case s == "." || s == "..":
			return fmt.Errorf("%q: dot segments are not allowed", p)
		case s == "*":
			if !last {
				return fmt.Errorf(`%q: "*" is only allowed as the last segment`, p)
			}
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			if strings.HasSuffix(name, "+") {
				return fmt.Errorf("%q: use a final /* instead of the greedy {%s}", p, name)
			}
			if !isIdent(name) {
				return fmt.Errorf("%q: parameter {%s} must be a name of letters, digits and _", p, name)
			}
		case strings.ContainsAny(s, "{}*"):
			return fmt.Errorf("%q: segment %q mixes text with {} or *", p, s)
		}
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (v *validator) cache(c *Config) {
	within := func(setting string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			v.fail(setting, "%v is outside %v to %v", d, lo, hi)
		}
	}
	if c.HTTPTimeout <= 0 || c.HTTPTimeout > MaxHTTPTimeout {
		v.fail("JWTGATE_HTTP_TIMEOUT", "%v is outside (0, %v]", c.HTTPTimeout, MaxHTTPTimeout)
	}
	within("JWTGATE_JWKS_COOLDOWN", c.JWKSCooldown, MinJWKSCooldown, MaxJWKSCooldown)
	within("JWTGATE_JWKS_REFRESH", c.RefreshInterval, MinRefreshInterval, MaxRefreshInterval)
	within("JWTGATE_JWKS_MAX_STALENESS", c.MaxStaleness, c.RefreshInterval, MaxMaxStaleness)
	within("JWTGATE_WARMUP_TIMEOUT", c.WarmupTimeout, 0, MaxWarmupTimeout)
	if c.TokenCacheSize < 0 || c.TokenCacheSize > MaxTokenCacheSize {
		v.fail("JWTGATE_TOKEN_CACHE_SIZE", "%d is outside 0 (off) to %d", c.TokenCacheSize, MaxTokenCacheSize)
	}
	if c.TokenCacheSize > 0 && (c.TokenCacheMaxTTL <= 0 || c.TokenCacheMaxTTL > MaxTokenCacheMaxTTL) {
		v.fail("JWTGATE_TOKEN_CACHE_TTL", "%v is outside (0, %v] (set JWTGATE_TOKEN_CACHE_SIZE=0 to turn the cache off)", c.TokenCacheMaxTTL, MaxTokenCacheMaxTTL)
	}
}

func (v *validator) output(c *Config) {
	for _, name := range c.ForwardClaims {
		if name == "" || strings.ContainsAny(name, " \t\r\n,=") {
			v.fail("JWTGATE_FORWARD_CLAIMS", "%q is not a claim name", name)
		}
	}
	byHeader := map[string]string{}
	for claim, h := range c.ClaimHeaders {
		if claim == "" || strings.ContainsAny(claim, " \t\r\n,=") {
			v.fail("JWTGATE_CLAIM_HEADERS", "%q is not a claim name", claim)
		}
		if err := checkHeaderName(h); err != nil {
			v.fail("JWTGATE_CLAIM_HEADERS", "claim %q: %v", claim, err)
			continue
		}
		canon := strings.ToLower(h)
		if other, dup := byHeader[canon]; dup {
			a, b := other, claim
			if a > b {
				a, b = b, a
			}
			v.fail("JWTGATE_CLAIM_HEADERS", "claims %q and %q both map to header %s", a, b, h)
		}
		byHeader[canon] = claim
		if c.HeaderName != "" && strings.EqualFold(h, c.HeaderName) {
			v.fail("JWTGATE_CLAIM_HEADERS", "claim %q: header %s is the token header", claim, h)
		}
	}
	if c.UsageIdentifierClaim != "" && strings.ContainsAny(c.UsageIdentifierClaim, " \t\r\n,=") {
		v.fail("JWTGATE_USAGE_IDENTIFIER_CLAIM", "%q is not a claim name", c.UsageIdentifierClaim)
	}
	switch c.HTTPAPIResponse {
	case HTTPAPISimple, HTTPAPIIAM:
	default:
		v.fail("JWTGATE_HTTPAPI_RESPONSE", "%q is neither simple nor iam", c.HTTPAPIResponse)
	}
	if c.FailedStatus < 400 || c.FailedStatus > 599 {
		v.fail(settingFailedStatus, "%d is not an HTTP error status (400 to 599)", c.FailedStatus)
	}
}

func isHMAC(alg string) bool { return strings.HasPrefix(alg, "HS") }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// senderConstrained checks the DPoP and certificate-binding settings.
func (v *validator) senderConstrained(c *Config) {
	for _, alg := range c.DPoPAlgorithms {
		switch {
		case !knownAlgorithms[alg]:
			v.fail("JWTGATE_DPOP_ALGORITHMS", "unknown algorithm %q", alg)
		case strings.HasPrefix(alg, "HS"):
			v.fail("JWTGATE_DPOP_ALGORITHMS", "%s is symmetric; a DPoP proof is signed with the client's private key", alg)
		}
	}
	if c.DPoPMaxAge < MinDPoPMaxAge || c.DPoPMaxAge > MaxDPoPMaxAge {
		v.fail("JWTGATE_DPOP_MAX_AGE", "must be between %v and %v", MinDPoPMaxAge, MaxDPoPMaxAge)
	}
	if err := checkReplayStore(c.ReplayStore); err != nil {
		v.fail("JWTGATE_REPLAY_STORE", "%v", err)
	}
	if c.PublicURL != "" {
		if err := checkPublicURL(c.PublicURL); err != nil {
			v.fail("JWTGATE_PUBLIC_URL", "%v", err)
		}
	}
	if c.ClientCertHeader != "" && !validToken(c.ClientCertHeader) {
		v.fail("JWTGATE_CLIENT_CERT_HEADER", "%q is not a header name", c.ClientCertHeader)
	}
}

// checkReplayStore accepts "memory" (or empty) and redis:// or rediss://
// URLs with a host and an optional numeric database. Errors never quote a
// password.
func checkReplayStore(spec string) error {
	if spec == "" || strings.EqualFold(spec, ReplayStoreMemory) {
		return nil
	}
	u, err := url.Parse(spec)
	if err != nil {
		return errors.New(`must be "memory", redis://host:port/db or rediss://host:port/db (not a URL)`)
	}
	switch strings.ToLower(u.Scheme) {
	case "redis", "rediss":
	default:
		return errors.New(`must be "memory", redis://host:port/db or rediss://host:port/db`)
	}
	if u.Host == "" {
		return fmt.Errorf("%s has no host", u.Redacted())
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		for _, r := range db {
			if r < '0' || r > '9' {
				return fmt.Errorf("%s: the database is a number", u.Redacted())
			}
		}
	}
	return nil
}

// checkPublicURL accepts an absolute http(s) URL with a host, an optional
// path prefix, and nothing else (no query, fragment or user information).
func checkPublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be an absolute URL: https://host[:port][/prefix]")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return errors.New("must be scheme://host[:port][/prefix] without user, query or fragment")
	}
	return nil
}
