// Package localrun builds and runs jwtgate's own binaries on loopback, for
// `replay --through-runtime`, the end-to-end tests and the benchmarks: it
// finds the repository (ModuleRoot), picks free loopback addresses
// (FreeAddrs), builds a main package with the flags a caller needs
// (GoBuild), starts and stops a process (Start, Proc.Stop), splits its
// output into lines (Lines) and waits until it answers over HTTP
// (Proc.WaitHTTP).
//
// It does not import package testing (the replay binary links it);
// localruntest has the same helpers for tests, failing the test instead of
// returning an error.
package localrun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// ErrNoModuleRoot means no directory at or above the working directory
// holds jwtgate's go.mod (the one beside shared/core).
var ErrNoModuleRoot = errors.New("the jwtgate repository (go.mod beside shared/core) is not at or above the working directory")

// ModuleRoot returns the jwtgate repository root: the nearest directory at
// or above the working directory that holds both go.mod and shared/core, so
// nested modules (infra/check, shared/bench) find the product module and
// not their own go.mod.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return moduleRootFrom(wd)
}

func moduleRootFrom(dir string) (string, error) {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if isFile(filepath.Join(d, "go.mod")) && isDir(filepath.Join(d, "shared", "core")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", ErrNoModuleRoot
		}
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// FreeAddrs returns n distinct loopback addresses ("127.0.0.1:port") that
// nobody listened on a moment ago. All n ports are held until the last is
// picked, so they differ; another process may still take one before the
// caller does.
func FreeAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// FreeAddr returns one free loopback address ("127.0.0.1:port").
func FreeAddr() (string, error) {
	addrs, err := FreeAddrs(1)
	if err != nil {
		return "", err
	}
	return addrs[0], nil
}

// FreePort returns a free loopback TCP port.
func FreePort() (int, error) {
	addr, err := FreeAddr()
	if err != nil {
		return 0, err
	}
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return 0, err
	}
	return a.Port, nil
}

// LambdaTags are the build tags of the Lambda bootstrap (provided.al2023
// runs it without the RPC mode).
const LambdaTags = "lambda.norpc"

// Build says what GoBuild builds and how.
type Build struct {
	// Dir is where go build runs; empty means ModuleRoot().
	Dir string
	// Pkg is the main package, relative to Dir ("./functions/azure").
	Pkg string
	// Out is the binary to write.
	Out string
	// Tags are build tags (LambdaTags for the Lambda bootstrap).
	Tags string
	// Flags are further go build flags ("-trimpath", "-ldflags=-s -w").
	Flags []string
	// Env is added to this process's environment after CGO_ENABLED=0
	// (e.g. GOOS=linux, GOARCH=arm64).
	Env []string
}

// GoBuild builds b with CGO_ENABLED=0 and returns go build's output in the
// error when it fails.
func GoBuild(ctx context.Context, b Build) error {
	dir := b.Dir
	if dir == "" {
		var err error
		if dir, err = ModuleRoot(); err != nil {
			return fmt.Errorf("go build %s: %w", b.Pkg, err)
		}
	}
	args := []string{"build"}
	if b.Tags != "" {
		args = append(args, "-tags", b.Tags)
	}
	args = append(args, b.Flags...)
	args = append(args, "-o", b.Out, b.Pkg)
	cmd := exec.CommandContext(ctx, GoTool(), args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), b.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", b.Pkg, err, out)
	}
	return nil
}

// GoTool is the go command: the one of the toolchain this program was
// built or run with when it is there, else "go" from PATH.
func GoTool() string {
	if root := runtime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", "go")
		if isFile(p) {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}
