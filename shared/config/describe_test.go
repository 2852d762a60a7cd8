package config

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestProvenanceNamesEachLayer: an APIM import, the environment over it,
// and defaults each show as the origin of the settings they gave, and the
// configuration loads exactly as FromEnv loads it.
func TestProvenanceNamesEachLayer(t *testing.T) {
	dir := t.TempDir()
	apim := filepath.Join(dir, "policy.xml")
	if err := os.WriteFile(apim, []byte(auth0APIM), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"JWTGATE_APIM_POLICY_FILE": apim,
		"JWTGATE_AUDIENCES":        "https://other.example.com",
		"JWTGATE_DECRYPTION_KEYS":  "k1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 32))),
	}
	getenv := func(k string) string { return env[k] }
	c, p, err := FromEnvWithProvenance(getenv)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, plain) {
		t.Fatal("FromEnvWithProvenance loads a different configuration than FromEnv")
	}
	from := map[string][]string{}
	for _, e := range c.Describe(p, getenv) {
		from[e.Setting] = e.From
		if e.Setting == "JWTGATE_DECRYPTION_KEYS" && e.Value != `kid "k1": (set, 32 bytes)` {
			t.Errorf("decryption key shown as %q", e.Value)
		}
	}
	want := map[string][]string{
		"JWTGATE_AUDIENCES":        {"policy.xml: <audiences>", "JWTGATE_AUDIENCES"},
		"JWTGATE_ISSUERS":          {"policy.xml: <issuers>"},
		"JWTGATE_CLOCK_SKEW":       {"policy.xml: <validate-jwt clock-skew>"},
		"JWTGATE_DECRYPTION_KEYS":  {"JWTGATE_DECRYPTION_KEYS"},
		"JWTGATE_MAX_TOKEN_BYTES":  {FromDefault},
		"JWTGATE_APIM_POLICY_FILE": {"JWTGATE_APIM_POLICY_FILE"},
	}
	for s, w := range want {
		if !reflect.DeepEqual(from[s], w) {
			t.Errorf("%s from %q, want %q", s, from[s], w)
		}
	}
	if len(from) < len(Settings) {
		t.Errorf("Describe lists %d settings, Settings has %d", len(from), len(Settings))
	}
}
