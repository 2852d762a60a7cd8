package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Error is a configuration error. Setting names where the bad value came
// from: an environment variable ("JWTGATE_CLOCK_SKEW"), a policy file field
// ("policy.yaml: clock_skew") or an APIM policy item.
type Error struct {
	Setting string
	Msg     string
	Err     error // the cause, when there is one to test for (errors.Is)
}

func (e *Error) Error() string { return e.Setting + ": " + e.Msg }

// Unwrap returns the cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// maxFileBytes bounds every file the configuration reads.
const maxFileBytes = 1 << 20

// builder assembles a Config from layers (policy file or APIM XML, then the
// environment), remembering which settings each layer gave, then applies
// defaults to the rest and validates the result.
type builder struct {
	c Config
	// set maps a setting (by its environment name) to the label of the
	// place that set it; absent: not set, the default applies.
	set map[string]string
	// from lists, per setting, every place that gave it, in the order the
	// layers applied (Provenance).
	from map[string][]string
	errs []error
	// dir resolves relative @file references (the policy file's folder).
	dir string
	// apim is true when the base layer was an APIM policy (audience message).
	apim bool
	// apimKeys (indexes into c.StaticKeys) and apimDiscovery (URLs) are the
	// APIM policy's key sources, bound to its issuers by bindAPIM.
	apimKeys      []int
	apimDiscovery []string
}

func newBuilder() *builder { return &builder{set: map[string]string{}, from: map[string][]string{}} }

func (b *builder) failf(label, format string, args ...any) {
	b.errs = append(b.errs, &Error{Setting: label, Msg: fmt.Sprintf(format, args...)})
}

func (b *builder) mark(setting, label string) {
	b.set[setting] = label
	if f := b.from[setting]; len(f) == 0 || f[len(f)-1] != label {
		b.from[setting] = append(f, label)
	}
}

func (b *builder) isSet(setting string) bool { _, ok := b.set[setting]; return ok }

