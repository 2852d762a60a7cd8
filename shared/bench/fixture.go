// Package bench measures jwtgate side by side with the cryptographic floor
// and with peer JWT libraries (jwx v3, golang-jwt v5, go-jose v4) on the
// same tokens. It is a nested module so that the peers never enter the
// product's go.mod.
//
// The benchmarks live in bench_test.go; cmd/benchtable turns `go test
// -bench` output into one comparison table; cmd/coldstart measures the
// Lambda bootstrap's size and start-up; cmd/loadgen measures the Azure
// handler's throughput over loopback HTTP. `make bench` runs all of it.
package bench

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Values every fixture token carries: an Auth0-like tenant and API.
const (
	Issuer        = "https://jwtgate-bench.eu.auth0.com/"
	Audience      = "https://api.example.com/orders"
	UserinfoAud   = "https://jwtgate-bench.eu.auth0.com/userinfo"
	RequiredScope = "read:orders"
)

// Algs are the algorithms the benchmarks cover, in table order.
var Algs = []string{"RS256", "ES256", "EdDSA"}

// Fixture is a set of signing keys (one per algorithm), their public JWKS
// and tokens minted with them.
type Fixture struct {
	Keys map[string]jwk.Key // private, by algorithm
	JWKS []byte             // public keys of every algorithm
	Now  time.Time
}

// NewFixture generates one key per algorithm in Algs.
func NewFixture() (*Fixture, error) {
	f := &Fixture{Keys: map[string]jwk.Key{}, Now: time.Now()}
	set := jwk.NewSet()
	for _, alg := range Algs {
		k, err := devissuer.GenerateKeyFor(alg)
		if err != nil {
			return nil, err
		}
		f.Keys[alg] = k
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("bench: public key: %w", err)
		}
		if err := set.AddKey(pub); err != nil {
			return nil, fmt.Errorf("bench: add key: %w", err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("bench: encode JWKS: %w", err)
	}
	f.JWKS = b
	return f, nil
}

// Claims returns realistic Auth0 access-token claims (about 600 bytes of
// JSON) with a random jti, so every call yields a distinct token.
func (f *Fixture) Claims() map[string]any {
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	iat := f.Now.Add(-time.Minute).Unix()
	return map[string]any{
		"iss":                        Issuer,
		"sub":                        "auth0|64f1c2e8a9b3d4e5f6a7b8c9",
		"aud":                        []string{Audience, UserinfoAud},
		"iat":                        iat,
		"exp":                        iat + 86400,
		"azp":                        "Xq3mB7tKp9vW2yZ5aC8dF1gH4jL6nR0s",
		"scope":                      "openid profile email read:orders write:orders read:invoices offline_access",
		"permissions":                []string{"read:orders", "write:orders", "read:invoices", "read:customers"},
		"jti":                        hex.EncodeToString(jti[:]),
		"https://example.com/roles":  []string{"order-manager", "billing-viewer"},
		"https://example.com/email":  "jane.doe@example.com",
		"https://example.com/tenant": "acme-eu-west",
		"https://example.com/org_id": "org_9fK2LmQ7pX4sT1vB",
	}
}

// Mint signs fresh claims with the key for alg.
func (f *Fixture) Mint(alg string) (string, error) {
	k, ok := f.Keys[alg]
	if !ok {
		return "", fmt.Errorf("bench: no key for %s", alg)
	}
	return devissuer.Sign(k, f.Claims(), nil)
}

// MintN mints n distinct tokens with the key for alg.
func (f *Fixture) MintN(alg string, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		t, err := f.Mint(alg)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// Config is the jwtgate configuration matching the fixture: the JWKS as a
// static key, the Auth0 issuer and API audience, and a required scope. It
// passes config.Validate.
func (f *Fixture) Config() (*config.Config, error) {
	cfg := config.Default()
	cfg.StaticKeys = []config.StaticKey{{JWKS: f.JWKS}}
	cfg.Issuers = []string{Issuer}
	cfg.Audiences = []string{Audience}
	cfg.RequiredScopes = []string{RequiredScope}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Env is the environment that configures a jwtgate binary (Lambda
// bootstrap or Azure handler) like Config, with the JWKS inline so start-up
// needs no network.
func (f *Fixture) Env() []string {
	return []string{
		"JWTGATE_JWKS=" + string(f.JWKS),
		"JWTGATE_ISSUERS=" + Issuer,
		"JWTGATE_AUDIENCES=" + Audience,
		"JWTGATE_REQUIRED_SCOPES=" + RequiredScope,
	}
}

// Request is the decision request an adapter builds for a bearer token on
// GET /orders/42.
func Request(tok string) *decision.Request {
	return &decision.Request{
		Header: http.Header{"Authorization": {"Bearer " + tok}},
		Method: http.MethodGet,
		Path:   "/orders/42",
	}
}
