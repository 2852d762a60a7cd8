package config

import (
	"fmt"
	"strings"
)

// Issuer templates and tenants (Microsoft Entra ID).
//
// An issuer may contain TenantPlaceholder once: Entra's multi-tenant
// discovery documents announce https://login.microsoftonline.com/{tenantid}/v2.0,
// and the v1.0 form is https://sts.windows.net/{tenantid}/. A token matches
// a template when its iss is the template with one path segment (no "/") in
// the placeholder's place; the validator then requires that segment to be
// the token's tid claim and an accepted tenant (JWTGATE_TENANTS).

// TenantPlaceholder is the tenant placeholder of an issuer template.
const TenantPlaceholder = "{tenantid}"

// IsIssuerTemplate reports whether iss contains the tenant placeholder.
func IsIssuerTemplate(iss string) bool { return strings.Contains(iss, TenantPlaceholder) }

// MatchIssuer returns the entry of accepted that iss matches: an exact entry
// first, else a template, with tenant the segment that stands in the
// placeholder's place ("" for an exact match). A template never matches
// itself: an iss holding the placeholder matches nothing.
func MatchIssuer(accepted []string, iss string) (entry, tenant string, ok bool) {
	if IsIssuerTemplate(iss) {
		return "", "", false
	}
	for _, a := range accepted {
		if a == iss {
			return a, "", true
		}
	}
	for _, a := range accepted {
		if t, ok := TemplateTenant(a, iss); ok {
			return a, t, true
		}
	}
	return "", "", false
}

// TemplateTenant reports whether iss is template with a non-empty segment
// (no "/") in place of the placeholder, and returns that segment. A
// template without the placeholder matches nothing.
func TemplateTenant(template, iss string) (string, bool) {
	pre, post, ok := strings.Cut(template, TenantPlaceholder)
	if !ok || len(iss) <= len(pre)+len(post) || !strings.HasPrefix(iss, pre) || !strings.HasSuffix(iss, post) {
		return "", false
	}
	t := iss[len(pre) : len(iss)-len(post)]
	if strings.ContainsAny(t, "/{}") {
		return "", false
	}
	return t, true
}

// FillTenant puts tenant in the placeholder's place.
func FillTenant(template, tenant string) string {
	return strings.Replace(template, TenantPlaceholder, tenant, 1)
}

// SameTenantIssuer reports whether a and b name the same issuer: equal, or
// one tenant's Entra v1.0 form (https://sts.<cloud>/{tid}/) and v2.0 form
// (<authority>/{tid}/v2.0), which Entra signs with the same keys.
func SameTenantIssuer(a, b string) bool {
	if a == b {
		return true
	}
	ta, va := entraForm(a)
	tb, vb := entraForm(b)
	return ta != "" && ta == tb && va != vb
}

// entraForm returns the tenant of an Entra issuer and its version (1 or 2),
// or "" when iss has neither form.
func entraForm(iss string) (tenant string, version int) {
	if rest, ok := strings.CutPrefix(iss, "https://sts."); ok {
		if _, t, ok := strings.Cut(rest, "/"); ok {
			if t, ok := strings.CutSuffix(t, "/"); ok && t != "" && !strings.Contains(t, "/") {
				return t, 1
			}
		}
		return "", 0
	}
	if p, ok := strings.CutSuffix(iss, "/v2.0"); ok {
		if i := strings.LastIndexByte(p, '/'); i > 0 && p[i-1] != '/' && i+1 < len(p) {
			return p[i+1:], 2
		}
	}
	return "", 0
}

// EntraIssuers returns the v2.0 and v1.0 issuers of a tenant under an
// authority (https://login.microsoftonline.com): what a
// validate-azure-ad-token policy for that tenant accepts.
func EntraIssuers(authority, tenant string) []string {
	return []string{strings.TrimSuffix(authority, "/") + "/" + tenant + "/v2.0", "https://sts.windows.net/" + tenant + "/"}
}

// IsGUID reports whether s is a GUID in its usual 8-4-4-4-12 hex form.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
	}
	return true
}

// checkIssuerTemplate checks that a template holds the placeholder once and
// no other {…} placeholder.
func checkIssuerTemplate(iss string) error {
	if strings.Count(iss, TenantPlaceholder) > 1 {
		return fmt.Errorf("%q holds %s more than once", iss, TenantPlaceholder)
	}
	rest := strings.Replace(iss, TenantPlaceholder, "", 1)
	if strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("%q: the only placeholder an issuer may hold is %s", iss, TenantPlaceholder)
	}
	return nil
}

// Token use values (JWTGATE_TOKEN_USE, Cognito's token_use claim).
const (
	TokenUseAccess = "access"
	TokenUseID     = "id"
)

// ClientClaims are the claims that name the calling application, in the
// order they are read: the first the token carries is its client id.
var ClientClaims = []string{"azp", "appid", "client_id", "cid"}

// tenancy checks JWTGATE_TENANTS, JWTGATE_CLIENT_IDS and JWTGATE_TOKEN_USE
// against the issuers.
func (v *validator) tenancy(c *Config) {
	var templates []string
	for _, iss := range c.Issuers {
		if !IsIssuerTemplate(iss) {
			if strings.ContainsAny(iss, "{}") {
				v.fail("JWTGATE_ISSUERS", "%q: the only placeholder an issuer may hold is %s", iss, TenantPlaceholder)
			}
			continue
		}
		if err := checkIssuerTemplate(iss); err != nil {
			v.fail("JWTGATE_ISSUERS", "%v", err)
			continue
		}
		templates = append(templates, iss)
	}
	switch {
	case len(templates) > 0 && len(c.Tenants) == 0 && !c.AnyTenant:
		v.fail("JWTGATE_TENANTS", "required: JWTGATE_ISSUERS holds the issuer template %q, which matches the tokens of every Entra tenant; set the accepted tenant ids (GUIDs, comma-separated), or \"*\" to accept any tenant on purpose", templates[0])
	case len(templates) == 0 && (len(c.Tenants) > 0 || c.AnyTenant):
		v.fail("JWTGATE_TENANTS", "has no effect: no issuer in JWTGATE_ISSUERS holds %s (e.g. https://login.microsoftonline.com/%s/v2.0); add the template, or remove JWTGATE_TENANTS", TenantPlaceholder, TenantPlaceholder)
	case c.AnyTenant && len(c.Tenants) > 0:
		v.fail("JWTGATE_TENANTS", `"*" (any tenant) cannot be combined with tenant ids`)
	}
	for _, t := range c.Tenants {
		if !IsGUID(t) {
			v.fail("JWTGATE_TENANTS", "%q is not a tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)", t)
		}
	}
	for _, id := range c.ClientIDs {
		if id == "" || strings.TrimSpace(id) != id || id == "*" {
			v.fail("JWTGATE_CLIENT_IDS", "%q is not a client id", id)
		}
	}
	if c.EntraAuthority != "" {
		if err := checkFetchURL(c.EntraAuthority); err != nil {
			v.fail("JWTGATE_ENTRA_AUTHORITY", "%v", err)
		}
	}
	switch c.TokenUse {
	case "", TokenUseAccess, TokenUseID:
	default:
		v.fail("JWTGATE_TOKEN_USE", "%q is neither access nor id", c.TokenUse)
	}
}
