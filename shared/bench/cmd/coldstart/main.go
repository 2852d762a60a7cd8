// Command coldstart measures the Lambda bootstrap's cold start:
//
//   - size: the stripped bootstrap for linux/arm64 (provided.al2023 build
//     flags: CGO_ENABLED=0, -tags lambda.norpc, -trimpath, -s -w) and the
//     deflated zip holding it;
//   - direct: the time from process start to the first
//     GET /2018-06-01/runtime/invocation/next on a fake loopback Runtime
//     API (ready for the first event), and to its first answer (first
//     decision), with the JWKS inline so no network is involved;
//   - RIE: the time from starting the AWS Lambda Runtime Interface Emulator
//     with the bootstrap to the first successful invoke.
//
// Each timing is the median of -runs runs (min and max shown too). Run it
// from the bench module: `go run ./cmd/coldstart -repo ../..`.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/shared/bench"
	"github.com/jwtgate/jwtgate/shared/localrun"
)

func main() {
	repo := flag.String("repo", "../..", "jwtgate repository root (holds go.mod)")
	pkg := flag.String("pkg", "./functions/lambda", "the Lambda main package, relative to -repo")
	bootstrapBin := flag.String("bootstrap", "", "use this prebuilt native bootstrap for the timings instead of building -pkg")
	rie := flag.String("rie", "", "aws-lambda-rie binary (default <repo>/bin/aws-lambda-rie; skipped when absent)")
	runs := flag.Int("runs", 9, "runs per timing (median reported)")
	flag.Parse()
	if err := run(*repo, *pkg, *bootstrapBin, *rie, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(repo, pkg, prebuilt, rie string, runs int) error {
	repo, err := filepath.Abs(repo)
	if err != nil {
		return err
	}
	if rie == "" {
		rie = filepath.Join(repo, "bin", "aws-lambda-rie")
	}
	tmp, err := os.MkdirTemp("", "jwtgate-coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Println("\n### Lambda cold start")
	fmt.Println()
	if prebuilt == "" {
		arm := filepath.Join(tmp, "arm64", "bootstrap")
		if err := build(repo, pkg, "arm64", arm); err != nil {
			return err
		}
		size, zipped, err := sizes(arm)
		if err != nil {
			return err
		}
		fmt.Printf("- bootstrap linux/arm64, stripped (`CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags='-s -w'`): %s; zipped: %s\n", mib(size), mib(zipped))
		prebuilt = filepath.Join(tmp, "native", "bootstrap")
		if err := build(repo, pkg, runtime.GOARCH, prebuilt); err != nil {
			return err
		}
		if runtime.GOARCH != "arm64" {
			size, zipped, err := sizes(prebuilt)
			if err != nil {
				return err
			}
			fmt.Printf("- bootstrap linux/%s (timed below), same flags: %s; zipped: %s\n", runtime.GOARCH, mib(size), mib(zipped))
		}
	}

	fx, err := bench.NewFixture()
	if err != nil {
		return err
	}
	tok, err := fx.Mint("RS256")
	if err != nil {
		return err
	}
	event, _ := json.Marshal(map[string]string{
		"type":               "TOKEN",
		"authorizationToken": "Bearer " + tok,
		"methodArn":          "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/orders/42",
	})
	env := append(lambdaEnv(), fx.Env()...)

	var ready, first []time.Duration
	for range runs {
		r, f, err := direct(prebuilt, env, event)
		if err != nil {
			return fmt.Errorf("direct: %w", err)
		}
		ready, first = append(ready, r), append(first, f)
	}
	fmt.Printf("- direct, process start → first `next` request (ready for the first event): %s\n", summary(ready))
	fmt.Printf("- direct, process start → first decision posted: %s\n", summary(first))

	if _, err := os.Stat(rie); err != nil {
		fmt.Printf("- RIE: skipped (%s not found; run `make tools`)\n", rie)
		return nil
	}
	var viaRIE []time.Duration
	for range runs {
		d, err := throughRIE(rie, prebuilt, env, event)
		if err != nil {
			return fmt.Errorf("RIE: %w", err)
		}
		viaRIE = append(viaRIE, d)
	}
	fmt.Printf("- RIE, emulator start → first successful invoke (includes the emulator's own start): %s\n", summary(viaRIE))
	return nil
}

// build compiles the Lambda main for linux/goarch with the deployment flags.
func build(repo, pkg, goarch, out string) error {
	err := localrun.GoBuild(context.Background(), localrun.Build{Dir: repo, Pkg: pkg, Out: out, Tags: localrun.LambdaTags,
		Flags: []string{"-trimpath", "-ldflags=-s -w -buildid="}, Env: []string{"GOOS=linux", "GOARCH=" + goarch}})
	if err != nil {
		return fmt.Errorf("for linux/%s: %w", goarch, err)
	}
	return nil
}

// sizes returns the file's size and the size of a deflated zip holding it
// as "bootstrap".
func sizes(path string) (int64, int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return 0, 0, err
	}
	if _, err := w.Write(b); err != nil {
		return 0, 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, 0, err
	}
	return int64(len(b)), int64(buf.Len()), nil
}

// lambdaEnv is the environment Lambda gives a provided.al2023 function.
func lambdaEnv() []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=C.UTF-8",
		"TZ=:UTC",
		"AWS_REGION=eu-west-1",
		"AWS_DEFAULT_REGION=eu-west-1",
		"AWS_LAMBDA_FUNCTION_NAME=jwtgate-authorizer",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/jwtgate-authorizer",
		"AWS_LAMBDA_LOG_STREAM_NAME=bench",
		"_HANDLER=bootstrap",
	}
}

