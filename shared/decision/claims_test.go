package decision

import "testing"

type countingSource struct {
	calls int
	m     map[string]any
}

func (s *countingSource) ForwardedClaims() map[string]any { s.calls++; return s.m }

func TestClaims(t *testing.T) {
	var zero Claims
	if zero.Map() != nil || zero.Len() != 0 {
		t.Fatalf("zero Claims = %v", zero.Map())
	}
	if _, ok := zero.Get("sub"); ok {
		t.Fatal("zero Claims has sub")
	}
	c := ClaimsOf(map[string]any{"sub": "u1"})
	if v, ok := c.Get("sub"); !ok || v != "u1" || c.Len() != 1 {
		t.Fatalf("ClaimsOf: Get(sub) = %v, %v; Len %d", v, ok, c.Len())
	}
	m := c.Clone()
	m["sub"] = "other"
	if v, _ := c.Get("sub"); v != "u1" {
		t.Fatal("Clone shares the map")
	}
	src := &countingSource{m: map[string]any{"iss": "https://i/"}}
	l := LazyClaims(src)
	if src.calls != 0 {
		t.Fatal("LazyClaims built the map eagerly")
	}
	if v, ok := l.Get("iss"); !ok || v != "https://i/" {
		t.Fatalf("LazyClaims: Get(iss) = %v, %v", v, ok)
	}
	if src.calls != 1 {
		t.Fatalf("source asked %d times", src.calls)
	}
}
