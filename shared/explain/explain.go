// Package explain renders why a token gets its decision: the checks the
// validator recorded in a validate.Trace (in the order they ran, with the
// ones an earlier refusal kept from running), the token's header, claims
// and times, the decision and the answer each platform gives. It only
// presents what the core recorded; it decides nothing itself.
//
// It never shows a token, a signature or a secret: the trace holds none,
// and the claims (which the holder of a token can read anyway) are shown
// as the token carries them.
package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/validate"
)

// Report is one explanation. Its JSON form is what `explain --json` prints.
type Report struct {
	// Input says what was explained ("event events/x.json", "token").
	Input string `json:"input"`
	// Shape is the platform event shape, when the input was an event.
	Shape string `json:"shape,omitempty"`
	// Method and Path are the call as the core saw it ("" when the
	// platform does not say).
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// Checks are the checks in order, then the ones not reached.
	Checks []validate.Step `json:"checks"`
	// FailedCheck names the check that refused the token ("" on allow).
	FailedCheck string                `json:"failed_check,omitempty"`
	Header      *validate.TraceHeader `json:"header,omitempty"`
	Claims      json.RawMessage       `json:"claims,omitempty"`
	Times       []Time                `json:"times,omitempty"`
	Keys        *Keys                 `json:"keys,omitempty"`
	Decision    Decision              `json:"decision"`
	Answers     []Answer              `json:"answers"`
}

// Time is one time claim (or the clock) as an absolute and a relative time.
type Time struct {
	Name     string `json:"name"` // "now", "exp", "nbf", "iat"
	Unix     int64  `json:"unix"`
	UTC      string `json:"utc"`
	Relative string `json:"relative,omitempty"` // "expired 3 min ago"
}

// Keys tells where the verification key came from and what was fetched
// (set when the key lookup ran).
type Keys struct {
	Source string `json:"source,omitempty"` // "" when no key was found
	// StartupFetches are discovery and JWKS requests made while the core
	// started (the prefetch); RequestFetches those made by this request.
	StartupFetches int64 `json:"startup_fetches"`
	RequestFetches int64 `json:"request_fetches"`
}

// Decision is the core's decision.
type Decision struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail,omitempty"`
}

// Answer is what one platform answers the caller.
type Answer struct {
	Platform        string `json:"platform"`
	Status          int    `json:"status"`
	Answer          string `json:"answer,omitempty"`
	WWWAuthenticate string `json:"www_authenticate,omitempty"`
	RetryAfter      string `json:"retry_after,omitempty"`
}

// New builds a report from a trace and the decision it led to. A nil or
// empty trace (an adapter refused the event before the core ran) gives a
// report whose only check is the adapter's refusal.
func New(tr *validate.Trace, d decision.Decision) *Report {
	r := &Report{Decision: Decision{Outcome: d.Outcome.String(), Reason: string(d.Reason), Detail: d.Detail}}
	if tr == nil {
		tr = &validate.Trace{}
	}
	r.Checks = append(r.Checks, tr.Steps...)
	switch n := len(r.Checks); {
	case d.Outcome == decision.Allow:
	case n == 0:
		r.Checks = append(r.Checks, validate.Step{Check: validate.CheckExtraction, Result: validate.Failed, Reason: d.Reason,
			Detail: "the adapter refused the request before the core ran: " + d.Detail})
	case r.Checks[n-1].Result != validate.Failed:
		// A refusal from a check that records no step: say so rather
		// than show a passing list under a refusal.
		r.Checks = append(r.Checks, validate.Step{Check: UnrecordedCheck, Result: validate.Failed, Reason: d.Reason,
			Detail: d.Detail + " (this check records no trace step)"})
	}
	if n := len(r.Checks); n > 0 && r.Checks[n-1].Result == validate.Failed {
		r.FailedCheck = r.Checks[n-1].Check
	}
	r.Checks = append(r.Checks, notReached(r.Checks)...)
	r.Header = tr.Header
	if len(tr.Claims) > 0 {
		r.Claims = append(json.RawMessage(nil), tr.Claims...)
	}
	if t := tr.Times; t != nil {
		r.Times = times(t)
	}
	for _, s := range tr.Steps {
		if s.Check == validate.CheckKey {
			r.Keys = &Keys{Source: tr.KeySource}
		}
	}
	return r
}

// notReached lists the known checks after the last recorded one that did
// not run (validate.Checks order).
func notReached(done []validate.Step) []validate.Step {
	last := -1
	seen := map[string]bool{}
	for _, s := range done {
		seen[s.Check] = true
		for i, c := range validate.Checks {
			if c == s.Check && i > last {
				last = i
			}
		}
	}
	var out []validate.Step
	for _, c := range validate.Checks[last+1:] {
		if !seen[c] {
			out = append(out, validate.Step{Check: c, Result: validate.NotReached})
		}
	}
	return out
}

