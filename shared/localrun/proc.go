package localrun

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Proc is a started process whose exit is awaited in the background.
type Proc struct {
	Cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's result, set before exited is closed
}

// Start starts cmd and awaits its exit in the background. cmd's Stdout and
// Stderr must be nil, files or writers such as Lines, not pipes taken with
// StdoutPipe (exec.Cmd.Wait runs at once). Lines writers are flushed when
// the process has exited. When cmd.WaitDelay is unset, Start sets it to 5s:
// a child the process started (the RIE's bootstrap) that keeps the output
// open cannot hold the exit back longer.
func Start(cmd *exec.Cmd) (*Proc, error) {
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		for _, w := range []any{cmd.Stdout, cmd.Stderr} {
			if lw, ok := w.(*LineWriter); ok {
				lw.Flush()
			}
		}
		close(p.exited)
	}()
	return p, nil
}

// Exited is closed once the process has exited and its output is copied.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Err is exec.Cmd.Wait's result; it is meaningful once Exited is closed.
func (p *Proc) Err() error {
	select {
	case <-p.exited:
		return p.err
	default:
		return nil
	}
}

// Stop sends sig (none when nil), waits up to grace for the process to
// exit, then kills it, and returns exec.Cmd.Wait's result. Stopping a
// process that has exited returns how it exited.
func (p *Proc) Stop(sig os.Signal, grace time.Duration) error {
	if sig != nil {
		select {
		case <-p.exited:
			return p.err
		default:
			_ = p.Cmd.Process.Signal(sig)
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.exited:
			return p.err
		case <-t.C:
		}
	}
	_ = p.Cmd.Process.Kill()
	<-p.exited
	return p.err
}

// WaitHTTP sends the request newReq makes every poll until one gets an HTTP
// answer, and returns that answer (the caller reads and closes its body).
// It gives up when ctx ends or the process exits first.
func (p *Proc) WaitHTTP(ctx context.Context, c *http.Client, poll time.Duration, newReq func(context.Context) (*http.Request, error)) (*http.Response, error) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		req, err := newReq(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err == nil {
			return resp, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the process exited before answering (%v)", p.err)
		case <-ctx.Done():
			return nil, fmt.Errorf("no answer from %s: %w (last error: %v)", req.URL.Redacted(), ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// LineWriter passes each line written to it, without its newline, to a
// function: it turns a process's output into records. A line longer than
// 1 MiB is passed on in 1 MiB pieces. It is safe for concurrent use, so one
// LineWriter can take both Stdout and Stderr.
type LineWriter struct {
	fn  func(line []byte)
	mu  sync.Mutex // guards buf and serialises fn
	buf []byte
}

const maxLine = 1 << 20

// Lines returns a LineWriter calling fn with each line; fn must not keep
// the slice.
func Lines(fn func(line []byte)) *LineWriter { return &LineWriter{fn: fn} }

// Write implements io.Writer.
func (w *LineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.buf = append(w.buf, b...)
			w.spill()
			return n, nil
		}
		w.buf = append(w.buf, b[:i]...)
		w.spill()
		w.fn(w.buf)
		w.buf, b = w.buf[:0], b[i+1:]
	}
}

// spill passes on 1 MiB pieces of an over-long line.
func (w *LineWriter) spill() {
	for len(w.buf) > maxLine {
		w.fn(w.buf[:maxLine])
		w.buf = append(w.buf[:0], w.buf[maxLine:]...)
	}
}

// Flush passes on a last line that has no newline.
func (w *LineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.fn(w.buf)
		w.buf = w.buf[:0]
	}
}
