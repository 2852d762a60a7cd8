package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Which key source may sign tokens for which issuer. The key source
// (shared/keys) and Validate both apply these rules, so a configuration that
// would trust one issuer's keys for another issuer's tokens stops start-up:
//
//   - An issuer that a discovery source serves (the issuer its URL stands
//     for, compared ignoring one trailing slash) is checked against that
//     source's keys and against the JWKS URLs and static keys bound to it by
//     name (policy file keys[].issuers, the keys of an APIM policy): the
//     user bound them on purpose. Unbound sources never serve it, and
//     neither does another discovery source.
//   - A discovery source may also serve accepted issuers that no discovery
//     source stands for (OpenIDConfigIssuers: an APIM policy's other
//     <issuers>), never another discovery source's issuer.
//   - A JWKS URL or static key with its own issuers serves exactly those.
//     Bound to a discovery issuer, it serves the issuer exactly as named
//     when JWTGATE_ISSUERS lists it, and the issuer the discovery document
//     announces (the same issuer, perhaps with another trailing slash).
//   - A JWKS URL or static key without issuers (every JWTGATE_JWKS_URL entry,
//     JWTGATE_JWKS, each JWTGATE_PUBLIC_KEYS block, each JWTGATE_HMAC_SECRETS
//     secret) is unbound: it serves every accepted issuer that discovery
//     does not serve.
//   - With two or more such issuers, an unbound source is allowed only as
//     the one key source for all of them (several issuer forms sharing one
//     JWKS). Next to any other non-discovery source it would let that
//     source's signer mint tokens for the others' issuers: refused.
//   - A seed JWKS stands in for every fetched source, so it is allowed only
//     with one discovery or JWKS URL.

// WellKnownPath is the path suffix of an OpenID discovery URL.
const WellKnownPath = "/.well-known/openid-configuration"

// settingJWKSSources labels errors about bound JWKS sources (policy file
// keys[] entries with jwks_url; no environment variable).
const settingJWKSSources = "keys[].jwks_url"

// DiscoveryIssuer returns the issuer a discovery URL stands for and the URL
// of its discovery document. A URL ending with
// /.well-known/openid-configuration stands for itself without that suffix
// (and without its query); any other URL is taken as the issuer itself, and
// its document is at the issuer + /.well-known/openid-configuration
// (OpenID Connect Discovery §4).
func DiscoveryIssuer(u *url.URL) (issuer string, doc *url.URL) {
	c := *u
	if strings.HasSuffix(u.Path, WellKnownPath) {
		c.RawQuery = ""
		c.Path = strings.TrimSuffix(u.Path, WellKnownPath)
		c.RawPath = ""
		return c.String(), u
	}
	d := *u
	d.Path = strings.TrimSuffix(u.Path, "/") + WellKnownPath
	d.RawPath = ""
	return c.String(), &d
}