func times(t *validate.TraceTimes) []Time {
	out := []Time{at("now", t.Now, "")}
	skew := ""
	if t.Skew > 0 {
		skew = " (clock skew " + (time.Duration(t.Skew) * time.Second).String() + ")"
	}
	if t.HasExp {
		rel := "expires in " + Span(t.Exp-t.Now)
		if t.Exp <= t.Now {
			rel = "expired " + Span(t.Now-t.Exp) + " ago"
		}
		out = append(out, at("exp", t.Exp, rel+skew))
	} else {
		out = append(out, Time{Name: "exp", Relative: "absent"})
	}
	if t.HasNbf {
		rel := "valid since " + Span(t.Now-t.Nbf) + " ago"
		if t.Nbf > t.Now {
			rel = "not valid for another " + Span(t.Nbf-t.Now)
		}
		out = append(out, at("nbf", t.Nbf, rel+skew))
	}
	if t.HasIat {
		rel := "issued " + Span(t.Now-t.Iat) + " ago"
		if t.Iat > t.Now {
			rel = "issued " + Span(t.Iat-t.Now) + " in the future"
		}
		out = append(out, at("iat", t.Iat, rel))
	}
	return out
}

func at(name string, unix int64, rel string) Time {
	return Time{Name: name, Unix: unix, UTC: time.Unix(unix, 0).UTC().Format(time.RFC3339), Relative: rel}
}

// Span renders a non-negative number of seconds roughly, as a person says
// it: "12 s", "3 min", "2 h 5 min", "4 days".
func Span(sec int64) string {
	if sec < 0 {
		sec = -sec
	}
	switch {
	case sec < 60:
		return strconv.FormatInt(sec, 10) + " s"
	case sec < 3600:
		return strconv.FormatInt(sec/60, 10) + " min"
	case sec < 48*3600:
		h, m := sec/3600, sec%3600/60
		if m == 0 {
			return strconv.FormatInt(h, 10) + " h"
		}
		return strconv.FormatInt(h, 10) + " h " + strconv.FormatInt(m, 10) + " min"
	case sec < 2*365*86400:
		return strconv.FormatInt(sec/86400, 10) + " days"
	}
	return strconv.FormatInt(sec/(365*86400), 10) + " years"
}

// UnrecordedCheck names a refusal that no recorded check explains.
const UnrecordedCheck = "unrecorded check"

// Allowed reports whether the decision allowed the request.
func (r *Report) Allowed() bool { return r.Decision.Outcome == decision.Allow.String() }

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for a person: the checks as a table, then
// the header, key, times, claims, decision and answers.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "explain: %s", r.Input)
	if r.Shape != "" {
		fmt.Fprintf(&b, " (%s)", r.Shape)
	}
	if r.Method != "" || r.Path != "" {
		fmt.Fprintf(&b, ", call %s", strings.TrimSpace(r.Method+" "+r.Path))
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tDETAIL")
	for _, s := range r.Checks {
		res := string(s.Result)
		detail := s.Detail
		if s.Result == validate.Failed {
			res = "FAIL"
			detail = string(s.Reason) + ": " + detail
		}
		if detail == "" {
			fmt.Fprintf(tw, "%s\t%s\n", s.Check, res)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Check, res, oneLine(detail))
		}
	}
	_ = tw.Flush()
	b.WriteString("\n")
	if k := r.Keys; k != nil {
		src := "from " + k.Source
		if k.Source == "" {
			src = "none found"
		}
		fmt.Fprintf(&b, "key:       %s; fetches at start-up %d, during this request %d\n", src, k.StartupFetches, k.RequestFetches)
	}
	if len(r.Times) > 0 {
		b.WriteString("times:\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, t := range r.Times {
			if t.Relative == "" {
				fmt.Fprintf(tw, "  %s\t%s\n", t.Name, t.UTC)
			} else {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, t.UTC, t.Relative)
			}
		}
		_ = tw.Flush()
	}
	if len(r.Claims) > 0 {
		var ind bytes.Buffer
		if json.Indent(&ind, r.Claims, "  ", "  ") == nil {
			b.WriteString("claims:\n  ")
			b.Write(ind.Bytes())
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "\ndecision:  %s, reason %s", r.Decision.Outcome, r.Decision.Reason)
	if r.FailedCheck != "" {
		fmt.Fprintf(&b, " (failed check: %s)", r.FailedCheck)
	}
	if r.Decision.Detail != "" {
		fmt.Fprintf(&b, "\n           %s", oneLine(r.Decision.Detail))
	}
	b.WriteString("\n\nanswers:\n")
	for _, a := range r.Answers {
		fmt.Fprintf(&b, "  %s: %d", a.Platform, a.Status)
		if a.Answer != "" {
			fmt.Fprintf(&b, ", %s", a.Answer)
		}
		b.WriteString("\n")
		if a.WWWAuthenticate != "" {
			fmt.Fprintf(&b, "    WWW-Authenticate: %s\n", a.WWWAuthenticate)
		}
		if a.RetryAfter != "" {
			fmt.Fprintf(&b, "    Retry-After: %s\n", a.RetryAfter)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// oneLine keeps a detail on one table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
