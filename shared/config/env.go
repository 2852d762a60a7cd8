package config

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FromEnv reads every JWTGATE_ variable through getenv (os.Getenv in
// production). When JWTGATE_POLICY_FILE or JWTGATE_APIM_POLICY_FILE is set,
// that file is loaded first and the environment variables that are set
// override it (key variables add keys to the file's keys). Defaults fill the
// rest, and the result is validated. An empty variable counts as unset.
func FromEnv(getenv func(string) string) (*Config, error) {
	c, _, err := FromEnvWithProvenance(getenv)
	return c, err
}

// Provenance tells where each setting of a loaded configuration came from.
// Keys are environment variable names (JWTGATE_CLOCK_SKEW), or the names of
// settings only files give ("routes", "keys" for policy jwks_url entries,
// "failed_validation_httpcode", "failed_validation_error_message"). Values
// list every place that gave the setting, in the order the layers applied:
// the variable itself for the environment, "policy.yaml: clock_skew" for a
// policy file field, "policy.xml: <validate-jwt clock-skew>" for an APIM
// policy item. A setting that no layer gave has its default.
type Provenance map[string][]string

// From returns the places that gave setting (nil: the default applies).
func (p Provenance) From(setting string) []string { return p[setting] }

// FromEnvWithProvenance is FromEnv, also reporting where each setting came
// from. It loads exactly as FromEnv does.
func FromEnvWithProvenance(getenv func(string) string) (*Config, Provenance, error) {
	b := newBuilder()
	c, err := b.fromEnv(getenv)
	if err != nil {
		return nil, nil, err
	}
	return c, Provenance(b.from), nil
}

func (b *builder) fromEnv(getenv func(string) string) (*Config, error) {
	policy := strings.TrimSpace(getenv("JWTGATE_POLICY_FILE"))
	apim := strings.TrimSpace(getenv("JWTGATE_APIM_POLICY_FILE"))
	switch {
	case policy != "" && apim != "":
		b.failf("JWTGATE_POLICY_FILE", "set either JWTGATE_POLICY_FILE or JWTGATE_APIM_POLICY_FILE, not both")
	case policy != "":
		if data, ok := b.readFile("JWTGATE_POLICY_FILE", policy); ok {
			b.dir = filepath.Dir(policy)
			b.applyPolicy(data, policy)
		}
	case apim != "":
		if a := strings.TrimSpace(getenv("JWTGATE_ENTRA_AUTHORITY")); a != "" {
			b.c.EntraAuthority = a
		}
		if data, ok := b.readFile("JWTGATE_APIM_POLICY_FILE", apim); ok {
			b.dir = filepath.Dir(apim)
			b.applyAPIM(data, filepath.Base(apim))
		}
	}
	if len(b.errs) > 0 {
		return b.finish()
	}
	b.dir = "" // @paths in variables are relative to the working directory
	for _, s := range Settings {
		parse := envParsers[s.Name]
		if parse == nil {
			continue // the two file settings, handled above
		}
		v := getenv(s.Name)
		if strings.TrimSpace(v) == "" {
			continue
		}
		parse(b, s.Name, v)
	}
	return b.finish()
}

// envParsers reads each variable (by name) into the builder.
var envParsers = map[string]func(b *builder, name, v string){
	"JWTGATE_OPENID_CONFIG": func(b *builder, n, v string) { b.setList(n, n, splitList(v), &b.c.OpenIDConfigURLs) },
	"JWTGATE_JWKS_URL":      func(b *builder, n, v string) { b.setList(n, n, splitList(v), &b.c.JWKSURLs) },
	"JWTGATE_ISSUERS":       func(b *builder, n, v string) { b.setList(n, n, splitList(v), &b.c.Issuers) },
	"JWTGATE_AUDIENCES":     func(b *builder, n, v string) { b.setAudiences(n, splitList(v)) },
	"JWTGATE_TENANTS":       func(b *builder, n, v string) { b.setTenants(n, splitList(v)) },
	"JWTGATE_CLIENT_IDS":    func(b *builder, n, v string) { b.setList(n, n, splitList(v), &b.c.ClientIDs) },
	"JWTGATE_TOKEN_USE": func(b *builder, n, v string) {
		b.setString(n, n, strings.ToLower(v), &b.c.TokenUse)
	},
	"JWTGATE_ENTRA_AUTHORITY": func(b *builder, n, v string) {
		b.setString(n, n, strings.TrimSuffix(strings.TrimSpace(v), "/"), &b.c.EntraAuthority)
	},
	"JWTGATE_ALGORITHMS": func(b *builder, n, v string) { b.setList(n, n, splitList(v), &b.c.Algorithms) },
	"JWTGATE_CLOCK_SKEW": func(b *builder, n, v string) { b.setDuration(n, n, v, &b.c.ClockSkew) },
	"JWTGATE_REQUIRE_EXPIRATION": func(b *builder, n, v string) {
		if x, ok := b.parseBool(n, v); ok {
			b.c.RequireExpiration = x
			b.mark(n, n)
		}
	},
	"JWTGATE_TOKEN_TYPES":       func(b *builder, n, v string) { b.setList(n, n, splitList(v), &b.c.TokenTypes) },
	"JWTGATE_MAX_TOKEN_BYTES":   func(b *builder, n, v string) { b.setInt(n, n, v, &b.c.MaxTokenBytes) },
	"JWTGATE_TOKEN_HEADER":      func(b *builder, n, v string) { b.setOptional(n, n, v, &b.c.HeaderName) },
	"JWTGATE_TOKEN_SCHEME":      func(b *builder, n, v string) { b.setOptional(n, n, v, &b.c.Scheme) },
	"JWTGATE_TOKEN_QUERY":       func(b *builder, n, v string) { b.setString(n, n, v, &b.c.QueryParam) },
	"JWTGATE_TOKEN_COOKIE":      func(b *builder, n, v string) { b.setString(n, n, v, &b.c.CookieName) },
	"JWTGATE_TOKEN_SUBPROTOCOL": func(b *builder, n, v string) { b.setString(n, n, v, &b.c.Subprotocol) },
	"JWTGATE_REQUIRED_SCOPES":   func(b *builder, n, v string) { b.setList(n, n, strings.Fields(v), &b.c.RequiredScopes) },
	"JWTGATE_REQUIRED_CLAIMS": func(b *builder, n, v string) {
		reqs, err := parseClaimRequirements(v)
		if err != nil {
			b.failf(n, "%v", err)
			return
		}
		b.c.RequiredClaims = reqs
		b.mark(n, n)
	},
	"JWTGATE_RULE":               func(b *builder, n, v string) { b.setString(n, n, v, &b.c.Rule) },
	"JWTGATE_RULE_COST_LIMIT":    func(b *builder, n, v string) { b.setInt(n, n, v, &b.c.RuleCostLimit) },
	"JWTGATE_HTTP_TIMEOUT":       func(b *builder, n, v string) { b.setDuration(n, n, v, &b.c.HTTPTimeout) },
	"JWTGATE_JWKS_COOLDOWN":      func(b *builder, n, v string) { b.setDuration(n, n, v, &b.c.JWKSCooldown) },
	"JWTGATE_JWKS_REFRESH":       func(b *builder, n, v string) { b.setDuration(n, n, v, &b.c.RefreshInterval) },
	"JWTGATE_JWKS_MAX_STALENESS": func(b *builder, n, v string) { b.setDuration(n, n, v, &b.c.MaxStaleness) },
	"JWTGATE_WARMUP_TIMEOUT":     func(b *builder, n, v string) { b.setDuration(n, n, v, &b.c.WarmupTimeout) },
	"JWTGATE_TOKEN_CACHE_SIZE":   func(b *builder, n, v string) { b.setInt(n, n, v, &b.c.TokenCacheSize) },
	"JWTGATE_TOKEN_CACHE_TTL":    func(b *builder, n, v string) { b.setDuration(n, n, v, &b.c.TokenCacheMaxTTL) },
	"JWTGATE_FORWARD_CLAIMS":     func(b *builder, n, v string) { b.setList(n, n, splitList(v), &b.c.ForwardClaims) },
	"JWTGATE_CLAIM_HEADERS": func(b *builder, n, v string) {
		m, err := parseClaimHeaders(v)
		if err != nil {
			b.failf(n, "%v", err)
			return
		}
		b.c.ClaimHeaders = m
		b.mark(n, n)
	},
	"JWTGATE_USAGE_IDENTIFIER_CLAIM": func(b *builder, n, v string) { b.setString(n, n, v, &b.c.UsageIdentifierClaim) },
	"JWTGATE_HTTPAPI_RESPONSE": func(b *builder, n, v string) {
		b.setString(n, n, strings.ToLower(v), &b.c.HTTPAPIResponse)
	},
	"JWTGATE_DPOP_ALGORITHMS": func(b *builder, n, v string) { b.setList(n, n, splitList(v), &b.c.DPoPAlgorithms) },
	"JWTGATE_DPOP_MAX_AGE":    func(b *builder, n, v string) { b.setDuration(n, n, v, &b.c.DPoPMaxAge) },
	"JWTGATE_REPLAY_STORE":    func(b *builder, n, v string) { b.setString(n, n, strings.TrimSpace(v), &b.c.ReplayStore) },
	"JWTGATE_PUBLIC_URL":      func(b *builder, n, v string) { b.setString(n, n, strings.TrimSpace(v), &b.c.PublicURL) },
	"JWTGATE_CLIENT_CERT_HEADER": func(b *builder, n, v string) {
		b.setString(n, n, strings.TrimSpace(v), &b.c.ClientCertHeader)
	},
	"JWTGATE_REQUIRE_BOUND_TOKENS": func(b *builder, n, v string) {
		if x, ok := b.parseBool(n, v); ok {
			b.c.RequireBoundTokens = x
			b.mark(n, n)
		}
	},
	"JWTGATE_JWKS":        func(b *builder, n, v string) { b.addJWKS(n, n, v) },
	"JWTGATE_PUBLIC_KEYS": func(b *builder, n, v string) { b.addPEM(n, n, v, StaticKey{}) },
	"JWTGATE_HMAC_SECRETS": func(b *builder, n, v string) {
		items := splitList(v)
		if len(items) == 0 {
			b.failf(n, "no secrets in the list")
		}
		for i, item := range items {
			kid, val := cutKID(item)
			secret, err := DecodeBase64(val)
			if err != nil {
				b.failf(n, "secret %d: %v", i+1, err)
				continue
			}
			b.c.StaticKeys = append(b.c.StaticKeys, StaticKey{Secret: secret, KID: kid})
		}
		b.mark(n, n)
	},
	"JWTGATE_SEED_JWKS": func(b *builder, n, v string) {
		if data, ok := b.inlineOrFile(n, v); ok {
			b.c.SeedJWKS = data
			b.mark(n, n)
		}
	},
	"JWTGATE_DECRYPTION_KEYS": func(b *builder, n, v string) {
		items := splitList(v)
		if len(items) == 0 {
			b.failf(n, "no keys in the list")
		}
		for i, item := range items {
			kid, val := cutKID(item)
			if strings.HasPrefix(val, "@") {
				if data, ok := b.readFile(n, val[1:]); ok {
					b.c.DecryptionKeys = append(b.c.DecryptionKeys, DecryptionKey{KID: kid, PEM: data})
				}
				continue
			}
			secret, err := DecodeBase64(val)
			if err != nil {
				b.failf(n, "key %d: %v", i+1, err)
				continue
			}
			b.c.DecryptionKeys = append(b.c.DecryptionKeys, DecryptionKey{KID: kid, Secret: secret})
		}
		b.mark(n, n)
	},
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// cutKID splits an optional "kid:" prefix off a key item. Base64 never holds
// ':', and a value starting with '@' is a path (which may).
func cutKID(item string) (kid, value string) {
	if strings.HasPrefix(item, "@") {
		return "", item
	}
	if k, v, ok := strings.Cut(item, ":"); ok {
		return strings.TrimSpace(k), strings.TrimSpace(v)
	}
	return "", item
}

func (b *builder) setList(setting, label string, items []string, dst *[]string) {
	if len(items) == 0 {
		b.failf(label, "the list is empty")
		return
	}
	*dst = dedupe(items)
	b.mark(setting, label)
}

func dedupe(items []string) []string {
	seen := make(map[string]bool, len(items))
	out := items[:0:0]
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (b *builder) setAudiences(label string, items []string) {
	b.setListOrAny("JWTGATE_AUDIENCES", label, items, &b.c.Audiences, &b.c.AnyAudience, `"*" (any audience) cannot be combined with other audiences`)
}

func (b *builder) setTenants(label string, items []string) {
	b.setListOrAny("JWTGATE_TENANTS", label, items, &b.c.Tenants, &b.c.AnyTenant, `"*" (any tenant) cannot be combined with tenant ids`)
}

// setListOrAny sets a list in which "*" alone means "any" (sets *anyOf).
func (b *builder) setListOrAny(setting, label string, items []string, dst *[]string, anyOf *bool, mixed string) {
	*dst, *anyOf = nil, false
	if contains(items, "*") {
		if len(items) > 1 {
			b.failf(label, "%s", mixed)
			return
		}
		*anyOf = true
		b.mark(setting, label)
		return
	}
	b.setList(setting, label, items, dst)
}

func (b *builder) setString(setting, label, v string, dst *string) {
	*dst = strings.TrimSpace(v)
	b.mark(setting, label)
}

// setOptional is setString where "-" or "none" means "no value".
func (b *builder) setOptional(setting, label, v string, dst *string) {
	v = strings.TrimSpace(v)
	if v == "-" || strings.EqualFold(v, "none") {
		v = ""
	}
	*dst = v
	b.mark(setting, label)
}

func (b *builder) setDuration(setting, label, v string, dst *time.Duration) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if err != nil {
		hint := " (e.g. 30s, 2m, 1h)"
		if _, nerr := strconv.ParseFloat(v, 64); nerr == nil {
			hint = " (add a unit, e.g. " + v + "s)"
		}
		b.failf(label, "%q is not a Go duration%s", v, hint)
		return
	}
	*dst = d
	b.mark(setting, label)
}

func (b *builder) setInt(setting, label, v string, dst *int) {
	v = strings.TrimSpace(v)
	n, err := strconv.Atoi(v)
	if err != nil {
		b.failf(label, "%q is not a whole number", v)
		return
	}
	*dst = n
	b.mark(setting, label)
}

func (b *builder) parseBool(label, v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	b.failf(label, "%q is not a boolean (true or false)", v)
	return false, false
}

// inlineOrFile returns v itself, or the contents of the file when v is
// "@path".
func (b *builder) inlineOrFile(label, v string) ([]byte, bool) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "@") {
		return b.readFile(label, strings.TrimSpace(v[1:]))
	}
	return []byte(v), true
}

// addJWKS adds a static JWKS given inline or as "@path".
func (b *builder) addJWKS(setting, label, v string) {
	data, ok := b.inlineOrFile(label, v)
	if !ok {
		return
	}
	if err := checkJWKS(data); err != nil {
		b.failf(label, "%v", err)
		return
	}
	b.c.StaticKeys = append(b.c.StaticKeys, StaticKey{JWKS: data})
	b.mark(setting, label)
}

// addPEM adds one static key per PEM block of v (PEM text or "@path");
// tmpl carries kid, alg and issuers from a policy file.
func (b *builder) addPEM(setting, label, v string, tmpl StaticKey) {
	data, ok := b.inlineOrFile(label, v)
	if !ok {
		return
	}
	blocks, err := splitPEM(data)
	if err != nil {
		b.failf(label, "%v", err)
		return
	}
	if tmpl.KID != "" && len(blocks) > 1 {
		b.failf(label, "kid %q given for %d PEM blocks; give one key per entry", tmpl.KID, len(blocks))
		return
	}
	for _, blk := range blocks {
		k := tmpl
		k.PEM = blk
		b.c.StaticKeys = append(b.c.StaticKeys, k)
	}
	b.mark(setting, label)
}
