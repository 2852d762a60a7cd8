package dpop

import (
	"strings"
	"testing"
)

// Found by FuzzNormalizeURL in a 5-minute run (testdata/fuzz/FuzzNormalizeURL/
// 0c63527efd4b0f2b): Unicode case mapping turned each invalid UTF-8 byte of a
// host into a 3-byte U+FFFD, so different hosts normalised alike and an
// accepted URL's normal form was refused (8 KiB limit) on the second pass.
func TestNormalizeURLHostAndLength(t *testing.T) {
	for _, c := range []struct {
		name, in string
		ok       bool
	}{
		{"invalid UTF-8 host", "http://\xdd\xdd/p", false},
		{"other invalid UTF-8 host", "http://\xde\xde/p", false},
		{"non-ASCII host (not an A-label)", "https://bücher.example/p", false},
		{"A-label host", "https://XN--BCHER-KVA.example/p", true},
		{"path that escapes past 8 KiB", "http://h/" + strings.Repeat(" ", 3000), false},
		{"path that escapes to just under 8 KiB", "http://h/" + strings.Repeat(" ", 2000), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, ok := NormalizeURL(c.in)
			if ok != c.ok {
				t.Fatalf("NormalizeURL(%q) ok = %v, want %v (%q)", c.in, ok, c.ok, n)
			}
			if !ok {
				return
			}
			if n2, ok2 := NormalizeURL(n); !ok2 || n2 != n {
				t.Fatalf("not its own normal form: %q → %q (%v)", n, n2, ok2)
			}
		})
	}
	if n, ok := NormalizeURL("https://XN--BCHER-KVA.example/p"); n != "https://xn--bcher-kva.example/p" || !ok {
		t.Fatalf("A-label host not folded: %q %v", n, ok)
	}
}