// SameIssuer reports whether a and b are the same issuer ignoring one
// trailing slash: how a discovery URL is matched to the issuer its document
// announces (Auth0 announces https://TENANT.auth0.com/). Tokens must still
// carry the announced issuer exactly.
func SameIssuer(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// DiscoveryServes reports whether iss belongs to one of c's discovery
// sources (compared with SameIssuer), so that only that source's keys may
// verify its tokens. URLs that do not parse are skipped (Validate reports
// them).
func (c *Config) DiscoveryServes(iss string) bool {
	for _, raw := range c.OpenIDConfigURLs {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if want, _ := DiscoveryIssuer(u); SameIssuer(want, iss) {
			return true
		}
	}
	return false
}

// UnboundIssuers returns the accepted issuers (JWTGATE_ISSUERS) that no
// discovery source serves: the issuers a key source without issuers serves.
func (c *Config) UnboundIssuers() []string {
	var out []string
	for _, iss := range c.Issuers {
		if !c.DiscoveryServes(iss) && !contains(out, iss) {
			out = append(out, iss)
		}
	}
	return out
}

// CheckKeyBindings checks the rules above: no JWKS URL or static key bound
// to a discovery issuer, no unbound key source without an issuer to serve,
// no unbound key source shared by several issuers next to other key
// sources, and a seed only with one fetched source. Errors are *Error,
// joined, and name the settings involved.
func (c *Config) CheckKeyBindings() error {
	var errs []error
	fail := func(setting, format string, args ...any) {
		errs = append(errs, &Error{Setting: setting, Msg: fmt.Sprintf(format, args...)})
	}
	discovery := "JWTGATE_OPENID_CONFIG"

	type src struct{ setting, name string }
	var unbound []src
	bound := 0
	for i, u := range c.JWKSURLs {
		unbound = append(unbound, src{"JWTGATE_JWKS_URL", fmt.Sprintf("JWTGATE_JWKS_URL entry %d (%s)", i+1, clipURL(u))})
	}
	for _, j := range c.JWKSSources {
		if len(j.Issuers) == 0 {
			unbound = append(unbound, src{settingJWKSSources, fmt.Sprintf("keys[].jwks_url %s", clipURL(j.URL))})
			continue
		}
		bound++
	}
	for i, k := range c.StaticKeys {
		setting := keySetting(k)
		if len(k.Issuers) == 0 {
			unbound = append(unbound, src{setting, fmt.Sprintf("%s (static key %d)", setting, i+1)})
			continue
		}
		bound++
	}
	for _, u := range c.OpenIDConfigURLs {
		for _, iss := range c.OpenIDConfigIssuers[u] {
			if c.DiscoveryServes(iss) {
				fail(discovery, "%s is bound to issuer %q, which a discovery source serves: a discovery source serves its own issuer, and its keys never serve another discovery source's issuer; remove the binding", clipURL(u), iss)
			}
		}
		if len(c.OpenIDConfigIssuers[u]) > 0 {
			bound++
		}
	}
	for u := range c.OpenIDConfigIssuers {
		if !contains(c.OpenIDConfigURLs, u) {
			fail(discovery, "issuers are bound to %s, which is not one of the discovery URLs", clipURL(u))
		}
	}

	issuers := c.UnboundIssuers()
	if len(unbound) > 0 {
		names := make([]string, len(unbound))
		for i, s := range unbound {
			names[i] = s.name
		}
		switch {
		case len(c.Issuers) > 0 && len(issuers) == 0:
			fail(unbound[0].setting, "no issuer to serve for %s: every issuer in JWTGATE_ISSUERS is served by %s, and a discovery issuer is checked only against its discovery keys and the keys bound to it by name; add the issuer these keys sign for to JWTGATE_ISSUERS, bind them to the discovery issuer in a policy file (keys[].issuers), or remove them", strings.Join(names, ", "), discovery)
		case (len(c.Issuers) == 0 || len(issuers) >= 2) && len(unbound)+bound >= 2:
			which := "any issuer"
			if len(c.Issuers) > 0 {
				which = "every issuer in JWTGATE_ISSUERS that discovery does not serve (" + strings.Join(quoteAll(issuers), ", ") + ")"
			}
			other := ""
			if bound > 0 {
				other = fmt.Sprintf(" and next to %d key source(s) bound to their issuers", bound)
			}
			fail("JWTGATE_ISSUERS", "ambiguous key sources: %s would be trusted for %s%s, so one issuer's signer could mint tokens for another issuer; bind each key source to its issuers in a policy file (keys[].issuers; keys[] with jwks_url and issuers for a JWKS URL), or use one key source per deployment", strings.Join(names, ", "), which, other)
		}
	}

	fetched := len(c.OpenIDConfigURLs) + len(c.JWKSURLs) + len(c.JWKSSources)
	if len(c.SeedJWKS) > 0 && fetched > 1 {
		fail("JWTGATE_SEED_JWKS", "stands in for every fetched key source until its first fetch, and %d are configured (JWTGATE_OPENID_CONFIG, JWTGATE_JWKS_URL, keys[].jwks_url): its keys would be trusted for every one of their issuers; use a seed only with one discovery or JWKS URL", fetched)
	}
	return errors.Join(errs...)
}

// clipURL renders a configured URL for an error: without its query (which
// could carry a credential) and at most 200 bytes.
func clipURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if len(raw) > 200 {
		raw = raw[:200] + "…"
	}
	return raw
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
