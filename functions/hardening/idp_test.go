package hardening

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// waitBound is the most any decision may take while the IdP misbehaves:
// JWTGATE_HTTP_TIMEOUT (200ms in these tests) plus a generous margin for a
// loaded machine. It bounds waiting (a request must never hang on the IdP);
// it is not a speed target.
const waitBound = 2 * time.Second

// timedDecide decides with the core and fails the test if the decision
// waited longer than waitBound.
func timedDecide(t *testing.T, f *fixture, tok string) decision.Decision {
	t.Helper()
	start := time.Now()
	d := f.core.Decide(context.Background(), &decision.Request{Header: bearerHeader(tok), Method: testMethod, Path: testPath})
	if el := time.Since(start); el > waitBound {
		t.Errorf("a decision waited %s on a failing IdP (timeout 200ms, bound %s)", el, waitBound)
	}
	return d
}

func want(t *testing.T, step string, d decision.Decision, o decision.Outcome, r decision.Reason) {
	t.Helper()
	if d.Outcome != o || d.Reason != r {
		t.Fatalf("%s: %s/%s (%s), want %s/%s", step, d.Outcome, d.Reason, d.Detail, o, r)
	}
}

// recoverWithin advances the clock past the cooldown and decides, a few
// times: a fetch that was in flight under the fault may still fail once,
// the next one must succeed. Recovery needs no restart and no operator.
func recoverWithin(t *testing.T, f *fixture, tok string) {
	t.Helper()
	var d decision.Decision
	for i := 0; i < 3; i++ {
		f.clock.Advance(config.DefaultJWKSCooldown + time.Second)
		if d = timedDecide(t, f, tok); d.Outcome == decision.Allow {
			return
		}
	}
	t.Fatalf("no recovery after the IdP healed: %s/%s (%s)", d.Outcome, d.Reason, d.Detail)
}

var transportFaults = []Fault{FaultSlow, FaultSlowloris, FaultReset, Fault500, Fault429,
	FaultMalformedJWKS, FaultWrongTypesJWKS, FaultOversizedJWKS, FaultNoUsableKey}

// TestIdPFaultsOnColdStart: the IdP misbehaves from the start, so nothing
// is cached. Every decision is keys_unavailable (never allow), none waits
// beyond the timeout, decisions within the cooldown do not hammer the IdP,
// and once the IdP heals the same token is allowed without a restart.
func TestIdPFaultsOnColdStart(t *testing.T) {
	for _, fault := range transportFaults {
		t.Run(fault.String(), func(t *testing.T) {
			t.Parallel()
			f := newFixtureWith(t, nil, func(i *FaultIssuer) { i.SetFault(fault) })
			if f.core.WarmErr == nil {
				t.Fatalf("warm-up succeeded against a failing IdP")
			}
			tok := f.valid(t, nil)
			before := f.iss.Requests()
			for i := 0; i < 20; i++ {
				want(t, "cold", timedDecide(t, f, tok), decision.Unavailable, decision.KeysUnavailable)
			}
			if n := f.iss.Requests() - before; n > 2 {
				t.Fatalf("20 decisions within the cooldown made %d IdP requests (want at most one fetch)", n)
			}
			// After the cooldown a decision tries again, and still waits
			// no longer than the timeout.
			f.clock.Advance(config.DefaultJWKSCooldown + time.Second)
			want(t, "retry", timedDecide(t, f, tok), decision.Unavailable, decision.KeysUnavailable)
			if f.iss.Requests() == before {
				t.Fatalf("a failed first fetch is sticky: no retry after the cooldown")
			}
			f.iss.SetFault(FaultNone)
			recoverWithin(t, f, tok)
		})
	}
}

