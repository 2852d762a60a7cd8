package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer/lookalike"
)

// TestHandlerBinaryEntraAndCognitoLookalikes drives the Entra ID and
// Cognito look-alike scenarios through the handler binary, proxied and as
// invocation payloads in turn: status, reason code, forwarded claims and
// identity headers per case; and an APIM <validate-azure-ad-token> import.
func TestHandlerBinaryEntraAndCognitoLookalikes(t *testing.T) {
	set, err := lookalike.StartSet()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	policy := filepath.Join(t.TempDir(), "policy.xml")
	if err := os.WriteFile(policy, []byte(lookalike.AzureADTokenPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	apim, err := lookalike.EntraAPIMScenario(set.Entra, policy)
	if err != nil {
		t.Fatal(err)
	}
	status := map[decision.Outcome]int{decision.Allow: 200, decision.Unauthenticated: 401, decision.Forbidden: 403}
	for _, sc := range append(set.Scenarios, apim) {
		t.Run(sc.Name, func(t *testing.T) {
			env := maps.Clone(sc.Env)
			env["JWTGATE_CLAIM_HEADERS"] = "sub=X-Auth-Subject,cognito:groups=X-Auth-Groups"
			p := startHandler(t, env)
			p.ready()
			for i, tc := range sc.Cases {
				mode, send := "proxied", func() reply { return p.proxied(t, "GET", "/orders/1", tc.Token, nil) }
				if i%2 == 1 {
					mode, send = "invocation", func() reply { return p.invoked(t, "GET", "/orders/1", tc.Token) }
				}
				r := send()
				if r.status != status[tc.Outcome] || r.body["reason"] != string(tc.Reason) {
					t.Errorf("%s (%s): %d %v, want %d %s", tc.Name, mode, r.status, r.body["reason"], status[tc.Outcome], tc.Reason)
					continue
				}
				claims, _ := r.body["claims"].(map[string]any)
				for k, v := range tc.Forwarded {
					if got := fmt.Sprint(claims[k]); got != v {
						t.Errorf("%s (%s): claims[%s] = %q, want %q", tc.Name, mode, k, got, v)
					}
				}
				if g, ok := tc.Forwarded["cognito:groups"]; ok && r.header.Get("X-Auth-Groups") != g {
					t.Errorf("%s (%s): X-Auth-Groups = %q, want %q", tc.Name, mode, r.header.Get("X-Auth-Groups"), g)
				}
			}
		})
	}
}
