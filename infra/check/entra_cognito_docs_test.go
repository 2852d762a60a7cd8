package check

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/infra/check/settings"
	"github.com/jwtgate/jwtgate/shared/config"
)

// TestEntraCognitoDocExamplesLoad loads every example of
// docs/entra-cognito.md: env blocks through config.FromEnv, SAM
// --parameter-overrides and Bicep --parameters through the settings their
// parameters stand for, and the APIM policy through config.LoadAPIM.
func TestEntraCognitoDocExamplesLoad(t *testing.T) {
	doc := string(readRepoFile(t, "docs/entra-cognito.md"))
	kinds := map[string]int{}
	for i, blk := range fencedBlocks(doc) {
		var env map[string]string
		switch {
		case blk.lang == "env":
			kinds["env"]++
			env = map[string]string{}
			for _, line := range strings.Split(blk.body, "\n") {
				if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					t.Fatalf("block %d: %q is not NAME=value", i+1, line)
				}
				env[k] = v
			}
		case blk.lang == "sh" && strings.Contains(blk.body, "--parameter-overrides"):
			kinds["sam"]++
			env = paramsAsEnv(t, i, blk.body, "--parameter-overrides", settings.SAMParam)
		case blk.lang == "sh" && strings.Contains(blk.body, "az deployment group create"):
			kinds["bicep"]++
			env = paramsAsEnv(t, i, blk.body, "--parameters", settings.BicepParam)
		case blk.lang == "xml":
			kinds["apim"]++
			if _, err := config.LoadAPIM([]byte(blk.body)); err != nil {
				t.Errorf("block %d (APIM policy): %v", i+1, err)
			}
			continue
		default:
			t.Fatalf("block %d (%s) is not an example this test loads", i+1, blk.lang)
		}
		if _, err := config.FromEnv(func(k string) string { return env[k] }); err != nil {
			t.Errorf("block %d (%s): %v", i+1, blk.lang, err)
		}
	}
	if kinds["env"] < 5 || kinds["sam"] < 2 || kinds["bicep"] < 2 || kinds["apim"] < 1 {
		t.Fatalf("examples found: %v", kinds)
	}
}

type fenced struct{ lang, body string }

func fencedBlocks(doc string) []fenced {
	var out []fenced
	rest := doc
	for {
		i := strings.Index(rest, "```")
		if i < 0 {
			return out
		}
		rest = rest[i+3:]
		lang, body, _ := strings.Cut(rest, "\n")
		body, after, ok := strings.Cut(body, "```")
		if !ok {
			return out
		}
		out = append(out, fenced{strings.TrimSpace(lang), body})
		rest = after
	}
}

// paramsAsEnv reads the Name=value words after flag (shell line
// continuations and double quotes as a shell reads them) and maps each
// template parameter to the setting it stands for.
func paramsAsEnv(t *testing.T, i int, body, flag string, param func(string) string) map[string]string {
	t.Helper()
	byParam := map[string]string{}
	for _, s := range config.Settings {
		byParam[param(s.Name)] = s.Name
	}
	_, args, _ := strings.Cut(strings.ReplaceAll(body, "\\\n", " "), flag)
	env := map[string]string{}
	for _, w := range shellWords(args) {
		k, v, ok := strings.Cut(w, "=")
		setting := byParam[k]
		if !ok || setting == "" {
			t.Fatalf("block %d: %q is not a setting parameter", i+1, w)
		}
		env[setting] = v
	}
	return env
}

// shellWords splits on blanks outside double quotes and drops the quotes.
func shellWords(s string) []string {
	var out []string
	var w strings.Builder
	in, has := false, false
	for _, r := range s {
		switch {
		case r == '"':
			in, has = !in, true
		case !in && (r == ' ' || r == '\t' || r == '\n'):
			if has {
				out = append(out, w.String())
			}
			w.Reset()
			has = false
		default:
			w.WriteRune(r)
			has = true
		}
	}
	if has {
		out = append(out, w.String())
	}
	return out
}
