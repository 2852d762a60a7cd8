package customhandler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// perRequestDecider allows with the principal the request names in its
// X-Test-User header, or refuses without a token when there is none.
type perRequestDecider struct{}

func (perRequestDecider) Decide(_ context.Context, r *decision.Request) decision.Decision {
	u := r.Header.Get("X-Test-User")
	if u == "" {
		return missingDecision
	}
	return decision.Decision{Outcome: decision.Allow, Reason: decision.ReasonOK, Principal: u, Issuer: "https://issuer.example/",
		Claims: decision.ClaimsOf(map[string]any{"sub": u, "scope": "s-" + u})}
}

// Answers share pooled body buffers and pre-rendered header values:
// concurrent answers must each carry their own principal, and a caller
// appending to a shared value (len == cap, so append copies) must not
// change a later answer. Run with -race.
func TestConcurrentAnswersAreTheirOwn(t *testing.T) {
	h := New(perRequestDecider{}, nil, nil)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r := httptest.NewRequest(http.MethodGet, "/api/authorize/x", nil)
				u := ""
				if i%3 != 0 {
					u = "u" + strconv.Itoa(g) + "-" + strconv.Itoa(i)
					r.Header.Set("X-Test-User", u)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if u == "" {
					ch := w.Header()[headerWWWAuthenticate]
					if w.Code != 401 || len(ch) != 1 || ch[0] != `Bearer realm="jwtgate"` {
						errs <- "401 answer: " + strconv.Itoa(w.Code) + " " + w.Header().Get("WWW-Authenticate")
						return
					}
					w.Header()[headerWWWAuthenticate] = append(ch, "appended by a middleware")
					continue
				}
				m := decodeBody(t, w.Body.Bytes())
				if w.Code != 200 || m["principal"] != u || w.Header().Get("X-Auth-Subject") != u || w.Header().Get("X-Auth-Scopes") != "s-"+u {
					errs <- "allow for " + u + ": " + w.Body.String() + " " + w.Header().Get("X-Auth-Subject")
					return
				}
				if w.Header().Get("WWW-Authenticate") != "" || w.Header().Get("Retry-After") != "" {
					errs <- "allow with a challenge or Retry-After"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// Identity headers: only for claims the decision carries (sub and iss
// fall back to the principal and issuer), a later mapping to the same
// header wins only when its claim is present, and a mapped header may
// replace a common one.
func TestIdentityHeadersOnlyForPresentClaims(t *testing.T) {
	cfg := config.Default()
	cfg.ClaimHeaders = map[string]string{"sub": "X-User", "iss": "X-Iss", "tenant": "X-Tenant", "absent": "X-Absent",
		"a_first": "X-Same", "b_second": "X-Same", "ctl": "X-Ctl"}
	d := decision.Decision{Outcome: decision.Allow, Reason: decision.ReasonOK, Principal: "p1", Issuer: "https://i/",
		Claims: decision.ClaimsOf(map[string]any{"tenant": "t1", "a_first": "first", "ctl": "a\x00b\nc"})}
	h, _ := newTestHandler(&fakeDecider{d: d}, cfg)
	res := serve(t, h, httptest.NewRequest(http.MethodGet, "/api/authorize", nil))
	want := map[string]string{"X-User": "p1", "X-Iss": "https://i/", "X-Tenant": "t1", "X-Absent": "", "X-Same": "first", "X-Ctl": "abc"}
	for k, v := range want {
		if got := res.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, ok := res.header["X-Absent"]; ok {
		t.Error("header sent for an absent claim")
	}
	d.Claims = decision.ClaimsOf(map[string]any{"a_first": "first", "b_second": "second"})
	h, _ = newTestHandler(&fakeDecider{d: d}, cfg)
	if got := serve(t, h, httptest.NewRequest(http.MethodGet, "/api/authorize", nil)).header.Get("X-Same"); got != "second" {
		t.Errorf("X-Same = %q, want the later claim's value", got)
	}
	cfg.ClaimHeaders = map[string]string{"sub": "Cache-Control"}
	h, _ = newTestHandler(&fakeDecider{d: d}, cfg)
	if got := serve(t, h, httptest.NewRequest(http.MethodGet, "/api/authorize", nil)).header["Cache-Control"]; len(got) != 1 || got[0] != "p1" {
		t.Errorf("Cache-Control = %q: a mapped header replaces the common one, as before", got)
	}
}
