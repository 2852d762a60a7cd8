package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
)

func with(m map[string]any, kv ...any) map[string]any {
	c := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	good := newEC(t, "good").jwk()
	other := newEC(t, "other").jwk()
	rsaKey := testRSA(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ed := map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64.EncodeToString(edPriv.Public().(ed25519.PublicKey))}
	ec := newEC(t, "withd")
	withPrivate := with(ec.jwk(), "d", b64.EncodeToString(ec.priv.D.FillBytes(make([]byte, 32))))
	offCurve := with(good, "kid", "off", "y", good["x"])

	for _, tc := range []struct {
		name     string
		extra    map[string]any
		keep     string // kid kept, "" when the key must be skipped
		private  bool
		fetched  bool // also test as fetched (oct refused)
		wantKty  string
		wantCrv  string
		wantAlg  string
		wantSkip string // substring of the skip reason
	}{
		{name: "EC P-256 kept", extra: with(good, "kid", "ec"), keep: "ec", wantKty: "EC", wantCrv: "P-256", wantAlg: "ES256"},
		{name: "RSA 2048 kept", extra: rsaJWK(&rsaKey.PublicKey, "rsa"), keep: "rsa", wantKty: "RSA", wantAlg: "RS256"},
		{name: "Ed25519 kept", extra: ed, keep: "ed", wantKty: "OKP", wantCrv: "Ed25519"},
		{name: "unknown kty", extra: map[string]any{"kty": "XYZ", "kid": "x"}, wantSkip: "unsupported kty"},
		{name: "missing kty", extra: map[string]any{"kid": "x"}, wantSkip: "no \"kty\""},
		{name: "use enc", extra: with(good, "kid", "enc", "use", "enc"), wantSkip: "use"},
		{name: "key_ops without verify", extra: with(good, "kid", "ops", "key_ops", []string{"encrypt"}), wantSkip: "key_ops"},
		{name: "key_ops with verify", extra: with(good, "kid", "ops", "key_ops", []string{"verify"}), keep: "ops", wantKty: "EC", wantCrv: "P-256", wantAlg: "ES256"},
		{name: "RSA below 2048 bits", extra: rsaJWK(&small.PublicKey, "small"), wantSkip: "2048"},
		{name: "off-curve EC point", extra: offCurve, wantSkip: "curve"},
		{name: "alg that does not fit the curve", extra: with(good, "kid", "es384", "alg", "ES384"), wantSkip: "does not fit"},
		{name: "alg of another key type", extra: with(good, "kid", "rs", "alg", "RS256"), wantSkip: "does not fit"},
		{name: "kid of the wrong type", extra: with(good, "kid", 5), wantSkip: "not a string"},
		{name: "private material: public part kept", extra: withPrivate, keep: "withd", private: true, wantKty: "EC", wantCrv: "P-256", wantAlg: "ES256"},
		{name: "symmetric key in a fetched set", extra: map[string]any{"kty": "oct", "kid": "hs", "k": b64.EncodeToString(make([]byte, 32))}, fetched: true, wantSkip: "HMAC secrets come only from configuration"},
		{name: "kty that does not match the material", extra: with(good, "kid", "wrongkty", "kty", "RSA"), wantSkip: "not a valid JWK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := jwksJSON(t, other, tc.extra)
			ps, err := parseJWKS(doc, !tc.fetched)
			if err != nil {
				t.Fatalf("parseJWKS: %v (one bad key must not fail the set)", err)
			}
			if len(ps.Keys) == 0 || ps.Keys[0].ID != "other" {
				t.Fatal("the good key of the set was lost")
			}
			if tc.keep == "" {
				if len(ps.Keys) != 1 || len(ps.Skipped) != 1 || !strings.Contains(ps.Skipped[0].Reason, tc.wantSkip) {
					t.Fatalf("keys=%d skipped=%+v, want the key skipped for %q", len(ps.Keys), ps.Skipped, tc.wantSkip)
				}
				return
			}
			if len(ps.Keys) != 2 || len(ps.Skipped) != 0 {
				t.Fatalf("keys=%d skipped=%+v, want the key kept", len(ps.Keys), ps.Skipped)
			}
			k := ps.Keys[1]
			if k.ID != tc.keep || k.Kty != tc.wantKty || k.Crv != tc.wantCrv || k.Alg != tc.wantAlg || k.Secret != nil || k.Static {
				t.Fatalf("key = %+v", k)
			}
			if (ps.PrivateMaterial == 1) != tc.private {
				t.Fatalf("PrivateMaterial = %d", ps.PrivateMaterial)
			}
			switch p := k.Public.(type) {
			case *ecdsa.PublicKey, ed25519.PublicKey, *rsa.PublicKey:
			default:
				t.Fatalf("Public is %T, want a public key", p)
			}
		})
	}
}

