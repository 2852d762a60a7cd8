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
	for _, want := range []string{"reserved: true", "sku: planSku[hostingPlan]"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q (Linux, the SKU of the chosen hosting plan)", want)
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

// planShape is what the template deploys for one value of hostingPlan.
type planShape struct {
	sku, tier string
	settings  map[string]string // the plan's own app settings
	flex      bool              // functionAppConfig is set
}

// hostingPlans reads the hostingPlan parameter's allowed values and, for
// each, the plan SKU (var planSku) and the plan's app settings (var
// planSettings, following references to other setting arrays).
func hostingPlans(t *testing.T, d bicepDoc) (map[string]planShape, string) {
	t.Helper()
	m := regexp.MustCompile(`(?s)@allowed\(\[([^\]]*)\]\)\s*param hostingPlan string = '(\w+)'`).FindStringSubmatch(d.src)
	if m == nil {
		t.Fatal("no hostingPlan parameter with @allowed values and a default")
	}
	out := map[string]planShape{}
	skus := varBody(t, d, "planSku")
	settings := varBody(t, d, "planSettings")
	isFlex := regexp.MustCompile(`(?m)^var isFlex = hostingPlan == '(\w+)'$`).FindStringSubmatch(d.src)
	if isFlex == nil {
		t.Fatal("no var isFlex = hostingPlan == '...'")
	}
	for _, q := range regexp.MustCompile(`'(\w+)'`).FindAllStringSubmatch(m[1], -1) {
		name := q[1]
		sku := regexp.MustCompile(`(?s)\b` + name + `:\s*\{\s*name:\s*'(\w+)'\s*tier:\s*'(\w+)'\s*\}`).FindStringSubmatch(skus)
		if sku == nil {
			t.Errorf("planSku has no name and tier for %s", name)
			continue
		}
		p := planShape{sku: sku[1], tier: sku[2], settings: map[string]string{}, flex: isFlex[1] == name}
		entry := regexp.MustCompile(`(?ms)^  ` + name + `:(.*?)(^  \w+:|\z)`).FindStringSubmatch(settings)
		if entry == nil {
			t.Errorf("planSettings has no entry for %s", name)
			continue
		}
		text := entry[1]
		for _, ref := range regexp.MustCompile(`\b(\w+Settings)\b`).FindAllStringSubmatch(text, -1) {
			text += varBody(t, d, ref[1])
		}
		for _, s := range reSetting.FindAllStringSubmatch(text, -1) {
			p.settings[s[1]] = s[2]
		}
		out[name] = p
	}
	return out, m[2]
}

// varBody is the text of a var declaration's value (up to the line that
// closes it at column 0).
func varBody(t *testing.T, d bicepDoc, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?ms)^var ` + name + ` = (.*?)^[\]}]\)?$`).FindStringSubmatch(d.src)
	if m == nil {
		t.Fatalf("no var %s", name)
	}
	return m[1]
}

// TestBicepEachHostingPlan: Flex Consumption is the default and gets the
// runtime, scale and deployment storage from functionAppConfig (and none of
// the app settings Flex refuses); Linux Consumption and Premium remain a
// parameter choice with the custom worker runtime (Premium: a content
// share). The same package deploys to each with config-zip, so no plan
// points WEBSITE_RUN_FROM_PACKAGE at a URL of its own.
func TestBicepEachHostingPlan(t *testing.T) {
	d := loadBicep(t)
	plans, def := hostingPlans(t, d)
	if def != "FlexConsumption" {
		t.Errorf("default hosting plan %s, want FlexConsumption", def)
	}
	want := map[string][2]string{"FlexConsumption": {"FC1", "FlexConsumption"}, "Consumption": {"Y1", "Dynamic"}, "Premium": {"EP1", "ElasticPremium"}}
	if len(plans) != len(want) {
		t.Errorf("hosting plans %v, want %v", plans, want)
	}
	for name, w := range want {
		p, ok := plans[name]
		if !ok {
			t.Errorf("hostingPlan does not allow %s", name)
			continue
		}
		if p.sku != w[0] || p.tier != w[1] {
			t.Errorf("%s: SKU %s/%s, want %s/%s", name, p.sku, p.tier, w[0], w[1])
		}
		if _, ok := p.settings["WEBSITE_RUN_FROM_PACKAGE"]; ok {
			t.Errorf("%s sets WEBSITE_RUN_FROM_PACKAGE: the config-zip deploy of make package's zip sets it", name)
		}
		for s := range p.settings {
			if strings.Contains(appSettingsCommon(t, d), "'"+s+"'") {
				t.Errorf("%s: %s is both a plan setting and a common one", name, s)
			}
		}
		switch name {
		case "FlexConsumption":
			if !p.flex {
				t.Errorf("Flex Consumption does not get functionAppConfig")
			}
			for _, refused := range []string{"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTSHARE"} {
				if _, ok := p.settings[refused]; ok {
					t.Errorf("Flex Consumption sets %s, which it refuses", refused)
				}
			}
		default:
			if p.flex {
				t.Errorf("%s gets functionAppConfig (Flex only)", name)
			}
			if p.settings["FUNCTIONS_WORKER_RUNTIME"] != "'custom'" || p.settings["FUNCTIONS_EXTENSION_VERSION"] != "'~4'" {
				t.Errorf("%s: worker runtime %q, extension version %q; want 'custom' and '~4'", name, p.settings["FUNCTIONS_WORKER_RUNTIME"], p.settings["FUNCTIONS_EXTENSION_VERSION"])
			}
		}
		if name == "Premium" && (p.settings["WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"] == "" || p.settings["WEBSITE_CONTENTSHARE"] == "") {
			t.Errorf("Premium lacks its content share settings: %v", p.settings)
		}
	}
	app := resourceBody(t, d, "functionApp")
	if !strings.Contains(app, "functionAppConfig: isFlex ? flexConfig : null") {
		t.Error("the Function App does not set functionAppConfig from flexConfig on Flex only")
	}
	if !strings.Contains(app, "planSettings[hostingPlan]") {
		t.Error("the Function App's app settings do not include the plan's own")
	}
	flex := varBody(t, d, "flexConfig")
	for _, want := range []string{
		"name: 'custom'",
		"type: 'blobContainer'",
		"${deploymentContainerName}",
		"instanceMemoryMB: instanceMemoryMB",
		"maximumInstanceCount: maximumInstanceCount",
		"instanceCount: alwaysReadyInstances",
		"name: 'http'",
	} {
		if !strings.Contains(flex, want) {
			t.Errorf("flexConfig lacks %q", want)
		}
	}
	conn := regexp.MustCompile(`storageAccountConnectionStringName:\s*'(\w+)'`).FindStringSubmatch(flex)
	if conn == nil || plans["FlexConsumption"].settings[conn[1]] == "" {
		t.Errorf("the deployment storage's connection string setting %v is not a Flex app setting", conn)
	}
	container := resourceBody(t, d, "deploymentContainer")
	if !strings.Contains(container, "if (isFlex)") || !strings.Contains(container, "name: deploymentContainerName") || !strings.Contains(container, "publicAccess: 'None'") {
		t.Errorf("deployment container: %s", container)
	}
	for _, p := range []string{"instanceMemoryMB", "maximumInstanceCount", "alwaysReadyInstances", "deploymentContainerName"} {
		if _, ok := d.params[p]; !ok {
			t.Errorf("no parameter %s", p)
		}
	}
}

func TestBicepPlanCheckerSeesChanges(t *testing.T) {
	src := string(readRepoFile(t, bicepFile))
	mutate := func(old, new string) bicepDoc {
		t.Helper()
		if !strings.Contains(src, old) {
			t.Fatalf("%q is not in the template", old)
		}
		return parseBicep(t, strings.Replace(src, old, new, 1))
	}
	if _, def := hostingPlans(t, mutate("param hostingPlan string = 'FlexConsumption'", "param hostingPlan string = 'Consumption'")); def != "Consumption" {
		t.Errorf("a changed default reads as %s", def)
	}
	if plans, _ := hostingPlans(t, mutate("name: 'Y1'", "name: 'Y2'")); plans["Consumption"].sku != "Y2" {
		t.Errorf("a changed SKU reads as %s", plans["Consumption"].sku)
	}
	plans, _ := hostingPlans(t, mutate("  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'custom' }\n", ""))
	if _, ok := plans["Premium"].settings["FUNCTIONS_WORKER_RUNTIME"]; ok {
		t.Error("a removed worker runtime setting is still seen on Premium")
	}
	if _, ok := plans["FlexConsumption"].settings["FUNCTIONS_EXTENSION_VERSION"]; ok {
		t.Error("Flex reads another plan's settings")
	}
}

// appSettingsCommon is the first array of the Function App's appSettings
// concat: the settings every plan gets.
func appSettingsCommon(t *testing.T, d bicepDoc) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)appSettings: concat\(\[(.*?)\]`).FindStringSubmatch(resourceBody(t, d, "functionApp"))
	if m == nil {
		t.Fatal("the Function App's appSettings are not concat([...], ...)")
	}
	return m[1]
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
