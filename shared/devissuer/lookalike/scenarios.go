package lookalike

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// Tenants, applications and the user pool of the scenarios.
const (
	TenantA   = "11111111-1111-4111-8111-111111111111"
	TenantB   = "22222222-2222-4222-8222-222222222222"
	TenantC   = "33333333-3333-4333-8333-333333333333"
	APIAppID  = "aaaaaaaa-0000-4000-8000-000000000001" // the protected API's application (client) id
	WebAppID  = "bbbbbbbb-0000-4000-8000-000000000002" // an accepted calling application
	OtherApp  = "cccccccc-0000-4000-8000-000000000003"
	UserPool  = "us-east-1_Abc123DEF"
	AppClient = "4n8bp1examplec1ientid0123"
)

// Case is one token and the decision every adapter must reach for it.
type Case struct {
	Name    string
	Token   string
	Outcome decision.Outcome
	Reason  decision.Reason
	// Forwarded lists claims the allowed decision forwards (authorizer
	// context, identity headers), flattened as adapters pass them.
	Forwarded map[string]string
}

// Scenario is a configuration (the JWTGATE_ environment) and its cases.
type Scenario struct {
	Name  string
	Env   map[string]string
	Cases []Case
}

// mint collects tokens, keeping the first error.
type mint struct{ err error }

func (m *mint) tok(s string, err error) string {
	if err != nil && m.err == nil {
		m.err = err
	}
	return s
}

// EntraScenarios returns the Entra ID scenarios against e (started with
// TenantB's own key): a single tenant accepting its v1.0 and v2.0 tokens
// from one discovery source, and multi-tenant with issuer templates.
func EntraScenarios(e *Entra) ([]Scenario, error) {
	var m mint
	roles := map[string]any{"roles": []string{"Orders.Read", "Orders.Write"}}
	scp := func() map[string]any { return map[string]any{"scp": "Orders.Read User.Read"} }
	claimsOf := func(tid string) map[string]any {
		c, err := decodePayload(m.tok(e.AccessTokenV2(tid, APIAppID, WebAppID, scp())))
		m.tok("", err)
		return c
	}
	single := Scenario{
		Name: "entra single tenant",
		Env: map[string]string{
			"JWTGATE_OPENID_CONFIG":   e.Discovery(TenantA, true),
			"JWTGATE_ISSUERS":         e.V2Issuer(TenantA) + "," + V1Issuer(TenantA),
			"JWTGATE_AUDIENCES":       APIAppID + ",api://" + APIAppID,
			"JWTGATE_CLIENT_IDS":      WebAppID,
			"JWTGATE_REQUIRED_CLAIMS": "roles=Orders.Read",
			"JWTGATE_FORWARD_CLAIMS":  "roles,tid",
		},
		Cases: []Case{
			{Name: "v2.0 token of the tenant and an accepted client", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, roles)),
				Outcome: decision.Allow, Reason: decision.ReasonOK, Forwarded: map[string]string{"roles": "Orders.Read Orders.Write", "tid": TenantA, "client_id": WebAppID}},
			{Name: "v1.0 token (sts.windows.net issuer, appid)", Token: m.tok(e.AccessTokenV1(TenantA, "api://"+APIAppID, WebAppID, roles)),
				Outcome: decision.Allow, Reason: decision.ReasonOK, Forwarded: map[string]string{"iss": V1Issuer(TenantA), "client_id": WebAppID}},
			{Name: "another client application", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, OtherApp, roles)), Outcome: decision.Forbidden, Reason: decision.ClientNotAllowed},
			{Name: "no client claim", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, map[string]any{"azp": nil, "roles": []string{"Orders.Read"}})), Outcome: decision.Forbidden, Reason: decision.ClientNotAllowed},
			{Name: "another tenant", Token: m.tok(e.AccessTokenV2(TenantB, APIAppID, WebAppID, roles)), Outcome: decision.Unauthenticated, Reason: decision.IssuerInvalid},
			{Name: "an app role missing", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, map[string]any{"roles": []string{"Orders.Write"}})), Outcome: decision.Forbidden, Reason: decision.ClaimMissing},
			{Name: "another audience", Token: m.tok(e.AccessTokenV2(TenantA, OtherApp, WebAppID, roles)), Outcome: decision.Unauthenticated, Reason: decision.AudienceInvalid},
		},
	}
	multi := Scenario{
		Name: "entra multi-tenant",
		Env: map[string]string{
			"JWTGATE_OPENID_CONFIG":   e.Discovery("organizations", true),
			"JWTGATE_ISSUERS":         e.V2Template() + "," + V1Template,
			"JWTGATE_TENANTS":         TenantA + "," + TenantB,
			"JWTGATE_AUDIENCES":       APIAppID,
			"JWTGATE_REQUIRED_SCOPES": "Orders.Read",
			"JWTGATE_REQUIRED_CLAIMS": "scp=User.Read",
		},
		Cases: []Case{
			{Name: "v2.0 token of an accepted tenant", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, scp())), Outcome: decision.Allow, Reason: decision.ReasonOK,
				Forwarded: map[string]string{"scope": "Orders.Read User.Read"}},
			{Name: "v1.0 token of an accepted tenant", Token: m.tok(e.AccessTokenV1(TenantB, APIAppID, WebAppID, scp())), Outcome: decision.Allow, Reason: decision.ReasonOK},
			{Name: "tenant B's own key signing for tenant B", Token: m.tok(e.SignWithTenantKey(TenantB, claimsOf(TenantB))), Outcome: decision.Allow, Reason: decision.ReasonOK},
			{Name: "another tenant", Token: m.tok(e.AccessTokenV2(TenantC, APIAppID, WebAppID, scp())), Outcome: decision.Unauthenticated, Reason: decision.TenantNotAllowed},
			{Name: "tid and iss disagree", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, map[string]any{"scp": "Orders.Read User.Read", "tid": TenantB})), Outcome: decision.Unauthenticated, Reason: decision.TenantMismatch},
			{Name: "no tid", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, map[string]any{"scp": "Orders.Read User.Read", "tid": nil})), Outcome: decision.Unauthenticated, Reason: decision.TenantMismatch},
			{Name: "tenant B's key signing for tenant A", Token: m.tok(e.SignWithTenantKey(TenantB, claimsOf(TenantA))), Outcome: decision.Unauthenticated, Reason: decision.KeyIssuerMismatch},
			{Name: "a delegated scope missing", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, map[string]any{"scp": "Orders.Read"})), Outcome: decision.Forbidden, Reason: decision.ClaimMissing},
		},
	}
	return []Scenario{single, multi}, m.err
}

