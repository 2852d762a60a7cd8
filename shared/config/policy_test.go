package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// auth0YAML is the worked example of docs/configuration.md.
const auth0YAML = `# Auth0 tenant "tenant", API identifier https://api.example.com
openid_config:
  - https://tenant.auth0.com/.well-known/openid-configuration
issuers:
  - https://tenant.auth0.com/          # Auth0's iss ends with a slash
audiences:
  - https://api.example.com            # the API identifier
algorithms: [RS256]
clock_skew: 30s
required_scopes: [read:orders]
required_claims:
  - name: permissions                  # Auth0 RBAC: an array claim
    values: ["read:orders", "admin"]
    match: any
routes:
  - method: POST
    path: /orders
    scopes: ["write:orders"]
  - method: delete
    path: /orders/{id}
    claims:
      - name: permissions
        values: ["delete:orders"]
  - path: /admin/*
    claims:
      - name: permissions
        values: [admin]
forward_claims: [permissions, gty]
claim_headers:
  sub: X-Auth-Subject
  permissions: X-Auth-Permissions
`

const auth0JSON = `{
  "openid_config": ["https://tenant.auth0.com/.well-known/openid-configuration"],
  "issuers": ["https://tenant.auth0.com/"],
  "audiences": ["https://api.example.com"],
  "algorithms": ["RS256"],
  "clock_skew": "30s",
  "required_scopes": ["read:orders"],
  "required_claims": [{"name": "permissions", "values": ["read:orders", "admin"], "match": "any"}],
  "routes": [
    {"method": "POST", "path": "/orders", "scopes": ["write:orders"]},
    {"method": "DELETE", "path": "/orders/{id}", "claims": [{"name": "permissions", "values": ["delete:orders"]}]},
    {"method": "*", "path": "/admin/*", "claims": [{"name": "permissions", "values": ["admin"]}]}
  ],
  "forward_claims": ["permissions", "gty"],
  "claim_headers": {"sub": "X-Auth-Subject", "permissions": "X-Auth-Permissions"}
}`

func wantAuth0() *Config {
	c := Default()
	c.OpenIDConfigURLs = []string{"https://tenant.auth0.com/.well-known/openid-configuration"}
	c.Issuers = []string{"https://tenant.auth0.com/"}
	c.Audiences = []string{"https://api.example.com"}
	c.Algorithms = []string{"RS256"}
	c.RequiredScopes = []string{"read:orders"}
	c.RequiredClaims = []ClaimRequirement{{Name: "permissions", Values: []string{"read:orders", "admin"}, Match: "any"}}
	c.Routes = []RouteRule{
		{Method: "POST", Path: "/orders", Scopes: []string{"write:orders"}},
		{Method: "DELETE", Path: "/orders/{id}", Claims: []ClaimRequirement{{Name: "permissions", Values: []string{"delete:orders"}}}},
		{Method: "*", Path: "/admin/*", Claims: []ClaimRequirement{{Name: "permissions", Values: []string{"admin"}}}},
	}
	c.ForwardClaims = []string{"permissions", "gty"}
	c.ClaimHeaders = map[string]string{"sub": "X-Auth-Subject", "permissions": "X-Auth-Permissions"}
	return c
}

func TestLoadPolicyAuth0Example(t *testing.T) {
	for _, tt := range []struct{ name, data string }{
		{"policy.yaml", auth0YAML},
		{"policy.yml", auth0YAML},
		{"policy.json", auth0JSON},
		{"policy", auth0JSON}, // told by content
		{"policy", auth0YAML},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadPolicy([]byte(tt.data), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if want := wantAuth0(); !reflect.DeepEqual(c, want) {
				t.Errorf("\n got %+v\nwant %+v", c, want)
			}
		})
	}
}

