package core

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/devissuer/apimfixture"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
)

func newAPIMKeys(t *testing.T) *apimfixture.Keys {
	t.Helper()
	k, err := apimfixture.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestAPIMPolicyShapes: for each shape of validate-jwt policy that APIM
// accepts, the policy starts, a token signed by each key it lists is
// allowed for each issuer it lists, and a token signed by an unlisted key,
// or by one discovery source's key for another discovery source's issuer,
// is refused.
func TestAPIMPolicyShapes(t *testing.T) {
	a, b := startIssuer(t), startIssuer(t)
	k := newAPIMKeys(t)
	const internal = "https://internal.example/"
	const v1 = "https://sts.example/tenant/"
	signers := map[string]func(claims map[string]any) (string, error){
		"A":        func(c map[string]any) (string, error) { return a.Mint(c) },
		"B":        func(c map[string]any) (string, error) { return b.Mint(c) },
		"ne":       func(c map[string]any) (string, error) { return devissuer.Sign(k.NE, c, nil) },
		"ne-id":    func(c map[string]any) (string, error) { return devissuer.Sign(k.NE, c, map[string]any{"kid": "ne-1"}) },
		"hs":       func(c map[string]any) (string, error) { return devissuer.Sign(k.HS, c, nil) },
		"hs-nokid": func(c map[string]any) (string, error) { return devissuer.Sign(k.HS, c, map[string]any{"kid": nil}) },
		"cert":     func(c map[string]any) (string, error) { return devissuer.Sign(k.Cert, c, nil) },
		"unlisted": func(c map[string]any) (string, error) { return devissuer.Sign(k.Unlisted, c, nil) },
		// Without a kid, every key that fits the algorithm is tried, as APIM does.
		"A-nokid":  func(c map[string]any) (string, error) { return a.Mint(c, devissuer.MintHeader("kid", nil)) },
		"ne-nokid": func(c map[string]any) (string, error) { return devissuer.Sign(k.NE, c, map[string]any{"kid": nil}) },
		"unlisted-nokid": func(c map[string]any) (string, error) {
			return devissuer.Sign(k.Unlisted, c, map[string]any{"kid": nil})
		},
	}
	issuers := map[string]string{"A": a.Issuer(), "B": b.Issuer(), "internal": internal, "v1": v1}
	openid := func(i *devissuer.Issuer) string { return `<openid-config url="` + i.DiscoveryURL() + `"/>` }
	keys := `<issuer-signing-keys><key n="` + k.N + `" e="` + k.E + `"/><key>` + k.Secret + `</key><key>` + k.CertBody + `</key></issuer-signing-keys>`
	aud := `<audiences><audience>api://orders</audience></audiences>`
	type use struct{ signer, iss string }
	for _, tc := range []struct {
		name             string
		body             string
		allowed, refused []use
	}{
		{"openid-config only", openid(a) + aud,
			[]use{{"A", "A"}},
			[]use{{"unlisted", "A"}, {"ne", "A"}, {"hs", "A"}, {"B", "B"}}},
		{"issuer-signing-keys: n/e, symmetric and certificate body, one issuer", keys + aud + `<issuers><issuer>` + internal + `</issuer></issuers>`,
			[]use{{"ne", "internal"}, {"hs", "internal"}, {"hs-nokid", "internal"}, {"cert", "internal"}},
			[]use{{"unlisted", "internal"}, {"A", "internal"}, {"hs", "v1"}}},
		{"keys with ids match the token's kid", `<issuer-signing-keys><key id="ne-1" n="` + k.N + `" e="` + k.E + `"/></issuer-signing-keys>` + aud + `<issuers><issuer>` + internal + `</issuer></issuers>`,
			[]use{{"ne-id", "internal"}},
			[]use{{"unlisted", "internal"}, {"ne", "internal"}}},
		{"openid-config and issuer-signing-keys, the discovery issuer listed", openid(a) + keys + aud + `<issuers><issuer>` + a.Issuer() + `</issuer></issuers>`,
			[]use{{"A", "A"}, {"ne", "A"}, {"hs", "A"}, {"cert", "A"}, {"A-nokid", "A"}, {"ne-nokid", "A"}},
			[]use{{"unlisted", "A"}, {"ne", "internal"}, {"unlisted-nokid", "A"}}},
		{"openid-config and issuer-signing-keys, no issuers listed", openid(a) + keys + aud,
			[]use{{"A", "A"}, {"ne", "A"}, {"hs", "A"}, {"cert", "A"}},
			[]use{{"unlisted", "A"}, {"hs", "internal"}}},
		{"openid-config with another issuer its keys also sign (v1 and v2 issuers)", openid(a) + aud + `<issuers><issuer>` + a.Issuer() + `</issuer><issuer>` + v1 + `</issuer></issuers>`,
			[]use{{"A", "A"}, {"A", "v1"}},
			[]use{{"unlisted", "v1"}, {"B", "v1"}}},
		{"openid-config, keys and two issuers", openid(a) + keys + aud + `<issuers><issuer>` + a.Issuer() + `</issuer><issuer>` + internal + `</issuer></issuers>`,
			[]use{{"A", "A"}, {"A", "internal"}, {"hs", "A"}, {"hs", "internal"}, {"ne", "internal"}, {"cert", "A"}},
			[]use{{"unlisted", "A"}, {"unlisted", "internal"}}},
		{"two openid-config elements: each discovery source serves its own issuer", openid(a) + openid(b) + aud,
			[]use{{"A", "A"}, {"B", "B"}},
			[]use{{"A", "B"}, {"B", "A"}, {"unlisted", "A"}}},
		{"two openid-config elements, their issuers and a third one both serve", openid(a) + openid(b) + aud + `<issuers><issuer>` + a.Issuer() + `</issuer><issuer>` + b.Issuer() + `</issuer><issuer>` + v1 + `</issuer></issuers>`,
			[]use{{"A", "A"}, {"B", "B"}, {"A", "v1"}, {"B", "v1"}},
			[]use{{"A", "B"}, {"B", "A"}, {"unlisted", "v1"}}},
		{"two openid-config elements and shared keys", openid(a) + openid(b) + `<issuer-signing-keys><key>` + k.Secret + `</key></issuer-signing-keys>` + aud,
			[]use{{"A", "A"}, {"B", "B"}, {"hs", "A"}, {"hs", "B"}},
			[]use{{"A", "B"}, {"B", "A"}, {"unlisted", "B"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xml := `<policies><inbound><validate-jwt header-name="Authorization" require-scheme="Bearer">` + tc.body + `</validate-jwt></inbound></policies>`
			cfg, err := config.LoadAPIM([]byte(xml))
			if err != nil {
				t.Fatalf("the policy does not load: %v", err)
			}
			c, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatalf("the policy does not start: %v", err)
			}
			decide := func(u use) decision.Decision {
				tok, err := signers[u.signer](map[string]any{"iss": issuers[u.iss], "sub": "caller", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()})
				if err != nil {
					t.Fatal(err)
				}
				return c.Decide(context.Background(), req(tok))
			}
			for _, u := range tc.allowed {
				if d := decide(u); d.Outcome != decision.Allow {
					t.Errorf("signed by %s for issuer %s: %s/%s (%s); want allow", u.signer, u.iss, d.Outcome, d.Reason, d.Detail)
				}
			}
			for _, u := range tc.refused {
				if d := decide(u); d.Outcome != decision.Unauthenticated {
					t.Errorf("signed by %s for issuer %s: %s/%s; want a 401 refusal", u.signer, u.iss, d.Outcome, d.Reason)
				}
			}
		})
	}
}

// TestAPIMFullPolicy is the policy: <openid-config> plus
// <issuer-signing-keys> (n/e, symmetric, certificate body) plus
// <decryption-keys> plus <required-claims>. Signed and encrypted tokens from
// every listed key are allowed with the required claim, forbidden without
// it, and refused when signed by an unlisted key or encrypted with another
// key.
func TestAPIMFullPolicy(t *testing.T) {
	a := startIssuer(t)
	k := newAPIMKeys(t)
	cfg, err := config.LoadAPIM([]byte(k.FullPolicy(a)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	claims := func(groups ...string) map[string]any {
		return map[string]any{"iss": a.Issuer(), "sub": "caller", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix(), "groups": groups}
	}
	encrypt := func(jws string, key []byte) string {
		enc, err := apimfixture.Encrypt(jws, key)
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	other := make([]byte, 32)
	rand.Read(other)
	sign := map[string]func(map[string]any) (string, error){
		"discovery": func(c map[string]any) (string, error) { return a.Mint(c) },
		"n/e":       func(c map[string]any) (string, error) { return devissuer.Sign(k.NE, c, nil) },
		"secret":    func(c map[string]any) (string, error) { return devissuer.Sign(k.HS, c, nil) },
		"cert":      func(c map[string]any) (string, error) { return devissuer.Sign(k.Cert, c, nil) },
	}
	for name, s := range sign {
		ok, err := s(claims("finance"))
		if err != nil {
			t.Fatal(err)
		}
		noClaim, _ := s(claims("sales"))
		for _, tc := range []struct {
			what, tok string
			want      decision.Outcome
		}{
			{"signed", ok, decision.Allow},
			{"signed and encrypted", encrypt(ok, k.Decryption), decision.Allow},
			{"without the required claim value", noClaim, decision.Forbidden},
			{"encrypted with another key", encrypt(ok, other), decision.Unauthenticated},
		} {
			if d := c.Decide(context.Background(), req(tc.tok)); d.Outcome != tc.want {
				t.Errorf("%s key, %s: %s/%s; want %s", name, tc.what, d.Outcome, d.Reason, tc.want)
			}
		}
	}
	bad, _ := devissuer.Sign(k.Unlisted, claims("finance"), nil)
	if d := c.Decide(context.Background(), req(encrypt(bad, k.Decryption))); d.Outcome != decision.Unauthenticated {
		t.Errorf("unlisted key: %s/%s; want a 401 refusal", d.Outcome, d.Reason)
	}
}

// TestAPIMRSADecryptionKey: a <decryption-keys><key> holding a base64
// PKCS #8 RSA private key decrypts RSA-OAEP-256 tokens.
func TestAPIMRSADecryptionKey(t *testing.T) {
	a := startIssuer(t)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadAPIM([]byte(`<validate-jwt><openid-config url="` + a.DiscoveryURL() + `"/><decryption-keys><key>` +
		base64.StdEncoding.EncodeToString(der) + `</key></decryption-keys><audiences><audience>api://orders</audience></audiences></validate-jwt>`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := a.Mint(map[string]any{"sub": "caller", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := jwe.Encrypt([]byte(jws), jwe.WithKey(jwa.RSA_OAEP_256(), &priv.PublicKey), jwe.WithContentEncryption(jwa.A256GCM()))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Decide(context.Background(), req(string(enc))); d.Outcome != decision.Allow {
		t.Fatalf("RSA-OAEP-256 token: %s/%s (%s)", d.Outcome, d.Reason, d.Detail)
	}
}

// TestPolicyFileKeyBoundToADiscoveryIssuer: a policy file keys: entry whose
// issuers name the discovery issuer serves it next to the discovery keys;
// an unbound key never does.
func TestPolicyFileKeyBoundToADiscoveryIssuer(t *testing.T) {
	a := startIssuer(t)
	k := newAPIMKeys(t)
	claims := map[string]any{"iss": a.Issuer(), "sub": "caller", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()}
	for _, tc := range []struct {
		name, keys string
		want       decision.Outcome
	}{
		{"bound by name", `[{secret: "` + k.Secret + `", issuers: ["` + a.Issuer() + `"]}]`, decision.Allow},
		{"bound to another issuer", `[{secret: "` + k.Secret + `", issuers: ["https://internal.example"]}]`, decision.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.LoadPolicy([]byte("openid_config: [\""+a.DiscoveryURL()+"\"]\nissuers: [\""+a.Issuer()+"\", https://internal.example]\naudiences: [api://orders]\nkeys: "+tc.keys+"\n"), "p.yaml")
			if err != nil {
				t.Fatal(err)
			}
			c, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for name, sign := range map[string]func() (string, error){
				"secret":    func() (string, error) { return devissuer.Sign(k.HS, claims, nil) },
				"discovery": func() (string, error) { return a.Mint(claims) },
			} {
				tok, err := sign()
				if err != nil {
					t.Fatal(err)
				}
				want := tc.want
				if name == "discovery" {
					want = decision.Allow
				}
				if d := c.Decide(context.Background(), req(tok)); d.Outcome != want {
					t.Errorf("%s key: %s/%s; want %s", name, d.Outcome, d.Reason, want)
				}
			}
		})
	}
}
