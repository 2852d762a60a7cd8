//go:build jwtgate_lean

package config

import (
	"errors"
	"strings"
	"testing"
)

// TestLeanRefusesYAMLPolicy (go test -tags jwtgate_lean -run Lean): a lean
// build refuses a YAML policy file with an error that names the file and
// that errors.Is finds (the lean bootstrap hands such a configuration to the
// full build), and reads the same policy written as JSON.
func TestLeanRefusesYAMLPolicy(t *testing.T) {
	_, err := LoadPolicy([]byte("openid_config: [https://idp.example/.well-known/openid-configuration]\naudiences: [api://orders]\n"), "policy.yaml")
	if !errors.Is(err, ErrYAMLNotBuiltIn) || !strings.Contains(err.Error(), "policy.yaml") || !strings.Contains(err.Error(), "jwtgate_lean") {
		t.Fatalf("a YAML policy under the lean build: %v", err)
	}
	c, err := LoadPolicy([]byte(`{"openid_config": ["https://idp.example/.well-known/openid-configuration"], "audiences": ["api://orders"]}`), "policy.json")
	if err != nil || len(c.Audiences) != 1 || c.Audiences[0] != "api://orders" {
		t.Fatalf("a JSON policy under the lean build: %+v, %v", c, err)
	}
}
