package logging

import (
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/shared/jsonesc"
)

// Handler is the handler of the loggers New returns: slog's JSONHandler,
// plus a fast path for lines whose shape is fixed (core.LogDecision, one a
// request). The fast path renders byte for byte what the JSONHandler writes
// for the same record (the JSONHandler stays the reference, and the
// fallback for anything else) without building a record: no attribute
// slice, no caller program counter, no reflection for a number, and
// constant keys written as pre-rendered text. Loggers derived with With or
// WithGroup are plain JSONHandlers and never take the fast path.
type Handler struct {
	*slog.JSONHandler
	w     io.Writer // the same writer as the JSONHandler's, safe for concurrent lines
	now   func() time.Time
	stamp atomic.Pointer[stamp] // the current second, rendered
}

// stamp is one second of the time member rendered: what precedes the
// fraction (`"2026-12-02T14:50:25`) and the zone after it (`Z"`).
type stamp struct {
	sec        int64
	loc        *time.Location
	head, zone []byte
}

// NewHandler is the handler New uses.
func NewHandler(w io.Writer, level slog.Leveler) *Handler {
	sw := concurrentWriter(w)
	return &Handler{JSONHandler: slog.NewJSONHandler(sw, &slog.HandlerOptions{Level: level}), w: sw, now: time.Now}
}

// concurrentWriter makes one Write call one whole line with respect to
// other lines: a BufferedWriter already is; any other writer is shared
// behind a mutex by the JSONHandler and the fast path.
func concurrentWriter(w io.Writer) io.Writer {
	switch w.(type) {
	case *BufferedWriter, *lockedWriter:
		return w
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Line is one log line being rendered by the fast path: Start it, add the
// attributes in order, End it. A Line is pooled: not usable after End.
type Line struct{ b []byte }

var linePool = sync.Pool{New: func() any { return &Line{b: make([]byte, 0, 1024)} }}

// Start begins a line at level with msg, timestamped now, as the
// JSONHandler renders a record's built-in members. The caller has already
// checked Enabled.
func (h *Handler) Start(level slog.Level, msg string) *Line {
	ln := linePool.Get().(*Line)
	b := append(ln.b[:0], `{"time":`...)
	b = h.appendTime(b, h.now())
	b = append(b, `,"level":`...)
	b = appendLevel(b, level)
	b = append(b, `,"msg":`...)
	ln.b = AppendJSONString(b, msg)
	return ln
}

// End writes the line (one Write call) and releases it.
func (h *Handler) End(ln *Line) {
	ln.b = append(ln.b, '}', '\n')
	_, _ = h.w.Write(ln.b)
	if cap(ln.b) <= 16<<10 {
		linePool.Put(ln)
	}
}

// appendTime is the JSONHandler's time member: RFC 3339 with nanoseconds
// (trailing zeros dropped), in quotes. All but the fraction is rendered
// once a second. A year outside 0–9999, for which the JSONHandler writes
// an error instead, cannot come from the caller's clock (time.Now).
func (h *Handler) appendTime(b []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	st := h.stamp.Load()
	if st == nil || st.sec != sec || st.loc != loc {
		whole := t.Truncate(time.Second)
		st = &stamp{sec: sec, loc: loc,
			head: whole.AppendFormat([]byte{'"'}, "2006-01-02T15:04:05"),
			zone: append(whole.AppendFormat(nil, "Z07:00"), '"')}
		h.stamp.Store(st)
	}
	b = append(b, st.head...)
	if ns := t.Nanosecond(); ns != 0 {
		var d [10]byte
		d[0] = '.'
		for i := 9; i > 0; i-- {
			d[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(d)
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return append(b, st.zone...)
}

func appendLevel(b []byte, l slog.Level) []byte {
	switch l {
	case slog.LevelDebug:
		return append(b, `"DEBUG"`...)
	case slog.LevelInfo:
		return append(b, `"INFO"`...)
	case slog.LevelWarn:
		return append(b, `"WARN"`...)
	case slog.LevelError:
		return append(b, `"ERROR"`...)
	}
	return AppendJSONString(b, l.String())
}

// Raw appends pre-rendered JSON, typically a constant `,"key":`. The
// caller guarantees it is valid (keys needing no escape).
func (ln *Line) Raw(s string) { ln.b = append(ln.b, s...) }

// String appends a string value (after Raw's key).
func (ln *Line) String(s string) { ln.b = AppendJSONString(ln.b, s) }

// Int appends an integer value.
func (ln *Line) Int(i int64) { ln.b = strconv.AppendInt(ln.b, i, 10) }

// Bool appends a boolean value.
func (ln *Line) Bool(v bool) { ln.b = strconv.AppendBool(ln.b, v) }

// Float appends a finite number as encoding/json writes it (what the
// JSONHandler calls for a float). The caller guarantees it is finite.
func (ln *Line) Float(f float64) { ln.b, _ = jsonesc.AppendFloat(ln.b, f) }

// Attr appends `,"key":value` as the JSONHandler would. It handles the
// kinds Renderable accepts; check them first.
func (ln *Line) Attr(a slog.Attr) {
	ln.b = append(ln.b, ',')
	ln.b = AppendJSONString(ln.b, a.Key)
	ln.b = append(ln.b, ':')
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		ln.String(v.String())
	case slog.KindInt64:
		ln.Int(v.Int64())
	case slog.KindUint64:
		ln.b = strconv.AppendUint(ln.b, v.Uint64(), 10)
	case slog.KindFloat64:
		ln.Float(v.Float64())
	case slog.KindBool:
		ln.Bool(v.Bool())
	case slog.KindDuration:
		ln.Int(int64(v.Duration()))
	}
}

// Renderable reports whether Line.Attr renders every one of attrs exactly
// as the JSONHandler would: non-empty keys and plain values (string,
// integer, finite float, bool, duration). Anything else (groups, Any, time,
// LogValuer, an empty key) must take the slog path.
func Renderable(attrs []slog.Attr) bool {
	for _, a := range attrs {
		if a.Key == "" {
			return false
		}
		switch a.Value.Kind() {
		case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindBool, slog.KindDuration:
		case slog.KindFloat64:
			if f := a.Value.Float64(); math.IsInf(f, 0) || math.IsNaN(f) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// AppendJSONString appends s as a quoted JSON string exactly as the
// JSONHandler escapes it (jsonesc.Slog).
func AppendJSONString(dst []byte, s string) []byte { return jsonesc.Slog.Append(dst, s) }
