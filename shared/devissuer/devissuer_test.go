package devissuer

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, b
}

func start(t *testing.T, opts ...Option) *Issuer {
	t.Helper()
	iss, err := Start(opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	return iss
}

func fetchSet(t *testing.T, iss *Issuer) jwk.Set {
	t.Helper()
	status, body := get(t, iss.JWKSURL())
	if status != http.StatusOK {
		t.Fatalf("JWKS status %d", status)
	}
	if strings.Contains(string(body), `"d"`) {
		t.Fatalf("JWKS leaks private material: %s", body)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		t.Fatalf("parse JWKS: %v", err)
	}
	return set
}

func header(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("decode header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("header JSON: %v", err)
	}
	return h
}

func TestDiscoveryAnnouncesItsOwnURLAndJWKS(t *testing.T) {
	iss := start(t)
	status, body := get(t, iss.DiscoveryURL())
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != iss.URL() || doc.JWKSURI != iss.JWKSURL() {
		t.Fatalf("discovery = %+v, want issuer %s jwks %s", doc, iss.URL(), iss.JWKSURL())
	}
	if !strings.HasPrefix(iss.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %s is not loopback", iss.URL())
	}
	if iss.DiscoveryRequests() != 1 || iss.JWKSRequests() != 0 {
		t.Fatalf("counts discovery=%d jwks=%d", iss.DiscoveryRequests(), iss.JWKSRequests())
	}
}

func TestMintedTokenVerifiesWithPublishedKey(t *testing.T) {
	iss := start(t, WithGeneratedKeys("ES256", "EdDSA"))
	set := fetchSet(t, iss)
	if set.Len() != 3 {
		t.Fatalf("JWKS has %d keys, want 3", set.Len())
	}
	for _, alg := range []string{"", "ES256", "EdDSA"} {
		var opts []MintOption
		if alg != "" {
			opts = append(opts, MintAlg(alg))
		}
		tok, err := iss.Mint(map[string]any{"sub": "alice", "exp": 4102444800}, opts...)
		if err != nil {
			t.Fatalf("Mint %s: %v", alg, err)
		}
		payload, err := jws.Verify([]byte(tok), jws.WithKeySet(set, jws.WithRequireKid(true)))
		if err != nil {
			t.Fatalf("verify %s token: %v", alg, err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if claims["iss"] != iss.URL() || claims["sub"] != "alice" {
			t.Fatalf("claims %v", claims)
		}
		h := header(t, tok)
		want := alg
		if want == "" {
			want = "RS256"
		}
		if h["alg"] != want || h["kid"] == "" || h["typ"] != "JWT" {
			t.Fatalf("header %v, want alg %s with kid and typ", h, want)
		}
	}
	if iss.JWKSRequests() != 1 {
		t.Fatalf("JWKS requests = %d, want 1", iss.JWKSRequests())
	}
}

func TestMintOptionsShapeTheToken(t *testing.T) {
	iss := start(t)
	other, err := GenerateKeyFor("RS256")
	if err != nil {
		t.Fatal(err)
	}
	otherKID, _ := other.KeyID()
	tests := []struct {
		name    string
		opts    []MintOption
		claims  map[string]any
		wantHdr map[string]any
		noHdr   []string
		wantIss any
	}{
		{name: "header override replaces typ", opts: []MintOption{MintHeader("typ", "at+jwt")}, wantHdr: map[string]any{"typ": "at+jwt"}, wantIss: iss.URL()},
		{name: "nil header removes kid", opts: []MintOption{MintHeader("kid", nil)}, noHdr: []string{"kid"}, wantIss: iss.URL()},
		{name: "explicit iss is kept", claims: map[string]any{"iss": "https://elsewhere/"}, wantIss: "https://elsewhere/"},
		{name: "raw leaves iss out", opts: []MintOption{MintRaw()}, wantIss: nil},
		{name: "unpublished key sets its own kid", opts: []MintOption{MintWithKey(other)}, wantHdr: map[string]any{"kid": otherKID}, wantIss: iss.URL()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims := tc.claims
			if claims == nil {
				claims = map[string]any{"sub": "x"}
			}
			tok, err := iss.Mint(claims, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			h := header(t, tok)
			for k, v := range tc.wantHdr {
				if h[k] != v {
					t.Errorf("header %s = %v, want %v", k, h[k], v)
				}
			}
			for _, k := range tc.noHdr {
				if _, ok := h[k]; ok {
					t.Errorf("header has %s", k)
				}
			}
			pb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
			var c map[string]any
			_ = json.Unmarshal(pb, &c)
			if c["iss"] != tc.wantIss {
				t.Errorf("iss = %v, want %v", c["iss"], tc.wantIss)
			}
		})
	}
}

func TestMintUnknownAlgOrKidFails(t *testing.T) {
	iss := start(t)
	if _, err := iss.Mint(map[string]any{}, MintAlg("ES256")); err == nil {
		t.Error("MintAlg(ES256) without an ES256 key succeeded")
	}
	if _, err := iss.Mint(map[string]any{}, MintKeyID("nope")); err == nil {
		t.Error("MintKeyID(nope) succeeded")
	}
}

func TestSetDownAnswers500AndStillCounts(t *testing.T) {
	iss := start(t)
	iss.SetDown(true)
	for _, u := range []string{iss.DiscoveryURL(), iss.JWKSURL()} {
		if status, _ := get(t, u); status != http.StatusInternalServerError {
			t.Errorf("%s while down: status %d, want 500", u, status)
		}
	}
	iss.SetDown(false)
	if status, _ := get(t, iss.JWKSURL()); status != http.StatusOK {
		t.Errorf("JWKS after recovery: status %d", status)
	}
	if iss.DiscoveryRequests() != 1 || iss.JWKSRequests() != 2 {
		t.Errorf("counts discovery=%d jwks=%d, want 1 and 2", iss.DiscoveryRequests(), iss.JWKSRequests())
	}
}

func TestRotatePublishesNewKeyAndSignsWithIt(t *testing.T) {
	iss := start(t)
	oldKID, _ := iss.SigningKey().KeyID()
	next, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := iss.Rotate(next); err != nil {
		t.Fatal(err)
	}
	nextKID, _ := next.KeyID()
	tok, err := iss.Mint(map[string]any{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if h := header(t, tok); h["kid"] != nextKID {
		t.Fatalf("kid %v, want rotated %s", h["kid"], nextKID)
	}
	if n := fetchSet(t, iss).Len(); n != 2 {
		t.Fatalf("after rotate JWKS has %d keys, want 2", n)
	}
	iss.RemoveKey(oldKID)
	set := fetchSet(t, iss)
	if _, ok := set.LookupKeyID(oldKID); ok || set.Len() != 1 {
		t.Fatalf("old key still published (len %d)", set.Len())
	}
}

func TestFixedAddress(t *testing.T) {
	probe, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(probe.URL(), "http://")
	_ = probe.Close()
	iss := start(t, WithAddr(addr), WithIssuer("http://"+addr+"/"))
	if iss.URL() != "http://"+addr {
		t.Fatalf("URL %s, want http://%s", iss.URL(), addr)
	}
	if iss.Issuer() != "http://"+addr+"/" {
		t.Fatalf("Issuer %s", iss.Issuer())
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	k, err := GenerateKeyFor("ES256")
	if err != nil {
		t.Fatal(err)
	}
	b, err := MarshalKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "k.jwk.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadKey(path)
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}
	if !jwk.Equal(k, got) {
		t.Fatal("loaded key differs")
	}
	if a, _ := got.Algorithm(); a != jwa.ES256() {
		t.Fatalf("alg %v", a)
	}
}

func TestParseKeyRejects(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := k.PublicKey()
	pubJSON, _ := json.Marshal(pub)
	noKID, _ := k.Clone()
	_ = noKID.Remove(jwk.KeyIDKey)
	noKIDJSON, _ := json.Marshal(noKID)
	noAlg, _ := k.Clone()
	_ = noAlg.Remove(jwk.AlgorithmKey)
	noAlgJSON, _ := json.Marshal(noAlg)
	tests := map[string][]byte{
		"public key":  pubJSON,
		"no kid":      noKIDJSON,
		"no alg":      noAlgJSON,
		"not json":    []byte("{"),
		"empty set":   []byte(`{"keys":[]}`),
		"not a key":   []byte(`{"kty":"nope"}`),
		"plain array": []byte(`[]`),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseKey(b); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	k, _ := GenerateKeyFor("EdDSA")
	b, _ := MarshalKey(k)
	f.Add(b)
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA","kid":"a","alg":"HS256"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if err == nil && k == nil {
			t.Fatal("nil key without error")
		}
	})
}
