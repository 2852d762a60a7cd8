package keys

import (
	"slices"
	"sort"
)

// SourceOf names the configured source that holds k for issuer iss: the
// discovery or JWKS URL (credentials and query redacted), "static key N"
// or, for keys from JWTGATE_SEED_JWKS not yet replaced by a fetch, the
// source with "(seed keys)". It is for explanations, not the request path.
func (s *Store) SourceOf(iss string, k *Key) string {
	if k == nil {
		return ""
	}
	fixed, anyIss, disc := s.candidates(iss)
	for _, group := range [3][]*source{fixed, anyIss, disc} {
		for _, src := range group {
			snap := src.snap.Load()
			if snap == nil || !slices.Contains(snap.keys, k) {
				continue
			}
			name := src.kindName() + " " + src.name
			if src.kind == kindStatic {
				name = src.name
			}
			if snap.seed {
				name += " (seed keys)"
			}
			return name
		}
	}
	return ""
}

// SourceInfo describes one configured key source for `config`.
type SourceInfo struct {
	// Kind is "discovery", "jwks" or "static".
	Kind string `json:"kind"`
	// Name is the redacted URL, or "static key N".
	Name string `json:"name"`
	// Issuers are the issuers whose tokens the source's keys verify. A
	// discovery source serves the issuer its document announces (before
	// the first fetch: the one its URL stands for).
	Issuers []string `json:"issuers,omitempty"`
	// AnyIssuer: static keys with no issuers configured anywhere serve
	// every issuer that no discovery source serves.
	AnyIssuer bool `json:"any_issuer,omitempty"`
	// Keys counts the keys currently held (0 before the first fetch).
	Keys int `json:"keys"`
	// Seed: the keys held are JWTGATE_SEED_JWKS, not yet fetched.
	Seed bool `json:"seed,omitempty"`
}

// Sources lists every configured key source, in configuration order, with
// the issuers it serves. It makes no network call.
func (s *Store) Sources() []SourceInfo {
	issuers := map[*source][]string{}
	for iss, srcs := range s.byIssuer {
		for _, src := range srcs {
			issuers[src] = append(issuers[src], iss)
		}
	}
	out := make([]SourceInfo, 0, len(s.sources))
	for _, src := range s.sources {
		info := SourceInfo{Kind: src.kindName(), Name: src.name, Issuers: issuers[src]}
		sort.Strings(info.Issuers)
		if slices.Contains(s.anyIss, src) {
			info.AnyIssuer = true
		}
		if snap := src.snap.Load(); snap != nil {
			info.Keys, info.Seed = len(snap.keys), snap.seed
			if src.kind == kindDiscovery && snap.issuer != "" {
				info.Issuers = []string{snap.issuer}
			}
		}
		if src.kind == kindDiscovery && len(info.Issuers) == 0 {
			info.Issuers = []string{src.want}
		}
		out = append(out, info)
	}
	return out
}

func (src *source) kindName() string {
	switch src.kind {
	case kindDiscovery:
		return "discovery"
	case kindJWKS:
		return "jwks"
	}
	return "static"
}
