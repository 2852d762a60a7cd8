package hardening

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/localrun"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// Environment of the soak test. `make test` runs the short version;
// `make soak` sets JWTGATE_SOAK_DURATION (e.g. 5m).
const (
	envSoakDuration = "JWTGATE_SOAK_DURATION"
	envSoakWorkers  = "JWTGATE_SOAK_WORKERS"
)

// buildHandler builds the Azure handler binary once per test binary.
var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

func buildHandler(t *testing.T) string {
	t.Helper()
	root := localruntest.Root(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jwtgate-hardening-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "handler")
		buildErr = localrun.GoBuild(context.Background(), localrun.Build{Dir: root, Pkg: "./functions/azure", Out: buildPath})
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// handlerProc is a running handler process whose output is scanned line by
// line (never kept: a long run logs one line per decision).
type handlerProc struct {
	*localrun.Proc
	lines    atomic.Int64
	leaks    atomic.Int64
	leakLine atomic.Value // string
	ready    chan struct{}
}

func startHandler(t *testing.T, bin string, vars map[string]string, needles func() map[string]string) *handlerProc {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &handlerProc{ready: make(chan struct{})}
	var once sync.Once
	scan := func(b []byte) { // called for stdout and stderr lines at once
		line := string(b)
		p.lines.Add(1)
		if strings.Contains(line, `"msg":"ready"`) {
			once.Do(func() { close(p.ready) })
		}
		if needles != nil && leakCheck(line, needles()) != nil {
			p.leaks.Add(1)
			p.leakLine.CompareAndSwap(nil, line)
		}
	}
	cmd.Stdout, cmd.Stderr = localrun.Lines(scan), localrun.Lines(scan)
	var err error
	if p.Proc, err = localrun.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(nil, 0) })
	return p
}

// stop sends SIGTERM and waits (up to 30s) for a clean exit.
func (p *handlerProc) stop(t *testing.T) {
	t.Helper()
	if err := p.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Errorf("handler did not exit cleanly on SIGTERM: %v", err)
	}
}

// TestHandlerStartUpFailsClosed: the real binary with an invalid setting
// exits non-zero with a message naming it; it never serves.
func TestHandlerStartUpFailsClosed(t *testing.T) {
	bin := buildHandler(t)
	for _, tc := range []struct{ name, value string }{
		{"JWTGATE_AUDIENCES", ""},
		{"JWTGATE_ALGORITHMS", "none"},
		{"JWTGATE_JWKS_URL", "http://jwks.example.invalid/jwks.json"},
	} {
		vars := map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": strconv.Itoa(localruntest.FreePort(t)), "JWTGATE_JWKS_URL": "http://127.0.0.1:1/jwks.json",
			"JWTGATE_ISSUERS": staticIssuer, "JWTGATE_AUDIENCES": testAudience}
		vars[tc.name] = tc.value
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = []string{}
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Errorf("%s=%q: exit %v, want a non-zero exit", tc.name, tc.value, err)
		}
		if !strings.Contains(string(out), tc.name) {
			t.Errorf("%s=%q: output does not name the setting:\n%s", tc.name, tc.value, out)
		}
	}
}

