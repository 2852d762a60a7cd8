package explain

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/token"
	"github.com/jwtgate/jwtgate/shared/validate"
)

func TestSpanReadsLikeAPerson(t *testing.T) {
	for sec, want := range map[int64]string{
		0: "0 s", 59: "59 s", 60: "1 min", 190: "3 min", 3600: "1 h", 3720: "1 h 2 min",
		-190: "3 min", 3 * 86400: "3 days", 3 * 365 * 86400: "3 years",
	} {
		if got := Span(sec); got != want {
			t.Errorf("Span(%d) = %q, want %q", sec, got, want)
		}
	}
}

func TestTimesAreAbsoluteAndRelative(t *testing.T) {
	now := int64(1_800_000_000)
	tr := &validate.Trace{Times: &validate.TraceTimes{Now: now, Skew: 30, Exp: now - 190, HasExp: true, Nbf: now + 120, HasNbf: true, Iat: now - 3600, HasIat: true}}
	r := New(tr, decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenExpired})
	got := map[string]Time{}
	for _, x := range r.Times {
		got[x.Name] = x
	}
	if got["exp"].Relative != "expired 3 min ago (clock skew 30s)" || got["exp"].UTC != "2027-01-15T07:56:50Z" {
		t.Errorf("exp = %+v", got["exp"])
	}
	if got["nbf"].Relative != "not valid for another 2 min (clock skew 30s)" || got["iat"].Relative != "issued 1 h ago" {
		t.Errorf("nbf = %+v, iat = %+v", got["nbf"], got["iat"])
	}
	tr.Times.HasExp = false
	if r := New(tr, decision.Decision{}); r.Times[1].Name != "exp" || r.Times[1].Relative != "absent" {
		t.Errorf("a missing exp reads %+v", r.Times[1])
	}
}

// TestReportListsChecksAfterTheRefusalAsNotReached, and names the failed
// check; an adapter's own refusal (no trace) is still a failed check.
func TestReportListsChecksAfterTheRefusalAsNotReached(t *testing.T) {
	tr := &validate.Trace{}
	tr.Pass(validate.CheckExtraction, "found")
	tr.Fail(validate.CheckSize, &token.Error{Reason: decision.TokenTooLarge, Msg: "too large"})
	r := New(tr, decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenTooLarge})
	if r.FailedCheck != validate.CheckSize || len(r.Checks) != len(validate.Checks) {
		t.Fatalf("failed %q, %d checks", r.FailedCheck, len(r.Checks))
	}
	for _, s := range r.Checks[2:] {
		if s.Result != validate.NotReached {
			t.Fatalf("%s after the refusal is %s", s.Check, s.Result)
		}
	}
	r = New(nil, decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.EventMalformed, Detail: "bad ARN"})
	if r.FailedCheck != validate.CheckExtraction || !strings.Contains(r.Checks[0].Detail, "bad ARN") {
		t.Fatalf("adapter refusal: %+v", r.Checks[0])
	}
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "FAIL    event_malformed: the adapter refused") {
		t.Fatalf("text: %v\n%s", err, text.String())
	}
	if err := r.WriteJSON(&js); err != nil || !json.Valid(js.Bytes()) {
		t.Fatalf("json: %v\n%s", err, js.String())
	}
	if r := New(&validate.Trace{}, decision.Decision{Outcome: decision.Allow}); r.FailedCheck != "" || !r.Allowed() {
		t.Fatalf("an empty allow: %+v", r)
	}
}

func TestARefusalNoStepExplainsIsShownAsSuch(t *testing.T) {
	tr := &validate.Trace{}
	tr.Pass(validate.CheckExtraction, "found")
	r := New(tr, decision.Decision{Outcome: decision.Forbidden, Reason: decision.RouteDenied, Detail: "no"})
	if r.FailedCheck != UnrecordedCheck || r.Checks[1].Reason != decision.RouteDenied {
		t.Fatalf("failed %q, checks %+v", r.FailedCheck, r.Checks)
	}
}
