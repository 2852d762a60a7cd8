// Command replay is jwtgate's local runner. It starts an embedded dev
// issuer (OpenID discovery and JWKS from the test-only dev key in events/)
// on a fixed loopback address, builds the validation core from ordinary
// JWTGATE_* configuration, and runs every sample event through the same
// adapter code the platforms run — the Lambda authorizer library and the
// Azure custom handler — printing one row per event and checking each
// decision against events/expectations.json.
//
//	go run ./functions/replay                      # the sample events (make replay)
//	go run ./functions/replay --through-runtime    # via bootstrap under the Lambda RIE and the Azure handler process
//	go run ./functions/replay --events my/ --env-file my.env   # your events, your IdP
//	go run ./functions/replay mint --sub alice --scope orders:read
//	go run ./functions/replay events               # regenerate events/ (make events)
//	go run ./functions/replay issuer               # serve the dev issuer until interrupted
//	go run ./functions/replay explain --event events/apigw-rest-token-expired.json   # why a token gets its decision
//	go run ./functions/replay config               # the effective configuration and where each value came from
//
// The dev issuer and its key are for local development and tests only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// Exit statuses.
const (
	exitOK       = 0
	exitMismatch = 1
	exitSetup    = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches on the subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "replay":
			return cmdReplay(ctx, args[1:], stdout, stderr)
		case "events":
			return cmdEvents(args[1:], stdout, stderr)
		case "mint":
			return cmdMint(args[1:], stdout, stderr)
		case "issuer":
			return cmdIssuer(ctx, args[1:], stdout, stderr)
		case "explain":
			return cmdExplain(ctx, args[1:], os.Stdin, stdout, stderr)
		case "config":
			return cmdConfig(ctx, args[1:], stdout, stderr)
		case "help":
			fmt.Fprintln(stdout, "usage: replay [replay flags] | replay events | replay mint | replay issuer | replay explain | replay config (each takes -h)")
			return exitOK
		default:
			fmt.Fprintf(stderr, "replay: unknown subcommand %q (replay, events, mint, issuer, explain, config)\n", args[0])
			return exitSetup
		}
	}
	return cmdReplay(ctx, args, stdout, stderr)
}

// repoPaths are the default locations, relative to the working directory
// (make runs from the repository root).
type repoPaths struct{ eventsDir, keyPath, envPath, expectPath string }

func defaultPaths(eventsDir string) repoPaths {
	return repoPaths{
		eventsDir:  eventsDir,
		keyPath:    filepath.Join(eventsDir, KeyFileName),
		envPath:    filepath.Join(eventsDir, EnvFileName),
		expectPath: filepath.Join(eventsDir, ExpectFileName),
	}
}

type replayFlags struct {
	events         []string
	envFile        string
	expectFile     string
	ownConfig      bool
	addr           string
	keyPath        string
	throughRuntime bool
	logPath        string
	rie            string
}

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	d := defaultPaths("events")
	var f replayFlags
	var events string
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&events, "events", d.eventsDir, "event files or directories, comma-separated (.json API Gateway / Azure invocation events, .http proxied requests)")
	fs.StringVar(&f.envFile, "env-file", d.envPath, "JWTGATE_* settings (KEY=VALUE lines) to build the core from")
	fs.StringVar(&f.expectFile, "expect", "", "expectations file (default: expectations.json beside the first events directory, if any)")
	fs.BoolVar(&f.ownConfig, "own-config", false, "take JWTGATE_* from this process's environment instead of --env-file")
	fs.StringVar(&f.addr, "addr", DefaultAddr, "loopback address of the embedded dev issuer (served when the configuration points at it)")
	fs.StringVar(&f.keyPath, "key", d.keyPath, "the dev issuer's private JWK (test-only)")
	fs.BoolVar(&f.throughRuntime, "through-runtime", false, "run the events through the real processes: bootstrap under the Lambda RIE, and the Azure handler over HTTP")
	fs.StringVar(&f.logPath, "log", "", "write the decision log (JSON lines) to this file (default: discarded)")
	fs.StringVar(&f.rie, "rie", "", "path of aws-lambda-rie (default $JWTGATE_RIE, then ./bin/aws-lambda-rie)")
	if err := fs.Parse(args); err != nil {
		return exitSetup
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "replay: unexpected arguments %q\n", fs.Args())
		return exitSetup
	}
	for _, e := range strings.Split(events, ",") {
		if e = strings.TrimSpace(e); e != "" {
			f.events = append(f.events, e)
		}
	}
	res, via, err := replayWith(ctx, f, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "replay:", err)
		return exitSetup
	}
	if printTable(stdout, res, via) > 0 {
		return exitMismatch
	}
	return exitOK
}

