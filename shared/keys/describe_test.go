package keys

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
)

// TestSourcesNameWhatServesWhichIssuer: Sources lists each configured
// source with the issuers it serves, without a network call, and SourceOf
// names the source a looked-up key came from.
func TestSourcesNameWhatServesWhichIssuer(t *testing.T) {
	const issA, issB, internal = "https://a.example/", "https://b.example/", "https://internal.example"
	cfg := &config.Config{
		OpenIDConfigURLs: []string{"https://login.example/tenant/.well-known/openid-configuration"},
		Issuers:          []string{"https://login.example/tenant", issA, issB, internal},
		JWKSSources: []config.JWKSSource{
			{URL: "https://a.example/jwks?token=hidden", Issuers: []string{issA}},
			{URL: "https://b.example/jwks", Issuers: []string{issB}},
		},
		StaticKeys: []config.StaticKey{{Secret: []byte(strings.Repeat("s", 32)), KID: "hs", Issuers: []string{internal}}},
	}
	s, err := NewStore(cfg, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	want := []SourceInfo{
		{Kind: "discovery", Name: "https://login.example/tenant/.well-known/openid-configuration", Issuers: []string{"https://login.example/tenant"}},
		{Kind: "jwks", Name: "https://a.example/jwks?…", Issuers: []string{issA}},
		{Kind: "jwks", Name: "https://b.example/jwks", Issuers: []string{issB}},
		{Kind: "static", Name: "static key 1", Issuers: []string{internal}, Keys: 1},
	}
	if got := s.Sources(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Sources =\n %+v\nwant\n %+v", got, want)
	}
	k, err := s.Lookup(context.Background(), internal, "hs", "HS256")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.SourceOf(internal, k); got != "static key 1" {
		t.Fatalf("SourceOf = %q", got)
	}
	if got := s.SourceOf(issA, k); got != "" {
		t.Fatalf("SourceOf for another issuer = %q, want none", got)
	}
}
