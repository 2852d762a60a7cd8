package hardening

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// haystack collects everything a caller or an operator can see.
type haystack struct{ parts []string }

func (h *haystack) add(a answerSeen) {
	h.parts = append(h.parts, a.Body, a.Detail, a.ErrText, string(a.Reason))
	for k, vs := range a.Header {
		h.parts = append(h.parts, k+": "+strings.Join(vs, ", "))
	}
}

// TestNoTokenSignatureOrSecretIsEverShown sends tokens for every outcome
// (allow with RS256 and with the configured HMAC secret, every 401 reason
// of the attack list, 403, 503) through every channel and checks that no
// log line (core and both adapters, slog JSON at debug level), decision
// detail, error, response body or header contains the token, its signature
// segment or the configured HMAC secret (raw or base64).
func TestNoTokenSignatureOrSecretIsEverShown(t *testing.T) {
	secret, err := base64.StdEncoding.DecodeString(testSecretB64)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, map[string]string{
		"JWTGATE_HMAC_SECRETS":    "hs1:" + testSecretB64,
		"JWTGATE_ISSUERS":         "{ISS}," + hmacIssuer,
		"JWTGATE_REQUIRED_SCOPES": "read",
		"JWTGATE_FORWARD_CLAIMS":  "jti",
	})
	down := newFixtureWith(t, nil, func(i *FaultIssuer) { i.SetFault(Fault500) })
	_, _, evil, evilEC := testKeys(t)

	type sample struct {
		f       *fixture
		tok     string
		outcome decision.Outcome // -1: any
	}
	var samples []sample
	samples = append(samples,
		sample{f, f.valid(t, nil), decision.Allow},
		sample{f, SignHS256(secret, Header("HS256", "hs1"), MustJSON(f.claims(map[string]any{"iss": hmacIssuer}))), decision.Allow},
		sample{f, f.valid(t, map[string]any{"scope": "write"}), decision.Forbidden},
		sample{f, f.valid(t, map[string]any{"exp": 1}), decision.Unauthenticated},
		sample{down, down.valid(t, nil), decision.Unavailable},
	)
	for _, a := range attacksFor(t, evil, evilEC, "http://127.0.0.1:1") {
		samples = append(samples, sample{f, a.tok(t, f), decision.Unauthenticated})
	}

	var hay haystack
	seen := map[decision.Outcome]bool{}
	reasons := map[decision.Reason]bool{}
	needles := map[string]string{}
	for i, s := range samples {
		for _, ch := range channels {
			got := ch.run(t, s.f, s.tok)
			if got.Outcome != s.outcome {
				t.Fatalf("sample %d via %s: %s/%s, want %s", i, ch.name, got.Outcome, got.Reason, s.outcome)
			}
			seen[got.Outcome] = true
			reasons[got.Reason] = true
			hay.add(got)
		}
		if len(s.tok) >= 16 {
			needles["token #"+strconv.Itoa(i)] = s.tok
		}
		if sig := SignatureOf(s.tok); len(sig) >= 16 {
			needles["signature of token #"+strconv.Itoa(i)] = sig
		}
	}
	for i, form := range secretForms(secret) {
		needles["HMAC secret form "+strconv.Itoa(i)] = form
	}
	hay.parts = append(hay.parts, f.logs.String(), down.logs.String())
	if f.core.WarmErr != nil {
		hay.parts = append(hay.parts, f.core.WarmErr.Error())
	}
	if down.core.WarmErr != nil {
		hay.parts = append(hay.parts, down.core.WarmErr.Error())
	}
	if len(seen) != 4 || len(reasons) < 12 {
		t.Fatalf("not every outcome was exercised: outcomes %v, %d reasons", seen, len(reasons))
	}
	all := strings.Join(hay.parts, "\n")
	if !strings.Contains(all, `"msg":"decision"`) {
		t.Fatal("no decision log lines were captured")
	}
	if err := leakCheck(all, needles); err != nil {
		t.Fatalf("leak: %v", err)
	}
	t.Logf("%d samples, %d reasons, %d bytes of logs and answers checked against %d needles", len(samples), len(reasons), len(all), len(needles))
}
