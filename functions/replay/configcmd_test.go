package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigShowsProvenanceAndNeverASecret: each setting names the place
// it came from (policy file, environment over the file, default), key
// sources name their issuers, and neither an HMAC secret nor a decryption
// key appears in the text or JSON output, in any encoding.
func TestConfigShowsProvenanceAndNeverASecret(t *testing.T) {
	dir := t.TempDir()
	hmac := bytes.Repeat([]byte("h"), 32)
	dec := bytes.Repeat([]byte("d"), 32)
	b64 := base64.StdEncoding.EncodeToString
	policy := filepath.Join(dir, "policy.yaml")
	write(t, policy, "issuers: [https://issuer.example.com/]\naudiences: [api://orders]\nclock_skew: 10s\n"+
		"keys:\n  - secret: \""+b64(hmac)+"\"\n    kid: k1\n    issuers: [https://issuer.example.com/]\n")
	env := filepath.Join(dir, "jwtgate.env")
	write(t, env, "JWTGATE_POLICY_FILE="+policy+"\nJWTGATE_CLOCK_SKEW=45s\nJWTGATE_DECRYPTION_KEYS=d1:"+b64(dec)+"\n")

	var out, errOut bytes.Buffer
	if code := cmdConfig(context.Background(), []string{"--env-file", env}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{
		"JWTGATE_CLOCK_SKEW              45s",
		"policy.yaml: clock_skew, then env file " + env,
		"JWTGATE_AUDIENCES               api://orders",
		"policy.yaml: audiences",
		`kid "k1": (set, 32 bytes) for https://issuer.example.com/`,
		`kid "d1": (set, 32 bytes)`,
		"JWTGATE_MAX_TOKEN_BYTES         16384",
		"static key 1\n    serves issuers \"https://issuer.example.com/\" (1 keys)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(rowOf(text, "JWTGATE_MAX_TOKEN_BYTES"), "default") {
		t.Errorf("an unset setting does not say default:\n%s", text)
	}

	out.Reset()
	if code := cmdConfig(context.Background(), []string{"--env-file", env, "--json"}, &out, &errOut); code != exitOK {
		t.Fatalf("--json: exit %d: %s", code, errOut.String())
	}
	var rep configReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json does not parse: %v\n%s", err, out.String())
	}
	found := false
	for _, s := range rep.Settings {
		if s.Setting == "JWTGATE_CLOCK_SKEW" {
			found = s.Value == "45s" && len(s.From) == 2 && s.From[0] == "policy.yaml: clock_skew"
		}
	}
	if !found || len(rep.KeySources) != 1 || rep.KeySources[0].Issuers[0] != "https://issuer.example.com/" {
		t.Fatalf("--json: %+v", rep)
	}

	for _, secret := range [][]byte{hmac, dec} {
		for _, form := range []string{string(secret), b64(secret), base64.RawURLEncoding.EncodeToString(secret), base64.URLEncoding.EncodeToString(secret)} {
			if strings.Contains(text, form) || strings.Contains(out.String(), form) {
				t.Fatalf("a secret appears in the output (%q)", form)
			}
		}
	}
}

func TestConfigErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.env")
	write(t, bad, "JWTGATE_CLOCK_SKEW=soon\n")
	badLevel := filepath.Join(dir, "level.env")
	write(t, badLevel, "JWTGATE_OPENID_CONFIG=http://127.0.0.1:1/.well-known/openid-configuration\nJWTGATE_AUDIENCES=a\nJWTGATE_LOG_LEVEL=verbose\n")
	badLambdaLevel := filepath.Join(dir, "lambda-level.env")
	write(t, badLambdaLevel, "JWTGATE_OPENID_CONFIG=http://127.0.0.1:1/.well-known/openid-configuration\nJWTGATE_AUDIENCES=a\nAWS_LAMBDA_LOG_LEVEL=LOUD\n")
	badForwarded := filepath.Join(dir, "forwarded.env")
	write(t, badForwarded, "JWTGATE_OPENID_CONFIG=http://127.0.0.1:1/.well-known/openid-configuration\nJWTGATE_AUDIENCES=a\nJWTGATE_FORWARDED_HEADERS=envoy\n")
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"a bad setting":                 {[]string{"--env-file", bad}, "JWTGATE_CLOCK_SKEW"},
		"a log level the adapters stop": {[]string{"--env-file", badLevel}, "JWTGATE_LOG_LEVEL"},
		"a Lambda log level":            {[]string{"--env-file", badLambdaLevel}, "AWS_LAMBDA_LOG_LEVEL"},
		"a forwarded-header convention": {[]string{"--env-file", badForwarded}, "JWTGATE_FORWARDED_HEADERS"},
		"a missing file":                {[]string{"--env-file", filepath.Join(dir, "nope.env")}, "nope.env"},
		"a stray argument":              {[]string{"extra"}, "extra"},
		"an unknown flag":               {[]string{"--jsn"}, "jsn"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := cmdConfig(context.Background(), c.args, &out, &errOut); code != exitSetup || !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("exit %d, stderr %q (want it to name %s)", code, errOut.String(), c.want)
			}
		})
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOwnConfigReadsTheEnvironment: --own-config takes JWTGATE_* from the
// process environment, for config and for explain.
func TestOwnConfigReadsTheEnvironment(t *testing.T) {
	e := newExplainEnv(t)
	env, err := parseEnvFile(filepath.Join(e.dir, EnvFileName))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("JWTGATE_CLOCK_SKEW", "42s")
	var out, errOut bytes.Buffer
	if code := cmdConfig(context.Background(), []string{"--own-config"}, &out, &errOut); code != exitOK {
		t.Fatalf("config: exit %d: %s", code, errOut.String())
	}
	if row := rowOf(out.String(), "JWTGATE_CLOCK_SKEW"); !strings.Contains(row, "42s") || !strings.Contains(row, "environment") {
		t.Fatalf("config --own-config: %q", row)
	}
	code, text, stderr := e.run("--own-config", "--token", e.mint(nil, nil))
	if code != exitAllow || !strings.Contains(text, "(clock skew 42s)") {
		t.Fatalf("explain --own-config: exit %d\n%s\n%s", code, text, stderr)
	}
}
