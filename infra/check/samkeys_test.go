package check

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/logs"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"go.yaml.in/yaml/v3"
)

// goformation unmarshals with encoding/json, which drops keys it does not
// know: a misspelled "EnableSimpleResponse" would parse cleanly and the
// deployed API would silently fall back to IAM responses. So every key of
// the raw YAML is checked against an allowlist: the JSON field names of
// goformation's own types (what it would have kept), plus hand-written
// lists where goformation types a property as interface{} (SAM's
// Authorizers maps, event Properties).

// shape is the allowlist for one YAML node; a nil *shape accepts anything.
type shape struct {
	fields map[string]*shape // mapping with exactly these keys allowed
	each   *shape            // mapping with free keys, each value like this
	elem   *shape            // sequence, each element like this
	byType map[string]*shape // mapping whose sibling "Type" picks the shape
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// shapeOf derives an allowlist from a goformation type's json tags.
func shapeOf(t reflect.Type) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
			return nil // a union helper (String or S3Location …): not checked
		}
		return structShape(t)
	case reflect.Map:
		if s := shapeOf(t.Elem()); s != nil {
			return &shape{each: s}
		}
	case reflect.Slice:
		if s := shapeOf(t.Elem()); s != nil {
			return &shape{elem: s}
		}
	}
	return nil
}

func structShape(t reflect.Type) *shape {
	s := &shape{fields: map[string]*shape{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		s.fields[name] = shapeOf(f.Type)
	}
	return s
}

func fields(names ...string) *shape {
	s := &shape{fields: map[string]*shape{}}
	for _, n := range names {
		s.fields[n] = nil
	}
	return s
}

// resource is the allowlist of a resource entry whose Properties follow props.
func resource(props *shape) *shape {
	s := fields("Type", "Metadata", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy")
	s.fields["Properties"] = props
	return s
}

func samAllowlist() *shape {
	// Function: Events are a union in goformation; pick by the event's Type.
	fn := structShape(reflect.TypeFor[serverless.Function]())
	event := func(t reflect.Type) *shape {
		s := fields("Type")
		s.fields["Properties"] = structShape(t)
		return s
	}
	fn.fields["Events"] = &shape{each: &shape{byType: map[string]*shape{
		"HttpApi": event(reflect.TypeFor[serverless.Function_HttpApiEvent]()),
		"Api":     event(reflect.TypeFor[serverless.Function_ApiEvent]()),
	}}}

	// SAM's Lambda authorizers (goformation: Authorizers interface{}).
	httpAuthorizer := fields("FunctionArn", "FunctionInvokeRole", "AuthorizerPayloadFormatVersion",
		"EnableSimpleResponses", "EnableFunctionDefaultPermissions", "JwtConfiguration", "IdentitySource", "AuthorizationScopes")
	httpAuthorizer.fields["Identity"] = fields("Headers", "QueryStrings", "Context", "StageVariables", "ReauthorizeEvery")
	httpAPI := structShape(reflect.TypeFor[serverless.HttpApi]())
	httpAuth := structShape(reflect.TypeFor[serverless.HttpApi_HttpApiAuth]())
	httpAuth.fields["Authorizers"] = &shape{each: httpAuthorizer}
	httpAPI.fields["Auth"] = httpAuth

	restAuthorizer := fields("FunctionArn", "FunctionInvokeRole", "FunctionPayloadType",
		"DisableFunctionDefaultPermissions", "UserPoolArn", "AuthorizationScopes")
	restAuthorizer.fields["Identity"] = fields("Header", "ValidationExpression", "ReauthorizeEvery",
		"Headers", "QueryStrings", "StageVariables", "Context")
	restAPI := structShape(reflect.TypeFor[serverless.Api]())
	restAuth := structShape(reflect.TypeFor[serverless.Api_Auth]())
	restAuth.fields["Authorizers"] = &shape{each: restAuthorizer}
	restAPI.fields["Auth"] = restAuth

	top := structShape(reflect.TypeFor[cloudformation.Template]())
	top.fields["Parameters"] = &shape{each: structShape(reflect.TypeFor[cloudformation.Parameter]())}
	top.fields["Outputs"] = &shape{each: structShape(reflect.TypeFor[cloudformation.Output]())}
	top.fields["Resources"] = &shape{each: &shape{byType: map[string]*shape{
		"AWS::Serverless::Function": resource(fn),
		"AWS::Serverless::HttpApi":  resource(httpAPI),
		"AWS::Serverless::Api":      resource(restAPI),
		"AWS::Logs::LogGroup":       resource(structShape(reflect.TypeFor[logs.LogGroup]())),
	}}}
	return top
}

// unknownKeys lists every key of the YAML document that the allowlist does
// not know, as dotted paths.
func unknownKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		t.Fatal("not a single YAML document")
	}
	var bad []string
	walkShape(doc.Content[0], samAllowlist(), "", &bad)
	sort.Strings(bad)
	return bad
}

