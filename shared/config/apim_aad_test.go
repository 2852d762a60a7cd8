package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func aadPolicy(attrs, inner string) string {
	return `<policies><inbound><validate-azure-ad-token ` + attrs + `>` + inner + `</validate-azure-ad-token></inbound></policies>`
}

const aadClients = `<client-application-ids><application-id>web</application-id><application-id>cli</application-id></client-application-ids>`

func TestAzureADTokenImport(t *testing.T) {
	c, err := LoadAPIM([]byte(aadPolicy(`tenant-id="`+guidA+`" header-name="Authorization" failed-validation-httpcode="403" failed-validation-error-message="no"`,
		aadClients+`<backend-application-ids><application-id>api-id</application-id></backend-application-ids><audiences><audience>https://api.contoso.example</audience></audiences>`+
			`<required-claims><claim name="roles" match="any"><value>Orders.Read</value></claim></required-claims>`)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		OpenIDConfigURLs: []string{"https://login.microsoftonline.com/" + guidA + "/v2.0/.well-known/openid-configuration"},
		Issuers:          []string{"https://login.microsoftonline.com/" + guidA + "/v2.0", "https://sts.windows.net/" + guidA + "/"},
		ClientIDs:        []string{"web", "cli"},
		Audiences:        []string{"api-id", "api://api-id", "https://api.contoso.example"},
	}
	if !reflect.DeepEqual(c.OpenIDConfigURLs, want.OpenIDConfigURLs) || !reflect.DeepEqual(c.Issuers, want.Issuers) ||
		!reflect.DeepEqual(c.ClientIDs, want.ClientIDs) || !reflect.DeepEqual(c.Audiences, want.Audiences) {
		t.Fatalf("got discovery %v issuers %v clients %v audiences %v", c.OpenIDConfigURLs, c.Issuers, c.ClientIDs, c.Audiences)
	}
	if !c.APIMImport || c.FailedStatus != 403 || c.FailedMessage != "no" || len(c.RequiredClaims) != 1 || c.HeaderName != "Authorization" || c.Scheme != "Bearer" {
		t.Fatalf("got %+v", c)
	}
}

func TestAzureADTokenImportUsesTheEntraAuthority(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.xml")
	if err := os.WriteFile(path, []byte(aadPolicy(`tenant-id="`+guidA+`"`, aadClients+`<audiences><audience>api</audience></audiences>`)), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(func(k string) string {
		return map[string]string{"JWTGATE_APIM_POLICY_FILE": path, "JWTGATE_ENTRA_AUTHORITY": "https://login.microsoftonline.us/"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.OpenIDConfigURLs[0] != "https://login.microsoftonline.us/"+guidA+"/v2.0/.well-known/openid-configuration" || c.Issuers[0] != "https://login.microsoftonline.us/"+guidA+"/v2.0" {
		t.Fatalf("got %v %v", c.OpenIDConfigURLs, c.Issuers)
	}
}

func TestAzureADTokenImportRefusals(t *testing.T) {
	aud := `<audiences><audience>api</audience></audiences>`
	for _, tc := range []struct{ name, policy, says string }{
		{"no tenant-id", aadPolicy(``, aadClients+aud), "tenant-id>: required"},
		{"a domain name as tenant-id", aadPolicy(`tenant-id="contoso.onmicrosoft.com"`, aadClients+aud), "not a tenant id"},
		{"a named value as tenant-id", aadPolicy(`tenant-id="{{aad-tenant}}"`, aadClients+aud), "named value {{aad-tenant}}"},
		{"no client-application-ids", aadPolicy(`tenant-id="`+guidA+`"`, aud), "client-application-ids>: required"},
		{"an attribute of validate-jwt only", aadPolicy(`tenant-id="`+guidA+`" clock-skew="10"`, aadClients+aud), "unknown attribute of <validate-azure-ad-token>"},
		{"an unknown element", aadPolicy(`tenant-id="`+guidA+`"`, aadClients+aud+`<issuers><issuer>x</issuer></issuers>`), "unknown element in <validate-azure-ad-token>"},
		{"no audience at all", aadPolicy(`tenant-id="`+guidA+`"`, aadClients), "JWTGATE_AUDIENCES"},
		{"a validate-jwt next to it", `<policies><inbound><validate-jwt header-name="Authorization"/>` + aadPolicy(`tenant-id="`+guidA+`"`, aadClients+aud)[len(`<policies><inbound>`):], "more than one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadAPIM([]byte(tc.policy))
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %v, want one saying %q", err, tc.says)
			}
		})
	}
}
