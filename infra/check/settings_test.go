package check

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
)

// settingNames is the one list every check compares against: the
// JWTGATE_ variables the product reads, as shared/config declares them.
func settingNames(t *testing.T) []string {
	t.Helper()
	if len(config.Settings) == 0 {
		t.Fatal("config.Settings is empty")
	}
	names := make([]string, 0, len(config.Settings))
	seen := map[string]bool{}
	for _, s := range config.Settings {
		if !strings.HasPrefix(s.Name, "JWTGATE_") || seen[s.Name] {
			t.Fatalf("config.Settings: bad or repeated name %q", s.Name)
		}
		seen[s.Name] = true
		names = append(names, s.Name)
	}
	return names
}

// samParam is the SAM parameter for a setting: JWTGATE_OPENID_CONFIG →
// JwtgateOpenidConfig. bicepParam is the same in lower camel case.
func samParam(setting string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(setting), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func bicepParam(setting string) string {
	p := samParam(setting)
	return strings.ToLower(p[:1]) + p[1:]
}

// secretSetting reports whether a setting carries key material, which the
// templates must not echo (NoEcho, @secure()).
func secretSetting(name string) bool {
	return strings.Contains(name, "SECRET") || strings.Contains(name, "DECRYPTION")
}

func TestParameterNamesFollowTheSettingNames(t *testing.T) {
	for _, tc := range []struct{ setting, sam, bicep string }{
		{"JWTGATE_OPENID_CONFIG", "JwtgateOpenidConfig", "jwtgateOpenidConfig"},
		{"JWTGATE_HTTPAPI_RESPONSE", "JwtgateHttpapiResponse", "jwtgateHttpapiResponse"},
		{"JWTGATE_JWKS_URL", "JwtgateJwksUrl", "jwtgateJwksUrl"},
	} {
		if got := samParam(tc.setting); got != tc.sam {
			t.Errorf("samParam(%s) = %s, want %s", tc.setting, got, tc.sam)
		}
		if got := bicepParam(tc.setting); got != tc.bicep {
			t.Errorf("bicepParam(%s) = %s, want %s", tc.setting, got, tc.bicep)
		}
	}
}
