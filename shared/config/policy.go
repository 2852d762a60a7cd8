package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// policyFile is the policy file model (YAML or JSON). Field names mirror the
// environment variables in snake_case. Pointers and nil slices tell "absent"
// (the default or the environment applies) from a given value.
type policyFile struct {
	OpenIDConfig      []string `json:"openid_config" yaml:"openid_config"`
	JWKSURL           []string `json:"jwks_url" yaml:"jwks_url"`
	Issuers           []string `json:"issuers" yaml:"issuers"`
	Audiences         []string `json:"audiences" yaml:"audiences"`
	Algorithms        []string `json:"algorithms" yaml:"algorithms"`
	ClockSkew         *string  `json:"clock_skew" yaml:"clock_skew"`
	RequireExpiration *bool    `json:"require_expiration" yaml:"require_expiration"`
	TokenTypes        []string `json:"token_types" yaml:"token_types"`
	MaxTokenBytes     *int     `json:"max_token_bytes" yaml:"max_token_bytes"`
	Tenants           []string `json:"tenants" yaml:"tenants"`
	ClientIDs         []string `json:"client_ids" yaml:"client_ids"`
	TokenUse          *string  `json:"token_use" yaml:"token_use"`

	TokenHeader      *string `json:"token_header" yaml:"token_header"`
	TokenScheme      *string `json:"token_scheme" yaml:"token_scheme"`
	TokenQuery       *string `json:"token_query" yaml:"token_query"`
	TokenCookie      *string `json:"token_cookie" yaml:"token_cookie"`
	TokenSubprotocol *string `json:"token_subprotocol" yaml:"token_subprotocol"`

	RequiredScopes []string           `json:"required_scopes" yaml:"required_scopes"`
	RequiredClaims []ClaimRequirement `json:"required_claims" yaml:"required_claims"`
	Routes         []RouteRule        `json:"routes" yaml:"routes"`
	DeniedFields   []FieldRule        `json:"denied_fields" yaml:"denied_fields"`
	Rule           *string            `json:"rule" yaml:"rule"`
	RuleCostLimit  *int               `json:"rule_cost_limit" yaml:"rule_cost_limit"`

	HTTPTimeout      *string `json:"http_timeout" yaml:"http_timeout"`
	JWKSCooldown     *string `json:"jwks_cooldown" yaml:"jwks_cooldown"`
	JWKSRefresh      *string `json:"jwks_refresh" yaml:"jwks_refresh"`
	JWKSMaxStaleness *string `json:"jwks_max_staleness" yaml:"jwks_max_staleness"`
	WarmupTimeout    *string `json:"warmup_timeout" yaml:"warmup_timeout"`
	TokenCacheSize   *int    `json:"token_cache_size" yaml:"token_cache_size"`
	TokenCacheTTL    *string `json:"token_cache_ttl" yaml:"token_cache_ttl"`

	ForwardClaims        []string          `json:"forward_claims" yaml:"forward_claims"`
	ClaimHeaders         map[string]string `json:"claim_headers" yaml:"claim_headers"`
	UsageIdentifierClaim *string           `json:"usage_identifier_claim" yaml:"usage_identifier_claim"`
	HTTPAPIResponse      *string           `json:"httpapi_response" yaml:"httpapi_response"`
	FailedHTTPCode       *int              `json:"failed_validation_httpcode" yaml:"failed_validation_httpcode"`
	FailedMessage        *string           `json:"failed_validation_error_message" yaml:"failed_validation_error_message"`

	DPoPAlgorithms     []string `json:"dpop_algorithms" yaml:"dpop_algorithms"`
	DPoPMaxAge         *string  `json:"dpop_max_age" yaml:"dpop_max_age"`
	ReplayStore        *string  `json:"replay_store" yaml:"replay_store"`
	PublicURL          *string  `json:"public_url" yaml:"public_url"`
	ClientCertHeader   *string  `json:"client_cert_header" yaml:"client_cert_header"`
	RequireBoundTokens *bool    `json:"require_bound_tokens" yaml:"require_bound_tokens"`

	Keys           []policyKey           `json:"keys" yaml:"keys"`
	SeedJWKS       *jsonValue            `json:"seed_jwks" yaml:"seed_jwks"`
	DecryptionKeys []policyDecryptionKey `json:"decryption_keys" yaml:"decryption_keys"`
}

