// Command loadgen measures the Azure Functions custom handler's throughput
// over loopback HTTP: it builds functions/azure, starts it with the JWKS
// inline (no network), and sends proxied GET /api/authorize requests with a
// bearer token from -conns concurrent keep-alive connections — first one
// repeated token (verified-token cache hits), then pre-minted unique tokens
// (every request verifies a signature). Each phase is bounded by a request
// count and a time limit. It reports requests/s, p50/p99 latency, the
// handler's peak RSS (VmHWM), and the unique-token rate as a fraction of
// the raw signature-verify rate of 2 goroutines on the same machine.
//
// The load generator shares the machine's cores with the handler.
package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/shared/bench"
	"github.com/jwtgate/jwtgate/shared/localrun"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

type options struct {
	repo, handler, alg   string
	conns                int
	repeat, unique, raw  int
	limit                time.Duration
	verifiers, minterGos int
}

func main() {
	var o options
	flag.StringVar(&o.repo, "repo", "../..", "jwtgate repository root (holds go.mod)")
	flag.StringVar(&o.handler, "handler", "", "use this prebuilt handler binary instead of building ./functions/azure")
	flag.StringVar(&o.alg, "alg", "RS256", "token algorithm: RS256, ES256 or EdDSA")
	flag.IntVar(&o.conns, "conns", 8, "concurrent connections")
	flag.IntVar(&o.repeat, "repeat", 20000, "requests in the repeat-token phase")
	flag.IntVar(&o.unique, "unique", 3000, "requests (= pre-minted tokens) in the unique-token phase")
	flag.IntVar(&o.raw, "raw", 3000, "signature verifies in the raw-verify measurement")
	flag.IntVar(&o.verifiers, "verifiers", 2, "goroutines for the raw-verify measurement")
	flag.DurationVar(&o.limit, "limit", 30*time.Second, "time limit of each phase")
	flag.Parse()
	o.minterGos = runtime.NumCPU()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "jwtgate-loadgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.handler
	if bin == "" {
		bin = filepath.Join(tmp, "handler")
		err := localrun.GoBuild(context.Background(), localrun.Build{Dir: repo, Pkg: "./functions/azure", Out: bin, Flags: []string{"-trimpath", "-ldflags=-s -w"}})
		if err != nil {
			return err
		}
	}

	fx, err := bench.NewFixture()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "loadgen: minting %d %s tokens\n", o.unique+1, o.alg)
	toks, err := mintParallel(fx, o.alg, o.unique+1, o.minterGos)
	if err != nil {
		return err
	}
	repeatTok, uniqueToks := toks[0], toks[1:]

	addr, err := localrun.FreeAddr()
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "FUNCTIONS_CUSTOMHANDLER_PORT=" + port}, fx.Env()...)
	cmd.Stdout = io.Discard // one JSON decision line per request
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	p, err := localrun.Start(cmd)
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop(os.Interrupt, 5*time.Second) }()

	url := "http://" + addr + "/api/authorize"
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.conns, MaxConnsPerHost: o.conns, DisableCompression: true},
	}
	if err := waitReady(p, client, url, repeatTok, &stderr); err != nil {
		return err
	}

	rep := load(client, url, o.conns, o.repeat, o.limit, func(int) string { return repeatTok })
	uni := load(client, url, o.conns, len(uniqueToks), o.limit, func(i int) string { return uniqueToks[i] })
	hwm := vmHWM(p.Cmd.Process.Pid)
	raw, err := rawVerifyRate(fx, o.alg, uniqueToks, o.raw, o.verifiers)
	if err != nil {
		return err
	}

	fmt.Printf("\n### Azure handler over loopback HTTP (%s, %d connections, load generator on the same %d CPUs)\n\n", o.alg, o.conns, runtime.NumCPU())
	fmt.Println("| phase | requests | errors | requests/s | p50 | p99 |")
	fmt.Println("|---|--:|--:|--:|--:|--:|")
	for _, p := range []struct {
		name string
		r    result
	}{{"repeat token (cache hit)", rep}, {"unique tokens (signature verified)", uni}} {
		fmt.Printf("| %s | %d | %d | %.0f | %s | %s |\n", p.name, p.r.n, p.r.errors, p.r.rate(), us(p.r.pct(50)), us(p.r.pct(99)))
	}
	fmt.Println()
	fmt.Printf("- raw %s verifies/s with %d goroutines (sha256 + std-lib verify, no HTTP): %.0f\n", o.alg, o.verifiers, raw)
	fmt.Printf("- unique-token rate / raw-verify rate: **%.2f**\n", uni.rate()/raw)
	fmt.Printf("- handler peak RSS (VmHWM): %s\n", hwm)
	if rep.errors+uni.errors > 0 {
		return fmt.Errorf("%d requests failed; first error: %v", rep.errors+uni.errors, firstErr(rep, uni))
	}
	return nil
}

