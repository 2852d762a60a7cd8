package validate

import (
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// TestJTIOfAnotherTypeIsMalformed: jti is a string (RFC 7519 §4.1.7); jwx
// refuses any other type, so jwtgate does too (found by the differential
// fuzz targets in shared/difffuzz), while a string jti or none allows.
func TestJTIOfAnotherTypeIsMalformed(t *testing.T) {
	testKeys(t)
	now := t0
	v := newValidator(t, baseConfig(), newFakeKeys(t), &now)
	cases := []struct {
		name    string
		jti     any
		outcome decision.Outcome
		reason  decision.Reason
	}{
		{"string jti allows", "id-1", decision.Allow, decision.ReasonOK},
		{"empty string jti allows", "", decision.Allow, decision.ReasonOK},
		{"number jti is malformed", 42, decision.Unauthenticated, decision.ClaimsMalformed},
		{"boolean jti is malformed", true, decision.Unauthenticated, decision.ClaimsMalformed},
		{"array jti is malformed", []string{"id-1"}, decision.Unauthenticated, decision.ClaimsMalformed},
		{"object jti is malformed", map[string]any{"id": 1}, decision.Unauthenticated, decision.ClaimsMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := v.Decide(t.Context(), bearer(rs(t, "rsa1", claims(now, map[string]any{"jti": tc.jti}))))
			if d.Outcome != tc.outcome || d.Reason != tc.reason {
				t.Fatalf("got %s %s (%s), want %s %s", d.Outcome, d.Reason, d.Detail, tc.outcome, tc.reason)
			}
		})
	}
	// A JSON null jti is not a string either.
	d := v.Decide(t.Context(), bearer(sign(t, "RS256", []byte(`{"alg":"RS256","kid":"rsa1"}`),
		append(mustJSON(claims(now, nil))[:1], append([]byte(`"jti":null,`), mustJSON(claims(now, nil))[1:]...)...))))
	if d.Reason != decision.ClaimsMalformed {
		t.Fatalf("null jti: got %s %s, want claims_malformed", d.Outcome, d.Reason)
	}
}
