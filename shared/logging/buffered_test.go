package logging

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a destination that records each Write call.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Every line written concurrently arrives whole, once, by Close at the
// latest; a line written after Close goes straight through.
func TestBufferedWriterKeepsEveryLine(t *testing.T) {
	var dst lockedBuffer
	bw := NewBufferedWriter(&dst)
	logger := New(bw, slog.LevelInfo)
	const gos, per = 8, 500
	var wg sync.WaitGroup
	for g := range gos {
		wg.Go(func() {
			for i := range per {
				logger.Info("decision", slog.Int("g", g), slog.Int("i", i), slog.String("pad", strings.Repeat("x", i%300)))
			}
		})
	}
	wg.Wait()
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	logger.Info("after close")
	lines := strings.Split(strings.TrimSuffix(dst.String(), "\n"), "\n")
	if len(lines) != gos*per+1 {
		t.Fatalf("%d lines, want %d", len(lines), gos*per+1)
	}
	seen := map[string]bool{}
	for _, l := range lines[:gos*per] {
		if !strings.HasPrefix(l, `{"time":`) || !strings.HasSuffix(l, `"}`) {
			t.Fatalf("line not whole: %.120q", l)
		}
		k := l[strings.Index(l, `"g":`):strings.Index(l, `,"pad"`)]
		if seen[k] {
			t.Fatalf("line %s twice", k)
		}
		seen[k] = true
	}
	if !strings.Contains(lines[len(lines)-1], `"msg":"after close"`) {
		t.Fatalf("last line %q, want the line written after Close", lines[len(lines)-1])
	}
	if err := bw.Close(); err != nil { // twice is fine
		t.Fatal(err)
	}
}

// A Flush makes what was written visible at once, and lines written while
// the destination is busy share a write.
func TestBufferedWriterFlush(t *testing.T) {
	var dst lockedBuffer
	bw := NewBufferedWriter(&dst)
	defer bw.Close()
	bw.wmu.Lock() // the destination is busy: lines gather
	for i := range 100 {
		fmt.Fprintf(bw, "line %d\n", i)
	}
	bw.wmu.Unlock()
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(dst.String(), "\n"); got != 100 {
		t.Fatalf("%d lines after Flush, want 100", got)
	}
	dst.mu.Lock()
	writes := dst.writes
	dst.mu.Unlock()
	if writes > 2 {
		t.Fatalf("%d writes for 100 lines gathered while busy, want at most 2", writes)
	}
}
