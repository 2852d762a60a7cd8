package validate

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
)

func TestNormalizePath(t *testing.T) {
	cases := map[string]string{
		"/admin":       "/admin",
		"/%61dmin/%31": "/admin/1",
		"/a%7Eb%2D%5f": "/a~b-_",
		"/a%20b":       "/a%20b", // reserved or other characters stay encoded
		"/a%2Fb":       "/a%2Fb",
		"/a%zzb%":      "/a%zzb%",
		"/%":           "/%",
		"/%4":          "/%4",
	}
	for in, want := range cases {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRouteMatch: any method and path, against a fixed rule set, never
// panics; normalising twice changes nothing more.
func FuzzRouteMatch(f *testing.F) {
	rules := compileRoutes([]config.RouteRule{
		{Method: "GET", Path: "/orders/{id}"},
		{Method: "*", Path: "/admin/*"},
		{Method: "POST", Path: "/"},
	})
	f.Add("GET", "/orders/1")
	f.Add("DELETE", "/%61dmin/x/y")
	f.Add("get", "//..%2f")
	f.Fuzz(func(t *testing.T, method, path string) {
		n := normalizePath(path)
		if normalizePath(n) != n && !strings.Contains(n, "%") {
			t.Fatalf("not idempotent: %q -> %q", path, n)
		}
		segs := splitPath(n)
		for i := range rules {
			rules[i].match(method, segs)
		}
		_ = ambiguousPath(path)
	})
}
