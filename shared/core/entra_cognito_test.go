package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer/lookalike"
)

// Tenants and applications of the Entra look-alike tests.
const (
	tenantA   = "11111111-1111-4111-8111-111111111111"
	tenantB   = "22222222-2222-4222-8222-222222222222"
	tenantC   = "33333333-3333-4333-8333-333333333333"
	apiID     = "aaaaaaaa-0000-4000-8000-000000000001" // the API's application (client) id
	webAppID  = "bbbbbbbb-0000-4000-8000-000000000002" // an accepted calling application
	otherApp  = "cccccccc-0000-4000-8000-000000000003"
	userPool  = "us-east-1_Abc123DEF"
	appClient = "4n8bp1examplec1ientid0123"
)

func startEntra(t *testing.T) *lookalike.Entra {
	t.Helper()
	e, err := lookalike.StartEntra(tenantB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func startCognito(t *testing.T) *lookalike.Cognito {
	t.Helper()
	c, err := lookalike.StartCognito(userPool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

type lookalikeCase struct {
	name   string
	token  func() (string, error)
	want   decision.Outcome
	reason decision.Reason
}

func runLookalikeCases(t *testing.T, vars map[string]string, cases []lookalikeCase) *Core {
	t.Helper()
	c, err := FromEnv(context.Background(), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if c.WarmErr != nil {
		t.Fatalf("warm-up: %v", c.WarmErr)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.token()
			if err != nil {
				t.Fatal(err)
			}
			d := c.Decide(context.Background(), req(tok))
			if d.Outcome != tc.want || d.Reason != tc.reason {
				t.Fatalf("got %v %s (%s), want %v %s", d.Outcome, d.Reason, d.Detail, tc.want, tc.reason)
			}
		})
	}
	return c
}

func TestEntraSingleTenantAcceptsItsV1AndV2TokensFromOneDiscoverySource(t *testing.T) {
	e := startEntra(t)
	roles := map[string]any{"roles": []string{"Orders.Read", "Orders.Write"}}
	runLookalikeCases(t, map[string]string{
		"JWTGATE_OPENID_CONFIG":   e.Discovery(tenantA, true),
		"JWTGATE_ISSUERS":         e.V2Issuer(tenantA) + "," + lookalike.V1Issuer(tenantA),
		"JWTGATE_AUDIENCES":       apiID + ",api://" + apiID,
		"JWTGATE_CLIENT_IDS":      webAppID,
		"JWTGATE_REQUIRED_CLAIMS": "roles=Orders.Read",
	}, []lookalikeCase{
		{"v2.0 token of the tenant and an accepted client", func() (string, error) { return e.AccessTokenV2(tenantA, apiID, webAppID, roles) }, decision.Allow, decision.ReasonOK},
		{"v1.0 token (sts.windows.net issuer, appid) of the tenant", func() (string, error) {
			return e.AccessTokenV1(tenantA, "api://"+apiID, webAppID, roles)
		}, decision.Allow, decision.ReasonOK},
		{"another client application", func() (string, error) { return e.AccessTokenV2(tenantA, apiID, otherApp, roles) }, decision.Forbidden, decision.ClientNotAllowed},
		{"a token without any client claim", func() (string, error) {
			return e.AccessTokenV2(tenantA, apiID, webAppID, map[string]any{"azp": nil, "roles": []string{"Orders.Read"}})
		}, decision.Forbidden, decision.ClientNotAllowed},
		{"another tenant", func() (string, error) { return e.AccessTokenV2(tenantB, apiID, webAppID, roles) }, decision.Unauthenticated, decision.IssuerInvalid},
		{"an app role missing", func() (string, error) {
			return e.AccessTokenV2(tenantA, apiID, webAppID, map[string]any{"roles": []string{"Orders.Write"}})
		}, decision.Forbidden, decision.ClaimMissing},
		{"another audience", func() (string, error) { return e.AccessTokenV2(tenantA, otherApp, webAppID, roles) }, decision.Unauthenticated, decision.AudienceInvalid},
	})
}

func TestEntraMultiTenantChecksTenantAgainstTidAndTheSigningKeyIssuer(t *testing.T) {
	e := startEntra(t)
	scp := map[string]any{"scp": "Orders.Read User.Read"}
	runLookalikeCases(t, map[string]string{
		"JWTGATE_OPENID_CONFIG":   e.Discovery("organizations", true),
		"JWTGATE_ISSUERS":         e.V2Template() + "," + lookalike.V1Template,
		"JWTGATE_TENANTS":         tenantA + "," + tenantB,
		"JWTGATE_AUDIENCES":       apiID,
		"JWTGATE_REQUIRED_SCOPES": "Orders.Read",
		"JWTGATE_REQUIRED_CLAIMS": "scp=User.Read",
	}, []lookalikeCase{
		{"v2.0 token of an accepted tenant", func() (string, error) { return e.AccessTokenV2(tenantA, apiID, webAppID, scp) }, decision.Allow, decision.ReasonOK},
		{"v1.0 token of an accepted tenant", func() (string, error) { return e.AccessTokenV1(tenantB, apiID, webAppID, scp) }, decision.Allow, decision.ReasonOK},
		{"tenant B's own key signing for tenant B", func() (string, error) {
			return e.SignWithTenantKey(tenantB, mustClaims(t, e, tenantB, scp))
		}, decision.Allow, decision.ReasonOK},
		{"another tenant", func() (string, error) { return e.AccessTokenV2(tenantC, apiID, webAppID, scp) }, decision.Unauthenticated, decision.TenantNotAllowed},
		{"tid and iss disagree", func() (string, error) {
			return e.AccessTokenV2(tenantA, apiID, webAppID, map[string]any{"tid": tenantB, "scp": "Orders.Read User.Read"})
		}, decision.Unauthenticated, decision.TenantMismatch},
		{"no tid", func() (string, error) {
			return e.AccessTokenV2(tenantA, apiID, webAppID, map[string]any{"tid": nil, "scp": "Orders.Read User.Read"})
		}, decision.Unauthenticated, decision.TenantMismatch},
		{"tenant B's key signing for tenant A", func() (string, error) {
			return e.SignWithTenantKey(tenantB, mustClaims(t, e, tenantA, scp))
		}, decision.Unauthenticated, decision.KeyIssuerMismatch},
		{"a delegated scope missing", func() (string, error) {
			return e.AccessTokenV2(tenantA, apiID, webAppID, map[string]any{"scp": "Orders.Read"})
		}, decision.Forbidden, decision.ClaimMissing},
	})
}

// mustClaims returns the claims of a v2.0 access token of tid (decoded
// from one the look-alike minted), for signing with another key.
func mustClaims(t *testing.T, e *lookalike.Entra, tid string, extra map[string]any) map[string]any {
	t.Helper()
	tok, err := e.AccessTokenV2(tid, apiID, webAppID, extra)
	if err != nil {
		t.Fatal(err)
	}
	return decodeClaims(t, tok)
}

func TestEntraV1DocumentIsAcceptedOnlyWhenItsIssuerIsListed(t *testing.T) {
	e := startEntra(t)
	runLookalikeCases(t, map[string]string{
		"JWTGATE_OPENID_CONFIG": e.Discovery(tenantA, false),
		"JWTGATE_ISSUERS":       lookalike.V1Issuer(tenantA),
		"JWTGATE_AUDIENCES":     "api://" + apiID,
	}, []lookalikeCase{
		{"v1.0 token", func() (string, error) { return e.AccessTokenV1(tenantA, "api://"+apiID, webAppID, nil) }, decision.Allow, decision.ReasonOK},
	})

	c, err := FromEnv(context.Background(), env(map[string]string{
		"JWTGATE_OPENID_CONFIG": e.Discovery(tenantA, false),
		"JWTGATE_AUDIENCES":     "api://" + apiID,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WarmErr == nil || !strings.Contains(c.WarmErr.Error(), "JWTGATE_ISSUERS") || !strings.Contains(c.WarmErr.Error(), "https://sts.windows.net/"+tenantA+"/") {
		t.Fatalf("warm-up error %v does not name the announced issuer and JWTGATE_ISSUERS", c.WarmErr)
	}
	tok, _ := e.AccessTokenV1(tenantA, "api://"+apiID, webAppID, nil)
	if d := c.Decide(context.Background(), req(tok)); d.Outcome == decision.Allow {
		t.Fatalf("a document whose issuer was not vouched for served keys: %+v", d)
	}
}

func TestCognitoAccessAndIDTokens(t *testing.T) {
	cg := startCognito(t)
	groups := []string{"admins", "staff"}
	base := map[string]string{
		"JWTGATE_OPENID_CONFIG":   cg.Discovery(),
		"JWTGATE_ISSUERS":         cg.Issuer(),
		"JWTGATE_AUDIENCES":       appClient,
		"JWTGATE_CLIENT_IDS":      appClient,
		"JWTGATE_FORWARD_CLAIMS":  "cognito:groups,username",
		"JWTGATE_REQUIRED_CLAIMS": "cognito:groups=admins",
	}
	access := func(v map[string]string) map[string]string {
		m := map[string]string{"JWTGATE_TOKEN_USE": "access", "JWTGATE_REQUIRED_SCOPES": "openid"}
		for k, x := range v {
			m[k] = x
		}
		return m
	}
	c := runLookalikeCases(t, access(base), []lookalikeCase{
		{"access token of the app client", func() (string, error) { return cg.AccessToken(appClient, "alice", groups, nil) }, decision.Allow, decision.ReasonOK},
		{"access token of another app client", func() (string, error) { return cg.AccessToken("otherclient", "alice", groups, nil) }, decision.Unauthenticated, decision.AudienceInvalid},
		{"access token without token_use", func() (string, error) {
			return cg.AccessToken(appClient, "alice", groups, map[string]any{"token_use": nil})
		}, decision.Unauthenticated, decision.TokenUseInvalid},
		{"ID token where access is required", func() (string, error) { return cg.IDToken(appClient, "alice", groups, nil) }, decision.Unauthenticated, decision.TokenUseInvalid},
		{"a user outside the group", func() (string, error) { return cg.AccessToken(appClient, "bob", []string{"staff"}, nil) }, decision.Forbidden, decision.ClaimMissing},
	})
	tok, _ := cg.AccessToken(appClient, "alice", groups, nil)
	d := c.Decide(context.Background(), req(tok))
	if d.Claims["cognito:groups"] != "admins staff" || d.Claims["username"] != "alice" || d.Claims["client_id"] != appClient {
		t.Fatalf("forwarded claims %v", d.Claims)
	}

	// An ID token names its app client in aud only (no azp, client_id):
	// JWTGATE_AUDIENCES checks it, and JWTGATE_CLIENT_IDS would refuse it.
	idOnly := map[string]string{"JWTGATE_TOKEN_USE": "id"}
	for k, v := range base {
		idOnly[k] = v
	}
	delete(idOnly, "JWTGATE_CLIENT_IDS")
	runLookalikeCases(t, idOnly, []lookalikeCase{
		{"ID token (aud is the app client)", func() (string, error) { return cg.IDToken(appClient, "alice", groups, nil) }, decision.Allow, decision.ReasonOK},
		{"access token where ID is required", func() (string, error) { return cg.AccessToken(appClient, "alice", groups, nil) }, decision.Unauthenticated, decision.TokenUseInvalid},
		{"ID token of another app client", func() (string, error) { return cg.IDToken("otherclient", "alice", groups, nil) }, decision.Unauthenticated, decision.AudienceInvalid},
	})
	idOnly["JWTGATE_CLIENT_IDS"] = appClient
	runLookalikeCases(t, idOnly, []lookalikeCase{
		{"ID token with JWTGATE_CLIENT_IDS (no client claim)", func() (string, error) { return cg.IDToken(appClient, "alice", groups, nil) }, decision.Forbidden, decision.ClientNotAllowed},
	})
}

func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
