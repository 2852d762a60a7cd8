package decision

import "maps"

// ClaimSource builds the forwarded claims on demand. The core's verified
// tokens implement it, so a decision nobody forwards (a refusal, a benchmark,
// a caller that reads only the outcome) never builds the map.
type ClaimSource interface {
	// ForwardedClaims returns the claims, built at most once per source;
	// the map is shared: read-only.
	ForwardedClaims() map[string]any
}

// Claims is the set of claims a decision forwards (sub, iss, scope, the
// client id and the configured ones), flattened to string, int64/float64 or
// bool values (arrays joined with a space, objects as JSON text). It is
// built on first use; the zero Claims is empty.
type Claims struct {
	m   map[string]any
	src ClaimSource
}

// ClaimsOf wraps a ready map (adapters' tests, hand-built decisions). The
// map is not copied.
func ClaimsOf(m map[string]any) Claims { return Claims{m: m} }

// LazyClaims defers the map to src, built the first time it is read.
func LazyClaims(src ClaimSource) Claims { return Claims{src: src} }

// Map returns the claims as a map (nil when there are none). It is shared
// with other decisions for the same token: read-only (use Clone to change it).
func (c Claims) Map() map[string]any {
	if c.m == nil && c.src != nil {
		return c.src.ForwardedClaims()
	}
	return c.m
}

// Get returns one claim's value and whether the decision forwards it.
func (c Claims) Get(name string) (any, bool) {
	v, ok := c.Map()[name]
	return v, ok
}

// Len is the number of forwarded claims.
func (c Claims) Len() int { return len(c.Map()) }

// Clone returns a copy of the map that the caller may change.
func (c Claims) Clone() map[string]any { return maps.Clone(c.Map()) }
