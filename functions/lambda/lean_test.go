//go:build linux

package main

import (
	"net/http"
	"os"
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

// TestLeanBootstrapRefusesRulesAndRedis: the lean bootstrap alone (as
// `make package LEAN=1` packs it), under the emulator, allows a valid token
// with a plain configuration, and refuses to start (no answer an API could
// read as allow, a log line naming the setting, the tag and `make package`)
// with a rule, a Redis replay store or a YAML policy file, rather than
// ignore them.
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
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("clock_skew: 30s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, setting := range map[string][2]string{
		"a rule":               {"JWTGATE_RULE", `claims.sub == "user-1"`},
		"a Redis replay store": {"JWTGATE_REPLAY_STORE", "redis://127.0.0.1:1/0"},
		"a YAML policy file":   {"JWTGATE_POLICY_FILE", policy},
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
			// No jwtgate-full beside this bootstrap: the error says how to
			// package one.
			if logs := fn.waitOutput(setting[0], "jwtgate_lean", "make package"); !strings.Contains(logs, setting[0]) || !strings.Contains(logs, "jwtgate_lean") || !strings.Contains(logs, "make package") {
				t.Fatalf("the start-up error does not name %s, the build tag and make package:\n%s", setting[0], logs)
			}
		})
	}
}

// TestLeanBootstrapHandsOverToFull: the zip of `make package` has the lean
// bootstrap and the standard build beside it as jwtgate-full. Under the
// emulator, a lean bootstrap whose configuration has a rule (or a YAML
// policy file) execs jwtgate-full before it talks to the Runtime API, says
// so in one log line, and the answers are the full build's: the rule
// decides (one allow, one rule_denied).
func TestLeanBootstrapHandsOverToFull(t *testing.T) {
	rie := rieOrSkip(t)
	dir := t.TempDir()
	bootstrap := localruntest.GoBuild(t, localrun.Build{Pkg: "./functions/lambda", Out: filepath.Join(dir, "bootstrap"),
		Tags: leanTags, Flags: []string{"-trimpath", "-ldflags=-s -w"}})
	localruntest.GoBuild(t, localrun.Build{Pkg: "./functions/lambda", Out: filepath.Join(dir, "jwtgate-full"),
		Tags: localrun.LambdaTags, Flags: []string{"-trimpath", "-ldflags=-s -w"}})
	iss := startDevIssuer(t)
	mint := func(sub string) string {
		t.Helper()
		tok, err := iss.Mint(map[string]any{"sub": sub, "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("audiences: [api://orders]\nrule: claims.sub == \"user-1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		env     map[string]string
		setting string
	}{
		"JWTGATE_RULE":       {map[string]string{"JWTGATE_AUDIENCES": "api://orders", "JWTGATE_RULE": `claims.sub == "user-1"`}, "JWTGATE_RULE"},
		"YAML policy + rule": {map[string]string{"JWTGATE_POLICY_FILE": policy}, "JWTGATE_POLICY_FILE"},
	} {
		t.Run(name, func(t *testing.T) {
			c.env["JWTGATE_OPENID_CONFIG"] = iss.DiscoveryURL()
			fn := startFunction(t, rie, bootstrap, c.env)
			if a := fn.invoke(t, shapeEvent("rest_token", mint("user-1"))); effect(a) != "Allow" {
				t.Fatalf("a token the rule allows: %+v", a)
			}
			if a := fn.invoke(t, shapeEvent("rest_token", mint("user-2"))); effect(a) != "Deny" {
				t.Fatalf("a token the rule refuses: %+v", a)
			}
			handover := `"msg":"jwtgate: the lean bootstrap hands over to the full build"`
			wants := []string{handover, `"setting":"` + c.setting + `"`, `"reason":"rule_denied"`}
			logs := fn.waitOutput(wants...)
			for _, want := range wants {
				if !strings.Contains(logs, want) {
					t.Errorf("function output lacks %s", want)
				}
			}
			if n := strings.Count(logs, handover); n != 1 {
				t.Errorf("%d hand-over lines, want 1:\n%s", n, logs)
			}
		})
	}
}

// TestFullBootstrapNeverExecs: the standard build serves a rule itself,
// even with a jwtgate-full beside it (here a script that would say so).
func TestFullBootstrapNeverExecs(t *testing.T) {
	rie := rieOrSkip(t)
	dir := t.TempDir()
	bootstrap := localruntest.GoBuild(t, localrun.Build{Pkg: "./functions/lambda", Out: filepath.Join(dir, "bootstrap"),
		Tags: localrun.LambdaTags, Flags: []string{"-trimpath", "-ldflags=-s -w"}})
	if err := os.WriteFile(filepath.Join(dir, "jwtgate-full"), []byte("#!/bin/sh\necho EXECED-THE-SIBLING\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	iss := startDevIssuer(t)
	tok, err := iss.Mint(map[string]any{"sub": "user-1", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	fn := startFunction(t, rie, bootstrap, map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": "api://orders", "JWTGATE_RULE": `claims.sub == "user-1"`})
	if a := fn.invoke(t, shapeEvent("rest_token", tok)); effect(a) != "Allow" {
		t.Fatalf("a token the rule allows: %+v", a)
	}
	if logs := fn.output(); strings.Contains(logs, "EXECED-THE-SIBLING") || strings.Contains(logs, "hands over") {
		t.Fatalf("the standard build execed its sibling:\n%s", logs)
	}
}

// effect is the answer's one statement's effect, or "" for anything else.
func effect(a answer) string {
	if a.ErrorMessage != "" || a.PolicyDocument == nil || len(a.PolicyDocument.Statement) != 1 {
		return ""
	}
	return a.PolicyDocument.Statement[0].Effect
}