func TestParseJWKSDropsEveryKeyOfADuplicateKid(t *testing.T) {
	a, b, c := newEC(t, "dup").jwk(), newEC(t, "dup").jwk(), newEC(t, "solo").jwk()
	ps, err := parseJWKS(jwksJSON(t, a, c, b), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.Keys) != 1 || ps.Keys[0].ID != "solo" || len(ps.Skipped) != 2 {
		t.Fatalf("keys=%v skipped=%+v; want only solo", ps.Keys, ps.Skipped)
	}
	// A duplicate that is itself unusable still makes the kid ambiguous.
	ps, err = parseJWKS(jwksJSON(t, a, with(b, "use", "enc")), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.Keys) != 0 {
		t.Fatalf("kept %d keys of a duplicated kid", len(ps.Keys))
	}
}

func TestParseJWKSRefusesMalformedDocuments(t *testing.T) {
	good := string(jwksJSON(t, newEC(t, "k").jwk()))
	for name, doc := range map[string]string{
		"keys null":             `{"keys":null}`,
		"keys missing":          `{"other":[]}`,
		"keys an object":        `{"keys":{}}`,
		"keys a string":         `{"keys":"[]"}`,
		"truncated":             `{`,
		"empty":                 ``,
		"array":                 `[]`,
		"html":                  `<html></html>`,
		"trailing data":         good + `{}`,
		"trailing garbage":      good + `x`,
		"duplicate keys":        `{"keys":[],"keys":[]}`,
		"too many keys":         `{"keys":[` + strings.Repeat(`{},`, maxKeysPerSet) + `{}]}`,
		"top-level null":        `null`,
		"single JWK, not a set": string(must(json.Marshal(newEC(t, "k").jwk()))),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseJWKS([]byte(doc), false); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	// An entry that is not an object is one unusable key, not a broken set.
	if ps, err := parseJWKS([]byte(`{"keys":[1,"x",null,`+strings.TrimPrefix(good, `{"keys":[`)), false); err != nil || len(ps.Keys) != 1 || len(ps.Skipped) != 3 {
		t.Fatalf("parseJWKS with non-object entries = %+v, %v", ps, err)
	}
	// Unknown top-level members and whitespace are fine.
	if ps, err := parseJWKS([]byte(" {\"x\":1, \"keys\":"+strings.TrimPrefix(good, `{"keys":`)+"\n"), false); err != nil || len(ps.Keys) != 1 {
		t.Fatalf("parseJWKS = %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestKeyFits(t *testing.T) {
	ec := &Key{Kty: "EC", Crv: "P-256", Public: &ecdsa.PublicKey{}}
	pinned := &Key{Kty: "RSA", Alg: "PS256", Public: &rsa.PublicKey{}}
	secret := &Key{Kty: "oct", Secret: make([]byte, 48)}
	for _, tc := range []struct {
		k    *Key
		alg  string
		want bool
	}{
		{ec, "ES256", true}, {ec, "ES384", false}, {ec, "RS256", false}, {ec, "none", false}, {ec, "", false},
		{pinned, "PS256", true}, {pinned, "RS256", false},
		{secret, "HS256", true}, {secret, "HS384", true}, {secret, "HS512", false}, {secret, "RS256", false},
		{nil, "ES256", false},
	} {
		if got := tc.k.Fits(tc.alg); got != tc.want {
			t.Errorf("%+v.Fits(%q) = %v, want %v", tc.k, tc.alg, got, tc.want)
		}
	}
}

func pemOf(t *testing.T, typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestStaticKeys(t *testing.T) {
	rk := testRSA(t)
	ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	pkixDER := func(pub any) []byte { return must(x509.MarshalPKIXPublicKey(pub)) }
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	cert := must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rk.PublicKey, rk))
	secret := []byte(strings.Repeat("s3cr3t!!", 8)) // 64 bytes

	for _, tc := range []struct {
		name    string
		sk      config.StaticKey
		kid     string
		alg     string
		wantKty string
	}{
		{"PEM RSA (PKIX)", config.StaticKey{PEM: pemOf(t, "PUBLIC KEY", pkixDER(&rk.PublicKey)), KID: "r"}, "r", "RS256", "RSA"},
		{"PEM RSA (PKCS#1)", config.StaticKey{PEM: pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rk.PublicKey))}, "", "PS512", "RSA"},
		{"PEM EC P-384", config.StaticKey{PEM: pemOf(t, "PUBLIC KEY", pkixDER(&ek.PublicKey))}, "", "ES384", "EC"},
		{"PEM Ed25519", config.StaticKey{PEM: pemOf(t, "PUBLIC KEY", pkixDER(edPub))}, "", "EdDSA", "OKP"},
		{"PEM certificate", config.StaticKey{PEM: pemOf(t, "CERTIFICATE", cert), KID: "c"}, "c", "RS256", "RSA"},
		{"RSA n/e (APIM)", config.StaticKey{N: b64.EncodeToString(rk.N.Bytes()), E: "AQAB", KID: "ne"}, "ne", "RS256", "RSA"},
		{"HMAC secret", config.StaticKey{Secret: secret, KID: "hs"}, "hs", "HS512", "oct"},
		{"HMAC secret pinned to HS256", config.StaticKey{Secret: secret, Alg: "HS256"}, "", "HS256", "oct"},
		{"configured JWKS with a secret", config.StaticKey{JWKS: []byte(`{"keys":[{"kty":"oct","kid":"j","k":"` + b64.EncodeToString(secret) + `"}]}`)}, "j", "HS384", "oct"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, &config.Config{StaticKeys: []config.StaticKey{tc.sk}, Issuers: []string{"https://iss"}}, nil)
			k := mustLookup(t, s, "https://iss", tc.kid, tc.alg)
			if !k.Static || k.Kty != tc.wantKty {
				t.Fatalf("key = %+v", k)
			}
			if !s.Holds("https://iss", k) {
				t.Error("Holds(static key) = false")
			}
			if _, err := s.Lookup(bg, "https://other", tc.kid, tc.alg); !errors.Is(err, ErrIssuerUnknown) {
				t.Errorf("other issuer: %v", err)
			}
		})
	}

	t.Run("secret allows only HS algorithms", func(t *testing.T) {
		s, _ := newTestStore(t, &config.Config{StaticKeys: []config.StaticKey{{Secret: secret[:32]}}, Issuers: []string{"i"}}, nil)
		mustLookup(t, s, "i", "", "HS256")
		for _, alg := range []string{"HS384", "RS256", "ES256", "none"} {
			if _, err := s.Lookup(bg, "i", "", alg); !errors.Is(err, ErrKeyUnknown) {
				t.Errorf("%s: %v, want ErrKeyUnknown", alg, err)
			}
		}
	})
	t.Run("static key restricted to its own issuers", func(t *testing.T) {
		cfg := &config.Config{Issuers: []string{"a", "b"}, StaticKeys: []config.StaticKey{{Secret: secret, Issuers: []string{"b"}}}}
		s, _ := newTestStore(t, cfg, nil)
		mustLookup(t, s, "b", "", "HS256")
		if _, err := s.Lookup(bg, "a", "", "HS256"); !errors.Is(err, ErrIssuerUnknown) {
			t.Fatalf("issuer a: %v", err)
		}
	})
}