// TestIdPFaultsAfterWarmUp: the IdP fails after keys were fetched. Cached
// keys keep serving (without waiting on the IdP) while within
// JWTGATE_JWKS_MAX_STALENESS past their refresh time; beyond it the answer
// is keys_unavailable; when the IdP heals, keys come back by themselves.
func TestIdPFaultsAfterWarmUp(t *testing.T) {
	for _, fault := range transportFaults {
		t.Run(fault.String(), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, map[string]string{"JWTGATE_JWKS_REFRESH": "1h", "JWTGATE_JWKS_MAX_STALENESS": "24h"})
			if f.core.WarmErr != nil {
				t.Fatal(f.core.WarmErr)
			}
			want(t, "warm", timedDecide(t, f, f.valid(t, nil)), decision.Allow, decision.ReasonOK)
			f.iss.SetFault(fault)

			// Due for refresh: still served from cache while a refresh
			// fails in the background.
			f.clock.Advance(time.Hour + time.Minute)
			for i := 0; i < 5; i++ {
				want(t, "due, IdP failing", timedDecide(t, f, f.valid(t, map[string]any{"jti": fmt.Sprint(i)})), decision.Allow, decision.ReasonOK)
			}
			// An unknown kid is still a 401, not an outage, and not a wait.
			unknown, err := SignRaw(f.rsa, Header("RS256", "rotated-away"), validPayload(f))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "unknown kid", timedDecide(t, f, unknown), decision.Unauthenticated, decision.KeyUnknown)

			// Near the end of the staleness window: still served.
			f.clock.Advance(23 * time.Hour)
			want(t, "stale within max staleness", timedDecide(t, f, f.valid(t, map[string]any{"jti": "late"})), decision.Allow, decision.ReasonOK)
			if st := f.core.Stats(); st.Keys.StaleServed == 0 || st.Keys.FetchErrors == 0 {
				t.Errorf("stats do not show the outage: %+v", st.Keys)
			}
			// Beyond it: unavailable, never allow.
			f.clock.Advance(2 * time.Hour)
			for i := 0; i < 3; i++ {
				want(t, "beyond max staleness", timedDecide(t, f, f.valid(t, map[string]any{"jti": "gone"})), decision.Unavailable, decision.KeysUnavailable)
			}
			f.iss.SetFault(FaultNone)
			recoverWithin(t, f, f.valid(t, map[string]any{"jti": "back"}))
		})
	}
}

// TestIdPDownForTheWholeRunAfterWarmUp: many decisions over two simulated
// days with the IdP answering 500 throughout: allowed while within the
// staleness window, unavailable after, a bounded number of fetch attempts
// (at most one per cooldown), never an allow after the window.
func TestIdPDownForTheWholeRunAfterWarmUp(t *testing.T) {
	f := newFixture(t, nil)
	want(t, "warm", timedDecide(t, f, f.valid(t, nil)), decision.Allow, decision.ReasonOK)
	f.iss.SetFault(Fault500)
	warmEnd := f.clock.Now()
	before := f.iss.JWKSRequests()
	steps := 0
	for elapsed := time.Duration(0); elapsed < 48*time.Hour; elapsed += 10 * time.Minute {
		f.clock.Advance(10 * time.Minute)
		steps++
		d := timedDecide(t, f, f.valid(t, map[string]any{"jti": fmt.Sprint(steps)}))
		age := f.clock.Now().Sub(warmEnd)
		switch {
		case age <= config.DefaultRefreshInterval+config.DefaultMaxStaleness-10*time.Minute:
			want(t, "within staleness at "+age.String(), d, decision.Allow, decision.ReasonOK)
		case age > config.DefaultRefreshInterval+config.DefaultMaxStaleness:
			want(t, "beyond staleness at "+age.String(), d, decision.Unavailable, decision.KeysUnavailable)
		}
	}
	// One fetch attempt per decision at most (each step is past the
	// cooldown); an attempt is one JWKS request, plus a discovery request
	// once the discovery document is a day old.
	if n := f.iss.JWKSRequests() - before; n > int64(steps)+1 {
		t.Fatalf("%d decisions caused %d JWKS requests", steps, n)
	}
}

