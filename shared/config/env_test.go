package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testDiscovery = "https://tenant.auth0.com/.well-known/openid-configuration"
	testAudience  = "https://api.example.com"
)

// envOf returns a getenv over the base environment plus overrides; an
// override with the value "<unset>" removes the variable.
func envOf(over map[string]string) func(string) string {
	env := map[string]string{
		"JWTGATE_OPENID_CONFIG": testDiscovery,
		"JWTGATE_AUDIENCES":     testAudience,
	}
	for k, v := range over {
		if v == "<unset>" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

var (
	keysOnce  sync.Once
	rsaPriv   *rsa.PrivateKey
	ecPubPEM  string
	rsaPubPEM string
	rsaPrvPEM string
	ecPrvPEM  string
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
		ecPubPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		der, _ = x509.MarshalPKIXPublicKey(&rsaPriv.PublicKey)
		rsaPubPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		rsaPrvPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaPriv)}))
		der, _ = x509.MarshalPKCS8PrivateKey(ec)
		ecPrvPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	})
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	secret32  = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	secret32u = base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcde\xff"))
)

const testJWKS = `{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}`

func TestFromEnvDefaults(t *testing.T) {
	c, err := FromEnv(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.OpenIDConfigURLs = []string{testDiscovery}
	want.Audiences = []string{testAudience}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
	checks := map[string]bool{
		"algorithms are the asymmetric defaults": reflect.DeepEqual(c.Algorithms, DefaultAlgorithms),
		"clock skew 30s":                         c.ClockSkew == 30*time.Second,
		"expiration required":                    c.RequireExpiration,
		"max token 16 KiB":                       c.MaxTokenBytes == 16384,
		"Authorization: Bearer":                  c.HeaderName == "Authorization" && c.Scheme == "Bearer",
		"http timeout 2s":                        c.HTTPTimeout == 2*time.Second,
		"cooldown 30s":                           c.JWKSCooldown == 30*time.Second,
		"refresh 1h":                             c.RefreshInterval == time.Hour,
		"staleness 24h":                          c.MaxStaleness == 24*time.Hour,
		"warm-up 1s":                             c.WarmupTimeout == time.Second,
		"token cache 10000 for 5m":               c.TokenCacheSize == 10000 && c.TokenCacheMaxTTL == 5*time.Minute,
		"claim headers sub/scope/iss":            reflect.DeepEqual(c.ClaimHeaders, map[string]string{"sub": "X-Auth-Subject", "scope": "X-Auth-Scopes", "iss": "X-Auth-Issuer"}),
		"HTTP API simple":                        c.HTTPAPIResponse == "simple",
		"failed status 401":                      c.FailedStatus == 401,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("default: %s", name)
		}
	}
}

