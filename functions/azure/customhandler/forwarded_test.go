package customhandler

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestGatherForwardedFindsEveryNameInAnyCase: gatherForwarded picks a
// name by its length before comparing it, so the five names must keep
// five different lengths, and each must be found under any spelling, its
// values from every spelling kept, the header's own slices never written.
func TestGatherForwardedFindsEveryNameInAnyCase(t *testing.T) {
	names := []string{HeaderForwardedMethod, HeaderForwardedURI, HeaderOriginalMethod, HeaderOriginalURI, HeaderForwardedHost}
	lengths := map[int]string{}
	for _, n := range names {
		if other, dup := lengths[len(n)]; dup {
			t.Fatalf("%s and %s have the same length: gatherForwarded cannot tell them apart", n, other)
		}
		lengths[len(n)] = n
	}
	get := func(v *forwardValues, name string) []string {
		return map[string][]string{
			HeaderForwardedMethod: v.fwdMethod, HeaderForwardedURI: v.fwdURI,
			HeaderOriginalMethod: v.origMethod, HeaderOriginalURI: v.origURI, HeaderForwardedHost: v.fwdHost,
		}[name]
	}
	for _, n := range names {
		first := []string{"a", "spare"} // room after "a": an append in place would overwrite "spare"
		h := http.Header{
			http.CanonicalHeaderKey(n): first[:1],
			strings.ToLower(n):         {"b"},
			strings.ToUpper(n):         {"c"},
			"X-Unrelated-Header-1":     {"x"}, // same length as no name, or as one: must not be taken
			n + "x":                    {"y"},
		}
		v := gatherForwarded(h)
		got := slices.Clone(get(&v, n))
		slices.Sort(got)
		if !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Errorf("%s: gathered %q, want a, b, c", n, got)
		}
		if first[0] != "a" || first[1] != "spare" || len(h[http.CanonicalHeaderKey(n)]) != 1 {
			t.Errorf("%s: the header's own values were changed", n)
		}
		for _, other := range names {
			if other != n && len(get(&v, other)) != 0 {
				t.Errorf("%s: also gathered under %s: %q", n, other, get(&v, other))
			}
		}
	}
}