// CognitoScenarios returns the Cognito scenarios against c: access tokens
// (no aud: client_id checked against JWTGATE_AUDIENCES) and ID tokens.
func CognitoScenarios(c *Cognito) ([]Scenario, error) {
	var m mint
	groups := []string{"admins", "staff"}
	base := func(extra map[string]string) map[string]string {
		env := map[string]string{
			"JWTGATE_OPENID_CONFIG":   c.Discovery(),
			"JWTGATE_ISSUERS":         c.Issuer(),
			"JWTGATE_AUDIENCES":       AppClient,
			"JWTGATE_FORWARD_CLAIMS":  "cognito:groups,username",
			"JWTGATE_REQUIRED_CLAIMS": "cognito:groups=admins",
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	access := Scenario{
		Name: "cognito access tokens",
		Env:  base(map[string]string{"JWTGATE_TOKEN_USE": "access", "JWTGATE_CLIENT_IDS": AppClient, "JWTGATE_REQUIRED_SCOPES": "openid"}),
		Cases: []Case{
			{Name: "access token of the app client", Token: m.tok(c.AccessToken(AppClient, "alice", groups, nil)), Outcome: decision.Allow, Reason: decision.ReasonOK,
				Forwarded: map[string]string{"cognito:groups": "admins staff", "username": "alice", "client_id": AppClient}},
			{Name: "access token of another app client", Token: m.tok(c.AccessToken("otherclient", "alice", groups, nil)), Outcome: decision.Unauthenticated, Reason: decision.AudienceInvalid},
			{Name: "access token without token_use", Token: m.tok(c.AccessToken(AppClient, "alice", groups, map[string]any{"token_use": nil})), Outcome: decision.Unauthenticated, Reason: decision.TokenUseInvalid},
			{Name: "ID token where access is required", Token: m.tok(c.IDToken(AppClient, "alice", groups, nil)), Outcome: decision.Unauthenticated, Reason: decision.TokenUseInvalid},
			{Name: "a user outside the group", Token: m.tok(c.AccessToken(AppClient, "bob", []string{"staff"}, nil)), Outcome: decision.Forbidden, Reason: decision.ClaimMissing},
		},
	}
	// An ID token names its app client in aud only (no azp, client_id):
	// JWTGATE_AUDIENCES checks it; JWTGATE_CLIENT_IDS would refuse it.
	id := Scenario{
		Name: "cognito ID tokens",
		Env:  base(map[string]string{"JWTGATE_TOKEN_USE": "id"}),
		Cases: []Case{
			{Name: "ID token of the app client", Token: m.tok(c.IDToken(AppClient, "alice", groups, nil)), Outcome: decision.Allow, Reason: decision.ReasonOK,
				Forwarded: map[string]string{"cognito:groups": "admins staff"}},
			{Name: "access token where ID is required", Token: m.tok(c.AccessToken(AppClient, "alice", groups, nil)), Outcome: decision.Unauthenticated, Reason: decision.TokenUseInvalid},
			{Name: "ID token of another app client", Token: m.tok(c.IDToken("otherclient", "alice", groups, nil)), Outcome: decision.Unauthenticated, Reason: decision.AudienceInvalid},
		},
	}
	return []Scenario{access, id}, m.err
}

// decodePayload returns a compact JWS's claims.
func decodePayload(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("lookalike: not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}

// AzureADTokenPolicy is an APIM policy whose <validate-azure-ad-token>
// accepts TenantA's tokens for APIAppID from WebAppID with the Orders.Read
// app role.
const AzureADTokenPolicy = `<policies>
  <inbound>
    <validate-azure-ad-token tenant-id="` + TenantA + `" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized. Access token is missing or invalid.">
      <client-application-ids>
        <application-id>` + WebAppID + `</application-id>
      </client-application-ids>
      <backend-application-ids>
        <application-id>` + APIAppID + `</application-id>
      </backend-application-ids>
      <required-claims>
        <claim name="roles" match="any">
          <value>Orders.Read</value>
        </claim>
      </required-claims>
    </validate-azure-ad-token>
  </inbound>
</policies>
`

// EntraAPIMScenario imports AzureADTokenPolicy (written at policyFile)
// with e as the Entra authority. As APIM does, it answers every failed
// validation, a wrong client included, with the policy's code.
func EntraAPIMScenario(e *Entra, policyFile string) (Scenario, error) {
	var m mint
	roles := map[string]any{"roles": []string{"Orders.Read"}}
	return Scenario{
		Name: "entra APIM validate-azure-ad-token",
		Env:  map[string]string{"JWTGATE_APIM_POLICY_FILE": policyFile, "JWTGATE_ENTRA_AUTHORITY": e.Authority()},
		Cases: []Case{
			{Name: "v2.0 token for the backend application", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, roles)), Outcome: decision.Allow, Reason: decision.ReasonOK},
			{Name: "v1.0 token for api://backend", Token: m.tok(e.AccessTokenV1(TenantA, "api://"+APIAppID, WebAppID, roles)), Outcome: decision.Allow, Reason: decision.ReasonOK},
			{Name: "another client application", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, OtherApp, roles)), Outcome: decision.Unauthenticated, Reason: decision.ClientNotAllowed},
			{Name: "another tenant", Token: m.tok(e.AccessTokenV2(TenantB, APIAppID, WebAppID, roles)), Outcome: decision.Unauthenticated, Reason: decision.IssuerInvalid},
			{Name: "another audience", Token: m.tok(e.AccessTokenV2(TenantA, OtherApp, WebAppID, roles)), Outcome: decision.Unauthenticated, Reason: decision.AudienceInvalid},
			{Name: "the app role missing", Token: m.tok(e.AccessTokenV2(TenantA, APIAppID, WebAppID, nil)), Outcome: decision.Forbidden, Reason: decision.ClaimMissing},
		},
	}, m.err
}

// Set is both look-alikes and every scenario against them, for the
// adapters' end-to-end tests.
type Set struct {
	Entra     *Entra
	Cognito   *Cognito
	Scenarios []Scenario // Entra's, then Cognito's
}

// StartSet starts the Entra look-alike (TenantB with a key of its own) and
// the Cognito one (UserPool) and builds their scenarios.
func StartSet() (*Set, error) {
	e, err := StartEntra(TenantB)
	if err != nil {
		return nil, err
	}
	s := &Set{Entra: e}
	if s.Cognito, err = StartCognito(UserPool); err != nil {
		s.Close()
		return nil, err
	}
	entra, err := EntraScenarios(e)
	if err != nil {
		s.Close()
		return nil, err
	}
	cognito, err := CognitoScenarios(s.Cognito)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Scenarios = append(entra, cognito...)
	return s, nil
}

// Close stops both look-alikes.
func (s *Set) Close() {
	s.Entra.Close()
	if s.Cognito != nil {
		s.Cognito.Close()
	}
}