// policyKey is one verification key source: exactly one of jwks, jwks_url,
// pem, n/e or secret. issuers binds it to those issuers.
type policyKey struct {
	JWKS    *jsonValue `json:"jwks" yaml:"jwks"`         // JWKS object, JSON text, or "@file"
	JWKSURL string     `json:"jwks_url" yaml:"jwks_url"` // a fetched JWKS, served for issuers only
	PEM     string     `json:"pem" yaml:"pem"`           // PEM text or "@file"
	N       string     `json:"n" yaml:"n"`               // RSA modulus (base64url)
	E       string     `json:"e" yaml:"e"`               // RSA exponent (base64url)
	Secret  string     `json:"secret" yaml:"secret"`     // base64 HMAC secret
	KID     string     `json:"kid" yaml:"kid"`           // key id
	Alg     string     `json:"alg" yaml:"alg"`           // pins the algorithm
	Issuers []string   `json:"issuers" yaml:"issuers"`   // restricts the key to these issuers
}

// policyDecryptionKey is one JWE key: exactly one of secret, pem or jwk.
type policyDecryptionKey struct {
	KID    string     `json:"kid" yaml:"kid"`
	Secret string     `json:"secret" yaml:"secret"` // base64 symmetric key
	PEM    string     `json:"pem" yaml:"pem"`       // RSA private key PEM text or "@file"
	JWK    *jsonValue `json:"jwk" yaml:"jwk"`       // a private JWK
}

// jsonValue is a JSON document given either as a nested object (YAML or
// JSON) or as a string (JSON text, or "@file").
type jsonValue struct {
	raw []byte  // the nested object, as JSON
	str *string // the string form
}

func (j *jsonValue) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		j.str = &s
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return errors.New("expected a JSON object or a string")
	}
	j.raw = append([]byte(nil), data...)
	return nil
}

// text returns the document: the object, the string's file ("@path"), or the
// string itself.
func (b *builder) jsonText(label string, j *jsonValue) ([]byte, bool) {
	if j.str == nil {
		return j.raw, true
	}
	return b.inlineOrFile(label, *j.str)
}

// LoadPolicy reads a policy file (YAML or JSON, told apart by the name's
// extension or else by the content), applies defaults and validates. name
// labels errors and resolves relative "@file" references. Unknown fields,
// duplicate keys and trailing documents are errors.
func LoadPolicy(data []byte, name string) (*Config, error) {
	b := newBuilder()
	if name != "" {
		b.dir = filepath.Dir(name)
	}
	b.applyPolicy(data, name)
	return b.finish()
}

func (b *builder) applyPolicy(data []byte, name string) {
	label := filepath.Base(name)
	if name == "" {
		label = "policy file"
	}
	p, err := decodePolicy(data, name)
	if err != nil {
		b.errs = append(b.errs, &Error{Setting: label, Msg: err.Error(), Err: err})
		return
	}
	b.policy(p, label+": ")
}

