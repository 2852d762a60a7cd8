// Command pack writes a reproducible zip: entries in the order given, each
// with a fixed timestamp, a fixed file mode (0755 for executables, 0644
// otherwise) and no host metadata, so that building twice from the same
// sources gives byte-identical archives.
//
//	pack -o dist/lambda-arm64.zip -x bootstrap bootstrap=build/lambda-arm64/bootstrap
//
// Each argument is NAME=PATH: NAME is the path inside the zip, PATH the file
// to read. -x NAME (repeatable) marks NAME as executable. It prints the zip's
// size when done.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jwtgate/jwtgate/infra/check/ziputil"
)

type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(v string) error { *n = append(*n, v); return nil }

func main() {
	var out string
	var exec names
	flag.StringVar(&out, "o", "", "output zip file")
	flag.Var(&exec, "x", "entry name to mark executable (0755); repeatable")
	flag.Parse()
	if err := run(out, exec, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
}

func run(out string, exec []string, args []string) error {
	if out == "" {
		return fmt.Errorf("-o is required")
	}
	if len(args) == 0 {
		return fmt.Errorf("no entries: give NAME=PATH arguments")
	}
	executable := map[string]bool{}
	for _, x := range exec {
		executable[x] = true
	}
	var entries []ziputil.Entry
	for _, a := range args {
		name, path, ok := strings.Cut(a, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("argument %q is not NAME=PATH", a)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		entries = append(entries, ziputil.Entry{Name: name, Data: data, Executable: executable[name]})
		delete(executable, name)
	}
	for x := range executable {
		return fmt.Errorf("-x %s names no entry", x)
	}
	zipped, err := ziputil.Build(entries)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out+".tmp", zipped, 0o644); err != nil {
		return err
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		return err
	}
	fmt.Printf("%-28s %9d bytes\n", display(out), len(zipped))
	return nil
}

// display names out relative to the working directory when it is below it.
func display(out string) string {
	wd, err := os.Getwd()
	if err != nil {
		return out
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return out
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return abs
}