// TestDiscoveryAnnouncingAnotherIssuer: a discovery document whose issuer
// is not its URL's is refused: no JWKS is fetched, tokens of the URL's
// issuer are unavailable, tokens naming the announced issuer are refused.
func TestDiscoveryAnnouncingAnotherIssuer(t *testing.T) {
	f := newFixtureWith(t, nil, func(i *FaultIssuer) { i.SetIssuer("https://evil.example.com") })
	if f.core.WarmErr == nil || !strings.Contains(f.core.WarmErr.Error(), "issuer") {
		t.Fatalf("warm-up error %v, want an issuer mismatch", f.core.WarmErr)
	}
	want(t, "url issuer", timedDecide(t, f, f.valid(t, nil)), decision.Unavailable, decision.KeysUnavailable)
	want(t, "announced issuer", timedDecide(t, f, f.valid(t, map[string]any{"iss": "https://evil.example.com"})), decision.Unauthenticated, decision.IssuerInvalid)
	if n := f.iss.JWKSRequests(); n != 0 {
		t.Fatalf("the JWKS was fetched %d times despite the issuer mismatch", n)
	}
}

// recordingTransport lets loopback requests through and refuses (and
// records) any other host, so no test ever leaves the machine.
type recordingTransport struct {
	mu      sync.Mutex // guards foreign
	foreign []string
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return http.DefaultTransport.RoundTrip(req)
	}
	r.mu.Lock()
	r.foreign = append(r.foreign, req.URL.String())
	r.mu.Unlock()
	return nil, errors.New("recordingTransport: non-loopback request refused")
}

func (r *recordingTransport) Foreign() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.foreign...)
}

// TestJWKSURIElsewhere: a discovery document pointing jwks_uri at plain
// http on another host is refused before any request to that host; an
// https jwks_uri on another host is allowed (Google, for one, serves its
// keys from another host) and is the only place keys are fetched from.
func TestJWKSURIElsewhere(t *testing.T) {
	cases := []struct {
		name      string
		uri       string
		wantAsked bool
	}{
		{"plain http on another host", "http://jwks.example.invalid/jwks.json", false},
		{"plain http on a private address", "http://10.0.0.1/jwks.json", false},
		{"file scheme", "file:///etc/passwd", false},
		{"credentials in the URL", "https://user:pass@jwks.example.invalid/jwks.json", false},
		{"https on another host", "https://jwks.example.invalid/jwks.json", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := &recordingTransport{}
			f := newFixtureWith(t, nil, func(i *FaultIssuer) { i.SetJWKSURI(tc.uri) }, core.WithHTTPClient(&http.Client{Transport: rt}))
			want(t, "decision", timedDecide(t, f, f.valid(t, nil)), decision.Unavailable, decision.KeysUnavailable)
			asked := rt.Foreign()
			if tc.wantAsked != (len(asked) > 0) {
				t.Fatalf("requests to other hosts: %q (want any: %v)", asked, tc.wantAsked)
			}
			if f.iss.JWKSRequests() != 0 {
				t.Fatalf("the issuer's own JWKS was fetched instead")
			}
		})
	}
}