// TestSustainedLoad runs the Azure handler binary against a dev issuer and
// drives it with a mix of valid, expired, unknown-kid and missing tokens
// (10 s in `make test`; JWTGATE_SOAK_DURATION for `make soak`). It checks:
// every answer is the designed one and there is no 5xx at all (the issuer
// is healthy, so even the designed 503 must not appear); RSS is flat
// (measured after a warm-up and at the end, within a generous bound); JWKS
// fetches stay within 1 + duration/cooldown although unknown kids arrive
// all the time; nothing the process prints contains a token or signature.
func TestSustainedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	duration := 10 * time.Second
	if v := os.Getenv(envSoakDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %v", envSoakDuration, err)
		}
		duration = d
	}
	workers := 4
	if v := os.Getenv(envSoakWorkers); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q", envSoakWorkers, v)
		}
		workers = n
	}
	bin := buildHandler(t)
	iss, err := devissuer.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	now := time.Now()
	mint := func(over map[string]any, opts ...devissuer.MintOption) string {
		c := map[string]any{"sub": "load", "aud": testAudience, "iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(), "scope": "read"}
		for k, v := range over {
			c[k] = v
		}
		tok, err := iss.Mint(c, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	stranger, err := devissuer.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens := []LoadToken{
		{"valid", mint(nil)},
		{"valid", mint(map[string]any{"jti": "2"})},
		{"expired", mint(map[string]any{"exp": now.Add(-time.Hour).Unix()})},
		{"unknown-kid", mint(nil, devissuer.MintWithKey(stranger))},
		{"missing", ""},
	}
	needles := map[string]string{}
	for i, lt := range tokens {
		if lt.Token != "" {
			needles["token "+strconv.Itoa(i)] = lt.Token
			needles["signature "+strconv.Itoa(i)] = SignatureOf(lt.Token)
		}
	}
	const cooldown = time.Second
	port := localruntest.FreePort(t)
	proc := startHandler(t, bin, map[string]string{
		"FUNCTIONS_CUSTOMHANDLER_PORT": strconv.Itoa(port),
		"JWTGATE_OPENID_CONFIG":        iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":            testAudience,
		"JWTGATE_REQUIRED_SCOPES":      "read",
		"JWTGATE_JWKS_COOLDOWN":        cooldown.String(),
		"JWTGATE_HTTP_TIMEOUT":         "200ms",
	}, func() map[string]string { return needles })
	select {
	case <-proc.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("handler not ready within 30s")
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/api/authorize/orders/1"
	want := map[string]int{"valid": 200, "expired": 401, "unknown-kid": 401, "missing": 401}
	check := func(class string, status int, h http.Header, body []byte) error {
		if status != want[class] {
			return fmt.Errorf("status %d, want %d: %s", status, want[class], body)
		}
		if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			return errors.New("401 without a Bearer challenge")
		}
		return leakCheck(string(body)+fmt.Sprint(h), needles)
	}

	// Warm-up: fill caches and let the heap settle before the baseline.
	warm, err := RunLoad(context.Background(), LoadConfig{URL: url, Tokens: tokens, Workers: workers, MaxRequests: 5000, Duration: 5 * time.Second, Check: check})
	if err != nil {
		t.Fatal(err)
	}
	pid := proc.Cmd.Process.Pid
	rssBefore, err := RSS(pid)
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	jwksBefore := iss.JWKSRequests()

	res, err := RunLoad(context.Background(), LoadConfig{URL: url, Tokens: tokens, Workers: workers, MaxRequests: 1 << 40, Duration: duration, Check: check})
	if err != nil {
		t.Fatal(err)
	}
	rssAfter, err := RSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	jwks := iss.JWKSRequests() - jwksBefore
	proc.stop(t)

	t.Logf("warm-up: %s", warm)
	t.Logf("load: %s", res)
	t.Logf("RSS before %.1f MiB, after %.1f MiB; JWKS fetches during load %d (bound %d); %d log lines scanned",
		float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20), jwks, 1+int64(res.Elapsed/cooldown), proc.lines.Load())
	for _, r := range []*LoadResult{warm, res} {
		if r.TransportErrors > 0 || r.CheckErrors > 0 {
			t.Errorf("%d transport errors, %d unexpected answers: %q", r.TransportErrors, r.CheckErrors, r.Failures)
		}
		if n := r.Status5xx(0); n > 0 {
			t.Errorf("%d 5xx answers with a healthy issuer", n)
		}
	}
	if res.Requests < int64(duration/time.Second) {
		t.Fatalf("only %d requests in %s", res.Requests, res.Elapsed)
	}
	if growth := rssAfter - rssBefore; growth > 64<<20 {
		t.Errorf("RSS grew by %.1f MiB under steady load (bound 64 MiB)", float64(growth)/(1<<20))
	}
	if bound := 1 + int64(res.Elapsed/cooldown); jwks > bound {
		t.Errorf("%d JWKS fetches in %s with a %s cooldown (bound %d)", jwks, res.Elapsed, cooldown, bound)
	}
	if n := proc.leaks.Load(); n > 0 {
		t.Errorf("%d handler output lines contain a token or signature, e.g. %v", n, proc.leakLine.Load())
	}
	if proc.lines.Load() == 0 {
		t.Error("no handler output was scanned")
	}
}
