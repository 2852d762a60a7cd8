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
			wantValidateError(t, c, tt.wantErr)
		})
	}
}

// wantValidateError checks c.Validate: no error when want is "", else an
// error containing want.
func wantValidateError(t *testing.T, c *Config, want string) {
	t.Helper()
	err := c.Validate()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestValidateDeniedFields(t *testing.T) {
	tests := []struct {
		name    string
		rules   []FieldRule
		wantErr string
	}{
		{"valid rules", []FieldRule{{Scopes: []string{"admin"}, Fields: []string{"Mutation.deleteOrder", "_T.f_1"}}, {Claims: []ClaimRequirement{{Name: "org"}}, Fields: []string{"Order.cost"}}}, ""},
		{"rule without requirements", []FieldRule{{Fields: []string{"Order.cost"}}}, "denied_fields[0]: a rule needs scopes or claims"},
		{"rule without fields", []FieldRule{{Scopes: []string{"admin"}}}, "denied_fields[0].fields: no fields"},
		{"field without type", []FieldRule{{Scopes: []string{"admin"}, Fields: []string{"cost"}}}, `denied_fields[0].fields: "cost" is not TypeName.fieldName`},
		{"field with three parts", []FieldRule{{Scopes: []string{"admin"}, Fields: []string{"A.b.c"}}}, `"A.b.c" is not TypeName.fieldName`},
		{"field starting with a digit", []FieldRule{{Scopes: []string{"admin"}, Fields: []string{"Order.1st"}}}, `"Order.1st" is not TypeName.fieldName`},
		{"scope with a space", []FieldRule{{Scopes: []string{"a b"}, Fields: []string{"A.b"}}}, `denied_fields[0].scopes: "a b" is not a scope token`},
		{"claim without a name", []FieldRule{{Claims: []ClaimRequirement{{}}, Fields: []string{"A.b"}}}, "denied_fields[0].claims[0]: claim name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.OpenIDConfigURLs = []string{testDiscovery}
			c.Audiences = []string{"api"}
			c.DeniedFields = tt.rules
			wantValidateError(t, c, tt.wantErr)
		})
	}
}

