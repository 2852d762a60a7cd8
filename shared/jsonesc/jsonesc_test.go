package jsonesc

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"
)

// references returns s as slog's JSONHandler and encoding/json write it.
func references(t *testing.T, s string) (slogText, jsonText string) {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
			return slog.Attr{}
		}
		return a
	}})
	slog.New(h).Info(s)
	slogText = strings.TrimSuffix(strings.TrimPrefix(buf.String(), `{"msg":`), "}\n")
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return slogText, string(b)
}

// TestStylesMatchTheirEncoders: every character class that is escaped
// differently, at every position of an eight-byte word, in both styles.
func TestStylesMatchTheirEncoders(t *testing.T) {
	specials := []string{"\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "<", ">", "&",
		"é", "\u2028", "\u2029", "\U0001F600", "\xff", "\xc3", "\xe2\x80"}
	for _, sp := range specials {
		for pos := 0; pos <= 17; pos++ {
			for _, n := range []int{pos, 17, 24} {
				if n < pos {
					continue
				}
				s := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				wantSlog, wantJSON := references(t, s)
				if got := string(Slog.Append(nil, s)); got != wantSlog {
					t.Fatalf("Slog %q: %s, slog writes %s", s, got, wantSlog)
				}
				if got := string(EncodingJSON.Append(nil, s)); got != wantJSON {
					t.Fatalf("EncodingJSON %q: %s, encoding/json writes %s", s, got, wantJSON)
				}
			}
		}
	}
	if got := string(Slog.Append([]byte("x="), "plain")); got != `x="plain"` {
		t.Fatalf("Append does not append: %s", got)
	}
}

// FuzzStyles: any string, both styles, byte for byte.
func FuzzStyles(f *testing.F) {
	for _, s := range []string{"", "decision", "a\"b\\c\n\x00", "https://issuer.example/abcdefgh\x7f", "é\u2028\xff<>&\b\f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		wantSlog, wantJSON := references(t, s)
		if got := string(Slog.Append(nil, s)); got != wantSlog {
			t.Fatalf("Slog %q: %s, slog writes %s", s, got, wantSlog)
		}
		if got := string(EncodingJSON.Append(nil, s)); got != wantJSON {
			t.Fatalf("EncodingJSON %q: %s, encoding/json writes %s", s, got, wantJSON)
		}
	})
}

// TestAppendFloatMatchesEncodingJSON: fixed and exponent forms, their
// boundaries, negative zero, and no JSON for NaN and infinities.
func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e21, -2.5e-9, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := AppendFloat(nil, f)
		if !ok || string(got) != string(want) {
			t.Errorf("%v: %s (ok %v), encoding/json writes %s", f, got, ok, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got, ok := AppendFloat([]byte("x"), f); ok || string(got) != "x" {
			t.Errorf("%v: %q ok %v, want refused and nothing appended", f, got, ok)
		}
	}
}
