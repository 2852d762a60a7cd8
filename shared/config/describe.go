package config

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Effective is one setting of a loaded configuration as `config` shows it:
// its effective value and the places it came from.
type Effective struct {
	// Setting is the environment variable, or a file-only setting name
	// ("routes", "keys", "failed_validation_httpcode", …).
	Setting string `json:"setting"`
	// Value is the effective value as text. Secrets never appear: an HMAC
	// secret or a decryption key reads "(set, 32 bytes)".
	Value string `json:"value"`
	// From lists the places that gave the setting (see Provenance), or
	// "default" when none did.
	From []string `json:"from"`
}

// FromDefault is the From of a setting that no layer gave.
const FromDefault = "default"

// Describe lists every setting (Settings, then the file-only ones) with
// its effective value and origin. getenv answers the few settings an
// adapter reads itself and the two file paths.
func (c *Config) Describe(p Provenance, getenv func(string) string) []Effective {
	out := make([]Effective, 0, len(Settings)+4)
	for _, s := range Settings {
		e := Effective{Setting: s.Name, From: p.From(s.Name)}
		switch {
		case describers[s.Name] != nil:
			e.Value = describers[s.Name](c)
		case s.Name == "JWTGATE_POLICY_FILE" || s.Name == "JWTGATE_APIM_POLICY_FILE" || adapterSettings[s.Name]:
			if v := strings.TrimSpace(getenv(s.Name)); v != "" {
				e.Value, e.From = v, []string{s.Name}
			} else {
				e.Value = s.Default
			}
		default:
			// A setting without a describer: say whether it is set, never
			// guess at its value (it could be a secret).
			e.Value = "(set)"
			if len(e.From) == 0 {
				e.Value = s.Default
			}
		}
		out = append(out, e)
	}
	for _, name := range []string{"keys", settingRoutes, settingFailedStatus, settingFailedMessage} {
		if from := p.From(name); len(from) > 0 {
			out = append(out, Effective{Setting: name, Value: fileOnly[name](c), From: from})
		}
	}
	for i := range out {
		if len(out[i].From) == 0 {
			out[i].From = []string{FromDefault}
		}
	}
	return out
}

// describers render each setting's effective value. Secrets are shown as
// their length only.
var describers = map[string]func(c *Config) string{
	"JWTGATE_OPENID_CONFIG": func(c *Config) string { return urls(c.OpenIDConfigURLs) },
	"JWTGATE_JWKS_URL":      func(c *Config) string { return urls(c.JWKSURLs) },
	"JWTGATE_ISSUERS": func(c *Config) string {
		if len(c.Issuers) == 0 {
			return "(each discovery document's issuer)"
		}
		return strings.Join(c.Issuers, ",")
	},
	"JWTGATE_AUDIENCES": func(c *Config) string {
		if c.AnyAudience {
			return "* (audience check off)"
		}
		return strings.Join(c.Audiences, ",")
	},
	"JWTGATE_ALGORITHMS":         func(c *Config) string { return strings.Join(c.Algorithms, ",") },
	"JWTGATE_CLOCK_SKEW":         func(c *Config) string { return duration(c.ClockSkew) },
	"JWTGATE_REQUIRE_EXPIRATION": func(c *Config) string { return strconv.FormatBool(c.RequireExpiration) },
	"JWTGATE_TOKEN_TYPES": func(c *Config) string {
		if len(c.TokenTypes) == 0 {
			return "(any)"
		}
		return strings.Join(c.TokenTypes, ",")
	},
	"JWTGATE_MAX_TOKEN_BYTES": func(c *Config) string { return strconv.Itoa(c.MaxTokenBytes) },
	"JWTGATE_TOKEN_HEADER":    func(c *Config) string { return orNone(c.HeaderName, "(none)") },
	"JWTGATE_TOKEN_SCHEME":    func(c *Config) string { return orNone(c.Scheme, "(none: the header holds the bare token)") },
	"JWTGATE_TOKEN_QUERY":     func(c *Config) string { return c.QueryParam },
	"JWTGATE_TOKEN_COOKIE":    func(c *Config) string { return c.CookieName },
	"JWTGATE_REQUIRED_SCOPES": func(c *Config) string { return strings.Join(c.RequiredScopes, " ") },
	"JWTGATE_REQUIRED_CLAIMS": func(c *Config) string { return claimRequirements(c.RequiredClaims) },
	"JWTGATE_HTTP_TIMEOUT":    func(c *Config) string { return duration(c.HTTPTimeout) },
	"JWTGATE_JWKS_COOLDOWN":   func(c *Config) string { return duration(c.JWKSCooldown) },
	"JWTGATE_JWKS_REFRESH":    func(c *Config) string { return duration(c.RefreshInterval) },
	"JWTGATE_JWKS_MAX_STALENESS": func(c *Config) string {
		return duration(c.MaxStaleness)
	},
	"JWTGATE_WARMUP_TIMEOUT":   func(c *Config) string { return duration(c.WarmupTimeout) },
	"JWTGATE_TOKEN_CACHE_SIZE": func(c *Config) string { return strconv.Itoa(c.TokenCacheSize) },
	"JWTGATE_TOKEN_CACHE_TTL":  func(c *Config) string { return duration(c.TokenCacheMaxTTL) },
	"JWTGATE_FORWARD_CLAIMS":   func(c *Config) string { return strings.Join(c.ForwardClaims, ",") },
	"JWTGATE_CLAIM_HEADERS": func(c *Config) string {
		pairs := make([]string, 0, len(c.ClaimHeaders))
		for k, v := range c.ClaimHeaders {
			pairs = append(pairs, k+"="+v)
		}
		sort.Strings(pairs)
		return orNone(strings.Join(pairs, ","), "(none)")
	},
	"JWTGATE_USAGE_IDENTIFIER_CLAIM": func(c *Config) string { return c.UsageIdentifierClaim },
	"JWTGATE_HTTPAPI_RESPONSE":       func(c *Config) string { return c.HTTPAPIResponse },
	"JWTGATE_JWKS": func(c *Config) string {
		return staticKeys(c, func(k StaticKey) string {
			if len(k.JWKS) == 0 {
				return ""
			}
			return fmt.Sprintf("JWKS (%d bytes)", len(k.JWKS)) // may hold oct secrets: never shown
		})
	},
	"JWTGATE_PUBLIC_KEYS": func(c *Config) string {
		return staticKeys(c, func(k StaticKey) string {
			switch {
			case len(k.PEM) > 0:
				return "PEM public key"
			case k.N != "":
				return "RSA key (n, e)"
			}
			return ""
		})
	},
	"JWTGATE_HMAC_SECRETS": func(c *Config) string {
		return staticKeys(c, func(k StaticKey) string {
			if len(k.Secret) == 0 {
				return ""
			}
			return secret(len(k.Secret))
		})
	},
	"JWTGATE_SEED_JWKS": func(c *Config) string {
		if len(c.SeedJWKS) == 0 {
			return ""
		}
		return fmt.Sprintf("(set, %d bytes of JWKS)", len(c.SeedJWKS))
	},
	"JWTGATE_DECRYPTION_KEYS": func(c *Config) string {
		parts := make([]string, 0, len(c.DecryptionKeys))
		for _, k := range c.DecryptionKeys {
			var s string
			switch {
			case len(k.Secret) > 0:
				s = secret(len(k.Secret))
			case len(k.PEM) > 0:
				s = "(set, RSA private key)"
			default:
				s = "(set, private JWK)"
			}
			parts = append(parts, withKID(k.KID, s))
		}
		return strings.Join(parts, ", ")
	},
}