func TestPolicyDeniedFieldsAndSubprotocol(t *testing.T) {
	c, err := LoadPolicy([]byte(`openid_config: [`+testDiscovery+`]
audiences: [api]
token_subprotocol: jwtgate.bearer
denied_fields:
  - scopes: [" admin "]
    fields: [Mutation.deleteOrder, " Order.cost "]
  - claims: [{name: department, values: [finance]}]
    fields: [Order.margin]
`), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []FieldRule{
		{Scopes: []string{"admin"}, Fields: []string{"Mutation.deleteOrder", "Order.cost"}},
		{Claims: []ClaimRequirement{{Name: "department", Values: []string{"finance"}}}, Fields: []string{"Order.margin"}},
	}
	if !reflect.DeepEqual(c.DeniedFields, want) || c.Subprotocol != "jwtgate.bearer" {
		t.Fatalf("denied fields %+v subprotocol %q", c.DeniedFields, c.Subprotocol)
	}
	if _, err := LoadPolicy([]byte(`{"openid_config":["`+testDiscovery+`"],"audiences":["api"],"denied_fields":[{"fields":["A.b"]}]}`), "p.json"); err == nil ||
		!strings.Contains(err.Error(), "denied_fields[0]: a rule needs scopes or claims") {
		t.Fatalf("error %v", err)
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

// TestPolicyFileHasEverySetting: every setting FromEnv reads is a policy
// file field (its name in snake_case without the prefix), except the few
// the policy file gives in another shape or cannot give.
func TestPolicyFileHasEverySetting(t *testing.T) {
	otherShape := map[string]string{
		"JWTGATE_POLICY_FILE":      "names the policy file itself",
		"JWTGATE_APIM_POLICY_FILE": "the other kind of policy",
		"JWTGATE_JWKS":             "keys[].jwks",
		"JWTGATE_PUBLIC_KEYS":      "keys[].pem",
		"JWTGATE_HMAC_SECRETS":     "keys[].secret",
		"JWTGATE_ENTRA_AUTHORITY":  "only used by APIM imports",
	}
	fields := map[string]bool{}
	typ := reflect.TypeOf(policyFile{})
	for i := range typ.NumField() {
		fields[strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	for _, s := range Settings {
		if otherShape[s.Name] != "" || adapterSettings[s.Name] {
			continue
		}
		if f := strings.ToLower(strings.TrimPrefix(s.Name, "JWTGATE_")); !fields[f] {
			t.Errorf("%s has no policy file field %q", s.Name, f)
		}
	}
}

// TestPolicySenderConstraintSettings: the DPoP and certificate settings in
// a policy file (YAML and JSON), their checks, and the environment over
// the file.
func TestPolicySenderConstraintSettings(t *testing.T) {
	const yml = `openid_config: ["https://t.example/x"]
audiences: [api]
dpop_algorithms: [ES256, EdDSA]
dpop_max_age: 2m
replay_store: redis://127.0.0.1:6379/3
public_url: https://api.example.com/v1
client_cert_header: X-ARR-ClientCert
require_bound_tokens: true
`
	const jsn = `{"openid_config": ["https://t.example/x"], "audiences": ["api"],
  "dpop_algorithms": ["ES256", "EdDSA"], "dpop_max_age": "2m", "replay_store": "redis://127.0.0.1:6379/3",
  "public_url": "https://api.example.com/v1", "client_cert_header": "X-ARR-ClientCert", "require_bound_tokens": true}`
	for name, data := range map[string]string{"p.yaml": yml, "p.json": jsn} {
		c, err := LoadPolicy([]byte(data), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(c.DPoPAlgorithms, []string{"ES256", "EdDSA"}) || c.DPoPMaxAge != 2*time.Minute ||
			c.ReplayStore != "redis://127.0.0.1:6379/3" || c.PublicURL != "https://api.example.com/v1" ||
			c.ClientCertHeader != "X-ARR-ClientCert" || !c.RequireBoundTokens {
			t.Errorf("%s: %+v", name, c)
		}
	}
	base := "openid_config: [\"https://t.example/x\"]\naudiences: [api]\n"
	bad := []struct{ name, data, wantErr string }{
		{"symmetric proof algorithm", base + "dpop_algorithms: [ES256, HS256]\n", "p.yaml: dpop_algorithms: HS256 is symmetric"},
		{"max age too long", base + "dpop_max_age: 1h\n", "p.yaml: dpop_max_age: must be between 1s and 10m0s"},
		{"max age without unit", base + "dpop_max_age: 60\n", `p.yaml: dpop_max_age: "60" is not a Go duration`},
		{"replay store scheme", base + "replay_store: memcached://h:1\n", `p.yaml: replay_store: must be "memory"`},
		{"public url relative", base + "public_url: /v1\n", "p.yaml: public_url: must be an absolute URL"},
		{"certificate header name", base + "client_cert_header: X Cert\n", `p.yaml: client_cert_header: "X Cert" is not a header name`},
		{"require bound tokens not a boolean", base + "require_bound_tokens: sometimes\n", "cannot unmarshal !!str `sometimes` into bool"},
	}
	for _, tt := range bad {
		if _, err := LoadPolicy([]byte(tt.data), "p.yaml"); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.wantErr)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(envOf(map[string]string{"JWTGATE_POLICY_FILE": path, "JWTGATE_REQUIRE_BOUND_TOKENS": "false", "JWTGATE_REPLAY_STORE": "memory"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RequireBoundTokens || c.ReplayStore != "memory" || c.DPoPMaxAge != 2*time.Minute {
		t.Errorf("the environment over the policy file: require %v, store %q, max age %v", c.RequireBoundTokens, c.ReplayStore, c.DPoPMaxAge)
	}
}