func TestStaticKeysRefused(t *testing.T) {
	rk := testRSA(t)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	secret := []byte("0123456789abcdef0123456789abcdef-do-not-print-me")
	privDER := must(x509.MarshalPKCS8PrivateKey(rk))
	ec := newEC(t, "e")
	for _, tc := range []struct {
		name string
		sk   config.StaticKey
		want string
	}{
		{"nothing", config.StaticKey{KID: "x"}, "exactly one"},
		{"two kinds", config.StaticKey{Secret: secret, N: "AQAB", E: "AQAB"}, "exactly one"},
		{"short secret", config.StaticKey{Secret: []byte("short")}, "shorter than 32"},
		{"alg does not fit secret", config.StaticKey{Secret: secret, Alg: "RS256"}, "does not fit"},
		{"HS512 with a 48-byte secret", config.StaticKey{Secret: secret, Alg: "HS512"}, "does not fit"},
		{"private PEM", config.StaticKey{PEM: pemOf(t, "PRIVATE KEY", privDER)}, "private key"},
		{"garbage PEM", config.StaticKey{PEM: []byte("not pem")}, "no PEM block"},
		{"small RSA n/e", config.StaticKey{N: b64.EncodeToString(small.N.Bytes()), E: "AQAB"}, "2048"},
		{"n/e exponent 1", config.StaticKey{N: b64.EncodeToString(rk.N.Bytes()), E: "AQ"}, "exponent"},
		{"n/e not base64", config.StaticKey{N: "!!!", E: "AQAB"}, "base64"},
		{"JWKS with private material", config.StaticKey{JWKS: jwksJSON(t, with(ec.jwk(), "d", b64.EncodeToString(ec.priv.D.FillBytes(make([]byte, 32)))))}, "private"},
		{"JWKS with an unusable key", config.StaticKey{JWKS: jwksJSON(t, with(ec.jwk(), "use", "enc"))}, "unusable"},
		{"JWKS mixing secret and public keys", config.StaticKey{JWKS: []byte(`{"keys":[{"kty":"oct","kid":"s","k":"` + b64.EncodeToString(secret) + `"},` + string(must(json.Marshal(ec.jwk()))) + `]}`)}, "mixes"},
		{"JWKS with a kid", config.StaticKey{JWKS: jwksJSON(t, ec.jwk()), KID: "x"}, "kid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewStore(&config.Config{StaticKeys: []config.StaticKey{tc.sk}, Issuers: []string{"i"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewStore = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "do-not-print-me") || strings.Contains(err.Error(), b64.EncodeToString(secret)) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestStaticKeysWithoutIssuersServeAnyIssuer(t *testing.T) {
	s, _ := newTestStore(t, &config.Config{StaticKeys: []config.StaticKey{{Secret: make([]byte, 32)}}}, nil)
	mustLookup(t, s, "whatever", "", "HS256")
}

func TestROCAFingerprint(t *testing.T) {
	if rocaWeak(testRSA(t).N) {
		t.Fatal("a freshly generated modulus was flagged as ROCA-weak")
	}
	// A product of two primes of the form k·M + 65537^a mod M (M = the
	// primorial of the fingerprint primes) always carries the fingerprint.
	m := big.NewInt(1)
	for _, p := range rocaPrimes {
		m.Mul(m, big.NewInt(p))
	}
	g := big.NewInt(65537)
	a := new(big.Int).Exp(g, big.NewInt(11), m)
	b := new(big.Int).Exp(g, big.NewInt(29), m)
	n := new(big.Int).Mul(new(big.Int).Add(new(big.Int).Mul(big.NewInt(7), m), a), new(big.Int).Add(new(big.Int).Mul(big.NewInt(3), m), b))
	if !rocaWeak(n) {
		t.Fatal("a ROCA-structured modulus was not flagged")
	}
}

func FuzzParseJWKS(f *testing.F) {
	f.Add(jwksJSON(f, newEC(f, "k").jwk()))
	f.Add(jwksJSON(f, rsaJWK(&testRSA(f).PublicKey, "r")))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}],"keys":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, allowOct := range []bool{false, true} {
			ps, err := parseJWKS(data, allowOct)
			if err != nil {
				continue
			}
			seen := map[string]bool{}
			for _, k := range ps.Keys {
				if k.ID != "" && seen[k.ID] {
					t.Fatalf("duplicate kid %q kept", k.ID)
				}
				seen[k.ID] = true
				switch k.Kty {
				case "oct":
					if !allowOct || len(k.Secret) < minSecretBytes || k.Public != nil {
						t.Fatalf("bad symmetric key %+v", k)
					}
				case "RSA", "EC", "OKP":
					if k.Public == nil || k.Secret != nil {
						t.Fatalf("bad public key %+v", k)
					}
				default:
					t.Fatalf("kty %q kept", k.Kty)
				}
				if k.Alg != "" && !k.Fits(k.Alg) {
					t.Fatalf("key kept with an alg it does not fit: %+v", k)
				}
			}
		}
	})
}
