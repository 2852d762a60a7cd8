package check

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/infra/check/settings"
	"github.com/jwtgate/jwtgate/shared/config"
)

// TestEntraCognitoDeployExamplesAreWholeConfigurations goes one step past
// the per-kind example checks for docs/entra-cognito.md: the parameters of
// each SAM --parameter-overrides and Bicep --parameters example, mapped to
// the settings they stand for, load together with config.FromEnv; and the
// page has env, APIM, SAM and Bicep examples for both providers.
func TestEntraCognitoDeployExamplesAreWholeConfigurations(t *testing.T) {
	byParam := map[string]string{}
	for _, s := range config.Settings {
		byParam[settings.SAMParam(s.Name)] = s.Name
		byParam[settings.BicepParam(s.Name)] = s.Name
	}
	kinds := map[string]int{}
	for _, f := range loadDoc(t, "docs/entra-cognito.md").blocks {
		kinds[f.kind]++
		if f.kind != "sh" {
			continue
		}
		for _, cmd := range shellCommands(f.body) {
			env, flag := map[string]string{}, ""
			for _, w := range cmd.words {
				switch {
				case w == "--parameter-overrides" || w == "--parameters":
					flag = w
				case strings.HasPrefix(w, "--"):
					flag = ""
				case flag != "":
					k, v, ok := strings.Cut(w, "=")
					if !ok || byParam[k] == "" {
						t.Fatalf("line %d: %q is not a setting parameter", f.line, w)
					}
					env[byParam[k]] = strings.Trim(v, `"`)
				}
			}
			if len(env) == 0 {
				continue
			}
			kinds["deploy"]++
			if _, err := config.FromEnv(func(k string) string { return env[k] }); err != nil {
				t.Errorf("line %d: the parameters do not load: %v", f.line, err)
			}
		}
	}
	if kinds["env"] < 5 || kinds["apim"] < 1 || kinds["deploy"] < 4 {
		t.Fatalf("examples found: %v", kinds)
	}
}
