// Package testvectors finds the public test vectors (Wycheproof, RFC 7520)
// that live beside the project in ../shared/testdata, for tests that read
// them in place.
package testvectors

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns ../shared/testdata relative to the module root, or skips the
// test with a message when the folder is absent.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Skipf("test vectors: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "shared", "core")); err == nil {
				v := filepath.Join(filepath.Dir(d), "shared", "testdata")
				if _, err := os.Stat(v); err != nil {
					t.Skipf("public test vectors not found at %s: skipping", v)
				}
				return v
			}
		}
		if filepath.Dir(d) == d {
			t.Skip("public test vectors: module root not found: skipping")
		}
	}
}

// Path returns a file inside the vectors folder, skipping when absent.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("test vector %s not found: skipping", rel)
	}
	return p
}
