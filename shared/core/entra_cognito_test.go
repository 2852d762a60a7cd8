package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer/lookalike"
)

func startEntra(t *testing.T) *lookalike.Entra {
	t.Helper()
	e, err := lookalike.StartEntra(lookalike.TenantB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func runScenarios(t *testing.T, scenarios []lookalike.Scenario, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			c, err := FromEnv(context.Background(), env(sc.Env))
			if err != nil {
				t.Fatal(err)
			}
			if c.WarmErr != nil {
				t.Fatalf("warm-up: %v", c.WarmErr)
			}
			for _, tc := range sc.Cases {
				d := c.Decide(context.Background(), req(tc.Token))
				if d.Outcome != tc.Outcome || d.Reason != tc.Reason {
					t.Errorf("%s: got %v %s (%s), want %v %s", tc.Name, d.Outcome, d.Reason, d.Detail, tc.Outcome, tc.Reason)
				}
				if tc.Outcome == decision.Allow {
					// A repeat token is answered from the verified-token cache: its
					// key is still one of its issuer's (v1.0 forms included).
					if again := c.Decide(context.Background(), req(tc.Token)); again.Outcome != decision.Allow || !again.CacheHit {
						t.Errorf("%s: repeat: %v %s cache hit %v", tc.Name, again.Outcome, again.Reason, again.CacheHit)
					}
				}
				for k, v := range tc.Forwarded {
					if got := fmt.Sprint(d.Claims.Map()[k]); got != v && !(k == "iss" && d.Issuer == v) {
						t.Errorf("%s: forwarded %s = %q, want %q", tc.Name, k, got, v)
					}
				}
			}
		})
	}
}

func TestEntraLookalikeScenarios(t *testing.T) {
	e := startEntra(t)
	sc, err := lookalike.EntraScenarios(e)
	runScenarios(t, sc, err)
}

func TestCognitoLookalikeScenarios(t *testing.T) {
	cg, err := lookalike.StartCognito(lookalike.UserPool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cg.Close)
	sc, err := lookalike.CognitoScenarios(cg)
	runScenarios(t, sc, err)
}

func TestEntraV1DocumentIsAcceptedOnlyWhenItsIssuerIsListed(t *testing.T) {
	e := startEntra(t)
	const tid, aud = lookalike.TenantA, "api://" + lookalike.APIAppID
	tok, err := e.AccessTokenV1(tid, aud, lookalike.WebAppID, nil)
	if err != nil {
		t.Fatal(err)
	}
	runScenarios(t, []lookalike.Scenario{{
		Name: "v1.0 document, its issuer listed",
		Env: map[string]string{
			"JWTGATE_OPENID_CONFIG": e.Discovery(tid, false),
			"JWTGATE_ISSUERS":       lookalike.V1Issuer(tid),
			"JWTGATE_AUDIENCES":     aud,
		},
		Cases: []lookalike.Case{{Name: "v1.0 token", Token: tok, Outcome: decision.Allow, Reason: decision.ReasonOK}},
	}}, nil)

	c, err := FromEnv(context.Background(), env(map[string]string{
		"JWTGATE_OPENID_CONFIG": e.Discovery(tid, false),
		"JWTGATE_AUDIENCES":     aud,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WarmErr == nil || !strings.Contains(c.WarmErr.Error(), "JWTGATE_ISSUERS") || !strings.Contains(c.WarmErr.Error(), lookalike.V1Issuer(tid)) {
		t.Fatalf("warm-up error %v does not name the announced issuer and JWTGATE_ISSUERS", c.WarmErr)
	}
	if d := c.Decide(context.Background(), req(tok)); d.Outcome == decision.Allow {
		t.Fatalf("a document whose issuer was not vouched for served keys: %+v", d)
	}
}

func TestEntraAPIMValidateAzureADTokenImport(t *testing.T) {
	e := startEntra(t)
	policy := filepath.Join(t.TempDir(), "policy.xml")
	if err := os.WriteFile(policy, []byte(lookalike.AzureADTokenPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := lookalike.EntraAPIMScenario(e, policy)
	runScenarios(t, []lookalike.Scenario{sc}, err)
}
