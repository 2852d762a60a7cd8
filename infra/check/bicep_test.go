package check

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The bicep compiler cannot be installed on the build machines (it is a
// downloaded binary, not a package), so infra/azure/main.bicep is checked
// structurally: declarations are read with regular expressions over the
// source with comments and strings taken into account.

const bicepFile = "infra/azure/main.bicep"

type bicepParamDecl struct {
	name, typ  string
	hasDefault bool
	decorators []string
}

type bicepDoc struct {
	src       string // comments removed
	params    map[string]bicepParamDecl
	resources map[string]string // symbolic name → type@version
	outputs   map[string]string // name → expression
	settings  map[string]string // app setting name → value expression
}

var (
	reLineComment = regexp.MustCompile(`(?m)//.*$`)
	reParam       = regexp.MustCompile(`(?m)^param\s+(\w+)\s+(string|int|bool|object|array)\b(\s*=)?`)
	reDecorator   = regexp.MustCompile(`^@(\w+)\(`)
	reResource    = regexp.MustCompile(`(?m)^resource\s+(\w+)\s+'([^']+)'\s*=\s*\{`)
	reOutput      = regexp.MustCompile(`(?m)^output\s+(\w+)\s+\w+\s*=\s*(.+)$`)
	reSetting     = regexp.MustCompile(`\{\s*name:\s*'([A-Za-z0-9_]+)'\s*,?\s*value:\s*([^}\n]+?)\s*\}`)
)

// stripComments drops // comments outside single-quoted strings.
func stripComments(src string) string {
	var out []string
	for _, line := range strings.Split(src, "\n") {
		inStr := false
		for i := 0; i < len(line); i++ {
			switch {
			case line[i] == '\\' && inStr:
				i++
			case line[i] == '\'':
				inStr = !inStr
			case !inStr && strings.HasPrefix(line[i:], "//"):
				line = line[:i]
			}
		}
		out = append(out, strings.TrimRight(line, " \t"))
	}
	return strings.Join(out, "\n")
}

func parseBicep(t *testing.T, src string) bicepDoc {
	t.Helper()
	d := bicepDoc{src: stripComments(src), params: map[string]bicepParamDecl{}, resources: map[string]string{},
		outputs: map[string]string{}, settings: map[string]string{}}
	if strings.Contains(d.src, "/*") {
		t.Fatal("block comments are not handled by this checker")
	}
	lines := strings.Split(d.src, "\n")
	for i, line := range lines {
		m := reParam.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		p := bicepParamDecl{name: m[1], typ: m[2], hasDefault: m[3] != ""}
		for j := i - 1; j >= 0 && strings.HasPrefix(lines[j], "@"); j-- {
			p.decorators = append(p.decorators, reDecorator.FindStringSubmatch(lines[j])[1])
		}
		if _, dup := d.params[p.name]; dup {
			t.Errorf("param %s declared twice", p.name)
		}
		d.params[p.name] = p
	}
	for _, m := range reResource.FindAllStringSubmatch(d.src, -1) {
		d.resources[m[1]] = m[2]
	}
	for _, m := range reOutput.FindAllStringSubmatch(d.src, -1) {
		d.outputs[m[1]] = m[2]
	}
	for _, m := range reSetting.FindAllStringSubmatch(d.src, -1) {
		if _, dup := d.settings[m[1]]; dup {
			t.Errorf("app setting %s given twice", m[1])
		}
		d.settings[m[1]] = m[2]
	}
	return d
}

func loadBicep(t *testing.T) bicepDoc {
	t.Helper()
	return parseBicep(t, string(readRepoFile(t, bicepFile)))
}

func TestBicepIsBalanced(t *testing.T) {
	src := loadBicep(t).src
	depth := map[rune]int{}
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inStr := false
	for i, r := range src {
		switch {
		case r == '\'' && (i == 0 || src[i-1] != '\\'):
			inStr = !inStr
		case inStr:
		case r == '(' || r == '[' || r == '{':
			depth[r]++
		case pairs[r] != 0:
			depth[pairs[r]]--
			if depth[pairs[r]] < 0 {
				t.Fatalf("unbalanced %c at byte %d", r, i)
			}
		}
	}
	if inStr {
		t.Fatal("unterminated string")
	}
	for r, n := range depth {
		if n != 0 {
			t.Errorf("%d unclosed %c", n, r)
		}
	}
}

func TestBicepDeclaresALinuxCustomHandlerFunctionApp(t *testing.T) {
	d := loadBicep(t)
	wantTypes := map[string]string{
		"Microsoft.Web/sites":                      "the Function App",
		"Microsoft.Web/serverfarms":                "its plan",
		"Microsoft.Storage/storageAccounts":        "its storage account",
		"Microsoft.Insights/components":            "Application Insights",
		"Microsoft.OperationalInsights/workspaces": "the Log Analytics workspace",
	}
	have := map[string]string{} // type → symbolic name
	for sym, typ := range d.resources {
		name, version, ok := strings.Cut(typ, "@")
		if !ok || !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`).MatchString(version) {
			t.Errorf("resource %s: type %q lacks an API version", sym, typ)
		}
		have[name] = sym
	}
	for typ, what := range wantTypes {
		if have[typ] == "" {
			t.Errorf("no %s (%s)", what, typ)
		}
	}
	app := resourceBody(t, d, have["Microsoft.Web/sites"])
	for _, want := range []string{
		"kind: 'functionapp,linux'",
		"type: 'SystemAssigned'",
		"httpsOnly: true",
		"serverFarmId: " + have["Microsoft.Web/serverfarms"] + ".id",
	} {
		if !strings.Contains(app, want) {
			t.Errorf("Function App lacks %q", want)
		}
	}
	plan := resourceBody(t, d, have["Microsoft.Web/serverfarms"])
	for _, want := range []string{"reserved: true", "name: 'Y1'", "tier: 'Dynamic'"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q (Linux Consumption)", want)
		}
	}
	for name, want := range map[string]string{
		"FUNCTIONS_WORKER_RUNTIME":    "'custom'",
		"FUNCTIONS_EXTENSION_VERSION": "'~4'",
	} {
		if d.settings[name] != want {
			t.Errorf("app setting %s = %q, want %s", name, d.settings[name], want)
		}
	}
	for _, name := range []string{"AzureWebJobsStorage", "APPLICATIONINSIGHTS_CONNECTION_STRING"} {
		if d.settings[name] == "" {
			t.Errorf("no app setting %s", name)
		}
	}
	if !strings.Contains(d.settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], have["Microsoft.Insights/components"]+".") {
		t.Error("APPLICATIONINSIGHTS_CONNECTION_STRING does not come from the Application Insights resource")
	}
	ai := resourceBody(t, d, have["Microsoft.Insights/components"])
	if !strings.Contains(ai, "WorkspaceResourceId: "+have["Microsoft.OperationalInsights/workspaces"]+".id") {
		t.Error("Application Insights is not attached to the Log Analytics workspace")
	}
}

func TestBicepSettingsAreEveryJwtgateSettingFromItsParameter(t *testing.T) {
	d := loadBicep(t)
	names := settingNames(t)
	for _, name := range names {
		want := bicepParam(name)
		got, ok := d.settings[name]
		if !ok {
			t.Errorf("setting %s is not an app setting", name)
			continue
		}
		if got != want {
			t.Errorf("app setting %s = %s, want the parameter %s", name, got, want)
		}
		p, ok := d.params[want]
		if !ok {
			t.Errorf("no param %s for %s", want, name)
			continue
		}
		if p.typ != "string" {
			t.Errorf("param %s is %s, want string", want, p.typ)
		}
		if secretSetting(name) != slices.Contains(p.decorators, "secure") {
			t.Errorf("param %s: @secure() is %v, want %v", want, !secretSetting(name), secretSetting(name))
		}
		if name == "JWTGATE_AUDIENCES" && p.hasDefault {
			t.Error("jwtgateAudiences has a default: the deployer must choose it")
		}
	}
	for s := range d.settings {
		if strings.HasPrefix(s, "JWTGATE_") && !slices.Contains(names, s) {
			t.Errorf("app setting %s is not a setting the code reads (config.Settings)", s)
		}
	}
	for p := range d.params {
		if strings.HasPrefix(p, "jwtgate") && !slices.ContainsFunc(names, func(n string) bool { return bicepParam(n) == p }) {
			t.Errorf("param %s matches no setting in config.Settings", p)
		}
	}
}

func TestBicepUsesEveryParameterAndOutputsTheEndpoints(t *testing.T) {
	d := loadBicep(t)
	for name := range d.params {
		uses := regexp.MustCompile(`\b`+name+`\b`).FindAllStringIndex(d.src, -1)
		if len(uses) < 2 { // the declaration itself is one
			t.Errorf("param %s is declared but never used", name)
		}
	}
	for _, out := range []string{"functionAppName", "defaultHostName", "authorizeUrl"} {
		if d.outputs[out] == "" {
			t.Errorf("no output %s", out)
		}
	}
	if !strings.Contains(d.outputs["authorizeUrl"], "/api/authorize") {
		t.Errorf("authorizeUrl = %s, want the /api/authorize route", d.outputs["authorizeUrl"])
	}
}

func TestBicepCheckerCatchesAMissingSettingAndAnUnsecuredSecret(t *testing.T) {
	src := string(readRepoFile(t, bicepFile))
	// Drop one app setting and the @secure() of one secret: both must show.
	d := parseBicep(t, strings.Replace(src, "{ name: 'JWTGATE_ISSUERS', value: jwtgateIssuers }", "", 1))
	if _, ok := d.settings["JWTGATE_ISSUERS"]; ok {
		t.Fatal("mutation did not remove JWTGATE_ISSUERS")
	}
	i := strings.Index(src, "@secure()\n")
	if i < 0 {
		t.Fatal("no @secure() in the file")
	}
	d = parseBicep(t, src[:i]+src[i+len("@secure()\n"):])
	secured := 0
	for _, p := range d.params {
		if slices.Contains(p.decorators, "secure") {
			secured++
		}
	}
	if want := len(loadBicepSecure(t)) - 1; secured != want {
		t.Errorf("after removing one @secure(), %d secure params, want %d", secured, want)
	}
}

func loadBicepSecure(t *testing.T) []string {
	var out []string
	for _, p := range loadBicep(t).params {
		if slices.Contains(p.decorators, "secure") {
			out = append(out, p.name)
		}
	}
	return out
}

// resourceBody returns the text of a resource declaration up to its
// matching closing brace.
func resourceBody(t *testing.T, d bicepDoc, sym string) string {
	t.Helper()
	start := regexp.MustCompile(`(?m)^resource\s+` + regexp.QuoteMeta(sym) + `\s`).FindStringIndex(d.src)
	if start == nil {
		t.Fatalf("no resource %s", sym)
	}
	body := d.src[start[0]:]
	depth := 0
	for i, r := range body {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return body[:i+1]
			}
		}
	}
	t.Fatalf("resource %s is not closed", sym)
	return ""
}
