package customhandler

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// The hand-written body encoder must write what encoding/json writes, byte
// for byte, and give up where encoding/json fails.
func TestAppendBodyMatchesEncodingJSON(t *testing.T) {
	odd := "a\"b\\c<d>e&f\x00\x01\b\f\n\r\t\x1f\x7f é \u2028 \u2029 \xff\xfe end 😀"
	cases := []body{
		{Outcome: "allow", Reason: "ok"},
		{Allow: true, Outcome: "allow", Reason: "ok", Principal: "user-1", Issuer: "https://issuer.example/",
			Claims: map[string]any{"sub": "user-1", "scope": "read write", "n": int64(-42), "i": 7, "f": 1.5, "big": 1e21, "tiny": 1e-7,
				"neg": -2.5e-9, "zero": 0.0, "t": true, "nil": nil, odd: odd, "": ""}},
		{Outcome: "forbidden", Reason: "insufficient_scope", Error: "insufficient_scope", Detail: odd, MissingScopes: []string{"a", odd}},
		{Outcome: "unavailable", Reason: "keys_unavailable", Detail: "x", RetryAfter: 5},
	}
	for _, f := range []float64{0.1, 123456789, 1e20, 1e-6, 5e-324, math.MaxFloat64, -0.0} {
		cases = append(cases, body{Claims: map[string]any{"f": f}})
	}
	for _, b := range cases {
		want, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendBody(nil, b)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("appendBody(%+v) = %s, %v\nwant %s", b, got, ok, want)
		}
		if got := marshalBody(b); !bytes.Equal(got, append(want, '\n')) {
			t.Errorf("marshalBody = %s, want %s", got, want)
		}
	}
	// What encoding/json cannot encode falls back to marshal, which drops
	// the claims rather than fail.
	for _, v := range []any{math.NaN(), math.Inf(1), []string{"x"}, struct{}{}} {
		b := body{Allow: true, Outcome: "allow", Reason: "ok", Claims: map[string]any{"a": "x", "z": v}}
		if _, ok := appendBody(nil, b); ok {
			t.Errorf("appendBody accepted claim %#v", v)
		}
		want := marshal(b)
		if got := marshalBody(b); !bytes.Equal(got, want) {
			t.Errorf("marshalBody(%#v) = %s, want %s", v, got, want)
		}
	}
}

// dropControls keeps a plain string as it is and otherwise behaves as
// strings.Map dropping controls (which also turns invalid UTF-8 into
// U+FFFD).
func TestDropControls(t *testing.T) {
	ref := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, s)
	}
	for _, s := range []string{"", "user-1", "a b~", "tab\there", "nl\n", "\x00\x1f\x7f", "é", "bad\xff", "\u2028", "x\x7fy",
		"https://issuer.example/", "abcdefgh", "abcdefgh\x7f", "\x7fabcdefgh", "abcdefghijklmno\x1f", "abcdefghijklmnop", "read:orders write\x00",
		"abcdefgé", "abcdefghijklmnopqrstuvwxyz\n0123456789"} {
		if got, want := dropControls(s), ref(s); got != want {
			t.Errorf("dropControls(%q) = %q, want %q", s, got, want)
		}
	}
	if got := dropControls("a\r\nb"); got != "ab" {
		t.Errorf("dropControls kept a control: %q", got)
	}
}
