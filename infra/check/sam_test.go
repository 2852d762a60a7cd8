package check

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

const samTemplate = "infra/aws/template.yaml"

// Sentinels for the Number parameters, so the parsed template shows where
// each one is wired.
const (
	ttlSentinel       = 1234
	retentionSentinel = 545
)

var subVar = regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`)

// openSAM parses the SAM template with goformation. !Ref of a String
// parameter or a resource resolves to "ref:<Name>" and !GetAtt to
// "getatt:<Resource>.<Attribute>" (also inside !Sub), so the tests can assert wiring, not just
// values; Number parameters resolve to the sentinels above.
func openSAM(t *testing.T) *cloudformation.Template {
	t.Helper()
	ref := func(_ string, input, template interface{}) interface{} {
		name, _ := input.(string)
		if tm, ok := template.(map[string]interface{}); ok {
			if params, ok := tm["Parameters"].(map[string]interface{}); ok {
				if p, ok := params[name].(map[string]interface{}); ok && p["Type"] == "Number" {
					return p["Default"]
				}
			}
		}
		return "ref:" + name
	}
	getatt := func(_ string, input, _ interface{}) interface{} {
		if parts, ok := input.([]interface{}); ok && len(parts) == 2 {
			return fmt.Sprintf("getatt:%v.%v", parts[0], parts[1])
		}
		return fmt.Sprintf("getatt:%v", input)
	}
	sub := func(_ string, input, _ interface{}) interface{} {
		str, ok := input.(string)
		if !ok {
			return nil // the list form is not used in the template
		}
		return subVar.ReplaceAllStringFunc(str, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "AWS::") {
				return name
			}
			if res, attr, ok := strings.Cut(name, "."); ok {
				return "getatt:" + res + "." + attr
			}
			return "ref:" + name
		})
	}
	tmpl, err := goformation.OpenWithOptions(filepath.Join(localruntest.Root(t), samTemplate), &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{"Ref": ref, "Fn::GetAtt": getatt, "Fn::Sub": sub},
		ParameterOverrides:        map[string]interface{}{"AuthorizerCacheTtl": ttlSentinel, "LogRetentionDays": retentionSentinel},
	})
	if err != nil {
		t.Fatalf("goformation: %v", err)
	}
	return tmpl
}

func TestSAMTemplateIsAServerlessTransform(t *testing.T) {
	tmpl := openSAM(t)
	if tmpl.Transform == nil || tmpl.Transform.String == nil || *tmpl.Transform.String != "AWS::Serverless-2016-10-31" {
		t.Fatalf("Transform = %+v, want AWS::Serverless-2016-10-31", tmpl.Transform)
	}
}

func TestSAMAuthorizerFunctionRunsTheArm64Bootstrap(t *testing.T) {
	fn, err := openSAM(t).GetServerlessFunctionWithName("AuthorizerFunction")
	if err != nil {
		t.Fatal(err)
	}
	if got := deref(fn.Runtime); got != "provided.al2023" {
		t.Errorf("Runtime = %q, want provided.al2023", got)
	}
	if got := deref(fn.Handler); got != "bootstrap" {
		t.Errorf("Handler = %q, want bootstrap", got)
	}
	if !slices.Equal(fn.Architectures, []string{"arm64"}) {
		t.Errorf("Architectures = %v, want [arm64]", fn.Architectures)
	}
	// CodeUri is the zip `make package` builds for the same architecture.
	if fn.CodeUri == nil || fn.CodeUri.String == nil {
		t.Fatal("CodeUri is not a path")
	}
	code := filepath.Clean(filepath.Join(filepath.Dir(samTemplate), *fn.CodeUri.String))
	if code != filepath.Join("dist", "lambda-arm64.zip") {
		t.Errorf("CodeUri resolves to %s, want dist/lambda-arm64.zip (the arm64 zip of make package)", code)
	}
	// Memory buys CPU (cold-start TLS, signature checks); API Gateway does
	// not wait for an authorizer much beyond 10s.
	if m := derefInt(fn.MemorySize); m < 256 || m > 1024 {
		t.Errorf("MemorySize = %d, want 256..1024", m)
	}
	if s := derefInt(fn.Timeout); s < 5 || s > 10 {
		t.Errorf("Timeout = %d, want 5..10 seconds", s)
	}
}

func TestSAMAuthorizerEnvironmentIsEverySettingFromItsParameter(t *testing.T) {
	tmpl := openSAM(t)
	fn, err := tmpl.GetServerlessFunctionWithName("AuthorizerFunction")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Environment == nil {
		t.Fatal("no Environment")
	}
	vars := fn.Environment.Variables
	names := settingNames(t)
	for _, name := range names {
		want := "ref:" + samParam(name)
		if got, ok := vars[name]; !ok {
			t.Errorf("setting %s is not in the authorizer's environment", name)
		} else if got != want {
			t.Errorf("%s = %q, want !Ref %s", name, got, samParam(name))
		}
		p, ok := tmpl.Parameters[samParam(name)]
		if !ok {
			t.Errorf("no template parameter %s for %s", samParam(name), name)
			continue
		}
		if p.Type != "String" {
			t.Errorf("parameter %s: Type %s, want String", samParam(name), p.Type)
		}
		if secretSetting(name) && (p.NoEcho == nil || !*p.NoEcho) {
			t.Errorf("parameter %s carries key material: want NoEcho: true", samParam(name))
		}
	}
	for v := range vars {
		if !slices.Contains(names, v) {
			t.Errorf("environment variable %s is not a setting the code reads (config.Settings)", v)
		}
	}
	for p := range tmpl.Parameters {
		if strings.HasPrefix(p, "Jwtgate") && !slices.ContainsFunc(names, func(n string) bool { return samParam(n) == p }) {
			t.Errorf("parameter %s matches no setting in config.Settings", p)
		}
	}
	aud := tmpl.Parameters[samParam("JWTGATE_AUDIENCES")]
	if aud.Default != nil {
		t.Errorf("JWTGATE_AUDIENCES has a default (%v): the deployer must choose it", aud.Default)
	}
}

func TestSAMLogGroupsKeepLogsForTheConfiguredRetention(t *testing.T) {
	tmpl := openSAM(t)
	groups := tmpl.GetAllLogsLogGroupResources()
	for _, fn := range []string{"AuthorizerFunction", "DemoBackendFunction"} {
		found := false
		for _, g := range groups {
			if strings.HasPrefix(deref(g.LogGroupName), "/aws/lambda/") && strings.Contains(deref(g.LogGroupName), fn) {
				found = true
				if derefInt(g.RetentionInDays) != retentionSentinel {
					t.Errorf("log group of %s: RetentionInDays %d, want !Ref LogRetentionDays", fn, derefInt(g.RetentionInDays))
				}
			}
		}
		if !found {
			t.Errorf("no /aws/lambda log group for %s", fn)
		}
	}
}

func TestSAMHttpAPIUsesTheAuthorizerWithPayload2SimpleResponsesAndRouteScopedCache(t *testing.T) {
	tmpl := openSAM(t)
	api, err := tmpl.GetServerlessHttpApiWithName("HttpApi")
	if err != nil {
		t.Fatal(err)
	}
	if api.Auth == nil || deref(api.Auth.DefaultAuthorizer) != "JwtGate" {
		t.Fatalf("HttpApi Auth.DefaultAuthorizer is not JwtGate: %+v", api.Auth)
	}
	a := authorizer(t, api.Auth.Authorizers, "JwtGate")
	checks := []struct {
		key  string
		want any
	}{
		{"FunctionArn", "getatt:AuthorizerFunction.Arn"},
		{"AuthorizerPayloadFormatVersion", "2.0"},
		{"EnableSimpleResponses", true},
		{"EnableFunctionDefaultPermissions", true},
	}
	for _, c := range checks {
		if a[c.key] != c.want {
			t.Errorf("HttpApi authorizer %s = %#v, want %#v", c.key, a[c.key], c.want)
		}
	}
	id, _ := a["Identity"].(map[string]interface{})
	if !slices.Equal(strList(id["Headers"]), []string{"Authorization"}) {
		t.Errorf("Identity.Headers = %v, want [Authorization]", id["Headers"])
	}
	// A simple response holds no route list, so the route key must be part
	// of the cache key or an Allow for one route is replayed on another.
	if !slices.Contains(strList(id["Context"]), "routeKey") {
		t.Errorf("Identity.Context = %v, want it to hold routeKey", id["Context"])
	}
	if num(id["ReauthorizeEvery"]) != ttlSentinel {
		t.Errorf("Identity.ReauthorizeEvery = %v, want !Ref AuthorizerCacheTtl", id["ReauthorizeEvery"])
	}
	// The response mode the code is told must be the one the API expects.
	resp := tmpl.Parameters[samParam("JWTGATE_HTTPAPI_RESPONSE")]
	if resp.Default != "simple" || len(resp.AllowedValues) != 1 || resp.AllowedValues[0] != "simple" {
		t.Errorf("JWTGATE_HTTPAPI_RESPONSE parameter: default %v allowed %v; with EnableSimpleResponses it must be simple", resp.Default, resp.AllowedValues)
	}
}

func TestSAMRestAPIUsesATokenAuthorizerOnTheAuthorizationHeader(t *testing.T) {
	tmpl := openSAM(t)
	api, err := tmpl.GetServerlessApiWithName("RestApi")
	if err != nil {
		t.Fatal(err)
	}
	if api.StageName == "" {
		t.Error("RestApi has no StageName")
	}
	if api.Auth == nil || deref(api.Auth.DefaultAuthorizer) != "JwtGateToken" {
		t.Fatalf("RestApi Auth.DefaultAuthorizer is not JwtGateToken: %+v", api.Auth)
	}
	a := authorizer(t, api.Auth.Authorizers, "JwtGateToken")
	if a["FunctionArn"] != "getatt:AuthorizerFunction.Arn" || a["FunctionPayloadType"] != "TOKEN" {
		t.Errorf("RestApi authorizer: FunctionArn %v, FunctionPayloadType %v; want the authorizer function, TOKEN", a["FunctionArn"], a["FunctionPayloadType"])
	}
	id, _ := a["Identity"].(map[string]interface{})
	if id["Header"] != "Authorization" {
		t.Errorf("Identity.Header = %v, want Authorization", id["Header"])
	}
	if num(id["ReauthorizeEvery"]) != ttlSentinel {
		t.Errorf("Identity.ReauthorizeEvery = %v, want !Ref AuthorizerCacheTtl", id["ReauthorizeEvery"])
	}
	expr, _ := id["ValidationExpression"].(string)
	if expr == "" {
		return // optional
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		t.Fatalf("ValidationExpression %q: %v", expr, err)
	}
	for _, tc := range []struct {
		header string
		pass   bool
	}{
		{"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", true},
		{"bearer a.b.c", true},
		{"BEARER a.b.c", true},
		{"Bearer a.b.c.d.e", true}, // JWE
		{"Basic dXNlcjpwYXNz", false},
		{"Bearer", false},
		{"Bearer a.b c", false},
		{"Bearer  a.b.c", false},
	} {
		if got := re.MatchString(tc.header); got != tc.pass {
			t.Errorf("ValidationExpression on %q: %v, want %v", tc.header, got, tc.pass)
		}
	}
}

func TestSAMDemoBackendSitsBehindBothAPIs(t *testing.T) {
	tmpl := openSAM(t)
	fn, err := tmpl.GetServerlessFunctionWithName("DemoBackendFunction")
	if err != nil {
		t.Fatal(err)
	}
	if deref(fn.InlineCode) == "" || !strings.HasPrefix(deref(fn.Runtime), "python3") || deref(fn.Handler) != "index.handler" {
		t.Errorf("demo backend: runtime %q handler %q, inline code %d bytes; want inline python, index.handler", deref(fn.Runtime), deref(fn.Handler), len(deref(fn.InlineCode)))
	}
	var httpAPI, restAPI int
	for name, ev := range fn.Events {
		if ev.Properties == nil {
			t.Errorf("event %s has no Properties", name)
			continue
		}
		switch ev.Type {
		case "HttpApi":
			p := ev.Properties.HttpApiEvent
			if p == nil || deref(p.ApiId) != "ref:HttpApi" || p.Auth != nil {
				t.Errorf("event %s: not on HttpApi with its default authorizer: %+v", name, p)
				continue
			}
			httpAPI++
		case "Api":
			p := ev.Properties.ApiEvent
			if p == nil || deref(p.RestApiId) != "ref:RestApi" || p.Auth != nil {
				t.Errorf("event %s: not on RestApi with its default authorizer: %+v", name, p)
				continue
			}
			restAPI++
		default:
			t.Errorf("event %s: unexpected type %s", name, ev.Type)
		}
	}
	if httpAPI == 0 || restAPI == 0 {
		t.Errorf("demo backend has %d HttpApi and %d Api events, want both", httpAPI, restAPI)
	}
}

func TestSAMOutputsBothURLs(t *testing.T) {
	tmpl := openSAM(t)
	for name, api := range map[string]string{"HttpApiUrl": "ref:HttpApi", "RestApiUrl": "ref:RestApi"} {
		out, ok := tmpl.Outputs[name]
		if !ok {
			t.Errorf("no output %s", name)
			continue
		}
		s := fmt.Sprint(out.Value)
		if !strings.HasPrefix(s, "https://") || !strings.Contains(s, api) || !strings.Contains(s, ".execute-api.") {
			t.Errorf("output %s = %q, want the https execute-api URL of %s", name, s, api)
		}
	}
}

func authorizer(t *testing.T, authorizers interface{}, name string) map[string]interface{} {
	t.Helper()
	all, ok := authorizers.(map[string]interface{})
	if !ok {
		t.Fatalf("Authorizers is %T, want a map", authorizers)
	}
	a, ok := all[name].(map[string]interface{})
	if !ok {
		t.Fatalf("no authorizer %s in %v", name, all)
	}
	return a
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(i *int) int {
	if i == nil {
		return 0
	}
	return *i
}

func strList(v interface{}) []string {
	l, _ := v.([]interface{})
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func num(v interface{}) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	}
	return -1
}
