// Command handler is jwtgate's Azure Functions custom handler (built as
// "handler", the host.json defaultExecutablePath). It serves HTTP on
// FUNCTIONS_CUSTOMHANDLER_PORT (default 8080) on the loopback interface,
// where the Functions host connects; JWTGATE_LISTEN_HOST changes the
// interface when it runs as a standalone forward-auth service (e.g.
// "0.0.0.0" in a container). JWTGATE_FORWARDED_HEADERS (auto, traefik,
// nginx, none) selects which forward-auth headers are trusted.
//
// It listens before anything else and builds the core (configuration and
// key warm-up) in parallel. The host's readiness ping (GET /, which takes
// any answer) is answered at once: "/" is a decision endpoint, so until the
// core is built it is a 503. Other decision requests that arrive meanwhile
// wait for the core; GET /healthz is the liveness check. A configuration
// error stops the process with a non-zero status and one message naming the
// setting. SIGTERM and SIGINT shut it down gracefully.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/logging"
)

// Listening defaults.
const (
	defaultPort = 8080
	defaultHost = "127.0.0.1"
	// startupWait bounds how long a decision request waits for the core
	// to be built (configuration plus a warm-up bounded by
	// JWTGATE_WARMUP_TIMEOUT) before it is answered 503.
	startupWait = 30 * time.Second
	// shutdownGrace bounds the graceful shutdown.
	shutdownGrace = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// One write per decision line would be a system call per request
	// (under slog's lock): lines are batched, and every one is written
	// before the process exits.
	out := logging.NewBufferedWriter(os.Stdout)
	logger, err := logging.FromEnv(out, os.Getenv)
	if err == nil {
		err = run(ctx, os.Getenv, logger)
	}
	if err != nil {
		logger.Error("jwtgate handler stopped", slog.String("error", err.Error()))
	}
	_ = out.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "jwtgate:", err)
		os.Exit(1)
	}
}

// listenAddr is the address to listen on, from FUNCTIONS_CUSTOMHANDLER_PORT
// and JWTGATE_LISTEN_HOST.
func listenAddr(getenv func(string) string) (string, error) {
	port := defaultPort
	if v := strings.TrimSpace(getenv("FUNCTIONS_CUSTOMHANDLER_PORT")); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("FUNCTIONS_CUSTOMHANDLER_PORT: %q is not a TCP port (1-65535)", v)
		}
		port = p
	}
	host := defaultHost
	if v := strings.TrimSpace(getenv("JWTGATE_LISTEN_HOST")); v != "" {
		host = v
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// run serves until ctx ends (nil error) or start-up fails.
func run(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	addr, err := listenAddr(getenv)
	if err != nil {
		return err
	}
	fwd, err := customhandler.ParseForwardedHeaders(getenv("JWTGATE_FORWARDED_HEADERS"))
	if err != nil {
		return fmt.Errorf("JWTGATE_FORWARDED_HEADERS: %q %w", getenv("JWTGATE_FORWARDED_HEADERS"), err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	g := newGate()
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    256 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", slog.String("addr", ln.Addr().String()))

	type built struct {
		c   *core.Core
		err error
	}
	coreCh := make(chan built, 1)
	go func() {
		c, err := core.FromEnv(ctx, getenv, core.WithLogger(logger))
		coreCh <- built{c, err}
	}()

	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
	}

	select {
	case b := <-coreCh:
		if b.err != nil {
			shutdown()
			return fmt.Errorf("configuration: %w", b.err)
		}
		g.ready(customhandler.New(b.c, b.c.Config(), logger, customhandler.WithForwardedHeaders(fwd)))
		logger.Info("ready", slog.String("addr", ln.Addr().String()))
		// The counters of the whole run, once, when it stops.
		defer func() { logger.Info("stopped", slog.Any("stats", b.c.Stats())) }()
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		shutdown()
		return nil
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdown()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	}
}

// gate answers the liveness check and the host's readiness ping at once
// and holds other decision requests until the core is built.
type gate struct {
	// h is set once by ready, before done is closed.
	h    atomic.Pointer[customhandler.Handler]
	done chan struct{}
}

func newGate() *gate { return &gate{done: make(chan struct{})} }

func (g *gate) ready(h *customhandler.Handler) {
	g.h.Store(h)
	close(g.done)
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := g.h.Load(); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	if customhandler.IsHealthCheck(r) {
		customhandler.WriteHealth(w, r, false)
		return
	}
	if customhandler.IsRoot(r) {
		// The host pings GET / until it gets any answer: answer at once,
		// and fail closed.
		writeStarting(w)
		return
	}
	t := time.NewTimer(startupWait)
	defer t.Stop()
	select {
	case <-g.done:
		g.h.Load().ServeHTTP(w, r)
	case <-r.Context().Done():
	case <-t.C:
		writeStarting(w)
	}
}

// writeStarting denies a decision request while the core is being built.
func writeStarting(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"allow":false,"outcome":"unavailable","reason":"keys_unavailable","detail":"still starting"}` + "\n"))
}