func mintParallel(fx *bench.Fixture, alg string, n, gos int) ([]string, error) {
	out := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, gos)
	for range gos {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t, err := fx.Mint(alg)
				if err != nil {
					errs <- err
					return
				}
				out[i] = t
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return out, nil
}

// waitReady polls until the handler answers a decision with 200.
func waitReady(p *localrun.Proc, c *http.Client, url, tok string, stderr *bytes.Buffer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Not listening yet: poll every 5 ms.
	resp, err := p.WaitHTTP(ctx, c, 5*time.Millisecond, func(ctx context.Context) (*http.Request, error) {
		return newGet(ctx, url, tok)
	})
	if err != nil {
		select {
		case <-p.Exited():
			return fmt.Errorf("handler: %v: %.500s", err, stderr.String())
		default:
			return fmt.Errorf("handler not ready within 30s: %v", err)
		}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("warm-up request answered %d: %.300s", resp.StatusCode, body)
	}
	return nil
}

func newGet(ctx context.Context, url, tok string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return req, nil
}

func get(c *http.Client, url, tok string) (int, []byte, error) {
	req, err := newGet(context.Background(), url, tok)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

type result struct {
	n, errors int
	first     error
	elapsed   time.Duration
	lat       []time.Duration // sorted
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

func (r result) pct(p int) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := (len(r.lat)*p+99)/100 - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

func firstErr(rs ...result) error {
	for _, r := range rs {
		if r.first != nil {
			return r.first
		}
	}
	return nil
}

// load sends n requests (token i from tok(i)) from conns workers, stopping
// early at limit.
func load(c *http.Client, url string, conns, n int, limit time.Duration, tok func(int) string) result {
	var next atomic.Int64
	lats := make([][]time.Duration, conns)
	errs := make([]int, conns)
	firsts := make([]error, conns)
	stop := time.Now().Add(limit)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || time.Now().After(stop) {
					return
				}
				t0 := time.Now()
				code, body, err := get(c, url, tok(i))
				lats[w] = append(lats[w], time.Since(t0))
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("status %d: %.200s", code, body)
				}
				if err != nil {
					errs[w]++
					if firsts[w] == nil {
						firsts[w] = err
					}
				}
			}
		})
	}
	wg.Wait()
	r := result{elapsed: time.Since(start)}
	for w := range conns {
		r.lat = append(r.lat, lats[w]...)
		r.errors += errs[w]
		if r.first == nil {
			r.first = firsts[w]
		}
	}
	r.n = len(r.lat)
	slices.Sort(r.lat)
	return r
}

// rawVerifyRate runs hash + verify of the tokens' signatures from gos
// goroutines and returns verifies per second.
func rawVerifyRate(fx *bench.Fixture, alg string, toks []string, n, gos int) (float64, error) {
	pk, err := fx.Keys[alg].PublicKey()
	if err != nil {
		return 0, err
	}
	var pub any
	if err := jwk.Export(pk, &pub); err != nil {
		return 0, err
	}
	type item struct{ in, sig []byte }
	items := make([]item, min(len(toks), 256))
	for i := range items {
		dot := strings.LastIndexByte(toks[i], '.')
		sig, err := base64.RawURLEncoding.DecodeString(toks[i][dot+1:])
		if err != nil {
			return 0, err
		}
		items[i] = item{[]byte(toks[i][:dot]), sig}
	}
	verify := func(it item) bool {
		switch k := pub.(type) {
		case *rsa.PublicKey:
			h := sha256.Sum256(it.in)
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], it.sig) == nil
		case *ecdsa.PublicKey:
			// JWS carries r||s (RFC 7518 §3.4).
			h := sha256.Sum256(it.in)
			half := len(it.sig) / 2
			return ecdsa.Verify(k, h[:], new(big.Int).SetBytes(it.sig[:half]), new(big.Int).SetBytes(it.sig[half:]))
		case ed25519.PublicKey:
			return ed25519.Verify(k, it.in, it.sig)
		}
		return false
	}
	if !verify(items[0]) {
		return 0, errors.New("raw verify refused a fixture token")
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range gos {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				verify(items[i%len(items)])
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds(), nil
}

// vmHWM reads the peak resident set size of a process.
func vmHWM(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func us(d time.Duration) string {
	if d >= time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}
