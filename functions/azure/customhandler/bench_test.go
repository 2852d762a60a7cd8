package customhandler

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/logging"
)

// BenchmarkProxiedRepeatToken is the handler's own cost for a proxied
// request with a token the core has already verified (no network, no
// client): decision, headers, JSON body and the decision log line.
func BenchmarkProxiedRepeatToken(b *testing.B) {
	iss, err := devissuer.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer iss.Close()
	env := map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": "api://x"}
	c, err := core.FromEnv(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := iss.Mint(map[string]any{"sub": "s", "aud": "api://x", "exp": time.Now().Add(time.Hour).Unix()})
	h := New(c, c.Config(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	req := httptest.NewRequest(http.MethodGet, "/api/authorize/orders/1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkHTTP is the handler behind a real net/http server on loopback,
// (with HANDLER_BENCH_UNIQUE=N, first N distinct tokens, each verified
// once: run it with -benchtime Nx),
// as the binary serves it (the decision log written to a file through the
// binary's BufferedWriter), with a keep-alive client: a request without a
// token (401) and one with a repeated, cached token (200). The difference
// is what issue 18 bounds: at most 0.1× the bare RS256 check. With
// -cpuprofile it is the profile of the handler under load (-cpu 2
// and RunParallel: see the "parallel" cases).
func BenchmarkHTTP(b *testing.B) {
	h, mint := benchSetup(b)
	tok := mint("")
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	do := func(b *testing.B, tok string, want int) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/authorize/orders/1", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
	}
	if n := uniqueTokens(); n > 0 {
		toks := make([]string, n)
		for i := range toks {
			toks[i] = mint(strconv.Itoa(i))
		}
		b.Run("unique-token", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				do(b, toks[i%n], 200)
				i++
			}
		})
	}
	for _, bc := range []struct {
		name string
		tok  string
		want int
	}{{"no-token", "", 401}, {"repeat-token", tok, 200}} {
		b.Run(bc.name, func(b *testing.B) {
			do(b, bc.tok, bc.want)
			b.ReportAllocs()
			for b.Loop() {
				do(b, bc.tok, bc.want)
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					do(b, bc.tok, bc.want)
				}
			})
		})
	}
}

// uniqueTokens is how many distinct tokens BenchmarkHTTP's unique-token
// case mints (HANDLER_BENCH_UNIQUE; 0, the default, leaves the case out:
// minting costs one RSA signature per token).
func uniqueTokens() int {
	n, _ := strconv.Atoi(os.Getenv("HANDLER_BENCH_UNIQUE"))
	return n
}

// nopWriter is a reusable ResponseWriter that keeps nothing but the status:
// what BenchmarkServe measures is the handler alone.
type nopWriter struct {
	h      http.Header
	status int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(s int)           { w.status = s }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkServe is the handler's own per-request cost, without a server
// or a client: ServeHTTP on a prepared request, the decision log written
// through the binary's logger (JSON, BufferedWriter to a file). Cases:
// no token (401), a repeated (cached) token, and with
// HANDLER_BENCH_UNIQUE=N, N distinct tokens (run it with -benchtime Nx).
// Allocations and instructions per request (callgrind on the test binary,
// GOMAXPROCS=1) are what docs/performance.md reports.
func BenchmarkServe(b *testing.B) {
	h, mint := benchSetup(b)
	newReq := func(tok string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/authorize/orders/1", nil)
		r.Header.Set("User-Agent", "Go-http-client/1.1")
		r.Header.Set("Accept-Encoding", "gzip")
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		return r
	}
	serve := func(b *testing.B, w *nopWriter, r *http.Request, want int) {
		clear(w.h)
		h.ServeHTTP(w, r)
		if w.status != want {
			b.Fatalf("status %d, want %d", w.status, want)
		}
	}
	if n := uniqueTokens(); n > 0 {
		reqs := make([]*http.Request, n)
		for i := range reqs {
			reqs[i] = newReq(mint("u" + strconv.Itoa(i)))
		}
		b.Run("unique-token", func(b *testing.B) {
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				serve(b, w, reqs[i%n], 200)
				i++
			}
		})
	}
	for _, bc := range []struct {
		name string
		tok  string
		want int
	}{{"no-token", "", 401}, {"repeat-token", mint("r"), 200}} {
		b.Run(bc.name, func(b *testing.B) {
			w := &nopWriter{h: http.Header{}}
			r := newReq(bc.tok)
			serve(b, w, r, bc.want)
			b.ReportAllocs()
			for b.Loop() {
				serve(b, w, r, bc.want)
			}
		})
	}
}

// benchSetup is the handler as the binary builds it, for BenchmarkHTTP
// and BenchmarkServe: a loopback dev issuer, the core (generous timeouts:
// under valgrind the key fetch is slow), the decision log written through
// the binary's BufferedWriter to a file, and mint, which signs an access
// token for the handler's audience (a distinct jti each time it is given
// one).
func benchSetup(b *testing.B) (h *Handler, mint func(jti string) string) {
	iss, err := devissuer.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = iss.Close() })
	env := map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": "api://x",
		"JWTGATE_WARMUP_TIMEOUT": "30s", "JWTGATE_HTTP_TIMEOUT": "30s"}
	c, err := core.FromEnv(context.Background(), func(k string) string { return env[k] }, core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	if c.WarmErr != nil {
		b.Fatal(c.WarmErr)
	}
	f, err := os.Create(filepath.Join(b.TempDir(), "decisions.log"))
	if err != nil {
		b.Fatal(err)
	}
	sink := logSink(f)
	b.Cleanup(func() { sink.Close(); f.Close() })
	mint = func(jti string) string {
		claims := map[string]any{"sub": "s", "aud": "api://x", "scope": "read:orders", "exp": time.Now().Add(time.Hour).Unix()}
		if jti != "" {
			claims["jti"] = jti
		}
		tok, err := iss.Mint(claims)
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	return New(c, c.Config(), logging.New(sink, slog.LevelInfo)), mint
}
