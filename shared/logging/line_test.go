package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// slogLine is what slog's JSONHandler writes for a record at t with attrs.
func slogLine(t *testing.T, tm time.Time, level slog.Level, msg string, attrs ...slog.Attr) string {
	t.Helper()
	var buf bytes.Buffer
	r := slog.NewRecord(tm, level, msg, 0)
	r.AddAttrs(attrs...)
	if err := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestFastLineMatchesSlogTimeLevelAndValues(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 12, 2, 14, 50, 25, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.FixedZone("X", -(5*3600+30*60))),
		time.Date(1999, 12, 31, 23, 59, 59, 1, time.FixedZone("Y", 3600)),
		time.Now(), // monotonic reading: slog drops it (Round(0)), so does AppendFormat
		time.Date(2026, 3, 29, 0, 59, 59, 100000000, time.UTC),
		time.Date(2026, 3, 29, 0, 59, 59, 999999999, time.UTC),
		time.Date(2026, 3, 29, 1, 0, 0, 10, time.UTC),
	}
	// The same second in two zones, and successive seconds: the rendered
	// second is reused only for the same second and zone.
	for _, ut := range []time.Time{times[0], times[5]} {
		times = append(times, ut.In(time.FixedZone("F", 7200)), ut)
	}
	if paris, err := time.LoadLocation("Europe/Paris"); err == nil {
		for _, ut := range []time.Time{times[0], times[5], times[6], times[7]} {
			times = append(times, ut.In(paris), ut)
		}
	}
	for i := 0; i < 50; i++ {
		times = append(times, times[0].Add(time.Duration(i)*123456789*time.Nanosecond))
	}
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2, slog.LevelError + 4, slog.LevelDebug - 1}
	attrs := []slog.Attr{slog.String("s", "a\"b"), slog.Int("i", -3), slog.Uint64("u", 7), slog.Bool("b", true),
		slog.Float64("f", 0.001), slog.Float64("e", 1e-9), slog.Duration("d", time.Second), slog.String("k\x01", "")}
	if !Renderable(attrs) {
		t.Fatal("plain attributes not renderable")
	}
	var buf bytes.Buffer
	h := NewHandler(&buf, slog.LevelDebug) // one handler: its rendered second carries over
	for _, tm := range times {
		for _, lv := range levels {
			buf.Reset()
			h.now = func() time.Time { return tm }
			ln := h.Start(lv, "decision <&>")
			for _, a := range attrs {
				ln.Attr(a)
			}
			h.End(ln)
			if want := slogLine(t, tm, lv, "decision <&>", attrs...); buf.String() != want {
				t.Fatalf("fast %q\nslog %q", buf.String(), want)
			}
		}
	}
}

func TestRenderableRefusesWhatSlogRendersItself(t *testing.T) {
	for _, a := range []slog.Attr{slog.Any("a", []int{1}), slog.Any("e", context.Canceled), slog.Group("g", slog.Int("x", 1)), slog.Time("t", time.Now()), slog.String("", "x")} {
		if Renderable([]slog.Attr{slog.Int("ok", 1), a}) {
			t.Errorf("%v renderable", a)
		}
	}
}

// TestFastLinesAreWholeLines: the fast path and the JSONHandler share one
// writer; concurrent lines never interleave, even on a writer that is not
// safe for concurrent use itself.
func TestFastLinesAreWholeLines(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, slog.LevelInfo)
	h := l.Handler().(*Handler)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if i%2 == 0 {
					ln := h.Start(slog.LevelInfo, "fast")
					ln.Raw(`,"k":`)
					ln.String(strings.Repeat("x", 100))
					h.End(ln)
				} else {
					l.Info("slog", "k", strings.Repeat("y", 100))
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, `{"time":`) || !strings.HasSuffix(line, `"}`) || strings.Count(line, `"time"`) != 1 {
			t.Fatalf("broken line %q", line)
		}
	}
}
