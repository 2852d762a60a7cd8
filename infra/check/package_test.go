package check

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/infra/check/ziputil"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

var zips = []string{"lambda-arm64.zip", "lambda-amd64.zip", "azure-function.zip"}

// packageTwice runs `make package` into two fresh directories and returns
// them. It skips while an adapter has no main package yet.
func packageTwice(t *testing.T) (string, string) {
	t.Helper()
	root := localruntest.Root(t)
	for _, dir := range []string{"functions/lambda", "functions/azure"} {
		if !hasMainPackage(filepath.Join(root, dir)) {
			t.Skipf("%s has no main package yet: nothing to package", dir)
		}
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	var dirs []string
	for range 2 {
		dir := t.TempDir()
		cmd := exec.Command("make", "--no-print-directory", "-C", root, "package", "DIST="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make package: %v\n%s", err, out)
		}
		for _, z := range zips {
			if !strings.Contains(string(out), filepath.Join(dir, z)) {
				t.Errorf("make package did not print the size of %s:\n%s", z, out)
			}
		}
		dirs = append(dirs, dir)
	}
	return dirs[0], dirs[1]
}

func hasMainPackage(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		if data, err := os.ReadFile(f); err == nil && (bytes.Contains(data, []byte("\npackage main\n")) || bytes.HasPrefix(data, []byte("package main\n"))) {
			return true
		}
	}
	return false
}

func TestPackageIsReproducibleAndLaidOutForEachPlatform(t *testing.T) {
	a, b := packageTwice(t)
	for _, z := range zips {
		da, err := os.ReadFile(filepath.Join(a, z))
		if err != nil {
			t.Fatal(err)
		}
		db, err := os.ReadFile(filepath.Join(b, z))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between two builds of the same tree", z)
		}
	}
	left, _ := os.ReadDir(a)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if want := slices.Sorted(slices.Values(zips)); !slices.Equal(names, want) {
		t.Errorf("dist holds %v, want only %v", names, want)
	}

	t.Run("lambda", func(t *testing.T) {
		for arch, machine := range map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64} {
			// bootstrap is the lean build; jwtgate-full, the standard build
			// it execs when the configuration needs CEL, Redis or YAML.
			files := readZip(t, filepath.Join(a, "lambda-"+arch+".zip"))
			if len(files) != 2 || files[0].name != "bootstrap" || files[1].name != "jwtgate-full" {
				t.Errorf("lambda-%s.zip holds %v, want bootstrap and jwtgate-full at the root", arch, entryNames(files))
				continue
			}
			for _, f := range files {
				checkExecutable(t, f, machine)
			}
			// Function names stay in a stripped Go binary (pclntab).
			for _, m := range []string{"github.com/google/cel-go/", "github.com/redis/go-redis/", "go.yaml.in/yaml/"} {
				if bytes.Contains(files[0].data, []byte(m)) {
					t.Errorf("lambda-%s.zip: bootstrap links %s: it is not the lean build", arch, m)
				}
				if !bytes.Contains(files[1].data, []byte(m)) {
					t.Errorf("lambda-%s.zip: jwtgate-full does not link %s: it is not the standard build", arch, m)
				}
			}
		}
	})

	t.Run("azure", func(t *testing.T) {
		files := readZip(t, filepath.Join(a, "azure-function.zip"))
		byName := map[string]zipFile{}
		for _, f := range files {
			byName[f.name] = f
		}
		host, ok := byName["host.json"]
		if !ok {
			t.Fatalf("no host.json at the root of azure-function.zip: %v", entryNames(files))
		}
		var hj struct {
			Version       string `json:"version"`
			CustomHandler struct {
				Description struct {
					DefaultExecutablePath string `json:"defaultExecutablePath"`
				} `json:"description"`
				EnableProxyingHTTPRequest bool `json:"enableProxyingHttpRequest"`
			} `json:"customHandler"`
		}
		if err := json.Unmarshal(host.data, &hj); err != nil {
			t.Fatalf("host.json: %v", err)
		}
		if hj.Version != "2.0" {
			t.Errorf("host.json version %q, want 2.0", hj.Version)
		}
		exe := hj.CustomHandler.Description.DefaultExecutablePath
		handler, ok := byName[exe]
		if exe == "" || !ok {
			t.Fatalf("host.json defaultExecutablePath %q names no file of the zip %v", exe, entryNames(files))
		}
		checkExecutable(t, handler, elf.EM_X86_64)
		if !hj.CustomHandler.EnableProxyingHTTPRequest {
			t.Error("host.json: enableProxyingHttpRequest is off; the handler answers proxied requests")
		}
		// Every function folder of the source tree, and nothing else.
		srcs, _ := filepath.Glob(filepath.Join(localruntest.Root(t), "functions/azure/*/function.json"))
		if len(srcs) == 0 {
			t.Fatal("no functions/azure/*/function.json in the tree")
		}
		want := []string{"host.json", exe}
		for _, s := range srcs {
			fn := filepath.Base(filepath.Dir(s)) + "/function.json"
			want = append(want, fn)
			f, ok := byName[fn]
			if !ok {
				t.Errorf("no %s in the zip", fn)
				continue
			}
			var fj struct {
				Bindings []struct{ Type, Direction string } `json:"bindings"`
			}
			if err := json.Unmarshal(f.data, &fj); err != nil {
				t.Errorf("%s: %v", fn, err)
			} else if !slices.ContainsFunc(fj.Bindings, func(b struct{ Type, Direction string }) bool { return b.Type == "httpTrigger" }) {
				t.Errorf("%s has no httpTrigger binding", fn)
			}
			if f.mode != 0o644 {
				t.Errorf("%s: mode %v, want 0644", fn, f.mode)
			}
		}
		if got := entryNames(files); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Errorf("azure-function.zip holds %v, want %v", got, want)
		}
		if _, ok := byName["authorize/function.json"]; !ok {
			t.Error("no authorize/function.json: the function the design names")
		}
	})
}

type zipFile struct {
	name string
	mode os.FileMode
	data []byte
}

func readZip(t *testing.T, path string) []zipFile {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []zipFile
	for _, f := range r.File {
		if !f.Modified.Equal(ziputil.Epoch) {
			t.Errorf("%s: %s has timestamp %v, want the fixed %v", filepath.Base(path), f.Name, f.Modified, ziputil.Epoch)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, zipFile{name: f.Name, mode: f.Mode(), data: data})
	}
	return out
}

func entryNames(files []zipFile) []string {
	var n []string
	for _, f := range files {
		n = append(n, f.name)
	}
	return n
}

// checkExecutable asserts a Linux executable for the machine: mode 0755,
// statically linked (CGO off: no interpreter), stripped (no symbol table).
func checkExecutable(t *testing.T, f zipFile, machine elf.Machine) {
	t.Helper()
	if f.mode != 0o755 {
		t.Errorf("%s: mode %v, want 0755", f.name, f.mode)
	}
	e, err := elf.NewFile(bytes.NewReader(f.data))
	if err != nil {
		t.Errorf("%s is not an ELF executable: %v", f.name, err)
		return
	}
	if e.Machine != machine || e.OSABI != elf.ELFOSABI_NONE && e.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("%s: machine %v OS ABI %v, want %v linux", f.name, e.Machine, e.OSABI, machine)
	}
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked (built with cgo?)", f.name)
		}
	}
	if e.Section(".symtab") != nil {
		t.Errorf("%s is not stripped (-ldflags=-s)", f.name)
	}
}
