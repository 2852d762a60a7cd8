package validate

import (
	"context"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

func TestAudienceClientAndTokenUseRules(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name   string
		cfg    func(*config.Config)
		over   map[string]any
		want   decision.Outcome
		reason decision.Reason
	}{
		{"no aud: client_id accepted as an audience", nil, map[string]any{"aud": nil, "client_id": "https://api.example.com"}, decision.Allow, decision.ReasonOK},
		{"no aud: another client_id", nil, map[string]any{"aud": nil, "client_id": "app-2"}, decision.Unauthenticated, decision.AudienceInvalid},
		{"no aud and no client_id", nil, map[string]any{"aud": nil}, decision.Unauthenticated, decision.AudienceInvalid},
		{"aud is judged alone, whatever client_id says", nil, map[string]any{"aud": "https://other.example", "client_id": "https://api.example.com"}, decision.Unauthenticated, decision.AudienceInvalid},
		{"client from azp", func(c *config.Config) { c.ClientIDs = []string{"client-1"} }, nil, decision.Allow, decision.ReasonOK},
		{"azp is read before appid", func(c *config.Config) { c.ClientIDs = []string{"app-9"} }, map[string]any{"appid": "app-9"}, decision.Forbidden, decision.ClientNotAllowed},
		{"client from appid", func(c *config.Config) { c.ClientIDs = []string{"app-9"} }, map[string]any{"azp": nil, "appid": "app-9"}, decision.Allow, decision.ReasonOK},
		{"client from cid (Okta)", func(c *config.Config) { c.ClientIDs = []string{"okta-1"} }, map[string]any{"azp": nil, "cid": "okta-1"}, decision.Allow, decision.ReasonOK},
		{"no client claim", func(c *config.Config) { c.ClientIDs = []string{"client-1"} }, map[string]any{"azp": nil}, decision.Forbidden, decision.ClientNotAllowed},
		{"wrong client in APIM import mode is 401", func(c *config.Config) { c.ClientIDs = []string{"x"}; c.APIMImport = true }, nil, decision.Unauthenticated, decision.ClientNotAllowed},
		{"client claim of another type", func(c *config.Config) { c.ClientIDs = []string{"client-1"} }, map[string]any{"azp": 7, "appid": "client-1"}, decision.Forbidden, decision.ClientNotAllowed},
		{"client claim of another type without JWTGATE_CLIENT_IDS", nil, map[string]any{"azp": 7}, decision.Allow, decision.ReasonOK},
		{"token_use of another type", func(c *config.Config) { c.TokenUse = "access" }, map[string]any{"token_use": true}, decision.Unauthenticated, decision.TokenUseInvalid},
		{"token_use required and present", func(c *config.Config) { c.TokenUse = "access" }, map[string]any{"token_use": "access"}, decision.Allow, decision.ReasonOK},
		{"token_use required and missing", func(c *config.Config) { c.TokenUse = "access" }, nil, decision.Unauthenticated, decision.TokenUseInvalid},
		{"token_use of the other kind", func(c *config.Config) { c.TokenUse = "access" }, map[string]any{"token_use": "id"}, decision.Unauthenticated, decision.TokenUseInvalid},
		{"scp string split for a required claim", func(c *config.Config) {
			c.RequiredClaims = []config.ClaimRequirement{{Name: "scp", Values: []string{"b"}}}
		}, map[string]any{"scp": "a b c"}, decision.Allow, decision.ReasonOK},
		{"scope string split for a required claim", func(c *config.Config) {
			c.RequiredClaims = []config.ClaimRequirement{{Name: "scope", Values: []string{"read:orders"}}}
		}, nil, decision.Allow, decision.ReasonOK},
		{"other strings are not split", func(c *config.Config) {
			c.RequiredClaims = []config.ClaimRequirement{{Name: "grp", Values: []string{"b"}}}
		}, map[string]any{"grp": "a b"}, decision.Forbidden, decision.ClaimMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			v := newValidator(t, cfg, newFakeKeys(t), &now)
			tok := sign(t, "RS256", mustJSON(map[string]any{"alg": "RS256", "kid": "rsa1"}), mustJSON(claims(now, tc.over)))
			d := v.Decide(context.Background(), bearer(tok))
			if d.Outcome != tc.want || d.Reason != tc.reason {
				t.Fatalf("got %v %s (%s), want %v %s", d.Outcome, d.Reason, d.Detail, tc.want, tc.reason)
			}
		})
	}
}
