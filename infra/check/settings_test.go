package check

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/infra/check/settings"
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

var (
	samParam      = settings.SAMParam
	bicepParam    = settings.BicepParam
	secretSetting = settings.Secret
)

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

func TestTemplatesHoldTheGeneratedSettingsBlocks(t *testing.T) {
	for file, parts := range map[string]map[string]string{
		samTemplate: {
			"parameters":  settings.SAMParameters(config.Settings),
			"environment": settings.SAMEnvironment(config.Settings),
		},
		bicepFile: {
			"parameters":   settings.BicepParameters(config.Settings),
			"app-settings": settings.BicepAppSettings(config.Settings),
		},
	} {
		text := string(readRepoFile(t, file))
		for part, body := range parts {
			got, err := settings.Replace(text, part, body)
			if err != nil {
				t.Errorf("%s: %v", file, err)
			} else if got != text {
				t.Errorf("%s: the %s block is out of date with config.Settings; run: go -C infra/check run ./cmd/syncsettings", file, part)
			}
		}
	}
}

func TestReplaceSwapsOnlyTheMarkedBlock(t *testing.T) {
	in := "a\n# BEGIN settings p (x)\nold\n# END settings p\nb\n"
	got, err := settings.Replace(in, "p", "new1\nnew2\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\n# BEGIN settings p (x)\nnew1\nnew2\n# END settings p\nb\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := settings.Replace("a\n# BEGIN settings p\nold\n", "p", ""); err == nil {
		t.Error("an unterminated block was accepted")
	}
	if _, err := settings.Replace(in, "q", ""); err == nil {
		t.Error("a missing block was accepted")
	}
}