// TestFromEnvVariables covers every variable: a valid value, invalid values
// (the error names the variable) and, where it matters, the default.
func TestFromEnvVariables(t *testing.T) {
	testKeys(t)
	jwksFile := writeFile(t, "jwks.json", testJWKS)
	pemFile := writeFile(t, "keys.pem", ecPubPEM+rsaPubPEM)
	privFile := writeFile(t, "dec.pem", rsaPrvPEM)
	ecPrivFile := writeFile(t, "ec.pem", ecPrvPEM)
	withIss := func(m map[string]string) map[string]string {
		// The discovery issuer, and one issuer for the static keys and JWKS
		// URLs (discovery issuers are checked only against discovery keys).
		m["JWTGATE_ISSUERS"] = "https://tenant.auth0.com/,https://keys.example/"
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		check   func(*Config) bool
		wantErr string // substring; "" means success
	}{
		// key sources
		{"openid config list trims and drops empties", map[string]string{"JWTGATE_OPENID_CONFIG": " https://a.example/.well-known/openid-configuration , ,https://b.example/.well-known/openid-configuration"},
			func(c *Config) bool {
				return len(c.OpenIDConfigURLs) == 2 && c.OpenIDConfigURLs[1] == "https://b.example/.well-known/openid-configuration"
			}, ""},
		{"openid config over http on a public host is refused", map[string]string{"JWTGATE_OPENID_CONFIG": "http://tenant.auth0.com/.well-known/openid-configuration"}, nil,
			"JWTGATE_OPENID_CONFIG: \"http://tenant.auth0.com/.well-known/openid-configuration\": https is required (plain http only for loopback hosts"},
		{"openid config over http on 127.0.0.1 is allowed", map[string]string{"JWTGATE_OPENID_CONFIG": "http://127.0.0.1:8080/.well-known/openid-configuration"}, func(c *Config) bool { return true }, ""},
		{"openid config over http on 127.9.9.9 is allowed", map[string]string{"JWTGATE_OPENID_CONFIG": "http://127.9.9.9/x"}, func(c *Config) bool { return true }, ""},
		{"openid config over http on [::1] is allowed", map[string]string{"JWTGATE_OPENID_CONFIG": "http://[::1]:9/x"}, func(c *Config) bool { return true }, ""},
		{"openid config over http on localhost is allowed", map[string]string{"JWTGATE_OPENID_CONFIG": "http://localhost:9/x"}, func(c *Config) bool { return true }, ""},
		{"openid config relative URL is refused", map[string]string{"JWTGATE_OPENID_CONFIG": "/.well-known/openid-configuration"}, nil, "JWTGATE_OPENID_CONFIG: \"/.well-known/openid-configuration\" is not an absolute URL"},
		{"openid config with credentials is refused", map[string]string{"JWTGATE_OPENID_CONFIG": "https://u:p@a.example/x"}, nil, "JWTGATE_OPENID_CONFIG: \"https://u:xxxxx@a.example/x\": credentials"},
		{"openid config ftp scheme is refused", map[string]string{"JWTGATE_OPENID_CONFIG": "ftp://a.example/x"}, nil, "is not https"},
		{"no key source at all", map[string]string{"JWTGATE_OPENID_CONFIG": "<unset>"}, nil, "JWTGATE_OPENID_CONFIG: no key source"},
		{"jwks url needs issuers", map[string]string{"JWTGATE_OPENID_CONFIG": "<unset>", "JWTGATE_JWKS_URL": "https://tenant.auth0.com/.well-known/jwks.json"}, nil,
			"JWTGATE_ISSUERS: required with JWTGATE_JWKS_URL (only discovery documents name their issuer)"},
		{"jwks url with issuers", withIss(map[string]string{"JWTGATE_OPENID_CONFIG": "<unset>", "JWTGATE_JWKS_URL": "https://tenant.auth0.com/.well-known/jwks.json"}),
			func(c *Config) bool { return c.JWKSURLs[0] == "https://tenant.auth0.com/.well-known/jwks.json" }, ""},
		{"jwks url over http refused", withIss(map[string]string{"JWTGATE_JWKS_URL": "http://idp.example/jwks"}), nil, "JWTGATE_JWKS_URL: \"http://idp.example/jwks\": https is required"},
		{"issuers keep the trailing slash exactly", map[string]string{"JWTGATE_ISSUERS": "https://tenant.auth0.com/ , https://other/"},
			func(c *Config) bool {
				return reflect.DeepEqual(c.Issuers, []string{"https://tenant.auth0.com/", "https://other/"})
			}, ""},
		{"issuers list of only commas is an error", map[string]string{"JWTGATE_ISSUERS": " , ,"}, nil, "JWTGATE_ISSUERS: the list is empty"},
		{"static JWKS inline", withIss(map[string]string{"JWTGATE_JWKS": testJWKS}), func(c *Config) bool { return len(c.StaticKeys) == 1 && string(c.StaticKeys[0].JWKS) == testJWKS }, ""},
		{"static JWKS from @file", withIss(map[string]string{"JWTGATE_JWKS": "@" + jwksFile}), func(c *Config) bool { return string(c.StaticKeys[0].JWKS) == testJWKS }, ""},
		{"static JWKS file missing", withIss(map[string]string{"JWTGATE_JWKS": "@/nonexistent/jwks.json"}), nil, "JWTGATE_JWKS: cannot read /nonexistent/jwks.json"},
		{"static JWKS not JSON", withIss(map[string]string{"JWTGATE_JWKS": "{keys"}), nil, "JWTGATE_JWKS: not a JWKS"},
		{"static JWKS without keys", withIss(map[string]string{"JWTGATE_JWKS": `{"keys":[]}`}), nil, `JWTGATE_JWKS: not a JWKS: no "keys"`},
		{"static JWKS key without kty", withIss(map[string]string{"JWTGATE_JWKS": `{"keys":[{"n":"x"}]}`}), nil, `JWTGATE_JWKS: JWKS key 1 has no "kty"`},
		{"static keys need issuers", map[string]string{"JWTGATE_JWKS": testJWKS}, nil, "JWTGATE_ISSUERS: required with static keys"},
		{"public keys PEM text, two blocks", withIss(map[string]string{"JWTGATE_PUBLIC_KEYS": ecPubPEM + rsaPubPEM}), func(c *Config) bool { return len(c.StaticKeys) == 2 }, ""},
		{"public keys PEM with escaped newlines", withIss(map[string]string{"JWTGATE_PUBLIC_KEYS": strings.ReplaceAll(ecPubPEM, "\n", `\n`)}), func(c *Config) bool { return len(c.StaticKeys) == 1 }, ""},
		{"public keys from @file", withIss(map[string]string{"JWTGATE_PUBLIC_KEYS": "@" + pemFile}), func(c *Config) bool { return len(c.StaticKeys) == 2 }, ""},
		{"public keys refuse a private key", withIss(map[string]string{"JWTGATE_PUBLIC_KEYS": rsaPrvPEM}), nil, "JWTGATE_PUBLIC_KEYS: static key 1: PEM block \"RSA PRIVATE KEY\" is a private key"},
		{"public keys not PEM", withIss(map[string]string{"JWTGATE_PUBLIC_KEYS": "MIIBIjAN"}), nil, "JWTGATE_PUBLIC_KEYS: no PEM block found"},
		{"public keys garbage after PEM", withIss(map[string]string{"JWTGATE_PUBLIC_KEYS": ecPubPEM + "junk"}), nil, "JWTGATE_PUBLIC_KEYS: unexpected text after the last PEM block"},
		{"hmac secrets add HS algorithms", withIss(map[string]string{"JWTGATE_HMAC_SECRETS": "k1:" + secret32 + ", " + secret32u}),
			func(c *Config) bool {
				return len(c.StaticKeys) == 2 && c.StaticKeys[0].KID == "k1" && len(c.StaticKeys[1].Secret) == 32 && c.StaticKeys[1].KID == "" &&
					reflect.DeepEqual(c.Algorithms, append(append([]string{}, DefaultAlgorithms...), "HS256", "HS384", "HS512"))
			}, ""},
		{"hmac secret too short", withIss(map[string]string{"JWTGATE_HMAC_SECRETS": base64.StdEncoding.EncodeToString([]byte("short"))}), nil,
			"JWTGATE_HMAC_SECRETS: static key 1: secret is 5 bytes; at least 32 are required"},
		{"hmac secret not base64", withIss(map[string]string{"JWTGATE_HMAC_SECRETS": "not base64!"}), nil, "JWTGATE_HMAC_SECRETS: secret 1: not base64"},
		{"hmac secrets with explicit algorithms lacking HS", withIss(map[string]string{"JWTGATE_HMAC_SECRETS": secret32, "JWTGATE_ALGORITHMS": "RS256"}), nil,
			"JWTGATE_HMAC_SECRETS: secrets are configured but JWTGATE_ALGORITHMS allows no HS256/HS384/HS512"},
		{"hmac secrets with explicit HS256 only", withIss(map[string]string{"JWTGATE_HMAC_SECRETS": secret32, "JWTGATE_ALGORITHMS": "HS256"}),
			func(c *Config) bool { return reflect.DeepEqual(c.Algorithms, []string{"HS256"}) }, ""},
		{"seed JWKS inline", map[string]string{"JWTGATE_SEED_JWKS": testJWKS}, func(c *Config) bool { return string(c.SeedJWKS) == testJWKS }, ""},
		{"seed JWKS from @file", map[string]string{"JWTGATE_SEED_JWKS": "@" + jwksFile}, func(c *Config) bool { return string(c.SeedJWKS) == testJWKS }, ""},
		{"seed JWKS invalid", map[string]string{"JWTGATE_SEED_JWKS": "[]"}, nil, "JWTGATE_SEED_JWKS: not a JWKS"},
		{"seed JWKS without a fetched source", withIss(map[string]string{"JWTGATE_OPENID_CONFIG": "<unset>", "JWTGATE_JWKS": testJWKS, "JWTGATE_SEED_JWKS": testJWKS}), nil,
			"JWTGATE_SEED_JWKS: seeds a fetched key set"},
		{"decryption keys: secret with kid and a PEM file", map[string]string{"JWTGATE_DECRYPTION_KEYS": "enc1:" + secret32 + ",rsa1:@" + privFile},
			func(c *Config) bool {
				return len(c.DecryptionKeys) == 2 && c.DecryptionKeys[0].KID == "enc1" && len(c.DecryptionKeys[0].Secret) == 32 &&
					c.DecryptionKeys[1].KID == "rsa1" && strings.Contains(string(c.DecryptionKeys[1].PEM), "RSA PRIVATE KEY")
			}, ""},
		{"decryption secret of a wrong size", map[string]string{"JWTGATE_DECRYPTION_KEYS": base64.StdEncoding.EncodeToString(make([]byte, 20))}, nil,
			"JWTGATE_DECRYPTION_KEYS: key 1: a 20-byte secret fits no content encryption"},
		{"decryption PEM that is an EC key", map[string]string{"JWTGATE_DECRYPTION_KEYS": "@" + ecPrivFile}, nil, "JWTGATE_DECRYPTION_KEYS: key 1: a *ecdsa.PrivateKey private key: only RSA keys decrypt"},
		{"decryption PEM file missing", map[string]string{"JWTGATE_DECRYPTION_KEYS": "@/nonexistent.pem"}, nil, "JWTGATE_DECRYPTION_KEYS: cannot read /nonexistent.pem"},

		// acceptance
		{"audiences required", map[string]string{"JWTGATE_AUDIENCES": "<unset>"}, nil, `JWTGATE_AUDIENCES: required (set "*" to disable the audience check explicitly)`},
		{"audiences star disables the check", map[string]string{"JWTGATE_AUDIENCES": "*"}, func(c *Config) bool { return c.AnyAudience && c.Audiences == nil }, ""},
		{"audiences star mixed with others", map[string]string{"JWTGATE_AUDIENCES": "*,api"}, nil, `JWTGATE_AUDIENCES: "*" (any audience) cannot be combined`},
		{"audiences list", map[string]string{"JWTGATE_AUDIENCES": "api, https://tenant.auth0.com/userinfo"},
			func(c *Config) bool {
				return !c.AnyAudience && reflect.DeepEqual(c.Audiences, []string{"api", "https://tenant.auth0.com/userinfo"})
			}, ""},
		{"algorithms explicit", map[string]string{"JWTGATE_ALGORITHMS": "RS256, ES256"}, func(c *Config) bool { return reflect.DeepEqual(c.Algorithms, []string{"RS256", "ES256"}) }, ""},
		{"algorithms unknown", map[string]string{"JWTGATE_ALGORITHMS": "RS256,XX1"}, nil, `JWTGATE_ALGORITHMS: unknown algorithm "XX1"`},
		{"algorithms wrong case gets a hint", map[string]string{"JWTGATE_ALGORITHMS": "rs256"}, nil, `unknown algorithm "rs256" (did you mean RS256?)`},
		{"algorithms none refused", map[string]string{"JWTGATE_ALGORITHMS": "RS256,none"}, nil, `JWTGATE_ALGORITHMS: "none" is never accepted`},
		{"algorithms None refused", map[string]string{"JWTGATE_ALGORITHMS": "NoNe"}, nil, `"none" is never accepted`},
		{"algorithms HS256 without secrets", map[string]string{"JWTGATE_ALGORITHMS": "RS256,HS256"}, nil, "JWTGATE_ALGORITHMS: HS256 needs configured secrets"},
		{"clock skew", map[string]string{"JWTGATE_CLOCK_SKEW": "45s"}, func(c *Config) bool { return c.ClockSkew == 45*time.Second }, ""},
		{"clock skew zero", map[string]string{"JWTGATE_CLOCK_SKEW": "0s"}, func(c *Config) bool { return c.ClockSkew == 0 }, ""},
		{"clock skew not a duration", map[string]string{"JWTGATE_CLOCK_SKEW": "abc"}, nil, `JWTGATE_CLOCK_SKEW: "abc" is not a Go duration`},
		{"clock skew without unit gets a hint", map[string]string{"JWTGATE_CLOCK_SKEW": "30"}, nil, `JWTGATE_CLOCK_SKEW: "30" is not a Go duration (add a unit, e.g. 30s)`},
		{"clock skew negative", map[string]string{"JWTGATE_CLOCK_SKEW": "-1s"}, nil, "JWTGATE_CLOCK_SKEW: -1s is outside 0 to 10m0s"},
		{"clock skew over 10m", map[string]string{"JWTGATE_CLOCK_SKEW": "11m"}, nil, "JWTGATE_CLOCK_SKEW: 11m0s is outside"},
		{"require expiration false", map[string]string{"JWTGATE_REQUIRE_EXPIRATION": "false"}, func(c *Config) bool { return !c.RequireExpiration }, ""},
		{"require expiration not a boolean", map[string]string{"JWTGATE_REQUIRE_EXPIRATION": "maybe"}, nil, `JWTGATE_REQUIRE_EXPIRATION: "maybe" is not a boolean`},
		{"token types", map[string]string{"JWTGATE_TOKEN_TYPES": "at+jwt, application/at+jwt"}, func(c *Config) bool { return reflect.DeepEqual(c.TokenTypes, []string{"at+jwt", "application/at+jwt"}) }, ""},
		{"token types invalid", map[string]string{"JWTGATE_TOKEN_TYPES": "at jwt"}, nil, `JWTGATE_TOKEN_TYPES: "at jwt" is not a media type name`},
		{"max token bytes", map[string]string{"JWTGATE_MAX_TOKEN_BYTES": "8192"}, func(c *Config) bool { return c.MaxTokenBytes == 8192 }, ""},
		{"max token bytes not a number", map[string]string{"JWTGATE_MAX_TOKEN_BYTES": "16k"}, nil, `JWTGATE_MAX_TOKEN_BYTES: "16k" is not a whole number`},
		{"max token bytes too small", map[string]string{"JWTGATE_MAX_TOKEN_BYTES": "100"}, nil, "JWTGATE_MAX_TOKEN_BYTES: 100 is outside 512 to 1048576"},
		{"max token bytes too large", map[string]string{"JWTGATE_MAX_TOKEN_BYTES": "2000000"}, nil, "JWTGATE_MAX_TOKEN_BYTES: 2000000 is outside"},

		// extraction
		{"token header", map[string]string{"JWTGATE_TOKEN_HEADER": "X-Access-Token", "JWTGATE_TOKEN_SCHEME": "-"},
			func(c *Config) bool { return c.HeaderName == "X-Access-Token" && c.Scheme == "" }, ""},
		{"token header invalid", map[string]string{"JWTGATE_TOKEN_HEADER": "X Token"}, nil, `JWTGATE_TOKEN_HEADER: "X Token" is not a valid HTTP header name`},
		{"no token source", map[string]string{"JWTGATE_TOKEN_HEADER": "none"}, nil, "JWTGATE_TOKEN_HEADER: no token source"},
		{"query only", map[string]string{"JWTGATE_TOKEN_HEADER": "-", "JWTGATE_TOKEN_QUERY": "access_token"},
			func(c *Config) bool { return c.HeaderName == "" && c.QueryParam == "access_token" }, ""},
		{"token scheme none", map[string]string{"JWTGATE_TOKEN_SCHEME": "none"}, func(c *Config) bool { return c.Scheme == "" }, ""},
		{"token scheme custom", map[string]string{"JWTGATE_TOKEN_SCHEME": "JWT"}, func(c *Config) bool { return c.Scheme == "JWT" }, ""},
		{"token scheme invalid", map[string]string{"JWTGATE_TOKEN_SCHEME": "Bearer x"}, nil, `JWTGATE_TOKEN_SCHEME: "Bearer x" is not a valid auth scheme`},
		{"token query invalid", map[string]string{"JWTGATE_TOKEN_QUERY": "a&b"}, nil, `JWTGATE_TOKEN_QUERY: "a&b" is not a valid query parameter name`},
		{"token cookie", map[string]string{"JWTGATE_TOKEN_COOKIE": "session"}, func(c *Config) bool { return c.CookieName == "session" }, ""},
		{"token cookie invalid", map[string]string{"JWTGATE_TOKEN_COOKIE": "a;b"}, nil, `JWTGATE_TOKEN_COOKIE: "a;b" is not a valid cookie name`},
		{"token subprotocol", map[string]string{"JWTGATE_TOKEN_SUBPROTOCOL": "jwtgate.bearer"}, func(c *Config) bool { return c.Subprotocol == "jwtgate.bearer" }, ""},
		{"token subprotocol alone is a token source", map[string]string{"JWTGATE_TOKEN_HEADER": "-", "JWTGATE_TOKEN_SUBPROTOCOL": "jwtgate.bearer"},
			func(c *Config) bool { return c.HeaderName == "" && c.Subprotocol == "jwtgate.bearer" }, ""},
		{"token subprotocol invalid", map[string]string{"JWTGATE_TOKEN_SUBPROTOCOL": "a,b"}, nil, `JWTGATE_TOKEN_SUBPROTOCOL: "a,b" is not a valid WebSocket subprotocol name`},

		// authorization
		{"required scopes are space-separated", map[string]string{"JWTGATE_REQUIRED_SCOPES": " read:orders  write:orders "},
			func(c *Config) bool {
				return reflect.DeepEqual(c.RequiredScopes, []string{"read:orders", "write:orders"})
			}, ""},
		{"required claims compact form", map[string]string{"JWTGATE_REQUIRED_CLAIMS": "permissions=read:orders,write:orders;match=any gty roles=a|b;separator=|"},
			func(c *Config) bool {
				return reflect.DeepEqual(c.RequiredClaims, []ClaimRequirement{
					{Name: "permissions", Values: []string{"read:orders", "write:orders"}, Match: "any"},
					{Name: "gty"},
					{Name: "roles", Values: []string{"a|b"}, Separator: "|"},
				})
			}, ""},
		{"required claims unknown option", map[string]string{"JWTGATE_REQUIRED_CLAIMS": "a=b;mode=any"}, nil, `JWTGATE_REQUIRED_CLAIMS: "a=b;mode=any": unknown option "mode"`},
		{"required claims bad match", map[string]string{"JWTGATE_REQUIRED_CLAIMS": "a=b;match=some"}, nil, `JWTGATE_REQUIRED_CLAIMS[0]: match "some" is neither all nor any`},
		{"required claims without a name", map[string]string{"JWTGATE_REQUIRED_CLAIMS": "=x"}, nil, `JWTGATE_REQUIRED_CLAIMS: "=x": missing claim name`},
		{"required claims empty values", map[string]string{"JWTGATE_REQUIRED_CLAIMS": "a=,"}, nil, `JWTGATE_REQUIRED_CLAIMS: "a=,": no values`},

		// key cache
		{"http timeout", map[string]string{"JWTGATE_HTTP_TIMEOUT": "500ms"}, func(c *Config) bool { return c.HTTPTimeout == 500*time.Millisecond }, ""},
		{"http timeout zero", map[string]string{"JWTGATE_HTTP_TIMEOUT": "0s"}, nil, "JWTGATE_HTTP_TIMEOUT: 0s is outside"},
		{"http timeout bad", map[string]string{"JWTGATE_HTTP_TIMEOUT": "fast"}, nil, `JWTGATE_HTTP_TIMEOUT: "fast" is not a Go duration`},
		{"jwks cooldown", map[string]string{"JWTGATE_JWKS_COOLDOWN": "1m"}, func(c *Config) bool { return c.JWKSCooldown == time.Minute }, ""},
		{"jwks cooldown too short", map[string]string{"JWTGATE_JWKS_COOLDOWN": "10ms"}, nil, "JWTGATE_JWKS_COOLDOWN: 10ms is outside 1s to 1h0m0s"},
		{"jwks refresh", map[string]string{"JWTGATE_JWKS_REFRESH": "10m"}, func(c *Config) bool { return c.RefreshInterval == 10*time.Minute }, ""},
		{"jwks refresh too short", map[string]string{"JWTGATE_JWKS_REFRESH": "1m"}, nil, "JWTGATE_JWKS_REFRESH: 1m0s is outside 5m0s to 24h0m0s"},
		{"jwks max staleness", map[string]string{"JWTGATE_JWKS_MAX_STALENESS": "72h"}, func(c *Config) bool { return c.MaxStaleness == 72*time.Hour }, ""},
		{"jwks max staleness below refresh", map[string]string{"JWTGATE_JWKS_MAX_STALENESS": "30m"}, nil, "JWTGATE_JWKS_MAX_STALENESS: 30m0s is outside 1h0m0s to"},
		{"warm-up timeout zero turns prefetch off", map[string]string{"JWTGATE_WARMUP_TIMEOUT": "0s"}, func(c *Config) bool { return c.WarmupTimeout == 0 }, ""},
		{"warm-up timeout too long", map[string]string{"JWTGATE_WARMUP_TIMEOUT": "1m"}, nil, "JWTGATE_WARMUP_TIMEOUT: 1m0s is outside"},
		{"token cache size zero disables", map[string]string{"JWTGATE_TOKEN_CACHE_SIZE": "0", "JWTGATE_TOKEN_CACHE_TTL": "0s"}, func(c *Config) bool { return c.TokenCacheSize == 0 }, ""},
		{"token cache size negative", map[string]string{"JWTGATE_TOKEN_CACHE_SIZE": "-1"}, nil, "JWTGATE_TOKEN_CACHE_SIZE: -1 is outside"},
		{"token cache size not a number", map[string]string{"JWTGATE_TOKEN_CACHE_SIZE": "lots"}, nil, `JWTGATE_TOKEN_CACHE_SIZE: "lots" is not a whole number`},
		{"token cache ttl", map[string]string{"JWTGATE_TOKEN_CACHE_TTL": "1m"}, func(c *Config) bool { return c.TokenCacheMaxTTL == time.Minute }, ""},
		{"token cache ttl zero with a cache", map[string]string{"JWTGATE_TOKEN_CACHE_TTL": "0s"}, nil, "JWTGATE_TOKEN_CACHE_TTL: 0s is outside"},

		// output
		{"forward claims", map[string]string{"JWTGATE_FORWARD_CLAIMS": "email, permissions"}, func(c *Config) bool { return reflect.DeepEqual(c.ForwardClaims, []string{"email", "permissions"}) }, ""},
		{"claim headers replace the defaults", map[string]string{"JWTGATE_CLAIM_HEADERS": "sub=X-User, email=X-Email"},
			func(c *Config) bool {
				return reflect.DeepEqual(c.ClaimHeaders, map[string]string{"sub": "X-User", "email": "X-Email"})
			}, ""},
		{"claim headers off", map[string]string{"JWTGATE_CLAIM_HEADERS": "-"}, func(c *Config) bool { return c.ClaimHeaders != nil && len(c.ClaimHeaders) == 0 }, ""},
		{"claim headers invalid name", map[string]string{"JWTGATE_CLAIM_HEADERS": "sub=X User"}, nil, `JWTGATE_CLAIM_HEADERS: claim "sub": "X User" is not a valid HTTP header name`},
		{"claim headers reserved name", map[string]string{"JWTGATE_CLAIM_HEADERS": "sub=host"}, nil, `JWTGATE_CLAIM_HEADERS: claim "sub": "host" is reserved`},
		{"claim headers not pairs", map[string]string{"JWTGATE_CLAIM_HEADERS": "sub"}, nil, `JWTGATE_CLAIM_HEADERS: "sub" is not claim=Header`},
		{"claim headers two claims on one header", map[string]string{"JWTGATE_CLAIM_HEADERS": "sub=X-A,iss=x-a"}, nil, `JWTGATE_CLAIM_HEADERS: claims "iss" and "sub" both map to header`},
		{"usage identifier claim", map[string]string{"JWTGATE_USAGE_IDENTIFIER_CLAIM": "azp"}, func(c *Config) bool { return c.UsageIdentifierClaim == "azp" }, ""},
		{"usage identifier claim invalid", map[string]string{"JWTGATE_USAGE_IDENTIFIER_CLAIM": "a b"}, nil, `JWTGATE_USAGE_IDENTIFIER_CLAIM: "a b" is not a claim name`},
		{"httpapi response iam", map[string]string{"JWTGATE_HTTPAPI_RESPONSE": "IAM"}, func(c *Config) bool { return c.HTTPAPIResponse == "iam" }, ""},
		{"httpapi response invalid", map[string]string{"JWTGATE_HTTPAPI_RESPONSE": "json"}, nil, `JWTGATE_HTTPAPI_RESPONSE: "json" is neither simple nor iam`},

		// sender-constrained tokens
		{"dpop defaults", map[string]string{}, func(c *Config) bool {
			return reflect.DeepEqual(c.DPoPAlgorithms, DefaultDPoPAlgorithms) && c.DPoPMaxAge == time.Minute && c.ReplayStore == "memory" && !c.RequireBoundTokens && c.PublicURL == "" && c.ClientCertHeader == ""
		}, ""},
		{"dpop algorithms", map[string]string{"JWTGATE_DPOP_ALGORITHMS": "ES256,EdDSA"}, func(c *Config) bool { return reflect.DeepEqual(c.DPoPAlgorithms, []string{"ES256", "EdDSA"}) }, ""},
		{"dpop algorithm HS256", map[string]string{"JWTGATE_DPOP_ALGORITHMS": "ES256,HS256"}, nil, "JWTGATE_DPOP_ALGORITHMS: HS256 is symmetric"},
		{"dpop algorithm none", map[string]string{"JWTGATE_DPOP_ALGORITHMS": "none"}, nil, `JWTGATE_DPOP_ALGORITHMS: unknown algorithm "none"`},
		{"dpop max age", map[string]string{"JWTGATE_DPOP_MAX_AGE": "5m"}, func(c *Config) bool { return c.DPoPMaxAge == 5*time.Minute }, ""},
		{"dpop max age too long", map[string]string{"JWTGATE_DPOP_MAX_AGE": "1h"}, nil, "JWTGATE_DPOP_MAX_AGE: must be between 1s and 10m0s"},
		{"replay store redis", map[string]string{"JWTGATE_REPLAY_STORE": "rediss://:pw@cache.example.com:6380/2"}, func(c *Config) bool { return c.ReplayStore == "rediss://:pw@cache.example.com:6380/2" }, ""},
		{"replay store unknown scheme", map[string]string{"JWTGATE_REPLAY_STORE": "memcached://h:1"}, nil, `JWTGATE_REPLAY_STORE: must be "memory"`},
		{"replay store database not a number", map[string]string{"JWTGATE_REPLAY_STORE": "redis://u:s3cret@h:1/x"}, nil, "JWTGATE_REPLAY_STORE: redis://u:xxxxx@h:1/x: the database is a number"},
		{"public url", map[string]string{"JWTGATE_PUBLIC_URL": "https://api.example.com/v1"}, func(c *Config) bool { return c.PublicURL == "https://api.example.com/v1" }, ""},
		{"public url relative", map[string]string{"JWTGATE_PUBLIC_URL": "/v1"}, nil, "JWTGATE_PUBLIC_URL: must be an absolute URL"},
		{"public url with query", map[string]string{"JWTGATE_PUBLIC_URL": "https://h/v1?x=1"}, nil, "JWTGATE_PUBLIC_URL: must be scheme://host"},
		{"client cert header", map[string]string{"JWTGATE_CLIENT_CERT_HEADER": "X-ARR-ClientCert"}, func(c *Config) bool { return c.ClientCertHeader == "X-ARR-ClientCert" }, ""},
		{"client cert header invalid", map[string]string{"JWTGATE_CLIENT_CERT_HEADER": "X Cert"}, nil, `JWTGATE_CLIENT_CERT_HEADER: "X Cert" is not a header name`},
		{"require bound tokens", map[string]string{"JWTGATE_REQUIRE_BOUND_TOKENS": "true"}, func(c *Config) bool { return c.RequireBoundTokens }, ""},
		{"require bound tokens not a boolean", map[string]string{"JWTGATE_REQUIRE_BOUND_TOKENS": "yes please"}, nil, `JWTGATE_REQUIRE_BOUND_TOKENS: "yes please" is not a boolean`},

		// files
		{"policy file missing", map[string]string{"JWTGATE_POLICY_FILE": "/nonexistent/policy.yaml"}, nil, "JWTGATE_POLICY_FILE: cannot read /nonexistent/policy.yaml"},
		{"APIM policy file missing", map[string]string{"JWTGATE_APIM_POLICY_FILE": "/nonexistent/policy.xml"}, nil, "JWTGATE_APIM_POLICY_FILE: cannot read /nonexistent/policy.xml"},
		{"both policy files", map[string]string{"JWTGATE_POLICY_FILE": "/a", "JWTGATE_APIM_POLICY_FILE": "/b"}, nil, "JWTGATE_POLICY_FILE: set either"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error; want %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q\nwant it to contain %q", err, tt.wantErr)
				}
				if c != nil {
					t.Error("a Config came back with the error")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config: %+v", c)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("loaded config fails Validate: %v", err)
			}
		})
	}
}

