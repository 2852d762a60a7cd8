package validate

import (
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/keys"
	"github.com/jwtgate/jwtgate/shared/token"
)

// checkIssuer matches the token's iss against the accepted issuers: exactly,
// or against a {tenantid} template, whose tenant must then be the token's
// tid and an accepted tenant.
func (v *Validator) checkIssuer(tr *Trace, reg *registered) *token.Error {
	if v.issuers == nil {
		return nil
	}
	entry, tenant, ok := config.MatchIssuer(v.issuers, reg.iss)
	if !ok {
		return v.issuerRefused(tr, reg.iss)
	}
	if !config.IsIssuerTemplate(entry) {
		return nil
	}
	switch {
	case reg.tid == "":
		return &token.Error{Reason: decision.TenantMismatch, Msg: "token has no tid, which its issuer template needs"}
	case reg.tid != tenant:
		return &token.Error{Reason: decision.TenantMismatch, Msg: "token tid and iss name different tenants"}
	case !v.anyTenant && !contains(v.tenants, reg.tid):
		if tr.On() {
			tr.Hint("tid " + strconv.Quote(reg.tid) + "; accepted: " + strings.Join(v.tenants, ", "))
		}
		return &token.Error{Reason: decision.TenantNotAllowed, Msg: "token tenant is not accepted"}
	}
	return nil
}

// checkKeyIssuer applies a JWK's issuer member: the key signs only tokens of
// that issuer, its {tenantid} filled with the token's tid, a tenant's v1.0
// and v2.0 forms counting as one issuer. A key of tenant A never signs for
// tenant B.
func checkKeyIssuer(k *keys.Key, reg *registered) *token.Error {
	if k.Issuer == "" {
		return nil
	}
	want := k.Issuer
	if config.IsIssuerTemplate(want) {
		if reg.tid == "" {
			return &token.Error{Reason: decision.KeyIssuerMismatch, Msg: "the signing key is bound to a tenant issuer and the token has no tid"}
		}
		want = config.FillTenant(want, reg.tid)
	}
	if !config.SameTenantIssuer(want, reg.iss) {
		return &token.Error{Reason: decision.KeyIssuerMismatch, Msg: "the signing key belongs to another issuer"}
	}
	return nil
}
