// Command coldstart measures the Lambda bootstrap's cold start:
//
//   - size: the two executables of `make package`'s zip for linux/arm64
//     and linux/amd64 (provided.al2023 build flags: CGO_ENABLED=0,
//     -tags lambda.norpc, -trimpath, -s -w): bootstrap, the lean build
//     (-tags jwtgate_lean), and jwtgate-full, the standard build; and the
//     deflated zips (each alone, and both as packed);
//   - direct: the time from process start to the first
//     GET /2018-06-01/runtime/invocation/next on a fake loopback Runtime
//     API (ready for the first event), and to its first answer (first
//     decision), with the JWKS inline so no network is involved; for three
//     start-ups, run interleaved: the lean bootstrap, the lean bootstrap
//     with JWTGATE_RULE set (it execs jwtgate-full), and jwtgate-full
//     started directly;
//   - RIE: the time from starting the AWS Lambda Runtime Interface Emulator
//     with the bootstrap to the first successful invoke (same three).
//
// Each timing is the median of -runs runs (min and max shown too). Run it
// from the bench module: `go run ./cmd/coldstart -repo ../..`. With
// -bootstrap it times that one prebuilt executable instead.
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
	"maps"
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

	var variants []variant
	if prebuilt != "" {
		variants = []variant{{"bootstrap", prebuilt, env}}
	} else {
		for _, goarch := range []string{"arm64", "amd64"} {
			dir := filepath.Join(tmp, goarch)
			if err := buildZipLayout(repo, pkg, goarch, dir); err != nil {
				return err
			}
			if err := printSizes(goarch, dir); err != nil {
				return err
			}
		}
		native := filepath.Join(tmp, runtime.GOARCH)
		if _, err := os.Stat(native); err != nil {
			native = filepath.Join(tmp, "native")
			if err := buildZipLayout(repo, pkg, runtime.GOARCH, native); err != nil {
				return err
			}
		}
		// A rule every fixture token meets: the lean bootstrap hands over.
		rule := `claims.sub.startsWith("auth0|")`
		variants = []variant{
			{"lean bootstrap", filepath.Join(native, "bootstrap"), env},
			{"lean bootstrap → jwtgate-full (JWTGATE_RULE set)", filepath.Join(native, "bootstrap"), append(slices.Clone(env), "JWTGATE_RULE="+rule)},
			{"jwtgate-full started directly (JWTGATE_RULE set)", filepath.Join(native, "jwtgate-full"), append(slices.Clone(env), "JWTGATE_RULE="+rule)},
		}
		fmt.Printf("- timed below: linux/%s, %d runs each, interleaved\n", runtime.GOARCH, runs)
	}

	ready := make([][]time.Duration, len(variants))
	first := make([][]time.Duration, len(variants))
	for range runs {
		for i, v := range variants {
			r, f, err := direct(v.bin, v.env, event)
			if err != nil {
				return fmt.Errorf("direct, %s: %w", v.name, err)
			}
			ready[i], first[i] = append(ready[i], r), append(first[i], f)
		}
	}
	for i, v := range variants {
		fmt.Printf("- %s, direct, process start → first `next` request (ready for the first event): %s\n", v.name, summary(ready[i]))
		fmt.Printf("- %s, direct, process start → first decision posted: %s\n", v.name, summary(first[i]))
	}

	if _, err := os.Stat(rie); err != nil {
		fmt.Printf("- RIE: skipped (%s not found; run `make tools`)\n", rie)
		return nil
	}
	viaRIE := make([][]time.Duration, len(variants))
	for range runs {
		for i, v := range variants {
			d, err := throughRIE(rie, v.bin, v.env, event)
			if err != nil {
				return fmt.Errorf("RIE, %s: %w", v.name, err)
			}
			viaRIE[i] = append(viaRIE[i], d)
		}
	}
	for i, v := range variants {
		fmt.Printf("- %s, RIE, emulator start → first successful invoke (includes the emulator's own start): %s\n", v.name, summary(viaRIE[i]))
	}
	return nil
}

// variant is one start-up to time: an executable and its environment.
type variant struct {
	name string
	bin  string
	env  []string
}

// buildZipLayout builds `make package`'s two executables for linux/goarch
// into dir: bootstrap (lean) and jwtgate-full (standard).
func buildZipLayout(repo, pkg, goarch, dir string) error {
	if err := build(repo, pkg, goarch, localrun.LambdaTags+",jwtgate_lean", filepath.Join(dir, "bootstrap")); err != nil {
		return err
	}
	return build(repo, pkg, goarch, localrun.LambdaTags, filepath.Join(dir, "jwtgate-full"))
}

// printSizes prints the sizes of dir's two executables, raw and zipped
// alone, and of the zip holding both.
func printSizes(goarch, dir string) error {
	lean, full := filepath.Join(dir, "bootstrap"), filepath.Join(dir, "jwtgate-full")
	ls, lz, err := sizes(lean)
	if err != nil {
		return err
	}
	fs, fz, err := sizes(full)
	if err != nil {
		return err
	}
	both, err := zipSize(map[string]string{"bootstrap": lean, "jwtgate-full": full})
	if err != nil {
		return err
	}
	fmt.Printf("- linux/%s bootstrap (lean, `-tags lambda.norpc,jwtgate_lean`), stripped: %s; zipped alone: %s\n", goarch, mib(ls), mib(lz))
	fmt.Printf("- linux/%s jwtgate-full (standard, `-tags lambda.norpc`), stripped: %s; zipped alone: %s\n", goarch, mib(fs), mib(fz))
	fmt.Printf("- linux/%s zip with both (as `make package` packs them): %s\n", goarch, mib(both))
	return nil
}

// build compiles the Lambda main for linux/goarch with the deployment flags
// and the given build tags.
func build(repo, pkg, goarch, tags, out string) error {
	err := localrun.GoBuild(context.Background(), localrun.Build{Dir: repo, Pkg: pkg, Out: out, Tags: tags,
		Flags: []string{"-trimpath", "-ldflags=-s -w -buildid="}, Env: []string{"GOOS=linux", "GOARCH=" + goarch}})
	if err != nil {
		return fmt.Errorf("for linux/%s: %w", goarch, err)
	}
	return nil
}

// sizes returns the file's size and the size of a deflated zip holding it
// alone.
func sizes(path string) (int64, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	z, err := zipSize(map[string]string{filepath.Base(path): path})
	return st.Size(), z, err
}

// zipSize is the size of a deflated zip holding the files (name → path).
func zipSize(files map[string]string) (int64, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b, err := os.ReadFile(files[name])
		if err != nil {
			return 0, err
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return 0, err
		}
		if _, err := w.Write(b); err != nil {
			return 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
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
