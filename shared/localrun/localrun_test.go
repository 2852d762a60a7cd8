package localrun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the child process of the Proc tests.
const helperEnv = "LOCALRUN_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "exit3":
		fmt.Print("partial line without newline")
		os.Exit(3)
	case "serve":
		ln, err := net.Listen("tcp", os.Getenv("LOCALRUN_ADDR"))
		if err != nil {
			os.Exit(2)
		}
		go func() {
			_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		}()
		fmt.Println("serving")
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		<-sig
		os.Exit(0)
	case "ignore":
		signal.Ignore(os.Interrupt)
		fmt.Println("ignoring")
		<-time.After(time.Hour) // a timer, not select{}: the runtime would call that a deadlock and exit
		os.Exit(0)
	}
}

func helper(mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode), env...)
	return cmd
}

func TestModuleRootIsTheDirectoryWithGoModBesideSharedCore(t *testing.T) {
	root := t.TempDir()
	mkdir := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	touch := func(p string) {
		if err := os.WriteFile(filepath.Join(root, p), []byte("module x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkdir("repo/shared/core")
	mkdir("repo/shared/bench/cmd/loadgen")
	mkdir("repo/infra/check")
	touch("repo/go.mod")
	touch("repo/shared/bench/go.mod")
	touch("repo/infra/check/go.mod")
	for _, dir := range []string{"repo", "repo/shared/core", "repo/shared/bench/cmd/loadgen", "repo/infra/check"} {
		got, err := moduleRootFrom(filepath.Join(root, dir))
		if err != nil || got != filepath.Join(root, "repo") {
			t.Errorf("from %s: %q, %v; want the repo root", dir, got, err)
		}
	}
	if got, err := moduleRootFrom(root); !errors.Is(err, ErrNoModuleRoot) {
		t.Errorf("outside the repo: %q, %v; want ErrNoModuleRoot", got, err)
	}
}

func TestModuleRootFindsThisRepository(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "shared", "localrun", "localrun.go")); err != nil {
		t.Errorf("ModuleRoot() = %s, which does not hold this package: %v", root, err)
	}
}

func TestFreeAddrsAreDistinctLoopbackAddresses(t *testing.T) {
	addrs, err := FreeAddrs(3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil || host != "127.0.0.1" {
			t.Errorf("address %q is not on 127.0.0.1 (%v)", a, err)
		}
		if seen[a] {
			t.Errorf("address %s returned twice", a)
		}
		seen[a] = true
	}
	ln, err := net.Listen("tcp", addrs[0])
	if err != nil {
		t.Fatalf("a returned address cannot be listened on: %v", err)
	}
	_ = ln.Close()
}

func TestGoBuildErrorNamesThePackageAndShowsTheOutput(t *testing.T) {
	err := GoBuild(context.Background(), Build{Pkg: "./no/such/package", Out: filepath.Join(t.TempDir(), "bin")})
	if err == nil || !strings.Contains(err.Error(), "go build ./no/such/package") || !strings.Contains(err.Error(), "no/such/package") {
		t.Fatalf("err = %v, want a go build error naming the package", err)
	}
}

func TestLinesSplitsWritesIntoLines(t *testing.T) {
	var got []string
	w := Lines(func(line []byte) { got = append(got, string(line)) })
	for _, s := range []string{"a", "b\nc\n", "\nd", "e"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	w.Flush()
	if want := []string{"ab", "c", "", "de"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

func TestLinesPassesOnOverLongLinesInPieces(t *testing.T) {
	var sizes []int
	w := Lines(func(line []byte) { sizes = append(sizes, len(line)) })
	_, _ = w.Write([]byte(strings.Repeat("x", maxLine+10) + "\n"))
	if want := []int{maxLine, 10}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("pieces %v, want %v", sizes, want)
	}
}

func TestStartReportsTheExitAndFlushesTheLastLine(t *testing.T) {
	var lines []string
	cmd := helper("exit3")
	cmd.Stdout = Lines(func(line []byte) { lines = append(lines, string(line)) })
	p, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
	var ee *exec.ExitError
	if !errors.As(p.Err(), &ee) || ee.ExitCode() != 3 {
		t.Errorf("Err() = %v, want exit status 3", p.Err())
	}
	if len(lines) != 1 || lines[0] != "partial line without newline" {
		t.Errorf("lines %q, want the unterminated last line", lines)
	}
	if err := p.Stop(os.Interrupt, time.Second); !errors.As(err, &ee) {
		t.Errorf("Stop after exit = %v, want how it exited", err)
	}
}

func TestWaitHTTPReturnsTheFirstAnswerAndStopEndsTheProcess(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(helper("serve", "LOCALRUN_ADDR="+addr))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := p.WaitHTTP(ctx, http.DefaultClient, 5*time.Millisecond, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d, want the server's 204", resp.StatusCode)
	}
	if err := p.Stop(os.Interrupt, 30*time.Second); err != nil {
		t.Errorf("Stop(os.Interrupt) = %v, want a clean exit", err)
	}
}

func TestWaitHTTPGivesUpWhenTheProcessExits(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(helper("exit3"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = p.WaitHTTP(ctx, http.DefaultClient, 5*time.Millisecond, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	})
	if err == nil || !strings.Contains(err.Error(), "exited") || ctx.Err() != nil {
		t.Fatalf("err = %v, want an early error saying the process exited", err)
	}
}

func TestStopKillsAProcessThatIgnoresTheSignal(t *testing.T) {
	ready := make(chan struct{})
	cmd := helper("ignore")
	cmd.Stdout = Lines(func([]byte) { close(ready) })
	p, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	case <-p.Exited():
		t.Fatalf("helper exited: %v", p.Err())
	}
	var ee *exec.ExitError
	if err := p.Stop(os.Interrupt, 10*time.Millisecond); !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("Stop = %v, want the process killed", err)
	}
}
