// Command loadgen measures the Azure Functions custom handler's throughput
// over loopback HTTP against a bare net/http server. It builds
// functions/azure and starts it with the JWKS inline (no network) and its
// decision log written to a file (as a platform collects it), and starts
// the bare server (this program again, -serve-bare) in its own process: it
// only verifies the bearer token's RS256 signature. Both get proxied
// GET /api/authorize requests from keep-alive connections (1, 2 and 4 per
// core, -per-core): without a token, with one repeated token (the
// handler's verified-token cache hits) and with pre-minted unique tokens
// (every request verifies a signature); the handler then again at
// JWTGATE_LOG_LEVEL=warn (allow lines not written) with -conns
// connections. Each phase is bounded by a request count and a time limit.
//
// It prints requests/s, p50/p99 latency and each server process's CPU time
// per request, and the ratios of issue 18: handler ÷ bare server req/s, and
// the extra CPU of a repeat-token request over a no-token request ÷ the
// bare check over HTTP. The load generator shares the machine's cores with
// the servers.
package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jwtgate/jwtgate/shared/bench"
	"github.com/jwtgate/jwtgate/shared/localrun"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

type options struct {
	repo, handler, alg   string
	perCore              string
	conns                int
	repeat, unique, raw  int
	limit                time.Duration
	verifiers, minterGos int
	serveBare, bareKey   string
}

func main() {
	var o options
	flag.StringVar(&o.repo, "repo", "../..", "jwtgate repository root (holds go.mod)")
	flag.StringVar(&o.handler, "handler", "", "use this prebuilt handler binary instead of building ./functions/azure")
	flag.StringVar(&o.alg, "alg", "RS256", "token algorithm: RS256, ES256 or EdDSA")
	flag.StringVar(&o.perCore, "per-core", "1,2,4", "connections per core to measure (comma-separated)")
	flag.IntVar(&o.conns, "conns", 8, "connections of the info/warn comparison (one of -per-core's, else the largest)")
	flag.IntVar(&o.repeat, "repeat", 40000, "requests in each repeat-token and no-token phase")
	flag.IntVar(&o.unique, "unique", 8000, "requests (= pre-minted tokens) in each unique-token phase")
	flag.IntVar(&o.raw, "raw", 3000, "signature verifies in the raw-verify measurement")
	flag.IntVar(&o.verifiers, "verifiers", 2, "goroutines for the raw-verify measurement")
	flag.DurationVar(&o.limit, "limit", 10*time.Second, "time limit of each phase")
	flag.StringVar(&o.serveBare, "serve-bare", "", "internal: serve the bare RS256 server on this address")
	flag.StringVar(&o.bareKey, "bare-key", "", "internal: PEM public key file of the bare server")
	flag.Parse()
	o.minterGos = runtime.NumCPU()
	var err error
	if o.serveBare != "" {
		err = serveBare(o.serveBare, o.bareKey)
	} else {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// server is a process under load.
type server struct {
	p      *localrun.Proc
	url    string
	stderr *bytes.Buffer
	client *http.Client
}

func (s *server) stop() { _ = s.p.Stop(os.Interrupt, 10*time.Second) }

// start runs cmd listening on addr (already in its arguments or
// environment) and waits until url answers with want.
func start(cmd *exec.Cmd, addr, path, tok string, want int, maxConns int) (*server, error) {
	s := &server{url: "http://" + addr + path, stderr: &bytes.Buffer{}}
	cmd.Stderr = s.stderr
	p, err := localrun.Start(cmd)
	if err != nil {
		return nil, err
	}
	s.p = p
	s.client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: maxConns, MaxConnsPerHost: maxConns, DisableCompression: true},
	}
	if err := waitReady(p, s.client, s.url, tok, want, s.stderr); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// row is one measured phase.
type row struct {
	server, level, phase string
	conns                int
	r                    result
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
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var levels []int
	for _, f := range strings.Split(o.perCore, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-per-core: %q is not a positive number", f)
		}
		levels = append(levels, n*runtime.NumCPU())
	}
	if !slices.Contains(levels, o.conns) {
		// The info/warn comparison needs an info row at its connections.
		o.conns = levels[len(levels)-1]
	}
	maxConns := slices.Max(levels)

	fx, err := bench.NewFixture()
	if err != nil {
		return err
	}
	// Each unique-token phase of one handler process needs tokens it has
	// not cached yet; the warn process (a new cache) reuses the first set.
	nUnique := o.unique * (len(levels) + 1)
	fmt.Fprintf(os.Stderr, "loadgen: minting %d %s tokens\n", nUnique+1, o.alg)
	toks, err := mintParallel(fx, o.alg, nUnique+1, o.minterGos)
	if err != nil {
		return err
	}
	repeatTok, uniqueToks := toks[0], toks[1:]
	uniqueSet := func(i int) []string { return uniqueToks[i*o.unique : (i+1)*o.unique] }

	pem, err := publicPEM(fx, o.alg)
	if err != nil {
		return err
	}
	keyFile := filepath.Join(tmp, "bare-key.pem")
	if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
		return err
	}

	load0 := loadavg()
	var rows []row
	measure := func(s *server, name, level string, conns, n int, tok func(int) string, want int, phase string) {
		c0 := cpuTime(s.p.Cmd.Process.Pid)
		r := load(s.client, s.url, conns, n, o.limit, tok, want)
		r.cpu = cpuTime(s.p.Cmd.Process.Pid) - c0
		rows = append(rows, row{server: name, level: level, phase: phase, conns: conns, r: r})
		fmt.Fprintf(os.Stderr, "loadgen: %s %s %d conns %s: %.0f/s\n", name, level, conns, phase, r.rate())
	}
	noTok := func(int) string { return "" }
	repTok := func(int) string { return repeatTok }

	// The bare server: its own process, signature check only.
	addr, err := localrun.FreeAddr()
	if err != nil {
		return err
	}
	bare, err := start(exec.Command(self, "-serve-bare", addr, "-bare-key", keyFile), addr, "/api/authorize", repeatTok, http.StatusOK, maxConns)
	if err != nil {
		return fmt.Errorf("bare server: %w", err)
	}
	set0 := uniqueSet(0)
	for _, c := range levels {
		measure(bare, "bare net/http", "—", c, o.repeat, noTok, http.StatusUnauthorized, phaseNone)
		measure(bare, "bare net/http", "—", c, len(set0), func(i int) string { return set0[i] }, http.StatusOK, phaseUnique)
	}
	bare.stop()

	var hwm string
	for _, level := range []string{"info", "warn"} {
		addr, err := localrun.FreeAddr()
		if err != nil {
			return err
		}
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "FUNCTIONS_CUSTOMHANDLER_PORT=" + port, "JWTGATE_LOG_LEVEL=" + level}, fx.Env()...)
		// The decision log goes to a file, as a platform collects it.
		logFile, err := os.Create(filepath.Join(tmp, "decisions-"+level+".log"))
		if err != nil {
			return err
		}
		cmd.Stdout = logFile
		h, err := start(cmd, addr, "/api/authorize", repeatTok, http.StatusOK, maxConns)
		if err != nil {
			logFile.Close()
			return fmt.Errorf("handler: %w", err)
		}
		conns := levels
		if level == "warn" {
			conns = []int{o.conns}
		}
		for i, c := range conns {
			set := uniqueSet(i + 1)
			if level == "warn" {
				set = set0
			}
			measure(h, "jwtgate handler", level, c, o.repeat, noTok, http.StatusUnauthorized, phaseNone)
			measure(h, "jwtgate handler", level, c, o.repeat, repTok, http.StatusOK, phaseRepeat)
			measure(h, "jwtgate handler", level, c, len(set), func(i int) string { return set[i] }, http.StatusOK, phaseUnique)
		}
		if level == "info" {
			hwm = vmHWM(h.p.Cmd.Process.Pid)
		}
		h.stop()
		logFile.Close()
		if st, err := os.Stat(logFile.Name()); err == nil {
			fmt.Fprintf(os.Stderr, "loadgen: decision log at %s: %d bytes\n", level, st.Size())
		}
	}
	load1 := loadavg()
	perVerify, err := rawVerifyCost(fx, o.alg, uniqueToks, o.raw)
	if err != nil {
		return err
	}
	report(o, rows, levels, perVerify, hwm, load0, load1)
	for _, r := range rows {
		if r.r.errors > 0 {
			return fmt.Errorf("%s %s %s: %d requests failed; first error: %v", r.server, r.level, r.phase, r.r.errors, r.r.first)
		}
	}
	return nil
}

