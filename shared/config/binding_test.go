package config

import (
	"net/url"
	"strings"
	"testing"
)

// TestKeyBindings: which key source may serve which issuer, as start-up
// (FromEnv, LoadPolicy, Validate) sees it. Every refused configuration
// would let one issuer's signer mint tokens for another issuer.
func TestKeyBindings(t *testing.T) {
	const (
		disc    = "https://tenant.auth0.com/.well-known/openid-configuration" // issuer https://tenant.auth0.com/
		discIss = "https://tenant.auth0.com/"
		a, b    = "https://tenant-a.example", "https://partner-b.example"
		jwksA   = "https://tenant-a.example/jwks"
		jwksB   = "https://partner-b.example/jwks"
	)
	unset := "<unset>"
	env := []struct {
		name    string
		env     map[string]string
		wantErr string // "" → allowed
	}{
		// allowed
		{"one JWKS URL serving two issuer forms", map[string]string{"JWTGATE_OPENID_CONFIG": unset, "JWTGATE_JWKS_URL": jwksA, "JWTGATE_ISSUERS": a + "," + a + "/v2.0"}, ""},
		{"two JWKS URLs for one issuer", map[string]string{"JWTGATE_OPENID_CONFIG": unset, "JWTGATE_JWKS_URL": jwksA + "," + jwksB, "JWTGATE_ISSUERS": a}, ""},
		{"JWKS URL and secret for one issuer", map[string]string{"JWTGATE_OPENID_CONFIG": unset, "JWTGATE_JWKS_URL": jwksA, "JWTGATE_HMAC_SECRETS": secret32, "JWTGATE_ISSUERS": a}, ""},
		{"discovery plus a JWKS URL for the one other issuer", map[string]string{"JWTGATE_JWKS_URL": jwksB, "JWTGATE_ISSUERS": discIss + "," + b}, ""},
		{"discovery plus secrets for the one other issuer", map[string]string{"JWTGATE_HMAC_SECRETS": "k1:" + secret32 + "," + secret32u, "JWTGATE_ISSUERS": discIss + "," + a}, ""},
		{"discovery issuer listed without its slash, plus static keys for another issuer", map[string]string{"JWTGATE_JWKS": testJWKS, "JWTGATE_ISSUERS": "https://tenant.auth0.com," + a}, ""},
		{"two discovery sources", map[string]string{"JWTGATE_OPENID_CONFIG": disc + ",https://login.example/v2.0/.well-known/openid-configuration"}, ""},
		{"seed with one discovery source", map[string]string{"JWTGATE_SEED_JWKS": testJWKS}, ""},
		{"seed with one JWKS URL serving two issuers", map[string]string{"JWTGATE_OPENID_CONFIG": unset, "JWTGATE_JWKS_URL": jwksA, "JWTGATE_ISSUERS": a + "," + b, "JWTGATE_SEED_JWKS": testJWKS}, ""},

		// refused
		{"two JWKS URLs, two issuers", map[string]string{"JWTGATE_OPENID_CONFIG": unset, "JWTGATE_JWKS_URL": jwksA + "," + jwksB, "JWTGATE_ISSUERS": a + "," + b},
			`JWTGATE_ISSUERS: ambiguous key sources: JWTGATE_JWKS_URL entry 1 (https://tenant-a.example/jwks), JWTGATE_JWKS_URL entry 2 (https://partner-b.example/jwks) would be trusted for every issuer in JWTGATE_ISSUERS that discovery does not serve ("https://tenant-a.example", "https://partner-b.example")`},
		{"two secrets, two issuers", map[string]string{"JWTGATE_OPENID_CONFIG": unset, "JWTGATE_HMAC_SECRETS": secret32 + "," + secret32u, "JWTGATE_ISSUERS": a + "," + b},
			"JWTGATE_ISSUERS: ambiguous key sources: JWTGATE_HMAC_SECRETS (static key 1), JWTGATE_HMAC_SECRETS (static key 2) would be trusted"},
		{"JWKS URL and secret, two issuers", map[string]string{"JWTGATE_OPENID_CONFIG": unset, "JWTGATE_JWKS_URL": jwksA, "JWTGATE_HMAC_SECRETS": secret32, "JWTGATE_ISSUERS": a + "," + b},
			"JWTGATE_ISSUERS: ambiguous key sources: JWTGATE_JWKS_URL entry 1 (https://tenant-a.example/jwks), JWTGATE_HMAC_SECRETS (static key 1) would be trusted"},
		{"discovery plus two JWKS URLs for two other issuers", map[string]string{"JWTGATE_JWKS_URL": jwksA + "," + jwksB, "JWTGATE_ISSUERS": discIss + "," + a + "," + b},
			"JWTGATE_ISSUERS: ambiguous key sources"},
		{"JWKS URL for the discovery issuer only", map[string]string{"JWTGATE_JWKS_URL": jwksB, "JWTGATE_ISSUERS": discIss},
			"JWTGATE_JWKS_URL: no issuer to serve for JWTGATE_JWKS_URL entry 1 (https://partner-b.example/jwks): every issuer in JWTGATE_ISSUERS is served by JWTGATE_OPENID_CONFIG"},
		{"secret for the discovery issuer", map[string]string{"JWTGATE_HMAC_SECRETS": secret32, "JWTGATE_ISSUERS": discIss},
			"JWTGATE_HMAC_SECRETS: no issuer to serve for JWTGATE_HMAC_SECRETS (static key 1)"},
		{"secret for the discovery issuer written without its slash", map[string]string{"JWTGATE_HMAC_SECRETS": secret32, "JWTGATE_ISSUERS": "https://tenant.auth0.com"},
			"JWTGATE_HMAC_SECRETS: no issuer to serve"},
		{"seed with a discovery source and a JWKS URL", map[string]string{"JWTGATE_JWKS_URL": jwksB, "JWTGATE_ISSUERS": discIss + "," + b, "JWTGATE_SEED_JWKS": testJWKS},
			"JWTGATE_SEED_JWKS: stands in for every fetched key source until its first fetch, and 2 are configured"},
		{"seed with two discovery sources", map[string]string{"JWTGATE_OPENID_CONFIG": disc + ",https://login.example/.well-known/openid-configuration", "JWTGATE_SEED_JWKS": testJWKS},
			"JWTGATE_SEED_JWKS: stands in for every fetched key source"},
	}
	for _, tt := range env {
		t.Run("env/"+tt.name, func(t *testing.T) {
			c, err := FromEnv(envOf(tt.env))
			checkBindingResult(t, c, err, tt.wantErr)
		})
	}

	head := "audiences: [api]\n"
	policies := []struct {
		name, policy, wantErr string
	}{
		// allowed
		{"JWKS URLs bound to their issuers", head + "issuers: [" + a + ", " + b + "]\nkeys:\n  - {jwks_url: " + jwksA + ", issuers: [" + a + "]}\n  - {jwks_url: " + jwksB + ", issuers: [" + b + "]}\n", ""},
		{"bound JWKS URLs and a bound secret", head + "issuers: [" + a + ", " + b + ", https://internal]\nkeys:\n  - {jwks_url: " + jwksA + ", issuers: [" + a + "]}\n  - {jwks_url: " + jwksB + ", issuers: [" + b + "]}\n  - {secret: " + secret32 + ", issuers: [https://internal]}\n", ""},
		{"one JWKS URL bound to two issuers", head + "issuers: [" + a + ", " + b + "]\nkeys:\n  - {jwks_url: " + jwksA + ", issuers: [" + a + ", " + b + "]}\n", ""},
		{"discovery plus a bound JWKS URL", head + "openid_config: [" + disc + "]\nissuers: [" + discIss + ", " + b + "]\nkeys:\n  - {jwks_url: " + jwksB + ", issuers: [" + b + "]}\n", ""},
		{"the IdP, partner and internal service of docs/keys.md", "openid_config: [https://tenant.auth0.com/.well-known/openid-configuration]\nissuers: [https://tenant.auth0.com/, https://partner.example, https://internal.example]\naudiences: [https://api.example.com]\nkeys:\n  - {jwks_url: https://partner.example/.well-known/jwks.json, issuers: [https://partner.example]}\n  - {secret: " + secret32 + ", kid: internal-1, issuers: [https://internal.example]}\n", ""},
		{"unbound jwks_url entry for the one issuer", head + "issuers: [" + a + "]\nkeys:\n  - {jwks_url: " + jwksA + "}\n  - {secret: " + secret32 + "}\n", ""},
		// A key bound to a discovery issuer by name was bound on purpose.
		{"static key bound to the discovery issuer", head + "openid_config: [" + disc + "]\nissuers: [" + discIss + "]\nkeys:\n  - {secret: " + secret32 + ", issuers: [\"" + discIss + "\"]}\n", ""},
		{"JWKS URL bound to the discovery issuer written without its slash", head + "openid_config: [" + disc + "]\nissuers: [" + discIss + ", \"https://tenant.auth0.com\"]\nkeys:\n  - {jwks_url: " + jwksB + ", issuers: [\"https://tenant.auth0.com\"]}\n", ""},
		{"static key bound to the discovery issuer, no issuers listed", head + "openid_config: [" + disc + "]\nkeys:\n  - {secret: " + secret32 + ", issuers: [\"" + discIss + "\"]}\n", ""},

		// refused
		{"bound JWKS URL next to an unbound secret, two issuers", head + "issuers: [" + a + ", " + b + "]\nkeys:\n  - {jwks_url: " + jwksB + ", issuers: [" + b + "]}\n  - {secret: " + secret32 + "}\n",
			"p.yaml: issuers: ambiguous key sources: JWTGATE_HMAC_SECRETS (static key 1) would be trusted for every issuer in JWTGATE_ISSUERS that discovery does not serve (\"https://tenant-a.example\", \"https://partner-b.example\") and next to 1 key source(s) bound to their issuers"},
		{"two unbound jwks_url entries, two issuers", head + "issuers: [" + a + ", " + b + "]\nkeys:\n  - {jwks_url: " + jwksA + "}\n  - {jwks_url: " + jwksB + "}\n",
			"p.yaml: issuers: ambiguous key sources: keys[].jwks_url https://tenant-a.example/jwks, keys[].jwks_url https://partner-b.example/jwks"},
		{"jwks_url with a kid", head + "issuers: [" + a + "]\nkeys:\n  - {jwks_url: " + jwksA + ", kid: x}\n", "p.yaml: keys[0]: kid and alg cannot be given for a jwks_url"},
		{"jwks_url with a second material", head + "issuers: [" + a + "]\nkeys:\n  - {jwks_url: " + jwksA + ", secret: " + secret32 + "}\n", "p.yaml: keys[0]: give exactly one of jwks, jwks_url, pem, n/e or secret"},
		{"jwks_url issuer not accepted", head + "issuers: [" + a + "]\nkeys:\n  - {jwks_url: " + jwksA + ", issuers: [" + b + "]}\n", `p.yaml: keys[].jwks_url: https://tenant-a.example/jwks: issuer "https://partner-b.example" is not in JWTGATE_ISSUERS`},
		{"jwks_url over http on a public host", head + "issuers: [" + a + "]\nkeys:\n  - {jwks_url: \"http://tenant-a.example/jwks\", issuers: [" + a + "]}\n", `p.yaml: keys[].jwks_url: "http://tenant-a.example/jwks": https is required`},
		{"static key bound to another issuer, no issuers listed", head + "openid_config: [" + disc + "]\nkeys:\n  - {secret: " + secret32 + ", issuers: [" + a + "]}\n",
			`p.yaml: keys[0]: static key 1: issuer "https://tenant-a.example" is not in JWTGATE_ISSUERS`},
		{"unbound static key next to a bound one, no issuers listed", head + "openid_config: [" + disc + "]\nkeys:\n  - {secret: " + secret32 + ", issuers: [\"" + discIss + "\"]}\n  - {secret: " + secret32 + "}\n",
			"JWTGATE_ISSUERS: required with static keys"},
		{"jwks_url without any issuers", head + "keys:\n  - {jwks_url: " + jwksA + "}\n", "JWTGATE_ISSUERS: required with keys[].jwks_url"},
		{"seed with two bound JWKS URLs", head + "issuers: [" + a + ", " + b + "]\nseed_jwks: '" + testJWKS + "'\nkeys:\n  - {jwks_url: " + jwksA + ", issuers: [" + a + "]}\n  - {jwks_url: " + jwksB + ", issuers: [" + b + "]}\n",
			"p.yaml: seed_jwks: stands in for every fetched key source until its first fetch, and 2 are configured"},
	}
	for _, tt := range policies {
		t.Run("policy/"+tt.name, func(t *testing.T) {
			c, err := LoadPolicy([]byte(tt.policy), "p.yaml")
			checkBindingResult(t, c, err, tt.wantErr)
		})
	}
}

