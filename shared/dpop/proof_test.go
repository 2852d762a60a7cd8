package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/token"
)

var (
	now      = time.Unix(1_800_000_000, 0)
	reqURL   = "https://api.example.com/orders/42"
	accessTk = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"
)

func allowDefault(a *token.Algorithm) bool {
	for _, n := range config.DefaultDPoPAlgorithms {
		if n == a.Name {
			return true
		}
	}
	return false
}

func expect() Expect {
	return Expect{Method: "GET", URL: reqURL, AccessToken: accessTk, Now: now, MaxAge: 60 * time.Second, Skew: 5 * time.Second}
}

func signer(t testing.TB, alg string) *devissuer.ProofSigner {
	t.Helper()
	s, err := devissuer.NewProofSigner(alg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestProofAcceptedForEveryDefaultAlgorithm(t *testing.T) {
	for _, alg := range config.DefaultDPoPAlgorithms {
		t.Run(alg, func(t *testing.T) {
			s := signer(t, alg)
			raw, err := s.Proof("GET", reqURL, accessTk, now, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, terr := Parse(raw, allowDefault)
			if terr != nil {
				t.Fatalf("Parse: %v", terr)
			}
			if p.Thumbprint != s.JKT {
				t.Fatalf("thumbprint %q, the client's key says %q", p.Thumbprint, s.JKT)
			}
			if terr := p.Check(expect()); terr != nil {
				t.Fatalf("Check: %v", terr)
			}
		})
	}
}

// TestRFC7638Thumbprint checks the thumbprint against RFC 7638 §3.1's
// example key.
func TestRFC7638Thumbprint(t *testing.T) {
	jwk := `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	got, err := Thumbprint([]byte(jwk))
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("thumbprint %q, RFC 7638 says %q", got, want)
	}
}

func TestProofRefused(t *testing.T) {
	es := signer(t, "ES256")
	hs, err := devissuer.GenerateKeyFor("HS256")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privJWK := es.PublicJWK()
	privJWK["d"] = base64.RawURLEncoding.EncodeToString(priv.D.FillBytes(make([]byte, 32)))
	other := signer(t, "ES256")
	mk := func(claims, headers map[string]any) string {
		raw, err := es.Proof("GET", reqURL, accessTk, now, claims, headers)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	cases := []struct {
		name  string
		proof string
	}{
		{"not a JWS", "abc"},
		{"larger than 8 KiB", strings.Repeat("a", MaxProofBytes+1)},
		{"typ is JWT", mk(nil, map[string]any{"typ": "JWT"})},
		{"no typ", mk(nil, map[string]any{"typ": nil})},
		{"no jwk", mk(nil, map[string]any{"jwk": nil})},
		{"jwk is a string", mk(nil, map[string]any{"jwk": "x"})},
		{"jwk with private d", mk(nil, map[string]any{"jwk": privJWK})},
		{"jwk of another key", mk(nil, map[string]any{"jwk": other.PublicJWK()})},
		{"alg none", mk(nil, map[string]any{"alg": "none"})},
		{"alg ES384 over a P-256 key", mk(nil, map[string]any{"alg": "ES384"})},
		{"crit header", mk(nil, map[string]any{"crit": []string{"x"}})},
		{"no jti", mk(map[string]any{"jti": nil}, nil)},
		{"empty jti", mk(map[string]any{"jti": ""}, nil)},
		{"jti too long", mk(map[string]any{"jti": strings.Repeat("j", 257)}, nil)},
		{"numeric jti", mk(map[string]any{"jti": 7}, nil)},
		{"no htm", mk(map[string]any{"htm": nil}, nil)},
		{"no htu", mk(map[string]any{"htu": nil}, nil)},
		{"no iat", mk(map[string]any{"iat": nil}, nil)},
		{"string iat", mk(map[string]any{"iat": "1800000000"}, nil)},
		{"numeric ath", mk(map[string]any{"ath": 1}, nil)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, terr := Parse(c.proof, allowDefault)
			if terr == nil || terr.Reason != decision.DPoPProofInvalid {
				t.Fatalf("got %v, want dpop_proof_invalid", terr)
			}
		})
	}
	t.Run("HS256 proof", func(t *testing.T) {
		raw, err := devissuer.Sign(hs, map[string]any{"jti": "1", "htm": "GET", "htu": reqURL, "iat": now.Unix()}, map[string]any{"typ": "dpop+jwt", "jwk": map[string]any{"kty": "oct", "k": "AAAA"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, terr := Parse(raw, func(*token.Algorithm) bool { return true }); terr == nil {
			t.Fatal("an HMAC proof was accepted")
		}
	})
	t.Run("tampered payload", func(t *testing.T) {
		raw := mk(nil, nil)
		parts := strings.Split(raw, ".")
		body, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		m["htm"] = "POST"
		nb, _ := json.Marshal(m)
		parts[1] = base64.RawURLEncoding.EncodeToString(nb)
		if _, terr := Parse(strings.Join(parts, "."), allowDefault); terr == nil {
			t.Fatal("a tampered proof was accepted")
		}
	})
	t.Run("algorithm not in the allowed list", func(t *testing.T) {
		if _, terr := Parse(mk(nil, nil), func(a *token.Algorithm) bool { return a.Name == "RS256" }); terr == nil {
			t.Fatal("an ES256 proof was accepted with only RS256 allowed")
		}
	})
}

func TestProofCheck(t *testing.T) {
	s := signer(t, "ES256")
	cases := []struct {
		name   string
		claims map[string]any
		edit   func(*Expect)
		ok     bool
	}{
		{"matching request", nil, nil, true},
		{"htm differs", map[string]any{"htm": "POST"}, nil, false},
		{"htm lower case", map[string]any{"htm": "get"}, nil, false},
		{"htu with query and fragment", map[string]any{"htu": reqURL + "?a=1#f"}, nil, true},
		{"htu upper-case scheme and host", map[string]any{"htu": "HTTPS://API.Example.COM/orders/42"}, nil, true},
		{"htu with the default port", map[string]any{"htu": "https://api.example.com:443/orders/42"}, nil, true},
		{"request with the default port", nil, func(e *Expect) { e.URL = "https://api.example.com:443/orders/42" }, true},
		{"htu with another port", map[string]any{"htu": "https://api.example.com:8443/orders/42"}, nil, false},
		{"htu http scheme", map[string]any{"htu": "http://api.example.com/orders/42"}, nil, false},
		{"htu other path", map[string]any{"htu": "https://api.example.com/orders/43"}, nil, false},
		{"htu path case differs", map[string]any{"htu": "https://api.example.com/Orders/42"}, nil, false},
		{"htu other host", map[string]any{"htu": "https://evil.example.com/orders/42"}, nil, false},
		{"htu relative", map[string]any{"htu": "/orders/42"}, nil, false},
		{"htu with user info", map[string]any{"htu": "https://u@api.example.com/orders/42"}, nil, false},
		{"iat at the oldest edge", map[string]any{"iat": now.Unix() - 65}, nil, true},
		{"iat too old", map[string]any{"iat": now.Unix() - 66}, nil, false},
		{"iat within the skew ahead", map[string]any{"iat": now.Unix() + 5}, nil, true},
		{"iat in the future", map[string]any{"iat": now.Unix() + 6}, nil, false},
		{"no ath", map[string]any{"ath": nil}, nil, false},
		{"ath of another token", map[string]any{"ath": AccessTokenHash("other")}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, err := s.Proof("GET", reqURL, accessTk, now, c.claims, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, terr := Parse(raw, allowDefault)
			if terr != nil {
				t.Fatalf("Parse: %v", terr)
			}
			e := expect()
			if c.edit != nil {
				c.edit(&e)
			}
			terr = p.Check(e)
			if c.ok && terr != nil {
				t.Fatalf("refused: %v", terr)
			}
			if !c.ok && (terr == nil || terr.Reason != decision.DPoPProofInvalid) {
				t.Fatalf("got %v, want dpop_proof_invalid", terr)
			}
		})
	}
}

func TestRequestURL(t *testing.T) {
	cases := []struct {
		public, host, path, want string
		ok                       bool
	}{
		{"", "api.example.com", "/prod/orders", "https://api.example.com/prod/orders", true},
		{"", "api.example.com:8443", "/x", "https://api.example.com:8443/x", true},
		{"https://gw.example.com/api", "internal:7071", "/orders", "https://gw.example.com/api/orders", true},
		{"https://gw.example.com/", "", "/orders", "https://gw.example.com/orders", true},
		{"", "", "/orders", "", false},
		{"", "evil.com/x?", "/orders", "", false},
	}
	for _, c := range cases {
		got, ok := RequestURL(c.public, c.host, c.path)
		if got != c.want || ok != c.ok {
			t.Errorf("RequestURL(%q, %q, %q) = %q, %v; want %q, %v", c.public, c.host, c.path, got, ok, c.want, c.ok)
		}
	}
}

func TestReplayKeyDependsOnKeyAndJTI(t *testing.T) {
	a := &Proof{Thumbprint: "k1", JTI: "j"}
	b := &Proof{Thumbprint: "k2", JTI: "j"}
	c := &Proof{Thumbprint: "k1", JTI: "j2"}
	if a.ReplayKey() == b.ReplayKey() || a.ReplayKey() == c.ReplayKey() || a.ReplayKey() != (&Proof{Thumbprint: "k1", JTI: "j"}).ReplayKey() {
		t.Fatal("replay keys must be equal exactly for the same key and jti")
	}
}

func FuzzParse(f *testing.F) {
	s, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		f.Fatal(err)
	}
	good, err := s.Proof("GET", reqURL, accessTk, now, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("a.b.c")
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIn19.e30.AA")
	f.Fuzz(func(t *testing.T, in string) {
		p, terr := Parse(in, allowDefault)
		if terr != nil {
			if p != nil || terr.Reason != decision.DPoPProofInvalid {
				t.Fatalf("refusal with a proof or another reason: %v", terr)
			}
			return
		}
		if p.Thumbprint == "" || p.JTI == "" || p.HTM == "" || p.HTU == "" {
			t.Fatal("accepted proof without thumbprint or claims")
		}
		_ = p.Check(expect())
	})
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{reqURL, "HTTP://A:80/", "https://h:443", "x", "https://[::1]:443/p?q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, ok := NormalizeURL(in)
		if !ok {
			return
		}
		if n2, ok2 := NormalizeURL(n); !ok2 || n2 != n {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, n, n2, ok2)
		}
	})
}