// decodePolicy decodes YAML or JSON strictly. It never panics: a panic in
// the YAML decoder becomes an error (see decodeYAML; a lean build refuses
// a YAML policy with ErrYAMLNotBuiltIn).
func decodePolicy(data []byte, name string) (p *policyFile, err error) {
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxFileBytes)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("empty policy")
	}
	ext := strings.ToLower(filepath.Ext(name))
	isJSON := ext == ".json" || (ext != ".yaml" && ext != ".yml" && trimmed[0] == '{')
	p = &policyFile{}
	if isJSON {
		if err := checkJSONDuplicates(trimmed); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(p); err != nil {
			return nil, fmt.Errorf("JSON: %v", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("JSON: data after the policy object")
		}
		return p, nil
	}
	if err := decodeYAML(data, p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkJSONDuplicates refuses a JSON document with a repeated member name in
// any object (encoding/json would silently keep the last one).
func checkJSONDuplicates(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj     bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("JSON: %v", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				// The object is a complete value: the enclosing object,
				// if any, wants a key next.
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].wantKey = true
				}
				continue
			}
			k, _ := tok.(string)
			if top.keys[k] {
				return fmt.Errorf("JSON: duplicate key %q", k)
			}
			top.keys[k] = true
			top.wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// a complete value ends here: the enclosing object wants a key next
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// policy applies a decoded policy file; at prefixes each field name in
// errors ("policy.yaml: ").
func (b *builder) policy(p *policyFile, at string) {
	lists := []struct {
		setting, field string
		v              []string
		dst            *[]string
	}{
		{"JWTGATE_OPENID_CONFIG", "openid_config", p.OpenIDConfig, &b.c.OpenIDConfigURLs},
		{"JWTGATE_JWKS_URL", "jwks_url", p.JWKSURL, &b.c.JWKSURLs},
		{"JWTGATE_ISSUERS", "issuers", p.Issuers, &b.c.Issuers},
		{"JWTGATE_ALGORITHMS", "algorithms", p.Algorithms, &b.c.Algorithms},
		{"JWTGATE_TOKEN_TYPES", "token_types", p.TokenTypes, &b.c.TokenTypes},
		{"JWTGATE_REQUIRED_SCOPES", "required_scopes", p.RequiredScopes, &b.c.RequiredScopes},
		{"JWTGATE_FORWARD_CLAIMS", "forward_claims", p.ForwardClaims, &b.c.ForwardClaims},
		{"JWTGATE_CLIENT_IDS", "client_ids", p.ClientIDs, &b.c.ClientIDs},
		{"JWTGATE_DPOP_ALGORITHMS", "dpop_algorithms", p.DPoPAlgorithms, &b.c.DPoPAlgorithms},
	}
	for _, l := range lists {
		if l.v != nil {
			b.setList(l.setting, at+l.field, trimAll(l.v), l.dst)
		}
	}
	if p.Audiences != nil {
		b.setAudiences(at+"audiences", trimAll(p.Audiences))
	}
	if p.Tenants != nil {
		b.setTenants(at+"tenants", trimAll(p.Tenants))
	}
	if p.TokenUse != nil {
		b.setString("JWTGATE_TOKEN_USE", at+"token_use", strings.ToLower(*p.TokenUse), &b.c.TokenUse)
	}
	durations := []struct {
		setting, field string
		v              *string
		dst            *time.Duration
	}{
		{"JWTGATE_CLOCK_SKEW", "clock_skew", p.ClockSkew, &b.c.ClockSkew},
		{"JWTGATE_HTTP_TIMEOUT", "http_timeout", p.HTTPTimeout, &b.c.HTTPTimeout},
		{"JWTGATE_JWKS_COOLDOWN", "jwks_cooldown", p.JWKSCooldown, &b.c.JWKSCooldown},
		{"JWTGATE_JWKS_REFRESH", "jwks_refresh", p.JWKSRefresh, &b.c.RefreshInterval},
		{"JWTGATE_JWKS_MAX_STALENESS", "jwks_max_staleness", p.JWKSMaxStaleness, &b.c.MaxStaleness},
		{"JWTGATE_WARMUP_TIMEOUT", "warmup_timeout", p.WarmupTimeout, &b.c.WarmupTimeout},
		{"JWTGATE_TOKEN_CACHE_TTL", "token_cache_ttl", p.TokenCacheTTL, &b.c.TokenCacheMaxTTL},
		{"JWTGATE_DPOP_MAX_AGE", "dpop_max_age", p.DPoPMaxAge, &b.c.DPoPMaxAge},
	}
	for _, d := range durations {
		if d.v != nil {
			b.setDuration(d.setting, at+d.field, *d.v, d.dst)
		}
	}
	if p.RequireExpiration != nil {
		b.c.RequireExpiration = *p.RequireExpiration
		b.mark("JWTGATE_REQUIRE_EXPIRATION", at+"require_expiration")
	}
	if p.RequireBoundTokens != nil {
		b.c.RequireBoundTokens = *p.RequireBoundTokens
		b.mark("JWTGATE_REQUIRE_BOUND_TOKENS", at+"require_bound_tokens")
	}
	ints := []struct {
		setting, field string
		v              *int
		dst            *int
	}{
		{"JWTGATE_MAX_TOKEN_BYTES", "max_token_bytes", p.MaxTokenBytes, &b.c.MaxTokenBytes},
		{"JWTGATE_TOKEN_CACHE_SIZE", "token_cache_size", p.TokenCacheSize, &b.c.TokenCacheSize},
		{settingFailedStatus, "failed_validation_httpcode", p.FailedHTTPCode, &b.c.FailedStatus},
		{"JWTGATE_RULE_COST_LIMIT", "rule_cost_limit", p.RuleCostLimit, &b.c.RuleCostLimit},
	}
	for _, n := range ints {
		if n.v != nil {
			*n.dst = *n.v
			b.mark(n.setting, at+n.field)
		}
	}
	if p.TokenHeader != nil {
		b.setOptional("JWTGATE_TOKEN_HEADER", at+"token_header", *p.TokenHeader, &b.c.HeaderName)
	}
	if p.TokenScheme != nil {
		b.setOptional("JWTGATE_TOKEN_SCHEME", at+"token_scheme", *p.TokenScheme, &b.c.Scheme)
	}
	strs := []struct {
		setting, field string
		v              *string
		dst            *string
	}{
		{"JWTGATE_TOKEN_QUERY", "token_query", p.TokenQuery, &b.c.QueryParam},
		{"JWTGATE_TOKEN_COOKIE", "token_cookie", p.TokenCookie, &b.c.CookieName},
		{"JWTGATE_TOKEN_SUBPROTOCOL", "token_subprotocol", p.TokenSubprotocol, &b.c.Subprotocol},
		{"JWTGATE_USAGE_IDENTIFIER_CLAIM", "usage_identifier_claim", p.UsageIdentifierClaim, &b.c.UsageIdentifierClaim},
		{settingFailedMessage, "failed_validation_error_message", p.FailedMessage, &b.c.FailedMessage},
		{"JWTGATE_RULE", "rule", p.Rule, &b.c.Rule},
		{"JWTGATE_REPLAY_STORE", "replay_store", p.ReplayStore, &b.c.ReplayStore},
		{"JWTGATE_PUBLIC_URL", "public_url", p.PublicURL, &b.c.PublicURL},
		{"JWTGATE_CLIENT_CERT_HEADER", "client_cert_header", p.ClientCertHeader, &b.c.ClientCertHeader},
	}
	for _, s := range strs {
		if s.v != nil {
			b.setString(s.setting, at+s.field, *s.v, s.dst)
		}
	}
	if p.HTTPAPIResponse != nil {
		b.setString("JWTGATE_HTTPAPI_RESPONSE", at+"httpapi_response", strings.ToLower(*p.HTTPAPIResponse), &b.c.HTTPAPIResponse)
	}
	if p.RequiredClaims != nil {
		b.c.RequiredClaims = normalizeClaims(p.RequiredClaims)
		b.mark("JWTGATE_REQUIRED_CLAIMS", at+"required_claims")
	}
	if p.Routes != nil {
		b.c.Routes = make([]RouteRule, len(p.Routes))
		for i, r := range p.Routes {
			r.Method = strings.ToUpper(strings.TrimSpace(r.Method))
			if r.Method == "" {
				r.Method = "*"
			}
			r.Path = strings.TrimSpace(r.Path)
			r.Scopes = trimAll(r.Scopes)
			r.Claims = normalizeClaims(r.Claims)
			r.When = strings.TrimSpace(r.When)
			b.c.Routes[i] = r
		}
		b.mark(settingRoutes, at+"routes")
	}
	if p.DeniedFields != nil {
		b.c.DeniedFields = make([]FieldRule, len(p.DeniedFields))
		for i, r := range p.DeniedFields {
			r.Scopes = trimAll(r.Scopes)
			r.Claims = normalizeClaims(r.Claims)
			r.Fields = trimAll(r.Fields)
			b.c.DeniedFields[i] = r
		}
		b.mark(settingDeniedFields, at+"denied_fields")
	}
	if p.ClaimHeaders != nil {
		m := make(map[string]string, len(p.ClaimHeaders))
		for k, v := range p.ClaimHeaders {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		b.c.ClaimHeaders = m
		b.mark("JWTGATE_CLAIM_HEADERS", at+"claim_headers")
	}
	for i, k := range p.Keys {
		b.policyKey(at, i, k)
	}
	if p.SeedJWKS != nil {
		if data, ok := b.jsonText(at+"seed_jwks", p.SeedJWKS); ok {
			b.c.SeedJWKS = data
			b.mark("JWTGATE_SEED_JWKS", at+"seed_jwks")
		}
	}
	for i, k := range p.DecryptionKeys {
		label := fmt.Sprintf("%sdecryption_keys[%d]", at, i)
		n := 0
		for _, has := range []bool{k.Secret != "", k.PEM != "", k.JWK != nil} {
			if has {
				n++
			}
		}
		if n != 1 {
			b.failf(label, "give exactly one of secret, pem or jwk")
			continue
		}
		dk := DecryptionKey{KID: k.KID}
		switch {
		case k.Secret != "":
			s, err := DecodeBase64(k.Secret)
			if err != nil {
				b.failf(label+".secret", "%v", err)
				continue
			}
			dk.Secret = s
		case k.PEM != "":
			data, ok := b.inlineOrFile(label+".pem", k.PEM)
			if !ok {
				continue
			}
			dk.PEM = data
		default:
			data, ok := b.jsonText(label+".jwk", k.JWK)
			if !ok {
				continue
			}
			dk.JWK = data
		}
		b.c.DecryptionKeys = append(b.c.DecryptionKeys, dk)
		b.mark("JWTGATE_DECRYPTION_KEYS", at+"decryption_keys")
	}
}

func (b *builder) policyKey(at string, i int, k policyKey) {
	label := fmt.Sprintf("%skeys[%d]", at, i)
	n := 0
	for _, has := range []bool{k.JWKS != nil, k.JWKSURL != "", k.PEM != "", k.N != "" || k.E != "", k.Secret != ""} {
		if has {
			n++
		}
	}
	if n != 1 {
		b.failf(label, "give exactly one of jwks, jwks_url, pem, n/e or secret")
		return
	}
	if k.JWKSURL != "" {
		if strings.TrimSpace(k.KID) != "" || strings.TrimSpace(k.Alg) != "" {
			b.failf(label, "kid and alg cannot be given for a jwks_url (each fetched key carries its own)")
			return
		}
		b.c.JWKSSources = append(b.c.JWKSSources, JWKSSource{URL: strings.TrimSpace(k.JWKSURL), Issuers: trimAll(k.Issuers)})
		b.mark("keys", strings.TrimSuffix(label, fmt.Sprintf("[%d]", i)))
		return
	}
	tmpl := StaticKey{KID: strings.TrimSpace(k.KID), Alg: strings.TrimSpace(k.Alg), Issuers: trimAll(k.Issuers)}
	switch {
	case k.JWKS != nil:
		data, ok := b.jsonText(label+".jwks", k.JWKS)
		if !ok {
			return
		}
		if err := checkJWKS(data); err != nil {
			b.failf(label+".jwks", "%v", err)
			return
		}
		if tmpl.KID != "" {
			b.failf(label+".kid", "a JWKS names its keys itself")
			return
		}
		tmpl.JWKS = data
	case k.PEM != "":
		b.addPEM("JWTGATE_PUBLIC_KEYS", label+".pem", k.PEM, tmpl)
		return
	case k.Secret != "":
		s, err := DecodeBase64(k.Secret)
		if err != nil {
			b.failf(label+".secret", "%v", err)
			return
		}
		tmpl.Secret = s
	default:
		if k.N == "" || k.E == "" {
			b.failf(label, "an RSA key needs both n and e")
			return
		}
		tmpl.N, tmpl.E = k.N, k.E
	}
	b.c.StaticKeys = append(b.c.StaticKeys, tmpl)
	b.mark(keySetting(tmpl), label)
}

// keySetting is the environment variable Validate names for a static key.
func keySetting(k StaticKey) string {
	switch {
	case len(k.PEM) > 0:
		return "JWTGATE_PUBLIC_KEYS"
	case len(k.Secret) > 0:
		return "JWTGATE_HMAC_SECRETS"
	}
	return "JWTGATE_JWKS"
}

func trimAll(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func normalizeClaims(in []ClaimRequirement) []ClaimRequirement {
	if in == nil {
		return nil
	}
	out := make([]ClaimRequirement, len(in))
	for i, r := range in {
		r.Name = strings.TrimSpace(r.Name)
		r.Match = strings.ToLower(strings.TrimSpace(r.Match))
		out[i] = r
	}
	return out
}