func checkBindingResult(t *testing.T, c *Config, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		if err := c.CheckKeyBindings(); err != nil {
			t.Fatalf("CheckKeyBindings on a loaded config: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("allowed; want an error containing %q", wantErr)
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("error %q\nwant it to contain %q", err, wantErr)
	}
}

// TestCheckKeyBindingsInCode covers configurations built in code (no
// Validate), as the key source sees them: static keys without any issuer
// serve any issuer, so two of them are ambiguous.
func TestCheckKeyBindingsInCode(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name    string
		c       Config
		wantErr string
	}{
		{"one unbound static key, no issuers", Config{StaticKeys: []StaticKey{{Secret: secret}}}, ""},
		{"two unbound static keys, no issuers", Config{StaticKeys: []StaticKey{{Secret: secret}, {Secret: secret}}}, "would be trusted for any issuer"},
		{"bound and unbound static keys, no issuers", Config{StaticKeys: []StaticKey{{Secret: secret, Issuers: []string{"x"}}, {Secret: secret}}}, "would be trusted for any issuer"},
		{"static keys each bound", Config{Issuers: []string{"x", "y"}, StaticKeys: []StaticKey{{Secret: secret, Issuers: []string{"x"}}, {Secret: secret, Issuers: []string{"y"}}}}, ""},
		{"JWKS source bound to a discovery issuer given as a bare URL", Config{OpenIDConfigURLs: []string{"https://idp.example/"}, JWKSSources: []JWKSSource{{URL: "https://other.example/jwks", Issuers: []string{"https://idp.example"}}}}, ""},
		{"discovery keys also serving a non-discovery issuer", Config{OpenIDConfigURLs: []string{"https://idp.example/"}, Issuers: []string{"https://sts.example/t/"}, OpenIDConfigIssuers: map[string][]string{"https://idp.example/": {"https://sts.example/t/"}}}, ""},
		{"discovery keys bound to another discovery issuer", Config{OpenIDConfigURLs: []string{"https://a.example/", "https://b.example/"}, OpenIDConfigIssuers: map[string][]string{"https://a.example/": {"https://b.example/"}}},
			`https://a.example/ is bound to issuer "https://b.example/", which a discovery source serves`},
		{"issuers bound to a URL that is not a discovery source", Config{OpenIDConfigURLs: []string{"https://a.example/"}, OpenIDConfigIssuers: map[string][]string{"https://c.example/": {"x"}}},
			"issuers are bound to https://c.example/, which is not one of the discovery URLs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.CheckKeyBindings()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckKeyBindings = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckKeyBindings = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDiscoveryIssuer(t *testing.T) {
	for _, tc := range []struct{ raw, issuer, doc string }{
		{"https://t.auth0.com/.well-known/openid-configuration", "https://t.auth0.com", "https://t.auth0.com/.well-known/openid-configuration"},
		{"https://login.example/tid/v2.0/.well-known/openid-configuration?appid=1", "https://login.example/tid/v2.0", "https://login.example/tid/v2.0/.well-known/openid-configuration?appid=1"},
		{"https://idp.example/realms/r", "https://idp.example/realms/r", "https://idp.example/realms/r/.well-known/openid-configuration"},
		{"https://idp.example/realms/r/", "https://idp.example/realms/r/", "https://idp.example/realms/r/.well-known/openid-configuration"},
	} {
		u, err := url.Parse(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		iss, doc := DiscoveryIssuer(u)
		if iss != tc.issuer || doc.String() != tc.doc {
			t.Errorf("DiscoveryIssuer(%s) = %s, %s; want %s, %s", tc.raw, iss, doc, tc.issuer, tc.doc)
		}
	}
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://t.auth0.com/", "https://t.auth0.com", true},
		{"https://t.auth0.com", "https://t.auth0.com", true},
		{"https://t.auth0.com//", "https://t.auth0.com", false},
		{"https://t.auth0.com/x", "https://t.auth0.com", false},
		{"https://T.auth0.com", "https://t.auth0.com", false},
	} {
		if got := SameIssuer(tc.a, tc.b); got != tc.same {
			t.Errorf("SameIssuer(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.9.9.9": true,
		"::1": true, "::ffff:127.0.0.1": true,
		"": false, "10.0.0.1": false, "::": false, "0.0.0.0": false, "localhost.example": false,
		"127.0.0.1.nip.io": false, "[::1]": false, "example.com": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"aGk", "hi", true},
		{"aGk=", "hi", true},
		{" aGk= ", "hi", true},
		{"-_8", "\xfb\xff", true},
		{"+/8", "\xfb\xff", true},
		{"+_8", "", false}, // mixed alphabets
		{"aGl", "", false}, // non-canonical trailing bits
		{"", "", false},
		{"===", "", false},
		{"a", "", false},
		{"!!!", "", false},
	} {
		got, err := DecodeBase64(tc.in)
		if (err == nil) != tc.ok || (tc.ok && string(got) != tc.want) {
			t.Errorf("DecodeBase64(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
