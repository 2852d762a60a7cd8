//go:build linux

package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/localrun"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// leanTags are the build tags of `make package LEAN=1`'s bootstrap.
const leanTags = localrun.LambdaTags + ",jwtgate_lean"

// optionalModules are what a lean build leaves out: CEL (with protobuf and
// antlr), go-redis and the YAML decoder of policy files.
var optionalModules = []string{"github.com/google/cel-go/", "google.golang.org/protobuf/", "github.com/antlr4-go/", "github.com/redis/go-redis/", "go.yaml.in/yaml/"}

// TestLeanBuildLeavesOutCELAndRedis: with -tags jwtgate_lean neither
// binary links cel-go, protobuf, antlr, go-redis or the YAML decoder (so none of their
// package initialisers runs at start-up); without it, both do (the test
// would notice if the tag stopped mattering).
func TestLeanBuildLeavesOutCELAndRedis(t *testing.T) {
	root := localruntest.Root(t)
	deps := func(tags string) string {
		t.Helper()
		cmd := exec.Command("go", "list", "-deps", "-tags", tags, "./functions/lambda", "./functions/azure")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -tags %s: %v\n%s", tags, err, out)
		}
		return string(out)
	}
	lean, full := deps(leanTags), deps(localrun.LambdaTags)
	for _, m := range optionalModules {
		if strings.Contains(lean, m) {
			t.Errorf("the lean build links %s", m)
		}
		if !strings.Contains(full, m) {
			t.Errorf("the standard build does not link %s: is the test still meaningful?", m)
		}
	}
}

// TestLeanBootstrapRefusesRulesAndRedis: the lean bootstrap, under the
// emulator, allows a valid token with a plain configuration, and refuses
// to start (no answer an API could read as allow, a log line naming the
// tag) with a rule or a Redis replay store, rather than ignore them.
func TestLeanBootstrapRefusesRulesAndRedis(t *testing.T) {
	rie := rieOrSkip(t)
	bootstrap := localruntest.GoBuild(t, localrun.Build{Pkg: "./functions/lambda", Out: filepath.Join(t.TempDir(), "bootstrap"),
		Tags: leanTags, Flags: []string{"-trimpath", "-ldflags=-s -w"}})
	iss := startDevIssuer(t)
	base := map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": "api://orders"}
	t.Run("plain configuration", func(t *testing.T) {
		tok, err := iss.Mint(map[string]any{"sub": "user-1", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		fn := startFunction(t, rie, bootstrap, base)
		a := fn.invoke(t, shapeEvent("rest_token", tok))
		if a.PolicyDocument == nil || len(a.PolicyDocument.Statement) == 0 || a.PolicyDocument.Statement[0].Effect != "Allow" {
			t.Fatalf("a valid token under the lean build: %+v", a)
		}
	})
	for name, setting := range map[string][2]string{
		"a rule":               {"JWTGATE_RULE", `claims.sub == "user-1"`},
		"a Redis replay store": {"JWTGATE_REPLAY_STORE", "redis://127.0.0.1:1/0"},
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{setting[0]: setting[1]}
			for k, v := range base {
				env[k] = v
			}
			fn := startFunction(t, rie, bootstrap, env)
			status, body := fn.invokeRaw(t, shapeEvent("rest_token", "Bearer x.y.z"))
			if status == http.StatusOK && (strings.Contains(string(body), "policyDocument") || strings.Contains(string(body), "isAuthorized")) {
				t.Fatalf("answer %d %s", status, body)
			}
			if logs := fn.waitOutput(setting[0], "jwtgate_lean"); !strings.Contains(logs, setting[0]) || !strings.Contains(logs, "jwtgate_lean") {
				t.Fatalf("the start-up error does not name %s and the build tag:\n%s", setting[0], logs)
			}
		})
	}
}
