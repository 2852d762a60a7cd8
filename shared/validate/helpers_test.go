package validate

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/keys"
)

const testIssuer = "https://tenant.example.auth0.com/"

var (
	keyOnce  sync.Once
	rsaKey   *rsa.PrivateKey
	rsaOther *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keyOnce.Do(func() {
		rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsaOther, _ = rsa.GenerateKey(rand.Reader, 2048)
		ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, edKey, _ = ed25519.GenerateKey(rand.Reader)
	})
}

// fakeKeys is a KeySource with fixed keys per issuer.
type fakeKeys struct {
	mu      sync.Mutex
	byKID   map[string]*keys.Key
	issuer  string
	err     error // returned by every Lookup when set
	lookups int
	removed map[*keys.Key]bool
}

func (f *fakeKeys) Lookup(_ context.Context, iss, kid, alg string) (*keys.Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.err != nil {
		return nil, f.err
	}
	if iss != f.issuer {
		return nil, keys.ErrIssuerUnknown
	}
	k, ok := f.byKID[kid]
	if !ok {
		return nil, keys.ErrKeyUnknown
	}
	return k, nil
}

func (f *fakeKeys) Holds(iss string, k *keys.Key) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return iss == f.issuer && !f.removed[k]
}

func newFakeKeys(t testing.TB) *fakeKeys {
	testKeys(t)
	return &fakeKeys{
		issuer:  testIssuer,
		removed: map[*keys.Key]bool{},
		byKID: map[string]*keys.Key{
			"rsa1":       {ID: "rsa1", Kty: "RSA", Public: &rsaKey.PublicKey},
			"rsa-pinned": {ID: "rsa-pinned", Kty: "RSA", Alg: "RS256", Public: &rsaKey.PublicKey},
			"ec1":        {ID: "ec1", Kty: "EC", Crv: "P-256", Public: &ecKey.PublicKey},
			"ed1":        {ID: "ed1", Kty: "OKP", Crv: "Ed25519", Public: edKey.Public()},
			"hs1":        {ID: "hs1", Kty: "oct", Static: true, Secret: []byte("0123456789abcdef0123456789abcdef")},
		},
	}
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sign builds a compact JWS over the given raw header and payload JSON.
func sign(t testing.TB, alg string, header, payload []byte) string {
	t.Helper()
	testKeys(t)
	in := b64u(header) + "." + b64u(payload)
	h := sha256.Sum256([]byte(in))
	var sig []byte
	var err error
	switch alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, h[:])
	case "RS256-other":
		sig, err = rsa.SignPKCS1v15(rand.Reader, rsaOther, crypto.SHA256, h[:])
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256":
		r, s, e := ecdsa.Sign(rand.Reader, ecKey, h[:])
		err = e
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case "ES256-DER":
		sig, err = ecdsa.SignASN1(rand.Reader, ecKey, h[:])
	case "EdDSA":
		sig = ed25519.Sign(edKey, []byte(in))
	case "HS256":
		m := hmac.New(sha256.New, []byte("0123456789abcdef0123456789abcdef"))
		m.Write([]byte(in))
		sig = m.Sum(nil)
	case "none":
		sig = nil
	default:
		t.Fatalf("sign: unknown alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + b64u(sig)
}

// claims returns a valid claim set at time now, with overrides applied
// (a nil value deletes the claim).
func claims(now time.Time, over map[string]any) map[string]any {
	c := map[string]any{
		"iss":         testIssuer,
		"sub":         "auth0|user1",
		"aud":         []string{"https://api.example.com", testIssuer + "userinfo"},
		"exp":         now.Add(time.Hour).Unix(),
		"iat":         now.Add(-time.Minute).Unix(),
		"scope":       "openid read:orders",
		"azp":         "client-1",
		"permissions": []string{"read:orders", "write:orders"},
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func baseConfig() *config.Config {
	return &config.Config{
		Issuers:           []string{testIssuer},
		Audiences:         []string{"https://api.example.com"},
		Algorithms:        []string{"RS256", "PS256", "ES256", "EdDSA"},
		ClockSkew:         30 * time.Second,
		RequireExpiration: true,
		HeaderName:        "Authorization",
		Scheme:            "Bearer",
		MaxTokenBytes:     16 << 10,
		TokenCacheSize:    100,
		TokenCacheMaxTTL:  5 * time.Minute,
	}
}

func decodeForBench(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