// TestConfigRefusesNonLoopbackHTTPKeySources: key source URLs that are
// plain http off loopback (or otherwise unsafe) stop start-up with an error
// naming the variable; nothing is requested.
func TestConfigRefusesNonLoopbackHTTPKeySources(t *testing.T) {
	rt := &recordingTransport{}
	var leaks []string
	for _, tc := range []struct{ name, value string }{
		{"JWTGATE_JWKS_URL", "http://jwks.example.invalid/jwks.json"},
		{"JWTGATE_OPENID_CONFIG", "http://idp.example.invalid/.well-known/openid-configuration"},
		{"JWTGATE_OPENID_CONFIG", "ftp://idp.example.invalid/.well-known/openid-configuration"},
		{"JWTGATE_JWKS_URL", "https://user:secret@jwks.example.invalid/jwks.json"},
		{"JWTGATE_OPENID_CONFIG", "https://user:secret@idp.example.invalid/.well-known/openid-configuration"},
	} {
		vars := map[string]string{"JWTGATE_AUDIENCES": testAudience, "JWTGATE_ISSUERS": "https://idp.example.invalid/", tc.name: tc.value}
		_, err := core.FromEnv(context.Background(), env(vars), core.WithHTTPClient(&http.Client{Transport: rt}))
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s=%s: err = %v, want a start-up error naming the variable", tc.name, tc.value, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			leaks = append(leaks, tc.name)
		}
	}
	if asked := rt.Foreign(); len(asked) > 0 {
		t.Fatalf("refused configurations still made requests: %q", asked)
	}
	if len(leaks) > 0 {
		t.Errorf("a start-up error quotes the password of a key source URL: %v", leaks)
	}
}

// TestKeyRemovedMidRun: a key leaves the JWKS while tokens signed with it
// are cached as verified. After the next fetch (here caused by an unknown
// kid after the cooldown) tokens of the removed key are refused, including
// the cached one, and the remaining key keeps working.
func TestKeyRemovedMidRun(t *testing.T) {
	rsa2, err := NewRSAKey("rsa2")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, nil, func(i *FaultIssuer) { i.SetKeys(rsaKey, ecKey, rsa2) })
	old := f.valid(t, nil)
	other, err := SignRaw(rsa2, Header("RS256", "rsa2"), validPayload(f))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "before", timedDecide(t, f, old), decision.Allow, decision.ReasonOK)
	want(t, "before, cached", timedDecide(t, f, old), decision.Allow, decision.ReasonOK)
	f.iss.SetKeys(ecKey, rsa2)
	want(t, "removed but not yet refetched", timedDecide(t, f, old), decision.Allow, decision.ReasonOK)

	f.clock.Advance(config.DefaultJWKSCooldown + time.Second)
	next, err := SignRaw(f.rsa, Header("RS256", "rsa3"), validPayload(f))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "unknown kid causes the refetch", timedDecide(t, f, next), decision.Unauthenticated, decision.KeyUnknown)
	want(t, "removed key's cached token", timedDecide(t, f, old), decision.Unauthenticated, decision.KeyUnknown)
	want(t, "remaining key", timedDecide(t, f, other), decision.Allow, decision.ReasonOK)
	if st := f.core.Stats(); st.Keys.KeysRemoved != 1 {
		t.Fatalf("KeysRemoved = %d, want 1", st.Keys.KeysRemoved)
	}
}

// TestUnavailableThroughTheAdapters: with no usable keys, the Azure handler
// answers 503 with Retry-After and the Lambda authorizer returns an error
// other than "Unauthorized" (API Gateway answers 500): never an allow.
func TestUnavailableThroughTheAdapters(t *testing.T) {
	f := newFixtureWith(t, nil, func(i *FaultIssuer) { i.SetFault(Fault500) })
	tok := f.valid(t, nil)
	for _, ch := range channels {
		got := ch.run(t, f, tok)
		if got.Outcome != decision.Unavailable || got.Reason != decision.KeysUnavailable {
			t.Errorf("%s: %s/%s, want unavailable/keys_unavailable", ch.name, got.Outcome, got.Reason)
		}
		switch {
		case strings.HasPrefix(ch.name, "azure"):
			if got.Status != http.StatusServiceUnavailable || got.Header.Get("Retry-After") == "" {
				t.Errorf("%s: status %d, Retry-After %q", ch.name, got.Status, got.Header.Get("Retry-After"))
			}
		case strings.HasPrefix(ch.name, "lambda"):
			if got.ErrText == "" || got.ErrText == "Unauthorized" || got.Status != http.StatusInternalServerError {
				t.Errorf("%s: error %q status %d, want a non-Unauthorized error (500)", ch.name, got.ErrText, got.Status)
			}
		}
	}
}