// fileOnly render the settings only a policy file or APIM policy gives.
var fileOnly = map[string]func(c *Config) string{
	"keys": func(c *Config) string {
		parts := make([]string, 0, len(c.JWKSSources))
		for _, j := range c.JWKSSources {
			s := urls([]string{j.URL})
			if len(j.Issuers) > 0 {
				s += " for " + strings.Join(j.Issuers, ",")
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "; ")
	},
	settingRoutes: func(c *Config) string {
		parts := make([]string, 0, len(c.Routes))
		for _, r := range c.Routes {
			s := strings.TrimSpace(r.Method + " " + r.Path)
			if len(r.Scopes) > 0 {
				s += " scopes=" + strings.Join(r.Scopes, " ")
			}
			if len(r.Claims) > 0 {
				s += " claims=" + claimRequirements(r.Claims)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "; ")
	},
	settingFailedStatus:  func(c *Config) string { return strconv.Itoa(c.FailedStatus) },
	settingFailedMessage: func(c *Config) string { return c.FailedMessage },
}

// secret shows that a secret is set, and its length only.
func secret(n int) string { return fmt.Sprintf("(set, %d bytes)", n) }

func withKID(kid, s string) string {
	if kid == "" {
		return s
	}
	return "kid " + strconv.Quote(kid) + ": " + s
}

func staticKeys(c *Config, show func(StaticKey) string) string {
	var parts []string
	for _, k := range c.StaticKeys {
		if s := show(k); s != "" {
			if len(k.Issuers) > 0 {
				s += " for " + strings.Join(k.Issuers, ",")
			}
			parts = append(parts, withKID(k.KID, s))
		}
	}
	return strings.Join(parts, ", ")
}

// urls shows configured URLs without credentials or query (either could
// carry a secret).
func urls(list []string) string {
	out := make([]string, 0, len(list))
	for _, raw := range list {
		u, err := url.Parse(raw)
		if err != nil {
			out = append(out, "(unparsable URL)")
			continue
		}
		if u.User != nil {
			u.User = url.User("…")
		}
		if u.RawQuery != "" {
			u.RawQuery = "…"
		}
		u.Fragment = ""
		out = append(out, u.String())
	}
	return strings.Join(out, ",")
}

func claimRequirements(reqs []ClaimRequirement) string {
	parts := make([]string, 0, len(reqs))
	for _, r := range reqs {
		s := r.Name
		if len(r.Values) > 0 {
			s += "=" + strings.Join(r.Values, ",")
		}
		if r.Match != "" {
			s += ";match=" + r.Match
		}
		if r.Separator != "" {
			s += ";separator=" + r.Separator
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func duration(d time.Duration) string { return d.String() }

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