// direct starts the bootstrap against a fake Runtime API and returns the
// time to its first `next` request and to its first posted answer.
func direct(bin string, env []string, event []byte) (ready, first time.Duration, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	nextAt := make(chan time.Time, 1)
	answered := make(chan error, 1)
	served := false
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		if served {
			<-r.Context().Done() // hold the second poll until shutdown
			return
		}
		served = true
		nextAt <- now
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "bench-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(10*time.Second).UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:jwtgate-authorizer")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(event)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/bench-1/response", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		if !bytes.Contains(b, []byte(`"Allow"`)) {
			answered <- fmt.Errorf("first answer is not an Allow policy: %.300s", b)
			return
		}
		answered <- nil
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		w.WriteHeader(http.StatusAccepted)
		select {
		case answered <- fmt.Errorf("unexpected %s %s: %.300s", r.Method, r.URL.Path, b):
		default:
		}
	})
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cmd := exec.Command(bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	p, err := localrun.Start(cmd)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = p.Stop(nil, 0) }()
	timeout := time.After(30 * time.Second)
	select {
	case t := <-nextAt:
		ready = t.Sub(start)
	case <-p.Exited():
		return 0, 0, fmt.Errorf("bootstrap exited before asking for an event (%v): %.500s", p.Err(), out.String())
	case <-timeout:
		return 0, 0, errors.New("no `next` request within 30s")
	}
	select {
	case err := <-answered:
		if err != nil {
			return 0, 0, err
		}
		first = time.Since(start)
	case <-p.Exited():
		return 0, 0, fmt.Errorf("bootstrap exited before answering (%v): %.500s", p.Err(), out.String())
	case <-timeout:
		return 0, 0, errors.New("no answer within 30s")
	}
	return ready, first, nil
}

// throughRIE starts the emulator with the bootstrap and returns the time
// until an invoke first answers with an Allow policy.
func throughRIE(rie, bin string, env []string, event []byte) (time.Duration, error) {
	addrs, err := localrun.FreeAddrs(2)
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(rie, "--log-level", "error",
		"--runtime-interface-emulator-address", addrs[0],
		"--runtime-api-address", addrs[1], bin)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	url := "http://" + addrs[0] + "/2015-03-31/functions/function/invocations"
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	p, err := localrun.Start(cmd)
	if err != nil {
		return 0, err
	}
	defer func() { _ = p.Stop(nil, 0) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Not listening yet: poll every millisecond.
	resp, err := p.WaitHTTP(ctx, client, time.Millisecond, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	})
	if err != nil {
		select {
		case <-p.Exited():
			return 0, fmt.Errorf("emulator: %v: %.500s", err, out.String())
		default:
			return 0, fmt.Errorf("no successful invoke within 30s: %v", err)
		}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK && bytes.Contains(b, []byte(`"Allow"`)) {
		return time.Since(start), nil
	}
	return 0, fmt.Errorf("first invoke answered %d: %.300s", resp.StatusCode, b)
}

func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf("median **%s** (min %s, max %s, %d runs)", ms(med), ms(s[0]), ms(s[len(s)-1]), len(s))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mib(n int64) string {
	return fmt.Sprintf("%.2f MiB (%s bytes)", float64(n)/(1<<20), strings.TrimSpace(fmt.Sprintf("%d", n)))
}