// readFile reads a file named in the configuration ("@path" values), bounded.
func (b *builder) readFile(label, path string) ([]byte, bool) {
	if path == "" {
		b.failf(label, `"@" must be followed by a file path`)
		return nil, false
	}
	if !filepath.IsAbs(path) && b.dir != "" {
		path = filepath.Join(b.dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		b.failf(label, "cannot read %s: %v", path, errors.Unwrap(err))
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		b.failf(label, "cannot read %s: %v", path, err)
		return nil, false
	}
	if len(data) > maxFileBytes {
		b.failf(label, "%s is larger than %d bytes", path, maxFileBytes)
		return nil, false
	}
	return data, true
}

// finish applies defaults to every setting no layer gave, derives dependent
// settings and validates. Errors name the place a value came from.
func (b *builder) finish() (*Config, error) {
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	c := &b.c
	d := Default()
	if !b.isSet("JWTGATE_AUDIENCES") {
		msg := `required (set "*" to disable the audience check explicitly)`
		if b.apim {
			msg = `required: the APIM policy has no <audiences>; add them, or set JWTGATE_AUDIENCES ("*" disables the audience check explicitly)`
		}
		return nil, &Error{Setting: "JWTGATE_AUDIENCES", Msg: msg}
	}
	if !b.isSet("JWTGATE_ALGORITHMS") {
		c.Algorithms = append([]string(nil), DefaultAlgorithms...)
		if hasSecrets(c.StaticKeys) {
			c.Algorithms = append(c.Algorithms, hmacAlgorithms...)
		}
	}
	defDur := func(setting string, dst *time.Duration, v time.Duration) {
		if !b.isSet(setting) {
			*dst = v
		}
	}
	defDur("JWTGATE_CLOCK_SKEW", &c.ClockSkew, d.ClockSkew)
	defDur("JWTGATE_HTTP_TIMEOUT", &c.HTTPTimeout, d.HTTPTimeout)
	defDur("JWTGATE_JWKS_COOLDOWN", &c.JWKSCooldown, d.JWKSCooldown)
	defDur("JWTGATE_JWKS_REFRESH", &c.RefreshInterval, d.RefreshInterval)
	defDur("JWTGATE_JWKS_MAX_STALENESS", &c.MaxStaleness, d.MaxStaleness)
	defDur("JWTGATE_WARMUP_TIMEOUT", &c.WarmupTimeout, d.WarmupTimeout)
	defDur("JWTGATE_TOKEN_CACHE_TTL", &c.TokenCacheMaxTTL, d.TokenCacheMaxTTL)
	defDur("JWTGATE_DPOP_MAX_AGE", &c.DPoPMaxAge, d.DPoPMaxAge)
	if !b.isSet("JWTGATE_DPOP_ALGORITHMS") {
		c.DPoPAlgorithms = d.DPoPAlgorithms
	}
	if !b.isSet("JWTGATE_REPLAY_STORE") {
		c.ReplayStore = d.ReplayStore
	}
	if !b.isSet("JWTGATE_REQUIRE_EXPIRATION") {
		c.RequireExpiration = true
	}
	if !b.isSet("JWTGATE_MAX_TOKEN_BYTES") {
		c.MaxTokenBytes = d.MaxTokenBytes
	}
	if !b.isSet("JWTGATE_TOKEN_HEADER") {
		c.HeaderName = d.HeaderName
	}
	if !b.isSet("JWTGATE_TOKEN_SCHEME") {
		c.Scheme = d.Scheme
	}
	if !b.isSet("JWTGATE_TOKEN_CACHE_SIZE") {
		c.TokenCacheSize = d.TokenCacheSize
	}
	if !b.isSet("JWTGATE_CLAIM_HEADERS") {
		c.ClaimHeaders = d.ClaimHeaders
	}
	if !b.isSet("JWTGATE_HTTPAPI_RESPONSE") {
		c.HTTPAPIResponse = d.HTTPAPIResponse
	}
	if !b.isSet("JWTGATE_RULE_COST_LIMIT") {
		c.RuleCostLimit = d.RuleCostLimit
	}
	if !b.isSet(settingFailedStatus) {
		c.FailedStatus = d.FailedStatus
	}
	if b.apim {
		b.bindAPIM()
	}
	if err := c.Validate(); err != nil {
		return nil, b.relabel(err)
	}
	return c, nil
}

// relabel rewrites Validate's errors (named by environment variable) to name
// the place the offending value came from.
func (b *builder) relabel(err error) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		var ce *Error
		if errors.As(e, &ce) {
			name, rest := ce.Setting, ""
			if i := strings.IndexAny(name, "[."); i >= 0 {
				name, rest = name[:i], name[i:]
			}
			if label, ok := b.set[name]; ok && label != name {
				e = &Error{Setting: label + rest, Msg: ce.Msg}
			} else if item, ok := apimItems[name]; ok && b.apim {
				e = &Error{Setting: name + " (APIM " + item + ")" + rest, Msg: ce.Msg}
			}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// settingFailedStatus and settingFailedMessage have no environment variable;
// they come from a policy file or an APIM policy only.
const (
	settingFailedStatus  = "failed_validation_httpcode"
	settingFailedMessage = "failed_validation_error_message"
	settingRoutes        = "routes"
	settingDeniedFields  = "denied_fields"
)

// Default returns a Config with every default applied and no key source,
// issuer or audience: a starting point for configurations built in code
// (it does not pass Validate until those are added).
func Default() *Config {
	return &Config{
		Algorithms:        append([]string(nil), DefaultAlgorithms...),
		ClockSkew:         DefaultClockSkew,
		RequireExpiration: true,
		MaxTokenBytes:     DefaultMaxTokenBytes,
		HeaderName:        DefaultHeaderName,
		Scheme:            DefaultScheme,
		HTTPTimeout:       DefaultHTTPTimeout,
		JWKSCooldown:      DefaultJWKSCooldown,
		RefreshInterval:   DefaultRefreshInterval,
		MaxStaleness:      DefaultMaxStaleness,
		WarmupTimeout:     DefaultWarmupTimeout,
		TokenCacheSize:    DefaultTokenCacheSize,
		TokenCacheMaxTTL:  DefaultTokenCacheMaxTTL,
		ClaimHeaders:      DefaultClaimHeaders(),
		HTTPAPIResponse:   HTTPAPISimple,
		FailedStatus:      DefaultFailedStatus,
		DPoPAlgorithms:    append([]string(nil), DefaultDPoPAlgorithms...),
		DPoPMaxAge:        DefaultDPoPMaxAge,
		ReplayStore:       ReplayStoreMemory,
		RuleCostLimit:     DefaultRuleCostLimit,
	}
}

// DefaultClaimHeaders returns the default claim → identity header mapping.
func DefaultClaimHeaders() map[string]string {
	return map[string]string{"sub": "X-Auth-Subject", "scope": "X-Auth-Scopes", "iss": "X-Auth-Issuer"}
}

func hasSecrets(keys []StaticKey) bool {
	for _, k := range keys {
		if len(k.Secret) > 0 || (len(k.JWKS) > 0 && jwksHasOct(k.JWKS)) {
			return true
		}
	}
	return false
}
