package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/functions/lambda/authorizer"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// outcome is what replay observed for one event.
type outcome struct {
	Event   string
	Kind    string
	Shape   string
	Outcome string
	Reason  string
	Status  int // the HTTP status the platform would answer
	Latency time.Duration
	Err     error // replay could not run the event
	Expect  *Expectation
}

// Met reports whether the outcome matches its expectation (true when there
// is none and the event ran).
func (o outcome) Met() bool {
	if o.Err != nil {
		return false
	}
	if o.Expect == nil {
		return true
	}
	return o.Expect.Outcome == o.Outcome && o.Expect.Reason == o.Reason && o.Expect.Status == o.Status
}

// runner runs one event through an adapter.
type runner interface {
	Run(ctx context.Context, ev eventFile) outcome
	Close()
}

// recorder is a Decider that remembers the last decision it passed on, so
// replay can show the decision behind the platform's answer. Replay runs
// events one at a time.
type recorder struct {
	inner core.Decider
	// mu guards last.
	mu   sync.Mutex
	last *decision.Decision
}

func (r *recorder) Decide(ctx context.Context, req *decision.Request) decision.Decision {
	d := r.inner.Decide(ctx, req)
	r.mu.Lock()
	r.last = &d
	r.mu.Unlock()
	return d
}

// take returns and clears the last decision.
func (r *recorder) take() *decision.Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.last
	r.last = nil
	return d
}

// inProcess runs events through the adapter libraries in this process: the
// Lambda authorizer library and the Azure handler library, both around one
// core built from ordinary configuration.
type inProcess struct {
	rec    *recorder
	lambda *authorizer.Authorizer
	azure  http.Handler
}

func newInProcess(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*inProcess, error) {
	c, err := core.FromEnv(ctx, getenv, core.WithLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return newAdapters(c, c.Config(), logger), nil
}

// newAdapters wraps a core in both platforms' adapter libraries, exactly as
// their main packages do.
func newAdapters(d core.Decider, cfg *config.Config, logger *slog.Logger) *inProcess {
	rec := &recorder{inner: d}
	return &inProcess{
		rec:    rec,
		lambda: authorizer.New(rec, cfg, logger),
		azure:  customhandler.New(rec, cfg, logger),
	}
}

func (p *inProcess) Close() {}

func (p *inProcess) Run(ctx context.Context, ev eventFile) outcome {
	o := outcome{Event: ev.Name, Kind: ev.Kind}
	p.rec.take()
	start := time.Now()
	switch ev.Kind {
	case KindLambda:
		r := p.lambda.Evaluate(ctx, ev.Body)
		o.Latency = time.Since(start)
		o.Shape, o.Status = r.Shape, r.Status
		o.Outcome, o.Reason = r.Decision.Outcome.String(), string(r.Decision.Reason)
		return o // the Result carries the decision, including the adapter's own refusals
	case KindAzureProxy:
		req, err := parseHTTPRequest(ev.Body)
		if err != nil {
			o.Err = err
			return o
		}
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		p.azure.ServeHTTP(rec, req)
		o.Latency = time.Since(start)
		o.Shape, o.Status = "azure_proxy", rec.Code
		o.Outcome, o.Reason = azureBodyDecision(rec.Body.Bytes())
	case KindAzureInvocation:
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, customhandler.InvocationPath, bytes.NewReader(ev.Body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(customhandler.InvocationIDHeader, "replay-"+ev.Name)
		rec := httptest.NewRecorder()
		p.azure.ServeHTTP(rec, req)
		o.Latency = time.Since(start)
		o.Shape = "azure_invocation"
		o.Status, o.Outcome, o.Reason, o.Err = invocationAnswer(rec.Code, rec.Body.Bytes())
	default:
		o.Err = fmt.Errorf("unknown event kind %q", ev.Kind)
		return o
	}
	// The decision the core took is the authority for outcome and reason
	// (the handler's own refusals, e.g. a malformed payload, have none).
	if d := p.rec.take(); d != nil {
		o.Outcome, o.Reason = d.Outcome.String(), string(d.Reason)
	}
	return o
}

// azureBodyDecision reads outcome and reason from the handler's JSON body.
func azureBodyDecision(body []byte) (string, string) {
	var b struct {
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	}
	if json.Unmarshal(body, &b) != nil || b.Outcome == "" {
		return "-", "-"
	}
	return b.Outcome, b.Reason
}

// invocationAnswer reads the status the caller would get from an invocation
// answer: the host requires a 2xx and passes on Outputs.res.
func invocationAnswer(code int, body []byte) (int, string, string, error) {
	if code/100 != 2 {
		out, reason := azureBodyDecision(body)
		return code, out, reason, nil // the host fails the invocation
	}
	var resp customhandler.InvocationResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, "-", "-", fmt.Errorf("invocation answer is not JSON: %w", err)
	}
	out, reason := azureBodyDecision([]byte(resp.Outputs.Res.Body))
	return resp.Outputs.Res.StatusCode, out, reason, nil
}

// replayAll runs every event and attaches its expectation.
func replayAll(ctx context.Context, r runner, evs []eventFile, expect map[string]Expectation) []outcome {
	out := make([]outcome, 0, len(evs))
	for _, ev := range evs {
		o := r.Run(ctx, ev)
		if e, ok := expect[ev.Name]; ok {
			o.Expect = &e
		}
		out = append(out, o)
	}
	return out
}

// printTable writes the results table and returns the number of events
// that did not meet their expectation.
func printTable(w io.Writer, results []outcome, via string) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tSHAPE\tDECISION\tREASON\tSTATUS\tLATENCY\tCHECK")
	failed, checked := 0, 0
	for _, o := range results {
		check := "-"
		switch {
		case o.Err != nil:
			check = "ERROR: " + o.Err.Error()
		case o.Expect != nil && o.Met():
			check = "ok"
		case o.Expect != nil:
			check = fmt.Sprintf("MISMATCH (want %s %s %d)", o.Expect.Outcome, o.Expect.Reason, o.Expect.Status)
		}
		if o.Expect != nil || o.Err != nil {
			checked++
		}
		if !o.Met() {
			failed++
		}
		shape := o.Shape
		if shape == "" {
			shape = o.Kind
		}
		status := "-"
		if o.Status != 0 {
			status = fmt.Sprint(o.Status)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Event, shape, dash(o.Outcome), dash(o.Reason), status, fmtLatency(o.Latency), check)
	}
	_ = tw.Flush()
	verdict := "every expectation met"
	if checked == 0 {
		verdict = "no expectations to check"
	}
	if failed > 0 {
		verdict = fmt.Sprintf("%d NOT as expected", failed)
	}
	fmt.Fprintf(w, "\n%d events via %s: %d checked, %s\n", len(results), via, checked, verdict)
	return failed
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtLatency(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

// envGetter returns a getenv over a fixed map (no access to the process
// environment).
func envGetter(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// configuredURLs lists the discovery and JWKS URLs a configuration uses.
func configuredURLs(getenv func(string) string) []string {
	var out []string
	for _, k := range []string{"JWTGATE_OPENID_CONFIG", "JWTGATE_JWKS_URL"} {
		for _, u := range strings.Split(getenv(k), ",") {
			if u = strings.TrimSpace(u); u != "" {
				out = append(out, u)
			}
		}
	}
	return out
}

// usesDevIssuer reports whether the configuration points at the dev issuer
// address, so replay must serve it.
func usesDevIssuer(getenv func(string) string, addr string) bool {
	base := "http://" + addr + "/"
	for _, u := range configuredURLs(getenv) {
		if strings.HasPrefix(u, base) {
			return true
		}
	}
	return false
}