func TestLoadPolicyIsStrict(t *testing.T) {
	base := "openid_config: [\"https://t.example/x\"]\naudiences: [api]\n"
	baseJSON := `"openid_config": ["https://t.example/x"], "audiences": ["api"]`
	tests := []struct {
		name, file, data, wantErr string
	}{
		{"unknown top-level key (YAML)", "p.yaml", base + "audience: [x]\n", "p.yaml: YAML: yaml: unmarshal errors:\n  line 3: field audience not found"},
		{"unknown top-level key (JSON)", "p.json", `{` + baseJSON + `, "audience": ["x"]}`, `p.json: JSON: json: unknown field "audience"`},
		{"unknown key in a route (YAML)", "p.yaml", base + "routes:\n  - path: /a\n    scope: [x]\n", "field scope not found"},
		{"unknown key in a route (JSON)", "p.json", `{` + baseJSON + `, "routes": [{"path": "/a", "scope": ["x"]}]}`, `unknown field "scope"`},
		{"unknown key in a required claim", "p.yaml", base + "required_claims:\n  - name: a\n    value: [x]\n", "field value not found"},
		{"unknown key in a key", "p.yaml", base + "keys:\n  - secret: abc\n    kind: x\n", "field kind not found"},
		{"duplicate key (YAML)", "p.yaml", base + "audiences: [other]\n", `mapping key "audiences" already defined`},
		{"duplicate key (JSON)", "p.json", `{` + baseJSON + `, "audiences": ["other"]}`, `JSON: duplicate key "audiences"`},
		{"duplicate nested key (JSON)", "p.json", `{` + baseJSON + `, "routes": [{"path": "/a", "path": "/b"}]}`, `JSON: duplicate key "path"`},
		{"trailing data (JSON)", "p.json", `{` + baseJSON + `} {}`, "JSON: data after the policy object"},
		{"two YAML documents", "p.yaml", base + "---\naudiences: [x]\n", "YAML: only one document is allowed"},
		{"a list, not a mapping", "p.yaml", "- a\n- b\n", "YAML: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into config.policyFile"},
		{"empty file", "p.yaml", "  \n", "p.yaml: empty policy"},
		{"comments only", "p.yaml", "# nothing\n", "p.yaml: empty policy"},
		{"wrong type", "p.yaml", base + "issuers: https://t.example/\n", "cannot unmarshal !!str"},
		{"bool as a word", "p.yaml", base + "require_expiration: maybe\n", "cannot unmarshal !!str `maybe` into bool"},
		{"duration without unit", "p.yaml", base + "clock_skew: 30\n", `p.yaml: clock_skew: "30" is not a Go duration (add a unit, e.g. 30s)`},
		{"bad duration", "p.json", `{` + baseJSON + `, "jwks_cooldown": "soon"}`, `p.json: jwks_cooldown: "soon" is not a Go duration`},
		{"validation names the file field", "p.yaml", base + "max_token_bytes: 10\n", "p.yaml: max_token_bytes: 10 is outside"},
		{"audiences missing", "p.yaml", "openid_config: [\"https://t.example/x\"]\n", `JWTGATE_AUDIENCES: required (set "*"`},
		{"audiences empty list", "p.yaml", "openid_config: [\"https://t.example/x\"]\naudiences: []\n", "p.yaml: audiences: the list is empty"},
		{"route path names the route", "p.yaml", base + "routes:\n  - {method: GET, path: orders}\n", `p.yaml: routes[0].path: "orders" must start with /`},
		{"route method", "p.yaml", base + "routes:\n  - {method: FETCH, path: /a}\n", `p.yaml: routes[0].method: "FETCH" is not one of`},
		{"key with two materials", "p.yaml", base + "issuers: [i]\nkeys:\n  - {secret: " + secret32 + ", n: x, e: AQAB}\n", "p.yaml: keys[0]: give exactly one of jwks, jwks_url, pem, n/e or secret"},
		{"key secret too short names the key", "p.yaml", base + "issuers: [i]\nkeys:\n  - {secret: c2hvcnQ}\n", "p.yaml: keys[0]: static key 1: secret is 5 bytes"},
		{"key issuer not accepted", "p.yaml", base + "issuers: [i]\nkeys:\n  - {secret: " + secret32 + ", issuers: [j]}\n", `static key 1: issuer "j" is not in JWTGATE_ISSUERS`},
		{"key alg not allowed", "p.yaml", base + "issuers: [i]\nalgorithms: [HS256]\nkeys:\n  - {secret: " + secret32 + ", alg: HS512}\n", "algorithm HS512 is not in JWTGATE_ALGORITHMS"},
		{"failed status out of range", "p.yaml", base + "failed_validation_httpcode: 200\n", "p.yaml: failed_validation_httpcode: 200 is not an HTTP error status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadPolicy([]byte(tt.data), tt.file)
			if err == nil {
				t.Fatalf("no error (config %+v); want %q", c, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadPolicyKeys(t *testing.T) {
	testKeys(t)
	dir := t.TempDir()
	jwks := writeFile(t, "jwks.json", testJWKS)
	_ = dir
	policy := `
issuers: ["https://issuer.example/"]
audiences: ["*"]
keys:
  - {jwks_url: "https://issuer.example/jwks", issuers: ["https://issuer.example/"]}
  - jwks: {"keys": [{"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"}]}
  - jwks: "@` + jwks + `"
  - pem: |
` + indent(ecPubPEM, "      ") + `    kid: ec1
    alg: ES256
  - {n: "` + b64url(rsaPriv.PublicKey.N.Bytes()) + `", e: AQAB, kid: rsa1}
  - {secret: "` + secret32 + `", kid: hs1, issuers: ["https://issuer.example/"]}
decryption_keys:
  - {secret: "` + secret32 + `", kid: enc}
  - pem: |
` + indent(rsaPrvPEM, "      ") + `    kid: rsa-enc
  - jwk: {"kty": "oct", "k": "` + secret32u + `"}
seed_jwks: '` + testJWKS + `'
token_header: "-"
token_cookie: session
jwks_max_staleness: 48h
`
	c, err := LoadPolicy([]byte(policy), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.AnyAudience || c.Audiences != nil {
		t.Errorf(`audiences ["*"] should mean any audience: %v %v`, c.AnyAudience, c.Audiences)
	}
	if want := []JWKSSource{{URL: "https://issuer.example/jwks", Issuers: []string{"https://issuer.example/"}}}; !reflect.DeepEqual(c.JWKSSources, want) {
		t.Errorf("JWKS sources = %+v, want %+v", c.JWKSSources, want)
	}
	if len(c.StaticKeys) != 5 {
		t.Fatalf("want 5 static keys, got %d", len(c.StaticKeys))
	}
	k := c.StaticKeys
	if !bytes.Contains(k[0].JWKS, []byte(`"kid":"a"`)) || string(k[1].JWKS) != testJWKS {
		t.Errorf("jwks keys: %s / %s", k[0].JWKS, k[1].JWKS)
	}
	if k[2].KID != "ec1" || k[2].Alg != "ES256" || !bytes.Contains(k[2].PEM, []byte("PUBLIC KEY")) {
		t.Errorf("pem key: %+v", k[2])
	}
	if k[3].KID != "rsa1" || k[3].E != "AQAB" || k[4].KID != "hs1" || len(k[4].Secret) != 32 || k[4].Issuers[0] != "https://issuer.example/" {
		t.Errorf("n/e and secret keys: %+v %+v", k[3], k[4])
	}
	if !contains(c.Algorithms, "HS256") {
		t.Errorf("a configured secret should add HS algorithms: %v", c.Algorithms)
	}
	if len(c.DecryptionKeys) != 3 || c.DecryptionKeys[1].KID != "rsa-enc" || len(c.DecryptionKeys[2].JWK) == 0 {
		t.Errorf("decryption keys: %+v", c.DecryptionKeys)
	}
	if string(c.SeedJWKS) != testJWKS || c.HeaderName != "" || c.CookieName != "session" || c.MaxStaleness != 48*time.Hour {
		t.Errorf("other settings: %+v", c)
	}
}

func indent(s, pre string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(pre + line)
		}
	}
	return b.String()
}

func TestRoutePaths(t *testing.T) {
	tests := []struct {
		path    string
		wantErr string
	}{
		{"/", ""},
		{"/orders", ""},
		{"/orders/", ""},
		{"/orders/{id}", ""},
		{"/orders/{order_id}/items/{n}", ""},
		{"/admin/*", ""},
		{"/*", ""},
		{"orders", "must start with /"},
		{"", "must start with /"},
		{"/orders?x=1", "no query"},
		{"/a//b", "empty segment"},
		{"/a/../b", "dot segments"},
		{"/a/*/b", `"*" is only allowed as the last segment`},
		{"/a/{proxy+}", "use a final /* instead of the greedy {proxy+}"},
		{"/a/{}", "parameter {} must be a name"},
		{"/a/{a-b}", "parameter {a-b} must be a name"},
		{"/a/x{id}", "mixes text with {} or *"},
		{"/a/b*", "mixes text with {} or *"},
		{"/a b", "no query, fragment, spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := checkRoutePath(tt.path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateRoutes(t *testing.T) {
	base := func() *Config {
		c := Default()
		c.OpenIDConfigURLs = []string{testDiscovery}
		c.Audiences = []string{"api"}
		return c
	}
	tests := []struct {
		name    string
		routes  []RouteRule
		wantErr string
	}{
		{"valid rules", []RouteRule{{Method: "GET", Path: "/orders/{id}", Scopes: []string{"read"}}, {Method: "*", Path: "/admin/*"}}, ""},
		{"duplicate rule", []RouteRule{{Method: "GET", Path: "/a"}, {Method: "GET", Path: "/a"}}, "routes[1]: duplicate rule for GET /a"},
		{"empty method counts as any", []RouteRule{{Method: "", Path: "/a"}, {Method: "*", Path: "/a"}}, "duplicate rule for * /a"},
		{"lower-case method from code", []RouteRule{{Method: "get", Path: "/a"}}, `routes[0].method: "get" is not one of`},
		{"scope with a space", []RouteRule{{Method: "GET", Path: "/a", Scopes: []string{"a b"}}}, `routes[0].scopes: "a b" is not a scope token`},
		{"claim without a name", []RouteRule{{Method: "GET", Path: "/a", Claims: []ClaimRequirement{{Values: []string{"x"}}}}}, "routes[0].claims[0]: claim name is empty"},
		{"separator without values", []RouteRule{{Method: "GET", Path: "/a", Claims: []ClaimRequirement{{Name: "x", Separator: ","}}}}, "a separator needs values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			c.Routes = tt.routes
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDefaultNeedsSourceAndAudience(t *testing.T) {
	err := Default().Validate()
	if err == nil || !strings.Contains(err.Error(), "no key source") || !strings.Contains(err.Error(), "JWTGATE_AUDIENCES: required") {
		t.Fatalf("Default() alone must not validate: %v", err)
	}
}

func FuzzLoadPolicy(f *testing.F) {
	f.Add([]byte(auth0YAML), "p.yaml")
	f.Add([]byte(auth0JSON), "p.json")
	f.Add([]byte("audiences: ['*']\nopenid_config: [\"http://127.0.0.1/x\"]\nroutes: [{path: /a/{b}/*}]\n"), "p")
	f.Add([]byte(`{"audiences":["*"],"issuers":["i"],"keys":[{"jwks":{"keys":[{"kty":"oct"}]}}]}`), "p")
	f.Add([]byte("a: &a [*a, *a]\n"), "p.yml")
	f.Add([]byte("audiences: [a]\nissuers: [x, y]\nkeys:\n  - {jwks_url: \"https://x/jwks\", issuers: [x]}\n  - {jwks_url: \"https://y/jwks\", issuers: [y]}\n"), "p.yaml")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		// @file references are read relative to the name; keep the fuzzer
		// away from device and proc files.
		if bytes.Contains(data, []byte("dev/")) || bytes.Contains(data, []byte("proc/")) || bytes.Contains(data, []byte("sys/")) {
			t.Skip()
		}
		if strings.ContainsAny(name, "/\\") {
			name = "p.yaml"
		}
		c, err := LoadPolicy(data, name)
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("LoadPolicy accepted a config that fails Validate: %v", err)
		}
	})
}

// TestConfigurationPage checks docs/configuration.md against the code:
// every setting has a row in its table and the worked example loads.
// (infra/check checks the table row by row, and every other example.)
func TestConfigurationPage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Skipf("docs/configuration.md not found: %v", err)
	}
	section := string(data)
	for _, st := range Settings {
		if !strings.Contains(section, "| `"+st.Name+"` |") {
			t.Errorf("%s is not in the configuration page's variable table", st.Name)
		}
	}
	_, example, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatal("no YAML example in docs/configuration.md")
	}
	example, _, _ = strings.Cut(example, "```")
	c, err := LoadPolicy([]byte(example), "configuration.yaml")
	if err != nil {
		t.Fatalf("the worked example does not load: %v", err)
	}
	if want := wantAuth0(); !reflect.DeepEqual(c, want) {
		t.Errorf("the worked example differs from the tested one:\n got %+v\nwant %+v", c, want)
	}
}