// replayWith runs the replay described by f and returns the outcomes and a
// description of the path taken.
func replayWith(ctx context.Context, f replayFlags, stderr io.Writer) ([]outcome, string, error) {
	evs, err := loadEvents(f.events)
	if err != nil {
		return nil, "", err
	}
	expectPath := f.expectFile
	if expectPath == "" {
		if st, err := os.Stat(f.events[0]); err == nil && st.IsDir() {
			expectPath = filepath.Join(f.events[0], ExpectFileName)
		}
	}
	expect := map[string]Expectation{}
	if expectPath != "" {
		if expect, err = loadExpectations(expectPath); err != nil {
			return nil, "", err
		}
	}

	env, getenv, err := configSource(f.ownConfig, f.envFile)
	if err != nil {
		return nil, "", err
	}
	stopIssuer, err := serveDevIssuer(getenv, f.addr, f.keyPath)
	if err != nil {
		return nil, "", err
	}
	defer stopIssuer()

	logOut := io.Discard
	if f.logPath != "" {
		lf, err := os.Create(f.logPath)
		if err != nil {
			return nil, "", err
		}
		defer lf.Close()
		logOut = lf
	}
	logger := slog.New(slog.NewJSONHandler(logOut, nil))

	var r runner
	via := "the Lambda authorizer and Azure handler libraries"
	if f.throughRuntime {
		r, err = newThroughRuntime(ctx, env, f, logOut, stderr)
		via = "bootstrap under the Lambda RIE and the Azure handler process"
	} else {
		r, err = newInProcess(ctx, getenv, logger)
	}
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	return replayAll(ctx, r, evs, expect), via, nil
}

// configSource returns the JWTGATE_* settings to build the core from: the
// env file, or this process's environment (env nil) with ownConfig.
func configSource(ownConfig bool, envFile string) (map[string]string, func(string) string, error) {
	if ownConfig {
		return nil, os.Getenv, nil
	}
	env, err := parseEnvFile(envFile)
	if err != nil {
		return nil, nil, fmt.Errorf("env file: %w", err)
	}
	return env, envGetter(env), nil
}

// serveDevIssuer starts the embedded dev issuer when the configuration
// points at its address, and returns how to stop it.
func serveDevIssuer(getenv func(string) string, addr, keyPath string) (stop func(), err error) {
	if !usesDevIssuer(getenv, addr) {
		return func() {}, nil
	}
	key, err := devissuer.LoadKey(keyPath)
	if err != nil {
		return nil, err
	}
	iss, err := devissuer.Start(devissuer.WithAddr(addr), devissuer.WithKey(key))
	if err != nil {
		return nil, fmt.Errorf("%w (is another replay running? choose another with --addr and regenerate the events with `replay events --addr`)", err)
	}
	return func() { _ = iss.Close() }, nil
}

func cmdEvents(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "events", "directory to write the events into")
	key := fs.String("key", "", "dev key file (default <dir>/"+KeyFileName+"; created when missing)")
	addr := fs.String("addr", DefaultAddr, "dev issuer address baked into the tokens' iss and replay.env")
	if err := fs.Parse(args); err != nil {
		return exitSetup
	}
	if *key == "" {
		*key = filepath.Join(*dir, KeyFileName)
	}
	names, err := generateEvents(generateOptions{dir: *dir, keyPath: *key, addr: *addr})
	if err != nil {
		fmt.Fprintln(stderr, "events:", err)
		return exitSetup
	}
	fmt.Fprintf(stdout, "wrote %d events, %s and %s to %s\n", len(names), ExpectFileName, EnvFileName, *dir)
	return exitOK
}

func cmdIssuer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("issuer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", DefaultAddr, "loopback address to serve on")
	key := fs.String("key", filepath.Join("events", KeyFileName), "the dev issuer's private JWK (test-only)")
	if err := fs.Parse(args); err != nil {
		return exitSetup
	}
	k, err := devissuer.LoadKey(*key)
	if err != nil {
		fmt.Fprintln(stderr, "issuer:", err)
		return exitSetup
	}
	iss, err := devissuer.Start(devissuer.WithAddr(*addr), devissuer.WithKey(k))
	if err != nil {
		fmt.Fprintln(stderr, "issuer:", err)
		return exitSetup
	}
	fmt.Fprintf(stdout, "dev issuer (test-only) serving %s\nJWTGATE_OPENID_CONFIG=%s\n", iss.URL(), iss.DiscoveryURL())
	<-ctx.Done()
	if err := iss.Close(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(stderr, "issuer:", err)
	}
	return exitOK
}
