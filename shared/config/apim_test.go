package config

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// auth0APIM is a realistic APIM inbound policy for an Auth0 API, shaped like
// the examples in the validate-jwt policy reference.
const auth0APIM = `<policies>
  <inbound>
    <base />
    <!-- Auth0 access tokens for the orders API -->
    <validate-jwt header-name="Authorization" failed-validation-httpcode="401"
        failed-validation-error-message="Unauthorized. Access token is missing or invalid."
        require-expiration-time="true" require-scheme="Bearer" require-signed-tokens="true"
        clock-skew="30" output-token-variable-name="jwt">
      <openid-config url="https://tenant.auth0.com/.well-known/openid-configuration" />
      <audiences>
        <audience>https://api.example.com</audience>
      </audiences>
      <issuers>
        <issuer>https://tenant.auth0.com/</issuer>
      </issuers>
      <required-claims>
        <claim name="permissions" match="any">
          <value>read:orders</value>
          <value>admin</value>
        </claim>
      </required-claims>
    </validate-jwt>
    <set-header name="X-User" exists-action="override">
      <value>@(((Jwt)context.Variables["jwt"]).Subject)</value>
    </set-header>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`

// auth0APIMAsPolicy is the same configuration as a policy file.
const auth0APIMAsPolicy = `
openid_config: ["https://tenant.auth0.com/.well-known/openid-configuration"]
audiences: ["https://api.example.com"]
issuers: ["https://tenant.auth0.com/"]
required_claims:
  - {name: permissions, values: ["read:orders", "admin"], match: any}
failed_validation_httpcode: 401
failed_validation_error_message: Unauthorized. Access token is missing or invalid.
`

func TestLoadAPIMAuth0(t *testing.T) {
	c, err := LoadAPIM([]byte(auth0APIM))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.OpenIDConfigURLs = []string{"https://tenant.auth0.com/.well-known/openid-configuration"}
	want.Audiences = []string{"https://api.example.com"}
	want.Issuers = []string{"https://tenant.auth0.com/"}
	want.RequiredClaims = []ClaimRequirement{{Name: "permissions", Values: []string{"read:orders", "admin"}, Match: "any"}}
	want.FailedMessage = "Unauthorized. Access token is missing or invalid."
	if !reflect.DeepEqual(c, want) {
		t.Errorf("\n got %+v\nwant %+v", c, want)
	}
	// The same model written as a policy file gives the same Config.
	p, err := LoadPolicy([]byte(auth0APIMAsPolicy), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, p) {
		t.Errorf("APIM and policy file disagree:\n apim %+v\n file %+v", c, p)
	}
}

func apimWith(attrs, body string) string {
	if !strings.Contains(body, "<audiences>") {
		body += `<audiences><audience>api</audience></audiences>`
	}
	if !strings.Contains(body, "openid-config") && !strings.Contains(body, "issuer-signing-keys") {
		body += `<openid-config url="https://idp.example/.well-known/openid-configuration"/>`
	}
	return `<policies><inbound><validate-jwt ` + attrs + `>` + body + `</validate-jwt></inbound></policies>`
}