func TestFromEnvErrorsTellAllProblems(t *testing.T) {
	_, err := FromEnv(envOf(map[string]string{"JWTGATE_CLOCK_SKEW": "abc", "JWTGATE_HTTP_TIMEOUT": "x"}))
	if err == nil || !strings.Contains(err.Error(), "JWTGATE_CLOCK_SKEW") || !strings.Contains(err.Error(), "JWTGATE_HTTP_TIMEOUT") {
		t.Fatalf("want both settings named, got %v", err)
	}
}

// TestSettingsComplete keeps Settings the one list of variables: every
// JWTGATE_ name in this package's code is listed, every listed one is read.
func TestSettingsComplete(t *testing.T) {
	re := regexp.MustCompile(`JWTGATE_[A-Z0-9_]+`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	inCode := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllString(string(data), -1) {
			inCode[m] = true
		}
	}
	listed := map[string]bool{}
	for _, s := range Settings {
		if listed[s.Name] {
			t.Errorf("%s listed twice", s.Name)
		}
		listed[s.Name] = true
		if s.Description == "" {
			t.Errorf("%s has no description", s.Name)
		}
		if !inCode[s.Name] {
			t.Errorf("%s is in Settings but the code never names it", s.Name)
		}
		_, parsed := envParsers[s.Name]
		file := s.Name == "JWTGATE_POLICY_FILE" || s.Name == "JWTGATE_APIM_POLICY_FILE" || adapterSettings[s.Name]
		if parsed == file {
			t.Errorf("%s: has a parser %v, is a file setting %v", s.Name, parsed, file)
		}
	}
	var missing []string
	for name := range inCode {
		if !listed[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("named in code but not in Settings: %v", missing)
	}
	for name := range envParsers {
		if !listed[name] {
			t.Errorf("parser for %s, which Settings does not list", name)
		}
	}
}

func TestFromEnvOverridesPolicyFile(t *testing.T) {
	p := writeFile(t, "policy.yaml", `
openid_config: ["https://tenant.auth0.com/.well-known/openid-configuration"]
audiences: ["from-file"]
clock_skew: 10s
required_scopes: [read:orders]
`)
	c, err := FromEnv(func(k string) string {
		return map[string]string{"JWTGATE_POLICY_FILE": p, "JWTGATE_AUDIENCES": "from-env", "JWTGATE_HTTP_TIMEOUT": "1s"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Audiences, []string{"from-env"}) {
		t.Errorf("env should override the file's audiences: %v", c.Audiences)
	}
	if c.ClockSkew != 10*time.Second || c.HTTPTimeout != time.Second || !reflect.DeepEqual(c.RequiredScopes, []string{"read:orders"}) {
		t.Errorf("file values and env values should combine: %+v", c)
	}
	// An error in a value from the file names the file and field.
	bad := writeFile(t, "bad.yaml", "openid_config: [\"https://t.example/x\"]\naudiences: [a]\nclock_skew: 20m\n")
	_, err = FromEnv(func(k string) string { return map[string]string{"JWTGATE_POLICY_FILE": bad}[k] })
	if err == nil || !strings.Contains(err.Error(), "bad.yaml: clock_skew: 20m0s is outside") {
		t.Errorf("want the file field named, got %v", err)
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
