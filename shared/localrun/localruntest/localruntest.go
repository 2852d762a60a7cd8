// Package localruntest is localrun for tests: the same helpers, failing
// the test (t.Fatal) where localrun returns an error.
package localruntest

import (
	"context"
	"testing"

	"github.com/jwtgate/jwtgate/shared/localrun"
)

// Root returns the jwtgate repository root (localrun.ModuleRoot).
func Root(t testing.TB) string {
	t.Helper()
	root, err := localrun.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// FreeAddrs returns n distinct free loopback addresses.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs, err := localrun.FreeAddrs(n)
	if err != nil {
		t.Fatal(err)
	}
	return addrs
}

// FreeAddr returns a free loopback address ("127.0.0.1:port").
func FreeAddr(t testing.TB) string {
	t.Helper()
	return FreeAddrs(t, 1)[0]
}

// FreePort returns a free loopback TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := localrun.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// GoBuild builds b (localrun.GoBuild) and returns b.Out.
func GoBuild(t testing.TB, b localrun.Build) string {
	t.Helper()
	if err := localrun.GoBuild(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b.Out
}
