package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// readStrictJSON decodes a JSON file, refusing unknown trailing data.
func readStrictJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s is not valid JSON: %v", path, err)
	}
	if dec.More() {
		t.Fatalf("%s has data after the JSON object", path)
	}
}

type hostJSON struct {
	Version       string `json:"version"`
	CustomHandler *struct {
		Description struct {
			DefaultExecutablePath string   `json:"defaultExecutablePath"`
			WorkingDirectory      string   `json:"workingDirectory"`
			Arguments             []string `json:"arguments"`
		} `json:"description"`
		EnableProxyingHTTPRequest   bool `json:"enableProxyingHttpRequest"`
		EnableForwardingHTTPRequest bool `json:"enableForwardingHttpRequest"`
	} `json:"customHandler"`
	Extensions struct {
		HTTP *struct {
			RoutePrefix *string `json:"routePrefix"`
		} `json:"http"`
	} `json:"extensions"`
}

type functionJSON struct {
	Bindings []struct {
		Type      string   `json:"type"`
		Direction string   `json:"direction"`
		Name      string   `json:"name"`
		AuthLevel string   `json:"authLevel"`
		Route     string   `json:"route"`
		Methods   []string `json:"methods"`
	} `json:"bindings"`
}

// binaryName is what the build produces and host.json must start.
const binaryName = "handler"

func TestHostJSONStartsTheHandlerWithProxying(t *testing.T) {
	var h hostJSON
	readStrictJSON(t, filepath.Join(localruntest.Root(t), "host.json"), &h)
	if h.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", h.Version)
	}
	if h.CustomHandler == nil {
		t.Fatal("no customHandler section")
	}
	if got := h.CustomHandler.Description.DefaultExecutablePath; got != binaryName {
		t.Errorf("defaultExecutablePath = %q, want %q", got, binaryName)
	}
	if len(h.CustomHandler.Description.Arguments) != 0 {
		t.Errorf("arguments = %v, the handler takes none", h.CustomHandler.Description.Arguments)
	}
	if !h.CustomHandler.EnableProxyingHTTPRequest {
		t.Error("enableProxyingHttpRequest is not true")
	}
	prefix := "api"
	if h.Extensions.HTTP != nil && h.Extensions.HTTP.RoutePrefix != nil {
		prefix = *h.Extensions.HTTP.RoutePrefix
	}
	if "/"+prefix+"/"+customhandler.FunctionName != customhandler.ProxyPrefix {
		t.Errorf("routePrefix %q does not give the handler's %s", prefix, customhandler.ProxyPrefix)
	}
}

func TestFunctionJSONDeclaresTheAuthorizeRoute(t *testing.T) {
	dir := filepath.Join(localruntest.Root(t), "functions", "azure", customhandler.FunctionName)
	var f functionJSON
	readStrictJSON(t, filepath.Join(dir, "function.json"), &f)
	if len(f.Bindings) != 2 {
		t.Fatalf("bindings = %d, want the HTTP trigger and the HTTP output only (other bindings turn proxying off)", len(f.Bindings))
	}
	in, out := f.Bindings[0], f.Bindings[1]
	if in.Type != "httpTrigger" || in.Direction != "in" || in.Name != "req" {
		t.Errorf("trigger = %+v", in)
	}
	if in.Route != "authorize/{*path}" || !strings.HasPrefix(customhandler.ProxyPrefix, "/api/"+strings.TrimSuffix(in.Route, "/{*path}")) {
		t.Errorf("route = %q", in.Route)
	}
	if in.AuthLevel != "function" {
		t.Errorf("authLevel = %q, want function (see docs/azure.md: authLevel)", in.AuthLevel)
	}
	for _, m := range []string{"get", "head", "post", "put", "patch", "delete", "options"} {
		if !slices.Contains(in.Methods, m) {
			t.Errorf("methods %v lack %s", in.Methods, m)
		}
	}
	if out.Type != "http" || out.Direction != "out" || out.Name != "res" {
		t.Errorf("output = %+v (the invocation answer uses Outputs.res)", out)
	}
}
