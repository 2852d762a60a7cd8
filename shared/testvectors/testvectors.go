// Package testvectors finds the public test vectors (Wycheproof, RFC 7520)
// that live beside the project in ../shared/testdata, for tests that read
// them in place.
package testvectors

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate/shared/localrun"
)

// Dir returns ../shared/testdata relative to the repository root
// (localrun.ModuleRoot), or skips the test with a message when the folder
// is absent.
func Dir(t testing.TB) string {
	t.Helper()
	root, err := localrun.ModuleRoot()
	if err != nil {
		t.Skipf("public test vectors: %v: skipping", err)
	}
	v := filepath.Join(filepath.Dir(root), "shared", "testdata")
	if _, err := os.Stat(v); err != nil {
		t.Skipf("public test vectors not found at %s: skipping", v)
	}
	return v
}

// Path returns a file or folder inside the vectors folder, skipping when
// absent.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("test vector %s not found: skipping", rel)
	}
	return p
}