func walkShape(n *yaml.Node, s *shape, path string, bad *[]string) {
	if s == nil || intrinsic(n) {
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if s.byType != nil {
		typ := mappingValue(n, "Type")
		chosen, ok := s.byType[typ]
		if !ok {
			*bad = append(*bad, fmt.Sprintf("%s: no allowlist for Type %q", path, typ))
			return
		}
		walkShape(n, chosen, path, bad)
		return
	}
	switch {
	case s.fields != nil || s.each != nil:
		if n.Kind != yaml.MappingNode {
			*bad = append(*bad, fmt.Sprintf("%s: want a mapping", path))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			if s.each != nil {
				walkShape(val, s.each, path+"."+key, bad)
				continue
			}
			sub, ok := s.fields[key]
			if !ok {
				*bad = append(*bad, strings.TrimPrefix(path+"."+key, "."))
				continue
			}
			walkShape(val, sub, path+"."+key, bad)
		}
	case s.elem != nil:
		if n.Kind != yaml.SequenceNode {
			*bad = append(*bad, fmt.Sprintf("%s: want a sequence", path))
			return
		}
		for i, e := range n.Content {
			walkShape(e, s.elem, fmt.Sprintf("%s[%d]", path, i), bad)
		}
	}
}

// intrinsic reports a CloudFormation function: a !Tag, or {Ref: …} /
// {Fn::…: …} in long form. Its arguments are not properties.
func intrinsic(n *yaml.Node) bool {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		return k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func mappingValue(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func TestSAMTemplateHasOnlyKnownKeys(t *testing.T) {
	if bad := unknownKeys(t, readRepoFile(t, samTemplate)); len(bad) > 0 {
		t.Errorf("keys that goformation/SAM would not recognise (misspelled or misplaced):\n  %s", strings.Join(bad, "\n  "))
	}
}

// The allowlist must catch what goformation lets through: most mutations
// below still parse with goformation, and all must be reported.
func TestSAMAllowlistCatchesMisspelledKeysGoformationDrops(t *testing.T) {
	orig := string(readRepoFile(t, samTemplate))
	for _, tc := range []struct{ name, from, to, want string }{
		{"simple responses", "    EnableSimpleResponses: true", "    EnableSimpleResponse: true", "EnableSimpleResponse"},
		{"cache ttl", "ReauthorizeEvery:", "ReauthoriseEvery:", "ReauthoriseEvery"},
		{"identity header", "Header: Authorization", "Heder: Authorization", "Heder"},
		{"function property", "Architectures:", "Architecture:", "Resources.AuthorizerFunction.Properties.Architecture"},
		{"event property", "ApiId:", "ApiID:", "ApiID"},
		{"parameter attribute", "NoEcho:", "NoEko:", "NoEko"},
		{"resource type", "Type: AWS::Logs::LogGroup", "Type: AWS::Logs::LogGrup", "no allowlist for Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(orig, tc.from) {
				t.Fatalf("template has no %q to mutate", tc.from)
			}
			mutated := strings.Replace(orig, tc.from, tc.to, 1)
			if _, err := goformation.ParseYAML([]byte(mutated)); err != nil {
				// goformation is strict on a resource's own properties only.
				t.Logf("goformation also rejects it: %v", err)
			}
			bad := unknownKeys(t, []byte(mutated))
			if !strings.Contains(strings.Join(bad, "\n"), tc.want) {
				t.Errorf("mutation %q → %q not reported; got %v", tc.from, tc.to, bad)
			}
		})
	}
}