// Phases.
const (
	phaseNone   = "no token (401)"
	phaseRepeat = "repeat token (cache hit)"
	phaseUnique = "unique tokens (signature verified)"
)

func find(rows []row, server, level, phase string, conns int) (result, bool) {
	for _, r := range rows {
		if r.server == server && r.level == level && r.phase == phase && r.conns == conns {
			return r.r, true
		}
	}
	return result{}, false
}

func report(o options, rows []row, levels []int, perVerify time.Duration, hwm, load0, load1 string) {
	fmt.Printf("\n### Azure handler over loopback HTTP (%s; decision log to a file; load generator on the same %d CPUs; load average %s before, %s after)\n\n", o.alg, runtime.NumCPU(), load0, load1)
	fmt.Println("| server | log level | conns | phase | requests | req/s | p50 | p99 | server CPU/request |")
	fmt.Println("|---|---|--:|---|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %d | %s | %d | %.0f | %s | %s | %s |\n", r.server, r.level, r.conns, r.phase, r.r.n, r.r.rate(), us(r.r.pct(50)), us(r.r.pct(99)), us(r.r.cpuPer()))
	}
	const hs, bs = "jwtgate handler", "bare net/http"
	fmt.Println()
	fmt.Println("| conns (per core) | handler unique ÷ bare (target ≥ 0.9) | handler repeat ÷ bare (target ≥ 1.4) | repeat − no token, CPU | bare check over HTTP, CPU | extra ÷ bare check (target ≤ 0.1) |")
	fmt.Println("|---|--:|--:|--:|--:|--:|")
	for _, c := range levels {
		bu, _ := find(rows, bs, "—", phaseUnique, c)
		bn, _ := find(rows, bs, "—", phaseNone, c)
		hu, _ := find(rows, hs, "info", phaseUnique, c)
		hr, _ := find(rows, hs, "info", phaseRepeat, c)
		hn, _ := find(rows, hs, "info", phaseNone, c)
		extra := hr.cpuPer() - hn.cpuPer()
		check := bu.cpuPer() - bn.cpuPer()
		fmt.Printf("| %d (%d) | %.2f | %.2f | %s | %s | %.3f |\n", c, c/runtime.NumCPU(), ratio(hu.rate(), bu.rate()), ratio(hr.rate(), bu.rate()),
			us(extra), us(check), ratio(float64(extra), float64(check)))
	}
	fmt.Println()
	fmt.Printf("| phase (%d conns) | info req/s | warn req/s | warn ÷ info | info CPU/request | warn CPU/request |\n", o.conns)
	fmt.Println("|---|--:|--:|--:|--:|--:|")
	for _, ph := range []string{phaseNone, phaseRepeat, phaseUnique} {
		i, _ := find(rows, hs, "info", ph, o.conns)
		w, _ := find(rows, hs, "warn", ph, o.conns)
		fmt.Printf("| %s | %.0f | %.0f | %.2f | %s | %s |\n", ph, i.rate(), w.rate(), ratio(w.rate(), i.rate()), us(i.cpuPer()), us(w.cpuPer()))
	}
	fmt.Println()
	fmt.Printf("- server CPU/request: the server process's user + system CPU time (/proc/PID/stat) over the phase ÷ requests; it does not count the load generator, so it moves less with the machine's load than req/s\n")
	fmt.Printf("- the bare check over HTTP: the bare server's CPU per unique-token request minus per no-token request; in process, one %s verify (sha256 + std-lib verify, 1 goroutine) took %s\n", o.alg, us(perVerify))
	fmt.Printf("- handler peak RSS (VmHWM, info run): %s\n", hwm)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// cpuTime is a process's user + system CPU time so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// After the command: state is field 3, utime 14, stime 15 (man 5 proc).
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// publicPEM is the fixture's public key for alg in PEM (PKIX).
func publicPEM(fx *bench.Fixture, alg string) ([]byte, error) {
	pk, err := fx.Keys[alg].PublicKey()
	if err != nil {
		return nil, err
	}
	var pub any
	if err := jwk.Export(pk, &pub); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// serveBare is the bare server: net/http with default settings that only
// verifies the bearer token's signature (RS256: sha256 +
// rsa.VerifyPKCS1v15) and answers 200 or 401 with a fixed body. No claims,
// no log line.
func serveBare(addr, keyFile string) error {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return errors.New("bare: no PEM block in " + keyFile)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return err
	}
	ok200, no401 := []byte(`{"allow":true}`+"\n"), []byte(`{"allow":false}`+"\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		dot := strings.LastIndexByte(tok, '.')
		if dot > 0 {
			if sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:]); err == nil {
				if verifySig(k, []byte(tok[:dot]), sig) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(ok200)
					return
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write(no401)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
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
func waitReady(p *localrun.Proc, c *http.Client, url, tok string, want int, stderr *bytes.Buffer) error {
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
	if resp.StatusCode != want {
		return fmt.Errorf("warm-up request answered %d, want %d: %.300s", resp.StatusCode, want, body)
	}
	return nil
}

func newGet(ctx context.Context, url, tok string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
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
	cpu       time.Duration   // the server's CPU time over the phase
}

// cpuPer is the server's CPU time per request.
func (r result) cpuPer() time.Duration {
	if r.n == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.n)
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

// load sends n requests (token i from tok(i), none for "") from conns
// workers, stopping early at limit; an answer other than want is an error.
func load(c *http.Client, url string, conns, n int, limit time.Duration, tok func(int) string, want int) result {
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
				if err == nil && code != want {
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

// rawVerifyCost is the time of one signature verify (hash + verify), from
// one goroutine, in this process.
func rawVerifyCost(fx *bench.Fixture, alg string, toks []string, n int) (time.Duration, error) {
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
	verify := func(it item) bool { return verifySig(pub, it.in, it.sig) }
	if !verify(items[0]) {
		return 0, errors.New("raw verify refused a fixture token")
	}
	start := time.Now()
	for i := range n {
		verify(items[i%len(items)])
	}
	return time.Since(start) / time.Duration(n), nil
}

// verifySig is the bare signature check: hash + the standard library's
// verify (RS256, ES256 or EdDSA by the key's type).
func verifySig(pub any, in, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		h := sha256.Sum256(in)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
	case *ecdsa.PublicKey:
		// JWS carries r||s (RFC 7518 §3.4).
		h := sha256.Sum256(in)
		half := len(sig) / 2
		return ecdsa.Verify(k, h[:], new(big.Int).SetBytes(sig[:half]), new(big.Int).SetBytes(sig[half:]))
	case ed25519.PublicKey:
		return ed25519.Verify(k, in, sig)
	}
	return false
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
