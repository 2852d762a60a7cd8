package config

import (
	"strings"
	"testing"
)

const (
	entraOrgs = "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration"
	v2Tmpl    = "https://login.microsoftonline.com/{tenantid}/v2.0"
	guidA     = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

func TestEntraAndCognitoSettingsRefusedAtStartUp(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		setting string
		says    string
	}{
		{"template issuer without tenants", map[string]string{"JWTGATE_OPENID_CONFIG": entraOrgs, "JWTGATE_ISSUERS": v2Tmpl}, "JWTGATE_TENANTS", "required"},
		{"tenants without a template issuer", map[string]string{"JWTGATE_TENANTS": guidA}, "JWTGATE_TENANTS", "has no effect"},
		{"tenant that is not a GUID", map[string]string{"JWTGATE_ISSUERS": v2Tmpl, "JWTGATE_TENANTS": "contoso.onmicrosoft.com"}, "JWTGATE_TENANTS", "not a tenant id"},
		{"any tenant next to tenant ids", map[string]string{"JWTGATE_ISSUERS": v2Tmpl, "JWTGATE_TENANTS": "*," + guidA}, "JWTGATE_TENANTS", "cannot be combined"},
		{"another placeholder", map[string]string{"JWTGATE_ISSUERS": "https://login.microsoftonline.com/{tenant}/v2.0"}, "JWTGATE_ISSUERS", "only placeholder"},
		{"the placeholder twice", map[string]string{"JWTGATE_ISSUERS": "https://{tenantid}.example/{tenantid}/", "JWTGATE_TENANTS": guidA}, "JWTGATE_ISSUERS", "more than once"},
		{"token use other than access or id", map[string]string{"JWTGATE_TOKEN_USE": "refresh"}, "JWTGATE_TOKEN_USE", "neither access nor id"},
		{"client id wildcard", map[string]string{"JWTGATE_CLIENT_IDS": "*"}, "JWTGATE_CLIENT_IDS", "not a client id"},
		{"authority over plain http", map[string]string{"JWTGATE_ENTRA_AUTHORITY": "http://login.example.com"}, "JWTGATE_ENTRA_AUTHORITY", "https is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromEnv(envOf(tc.env))
			if err == nil {
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.setting+": ") || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %q does not name %s and say %q", err, tc.setting, tc.says)
			}
		})
	}
}

func TestEntraAndCognitoSettingsAccepted(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{
		"JWTGATE_OPENID_CONFIG": entraOrgs,
		"JWTGATE_ISSUERS":       v2Tmpl + ",https://sts.windows.net/{tenantid}/",
		"JWTGATE_TENANTS":       guidA,
		"JWTGATE_CLIENT_IDS":    "a, b",
		"JWTGATE_TOKEN_USE":     "Access",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tenants) != 1 || c.AnyTenant || len(c.ClientIDs) != 2 || c.TokenUse != TokenUseAccess {
		t.Fatalf("read %+v %v %v %q", c.Tenants, c.AnyTenant, c.ClientIDs, c.TokenUse)
	}
	c, err = FromEnv(envOf(map[string]string{"JWTGATE_ISSUERS": v2Tmpl, "JWTGATE_TENANTS": "*"}))
	if err != nil || !c.AnyTenant {
		t.Fatalf("any tenant: %v %+v", err, c)
	}
}

func TestIssuerTemplateMatching(t *testing.T) {
	accepted := []string{"https://sts.windows.net/" + guidA + "/", v2Tmpl}
	for _, tc := range []struct {
		iss, entry, tenant string
		ok                 bool
	}{
		{"https://sts.windows.net/" + guidA + "/", accepted[0], "", true},
		{"https://login.microsoftonline.com/" + guidA + "/v2.0", v2Tmpl, guidA, true},
		{"https://login.microsoftonline.com/a/b/v2.0", "", "", false},
		{"https://login.microsoftonline.com//v2.0", "", "", false},
		{"https://login.microsoftonline.com/" + guidA + "/v2.0/", "", "", false},
		{"https://evil.example/" + guidA + "/v2.0", "", "", false},
	} {
		entry, tenant, ok := MatchIssuer(accepted, tc.iss)
		if entry != tc.entry || tenant != tc.tenant || ok != tc.ok {
			t.Errorf("MatchIssuer(%q) = %q %q %v", tc.iss, entry, tenant, ok)
		}
	}
}

func TestSameTenantIssuerPairsOnlyOneTenantsV1AndV2Forms(t *testing.T) {
	v1 := func(t string) string { return "https://sts.windows.net/" + t + "/" }
	v2 := func(t string) string { return "https://login.microsoftonline.com/" + t + "/v2.0" }
	const b = "00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{v1(guidA), v2(guidA), true},
		{v2(guidA), v1(guidA), true},
		{v2(guidA), v2(guidA), true},
		{v1(guidA), v2(b), false},
		{v2(guidA), v2(b), false},
		{v2(guidA), "https://tenant.auth0.com/", false},
		{"https://a.example/" + guidA + "/v2.0", "https://b.example/" + guidA + "/v2.0", false},
	} {
		if got := SameTenantIssuer(tc.a, tc.b); got != tc.same {
			t.Errorf("SameTenantIssuer(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func FuzzMatchIssuer(f *testing.F) {
	f.Add(v2Tmpl, "https://login.microsoftonline.com/"+guidA+"/v2.0")
	f.Add("https://sts.windows.net/{tenantid}/", "https://sts.windows.net/x/")
	f.Fuzz(func(t *testing.T, tmpl, iss string) {
		entry, tenant, ok := MatchIssuer([]string{tmpl}, iss)
		if !ok {
			return
		}
		if entry != tmpl {
			t.Fatalf("entry %q", entry)
		}
		if tenant == "" {
			if iss != tmpl {
				t.Fatalf("exact match of %q for %q", iss, tmpl)
			}
			return
		}
		if FillTenant(tmpl, tenant) != iss || strings.Contains(tenant, "/") {
			t.Fatalf("tenant %q of %q in %q", tenant, iss, tmpl)
		}
	})
}

func TestPolicyFileTenantsClientsAndTokenUse(t *testing.T) {
	c, err := LoadPolicy([]byte(`openid_config: [`+entraOrgs+`]
issuers: ["`+v2Tmpl+`"]
tenants: [`+guidA+`]
client_ids: [web]
token_use: access
audiences: [api]
`), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tenants) != 1 || c.Tenants[0] != guidA || len(c.ClientIDs) != 1 || c.TokenUse != TokenUseAccess {
		t.Fatalf("got %v %v %q", c.Tenants, c.ClientIDs, c.TokenUse)
	}
	_, err = LoadPolicy([]byte("openid_config: ["+entraOrgs+"]\nissuers: [\""+v2Tmpl+"\"]\naudiences: [api]\n"), "policy.yaml")
	if err == nil || !strings.Contains(err.Error(), "JWTGATE_TENANTS") {
		t.Fatalf("template without tenants: %v", err)
	}
}