func TestLoadAPIMSettings(t *testing.T) {
	testKeys(t)
	n := b64url(rsaPriv.PublicKey.N.Bytes())
	tests := []struct {
		name  string
		xml   string
		check func(*Config) bool
	}{
		{"defaults: Authorization Bearer, APIM's 0s clock skew, expiration required", apimWith(``, ``),
			func(c *Config) bool {
				return c.HeaderName == "Authorization" && c.Scheme == "Bearer" && c.ClockSkew == 0 && c.RequireExpiration && c.FailedStatus == 401
			}},
		{"clock-skew in seconds", apimWith(`clock-skew="90"`, ``), func(c *Config) bool { return c.ClockSkew == 90*time.Second }},
		{"require-expiration-time false", apimWith(`require-expiration-time="false"`, ``), func(c *Config) bool { return !c.RequireExpiration }},
		{"custom header without scheme holds the bare token", apimWith(`header-name="X-Token"`, ``),
			func(c *Config) bool { return c.HeaderName == "X-Token" && c.Scheme == "" }},
		{"custom header: require-scheme is ignored, as APIM does", apimWith(`header-name="X-Token" require-scheme="JWT"`, ``),
			func(c *Config) bool { return c.HeaderName == "X-Token" && c.Scheme == "" }},
		{"authorization header keeps Bearer", apimWith(`header-name="authorization"`, ``),
			func(c *Config) bool { return c.HeaderName == "authorization" && c.Scheme == "Bearer" }},
		{"query parameter only", apimWith(`query-parameter-name="access_token"`, ``),
			func(c *Config) bool { return c.HeaderName == "" && c.QueryParam == "access_token" }},
		{"failed-validation-httpcode", apimWith(`failed-validation-httpcode="403"`, ``), func(c *Config) bool { return c.FailedStatus == 403 }},
		{"several openid-config elements", apimWith(``, `<openid-config url="https://a.example/.well-known/openid-configuration"/><openid-config url="https://b.example/.well-known/openid-configuration" validate-connectivity="true"/>`),
			func(c *Config) bool { return len(c.OpenIDConfigURLs) == 2 }},
		{"signing keys: base64 secret and n/e", apimWith(``, `<issuer-signing-keys><key>`+secret32+`</key><key id="rsa1" n="`+n+`" e="AQAB"/></issuer-signing-keys><issuers><issuer>https://idp.example/</issuer></issuers>`),
			func(c *Config) bool {
				return len(c.StaticKeys) == 2 && len(c.StaticKeys[0].Secret) == 32 && c.StaticKeys[1].KID == "rsa1" && c.StaticKeys[1].N == n &&
					contains(c.Algorithms, "HS256") && contains(c.Algorithms, "RS256")
			}},
		{"decryption keys", apimWith(``, `<decryption-keys><key id="enc">`+secret32+`</key></decryption-keys>`),
			func(c *Config) bool { return len(c.DecryptionKeys) == 1 && c.DecryptionKeys[0].KID == "enc" }},
		{"decryption key as a base64 private key", apimWith(``, `<decryption-keys><key>`+base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(rsaPriv))+`</key></decryption-keys>`),
			func(c *Config) bool {
				return len(c.DecryptionKeys) == 1 && strings.HasPrefix(string(c.DecryptionKeys[0].PEM), "-----BEGIN RSA PRIVATE KEY-----")
			}},
		{"signing key as a certificate body over several lines is a public key, not a secret", apimWith(``, `<issuer-signing-keys><key>`+"\n  "+testCertB64(t)[:40]+"\n  "+testCertB64(t)[40:]+`</key></issuer-signing-keys><issuers><issuer>i</issuer></issuers>`),
			func(c *Config) bool {
				return len(c.StaticKeys) == 1 && c.StaticKeys[0].Secret == nil && strings.HasPrefix(string(c.StaticKeys[0].PEM), "-----BEGIN CERTIFICATE-----") &&
					!contains(c.Algorithms, "HS256")
			}},
		{"the policy's keys serve its issuers", apimWith(``, `<issuer-signing-keys><key>`+secret32+`</key></issuer-signing-keys><issuers><issuer>https://a/</issuer><issuer>https://b/</issuer></issuers>`),
			func(c *Config) bool {
				return reflect.DeepEqual(c.StaticKeys[0].Issuers, []string{"https://a/", "https://b/"})
			}},
		{"the policy's keys serve its discovery issuers without <issuers>", apimWith(``, `<issuer-signing-keys><key>`+secret32+`</key></issuer-signing-keys><openid-config url="https://idp.example/.well-known/openid-configuration"/>`),
			func(c *Config) bool {
				return reflect.DeepEqual(c.StaticKeys[0].Issuers, []string{"https://idp.example"})
			}},
		{"discovery keys serve the policy's other issuers", apimWith(``, `<issuers><issuer>https://idp.example/</issuer><issuer>https://sts.example/t/</issuer></issuers>`),
			func(c *Config) bool {
				return reflect.DeepEqual(c.OpenIDConfigIssuers, map[string][]string{"https://idp.example/.well-known/openid-configuration": {"https://sts.example/t/"}})
			}},
		{"required claim with a separator", apimWith(``, `<required-claims><claim name="roles" match="all" separator=","><value>a</value><value>b</value></claim><claim name="gty"/></required-claims>`),
			func(c *Config) bool {
				return reflect.DeepEqual(c.RequiredClaims, []ClaimRequirement{{Name: "roles", Values: []string{"a", "b"}, Match: "all", Separator: ","}, {Name: "gty"}})
			}},
		{"a bare validate-jwt element", `<validate-jwt><openid-config url="https://i.example/x"/><audiences><audience>a</audience></audiences></validate-jwt>`,
			func(c *Config) bool { return c.Audiences[0] == "a" }},
		{"named values outside validate-jwt are not its concern", `<policies><inbound><set-header name="x"><value>{{secret}}</value></set-header>` + apimWith(``, ``)[len(`<policies><inbound>`):],
			func(c *Config) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadAPIM([]byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestLoadAPIMRefuses(t *testing.T) {
	testKeys(t)
	tests := []struct {
		name, xml, wantErr string
	}{
		{"expression in an attribute", apimWith(`header-name="@(context.Variables.GetValueOrDefault(&quot;h&quot;,&quot;Authorization&quot;))"`, ``),
			"APIM policy: <validate-jwt header-name> is a policy expression (@(context.Variables.GetValueOrDefault(\"h…), which jwtgate cannot evaluate outside API Management"},
		{"expression in an audience", apimWith(``, `<audiences><audience>@(context.Api.ServiceUrl.ToString())</audience></audiences>`),
			"the text of <validate-jwt/audiences/audience> is a policy expression"},
		{"multi-statement expression in the second issuer", apimWith(``, `<issuers><issuer>https://a/</issuer><issuer>@{ return "x"; }</issuer></issuers>`),
			"the text of <validate-jwt/issuers/issuer[2]> is a policy expression (@{"},
		{"expression in openid-config url", apimWith(``, `<openid-config url="@(&quot;https://&quot; + context.Variables[&quot;t&quot;])"/>`),
			"<validate-jwt/openid-config url> is a policy expression"},
		{"named value", apimWith(``, `<audiences><audience>{{auth0-audience}}</audience></audiences>`),
			"uses the named value {{auth0-audience}}, which jwtgate cannot resolve; substitute its value"},
		{"named value inside a URL", apimWith(``, `<openid-config url="https://{{tenant}}.auth0.com/.well-known/openid-configuration"/>`),
			"<validate-jwt/openid-config url> uses the named value {{tenant}}"},
		{"token-value", apimWith(`token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X&quot;))"`, ``), "is a policy expression"},
		{"token-value literal", apimWith(`token-value="abc"`, ``), "token-value takes a policy expression"},
		{"unsigned tokens", apimWith(`require-signed-tokens="false"`, ``), "<validate-jwt require-signed-tokens>: false is refused: jwtgate never accepts unsigned tokens"},
		{"signing key by certificate-id", apimWith(``, `<issuer-signing-keys><key certificate-id="auth0-cert"/></issuer-signing-keys><issuers><issuer>i</issuer></issuers>`),
			`<validate-jwt/issuer-signing-keys/key>: certificate-id "auth0-cert" names a certificate stored in API Management`},
		{"decryption key by certificate-id", apimWith(``, `<decryption-keys><key certificate-id="c"/></decryption-keys>`), `certificate-id "c" names a certificate`},
		{"decryption key as n/e", apimWith(``, `<decryption-keys><key n="AQAB" e="AQAB"/></decryption-keys>`), "<validate-jwt/decryption-keys/key>: n and e give a public key, which cannot decrypt"},
		{"decryption key as a certificate body", apimWith(``, `<decryption-keys><key>`+testCertB64(t)+`</key></decryption-keys>`), "<validate-jwt/decryption-keys/key>: a certificate or public key cannot decrypt"},
		{"n without e", apimWith(``, `<issuer-signing-keys><key n="AQAB"/></issuer-signing-keys><issuers><issuer>i</issuer></issuers>`), "an RSA key needs both n and e"},
		{"secret not base64", apimWith(``, `<issuer-signing-keys><key>not base64!</key></issuer-signing-keys><issuers><issuer>i</issuer></issuers>`), "not base64"},
		{"signing keys without issuers", apimWith(``, `<issuer-signing-keys><key>`+secret32+`</key></issuer-signing-keys>`), "JWTGATE_ISSUERS (APIM <issuers>): required with static keys"},
		{"no audiences", `<validate-jwt><openid-config url="https://i.example/x"/></validate-jwt>`,
			`JWTGATE_AUDIENCES: required: the APIM policy has no <audiences>; add them, or set JWTGATE_AUDIENCES ("*" disables the audience check explicitly)`},
		{"star audience is not a wildcard in APIM", apimWith(``, `<audiences><audience>*</audience></audiences>`), `"*" would turn the audience check off in jwtgate (APIM compares it literally)`},
		{"empty audiences", apimWith(``, `<audiences></audiences>`), "<validate-jwt/audiences>: no <audience> elements"},
		{"empty audience", apimWith(``, `<audiences><audience> </audience></audiences>`), "empty <audience>"},
		{"clock-skew not a number", apimWith(`clock-skew="1m"`, ``), `<validate-jwt clock-skew>: "1m" is not a whole number of seconds`},
		{"clock-skew too large", apimWith(`clock-skew="3600"`, ``), "<validate-jwt clock-skew>: 1h0m0s is outside 0 to 10m0s"},
		{"require-expiration-time not boolean", apimWith(`require-expiration-time="yes"`, ``), `"yes" is neither true nor false`},
		{"failed-validation-httpcode not a status", apimWith(`failed-validation-httpcode="abc"`, ``), `<validate-jwt failed-validation-httpcode>: "abc" is not a whole number`},
		{"unknown attribute", apimWith(`require-audience="true"`, ``), "<validate-jwt require-audience>: unknown attribute of <validate-jwt>"},
		{"unknown element", apimWith(``, `<signing-keys/>`), "<validate-jwt/signing-keys>: unknown element"},
		{"wrong child element", apimWith(``, `<issuers><iss>x</iss></issuers>`), "unexpected element <iss> (expected <issuer>)"},
		{"bad claim match", apimWith(``, `<required-claims><claim name="a" match="some"><value>x</value></claim></required-claims>`), `match "some" is neither all nor any`},
		{"http openid-config", apimWith(``, `<openid-config url="http://idp.example/x"/>`), "APIM policy: <openid-config>: \"http://idp.example/x\": https is required"},
		{"two validate-jwt elements", `<policies><inbound>` + apimWith(``, ``) + apimWith(``, ``) + `</inbound></policies>`, "more than one <validate-jwt> element"},
		{"conditional validation", `<policies><inbound><choose><when condition="@(true)">` + apimWith(``, ``) + `</when></choose></inbound></policies>`, "inside <choose>"},
		{"no validate-jwt", `<policies><inbound><base/></inbound></policies>`, "no <validate-jwt> element found"},
		{"not XML", `<policies><inbound>`, "not well-formed XML"},
		{"unclosed validate-jwt", `<validate-jwt><audiences>`, "not well-formed XML"},
		{"unknown entity", `<validate-jwt header-name="&evil;"/>`, "not well-formed XML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadAPIM([]byte(tt.xml))
			if err == nil {
				t.Fatalf("no error (config %+v); want %q", c, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFromEnvAPIMFile(t *testing.T) {
	noAud := writeFile(t, "policy.xml", `<policies><inbound><validate-jwt header-name="Authorization">
  <openid-config url="https://tenant.auth0.com/.well-known/openid-configuration"/>
</validate-jwt></inbound></policies>`)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := FromEnv(env(map[string]string{"JWTGATE_APIM_POLICY_FILE": noAud}))
	if err == nil || !strings.Contains(err.Error(), "the APIM policy has no <audiences>") {
		t.Fatalf("missing audiences must stop start-up: %v", err)
	}
	c, err := FromEnv(env(map[string]string{"JWTGATE_APIM_POLICY_FILE": noAud, "JWTGATE_AUDIENCES": "*"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.AnyAudience {
		t.Error(`JWTGATE_AUDIENCES="*" should turn the audience check off explicitly`)
	}
	full := writeFile(t, "full.xml", auth0APIM)
	c, err = FromEnv(env(map[string]string{"JWTGATE_APIM_POLICY_FILE": full, "JWTGATE_CLOCK_SKEW": "5s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClockSkew != 5*time.Second || c.Issuers[0] != "https://tenant.auth0.com/" {
		t.Errorf("env should override the APIM clock-skew and keep the rest: %+v", c)
	}
	// The policy's keys serve the issuers in force after the environment.
	keyed := writeFile(t, "keyed.xml", apimWith(``, `<issuer-signing-keys><key>`+secret32+`</key></issuer-signing-keys><issuers><issuer>https://a/</issuer></issuers>`))
	c, err = FromEnv(env(map[string]string{"JWTGATE_APIM_POLICY_FILE": keyed, "JWTGATE_ISSUERS": "https://b/"}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.StaticKeys[0].Issuers, []string{"https://b/"}) {
		t.Errorf("APIM keys bound to %q; want the overriding JWTGATE_ISSUERS", c.StaticKeys[0].Issuers)
	}
	bad := writeFile(t, "bad.xml", apimWith(`clock-skew="x"`, ``))
	_, err = FromEnv(env(map[string]string{"JWTGATE_APIM_POLICY_FILE": bad}))
	if err == nil || !strings.Contains(err.Error(), "bad.xml: <validate-jwt clock-skew>") {
		t.Errorf("errors should name the file and attribute: %v", err)
	}
}

func FuzzLoadAPIM(f *testing.F) {
	f.Add([]byte(auth0APIM))
	f.Add([]byte(apimWith(`header-name="X" clock-skew="5"`, `<issuer-signing-keys><key id="a" n="AQAB" e="AQAB"/></issuer-signing-keys><issuers><issuer>i</issuer></issuers>`)))
	f.Add([]byte(apimWith(``, `<required-claims><claim name="a" separator=" "><value>b</value></claim></required-claims>`)))
	f.Add([]byte(apimWith(``, `<issuer-signing-keys><key>`+testCertB64(f)+`</key><key>`+secret32+`</key></issuer-signing-keys><decryption-keys><key>`+secret32+`</key></decryption-keys><issuers><issuer>https://idp.example/</issuer><issuer>x</issuer></issuers>`)))
	f.Add([]byte(`<validate-jwt><audiences><audience>a</audience></audiences><openid-config url="http://[::1]/x"/></validate-jwt>`))
	f.Add([]byte(aadPolicy(`tenant-id="72f988bf-86f1-41af-91ab-2d7cd011db47"`, aadClients+`<backend-application-ids><application-id>b</application-id></backend-application-ids>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadAPIM(data)
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("LoadAPIM accepted a config that fails Validate: %v", err)
		}
	})
}

// testCertB64 is a self-signed certificate for rsaPriv, base64 (a <key>
// element's certificate body).
func testCertB64(t testing.TB) string {
	t.Helper()
	testKeys(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsaPriv.PublicKey, rsaPriv)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// TestNamedValueMatchesTheRegexp: the hand-written scan finds what the
// regular expression \{\{[^{}]*\}\} finds (it replaced it, to keep regexp
// out of the binaries), including nested and unbalanced braces.
func TestNamedValueMatchesTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`\{\{[^{}]*\}\}`)
	for _, v := range []string{
		"", "{", "{{", "}}", "{{}}", "{{x}}", "a {{key}} b", "{{{a}}}", "{{a}", "{{a}}}",
		"{{a{b}}", "{{a}b}}", "x{{a}}{{b}}", "{{ a b }}", "{ {a}}", "{{a} }", "{{é}}", "{{a\n}}",
		"https://{{host}}/jwks", "{{{{}}}}", "}}{{", "{{a{{b}}",
	} {
		if got, want := namedValue(v), re.FindString(v); got != want {
			t.Errorf("namedValue(%q) = %q, the regexp finds %q", v, got, want)
		}
	}
}
