package logging

import (
	"io"
	"sync"
)

// maxPending bounds what a BufferedWriter holds before a Write writes
// through itself (the destination is slower than the lines come).
const maxPending = 256 << 10

// BufferedWriter batches log lines for a long-running server: Write copies
// the line into a buffer and wakes one flusher goroutine, which writes
// everything pending in one call. While it writes, further lines gather,
// so under load one write carries many lines; when idle, a line is written
// at once (no timer: nothing waits for a tick). Close writes what is
// pending and stops the flusher; call it before the process exits (after a
// graceful shutdown, before os.Exit), so no line is lost on SIGTERM. Lines
// are only lost if the process dies without Close (SIGKILL, a crash), and
// then only those written in the last moments.
//
// Each Write must be one whole line (slog handlers write one record per
// call), so lines are never interleaved.
type BufferedWriter struct {
	w io.Writer

	mu      sync.Mutex // guards pending, spare, closed
	pending []byte
	spare   []byte
	closed  bool

	wmu  sync.Mutex // serialises writes to w
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewBufferedWriter starts the flusher goroutine writing to w.
func NewBufferedWriter(w io.Writer) *BufferedWriter {
	b := &BufferedWriter{
		w:       w,
		pending: make([]byte, 0, 64<<10),
		spare:   make([]byte, 0, 64<<10),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go b.loop()
	return b
}

// Write queues p (one log line). It never fails: a write error of the
// destination is the flusher's, as with an unchecked log write.
func (b *BufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.wmu.Lock()
		defer b.wmu.Unlock()
		return b.w.Write(p)
	}
	b.pending = append(b.pending, p...)
	full := len(b.pending) >= maxPending
	b.mu.Unlock()
	if full {
		b.Flush() // back-pressure: the caller waits for the destination
		return len(p), nil
	}
	select {
	case b.wake <- struct{}{}:
	default: // the flusher is already woken
	}
	return len(p), nil
}

// Flush writes everything pending now.
func (b *BufferedWriter) Flush() error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	out := b.pending
	b.pending = b.spare[:0]
	b.mu.Unlock()
	var err error
	if len(out) > 0 {
		_, err = b.w.Write(out)
	}
	b.mu.Lock()
	if cap(out) <= 4*maxPending {
		b.spare = out[:0]
	} else {
		b.spare = nil // do not keep a buffer a burst grew
	}
	b.mu.Unlock()
	return err
}

func (b *BufferedWriter) loop() {
	defer close(b.done)
	for {
		select {
		case <-b.wake:
			_ = b.Flush()
		case <-b.stop:
			return
		}
	}
}

// Close stops the flusher and writes everything pending; later Writes go
// straight to the destination. It is safe to call more than once.
func (b *BufferedWriter) Close() error {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
	})
	// Under wmu, so a Write that finds the writer closed (and writes
	// through) cannot overtake the lines still pending.
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	b.closed = true
	out := b.pending
	b.pending, b.spare = nil, nil
	b.mu.Unlock()
	if len(out) > 0 {
		_, err := b.w.Write(out)
		return err
	}
	return nil
}
