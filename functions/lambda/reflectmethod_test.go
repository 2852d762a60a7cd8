package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/localrun"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// TestNoReflectMethodReached: in neither Lambda build does the linker reach
// a function marked <ReflectMethod> (a reflective method lookup by a name
// it cannot see, e.g. reflect.Value.Method(i), or Go 1.26's Type.Methods
// iterator kept by a MethodByName("Methods")). One such function makes the
// linker keep every exported method of every type that reaches an
// interface: protobuf before v1.36.12 did that, and the standard bootstrap
// was 24.2 MB instead of 16.3 MB, most of it go-redis's command API.
func TestNoReflectMethodReached(t *testing.T) {
	root := localruntest.Root(t)
	for _, tags := range []string{localrun.LambdaTags, leanTags} {
		t.Run(tags, func(t *testing.T) {
			cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "bootstrap"), "-tags", tags, "-ldflags=-dumpdep", "./functions/lambda")
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go build -ldflags=-dumpdep: %v\n%.2000s", err, out)
			}
			lines := strings.Split(string(out), "\n")
			if len(lines) < 1000 {
				t.Fatalf("%d lines of dependency dump: is -dumpdep still printing?", len(lines))
			}
			var marked []string
			for _, l := range lines {
				if strings.Contains(l, "<ReflectMethod>") {
					marked = append(marked, l)
				}
			}
			if len(marked) > 0 {
				t.Errorf("%d reachability edges touch a <ReflectMethod> function (first: %q); find the caller with `go build -ldflags=-dumpdep`", len(marked), marked[0])
			}
		})
	}
}
