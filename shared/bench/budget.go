package bench

import (
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// The Entra / Cognito budget: the same tokens validated by a configuration
// that applies the tenant, client and token_use checks, and by a plain one
// that does not, so the ratio of the two is what the checks cost.
const (
	StyleEntra   = "entra"
	StyleCognito = "cognito"

	EntraTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	EntraIssuer   = "https://login.microsoftonline.com/" + EntraTenant + "/v2.0"
	EntraTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0"
	EntraClient   = "Xq3mB7tKp9vW2yZ5aC8dF1gH4jL6nR0s" // the fixture's azp
	CognitoIssuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
	CognitoClient = "7d8f2kq1m4n6p8r0s2t4v6x8z0"

	otherTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
	otherClient = "1b2c3d4e-0000-4000-8000-00000000beef"
)

// Styles are the provider styles of the budget, in table order.
var Styles = []string{StyleEntra, StyleCognito}

// StyleClaims returns the fixture's claims reshaped as the provider issues
// them: Entra adds tid and its tenant issuer (azp is already there);
// Cognito's access token has no aud, and carries client_id and token_use.
func (f *Fixture) StyleClaims(style string) map[string]any {
	c := f.Claims()
	switch style {
	case StyleEntra:
		c["iss"], c["tid"] = EntraIssuer, EntraTenant
	case StyleCognito:
		c["iss"], c["client_id"], c["token_use"] = CognitoIssuer, CognitoClient, "access"
		delete(c, "aud")
		delete(c, "azp")
	}
	return c
}

// MintStyle mints n distinct tokens of a style with the key for alg.
func (f *Fixture) MintStyle(style, alg string, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		t, err := devissuer.Sign(f.Keys[alg], f.StyleClaims(style), nil)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// StyleConfig is the configuration of a style: checked applies the
// provider's checks (Entra: the {tenantid} issuer template with
// JWTGATE_TENANTS and JWTGATE_CLIENT_IDS; Cognito: JWTGATE_TOKEN_USE and
// JWTGATE_CLIENT_IDS, the client id standing in for aud), plain accepts the
// same tokens by their exact issuer and audience only.
func (f *Fixture) StyleConfig(style string, checked bool) (*config.Config, error) {
	cfg := config.Default()
	cfg.StaticKeys = []config.StaticKey{{JWKS: f.JWKS}}
	cfg.RequiredScopes = []string{RequiredScope}
	switch style {
	case StyleEntra:
		cfg.Issuers, cfg.Audiences = []string{EntraIssuer}, []string{Audience}
		if checked {
			cfg.Issuers = []string{EntraTemplate}
			cfg.Tenants = []string{otherTenant, EntraTenant}
			cfg.ClientIDs = []string{otherClient, EntraClient}
		}
	case StyleCognito:
		cfg.Issuers, cfg.Audiences = []string{CognitoIssuer}, []string{CognitoClient}
		if checked {
			cfg.TokenUse = "access"
			cfg.ClientIDs = []string{otherClient, CognitoClient}
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}
