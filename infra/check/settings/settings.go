// Package settings renders the JWTGATE_ settings list (shared/config.Settings)
// as deployment template parameters: SAM parameters named by CamelCase of
// the variable (JWTGATE_OPENID_CONFIG → JwtgateOpenidConfig) and Bicep
// parameters in lower camel case (jwtgateOpenidConfig).
package settings

import (
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate/shared/config"
)

// SAMParam is the SAM template parameter of a setting.
func SAMParam(setting string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(setting), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// BicepParam is the Bicep parameter of a setting.
func BicepParam(setting string) string {
	p := SAMParam(setting)
	return strings.ToLower(p[:1]) + p[1:]
}

// Secret reports whether a setting carries key material or a password (a
// Redis URL may hold one), which the templates must not echo (NoEcho,
// @secure()).
func Secret(setting string) bool {
	return strings.Contains(setting, "SECRET") || strings.Contains(setting, "DECRYPTION") || setting == "JWTGATE_REPLAY_STORE"
}

// Required reports whether the deployer must give the setting a value.
func Required(setting string) bool { return setting == "JWTGATE_AUDIENCES" }

func describe(s config.Setting) string {
	d := s.Name + ": " + strings.TrimSuffix(s.Description, ".") + "."
	if s.Default != "" && s.Default != "required" {
		d += " Empty: " + strings.TrimSuffix(s.Default, ".") + "."
	}
	return d
}

// SAMParameters renders one String parameter per setting (YAML, indented
// for the Parameters section).
func SAMParameters(all []config.Setting) string {
	var b strings.Builder
	for _, s := range all {
		fmt.Fprintf(&b, "  %s:\n    Type: String\n", SAMParam(s.Name))
		switch {
		case Required(s.Name):
			b.WriteString("    MinLength: 1\n")
		case s.Name == "JWTGATE_HTTPAPI_RESPONSE":
			b.WriteString("    Default: simple\n" +
				"    # The HttpApi below has EnableSimpleResponses: true, so the code must\n" +
				"    # answer simple; to use iam, turn that off and widen AllowedValues.\n" +
				"    AllowedValues: [simple]\n")
		default:
			b.WriteString("    Default: \"\"\n")
		}
		if Secret(s.Name) {
			b.WriteString("    NoEcho: true\n")
		}
		fmt.Fprintf(&b, "    Description: '%s'\n", strings.ReplaceAll(describe(s), "'", "''"))
	}
	return b.String()
}

// SAMEnvironment renders the function's Environment.Variables entries.
func SAMEnvironment(all []config.Setting) string {
	var b strings.Builder
	for _, s := range all {
		fmt.Fprintf(&b, "          %s: !Ref %s\n", s.Name, SAMParam(s.Name))
	}
	return b.String()
}

func bicepString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "${", `\${`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

// BicepParameters renders one string param per setting.
func BicepParameters(all []config.Setting) string {
	var b strings.Builder
	for i, s := range all {
		if i > 0 {
			b.WriteString("\n")
		}
		if Secret(s.Name) {
			b.WriteString("@secure()\n")
		}
		if Required(s.Name) {
			b.WriteString("@minLength(1)\n")
		}
		fmt.Fprintf(&b, "@description(%s)\n", bicepString(describe(s)))
		if Required(s.Name) {
			fmt.Fprintf(&b, "param %s string\n", BicepParam(s.Name))
		} else {
			fmt.Fprintf(&b, "param %s string = ''\n", BicepParam(s.Name))
		}
	}
	return b.String()
}

// BicepAppSettings renders the entries of the jwtgateSettings array.
func BicepAppSettings(all []config.Setting) string {
	var b strings.Builder
	for _, s := range all {
		fmt.Fprintf(&b, "  { name: '%s', value: %s }\n", s.Name, BicepParam(s.Name))
	}
	return b.String()
}

// Replace swaps the lines between the marker comments "BEGIN settings
// <part>" and "END settings <part>" for body.
func Replace(text, part, body string) (string, error) {
	begin, end := "BEGIN settings "+part, "END settings "+part
	lines := strings.SplitAfter(text, "\n")
	var out strings.Builder
	state := 0 // 0 before, 1 inside, 2 after
	for _, l := range lines {
		switch {
		case state == 0 && strings.Contains(l, begin):
			out.WriteString(l)
			out.WriteString(body)
			state = 1
		case state == 1 && strings.Contains(l, end):
			out.WriteString(l)
			state = 2
		case state == 1:
		default:
			out.WriteString(l)
		}
	}
	if state != 2 {
		return "", fmt.Errorf("no %q … %q block", begin, end)
	}
	return out.String(), nil
}
