package config

import (
	"encoding/json"
	"strings"
	"testing"
)

// A JSON policy gives a JSON document (seed_jwks, keys[].jwks,
// decryption_keys[].jwk) either as a nested object or as a string of JSON
// text; both load the same document, and a nested object does not confuse
// the duplicate-member check about the members that follow it. (Mutation
// testing found these paths untested: only YAML policies carried them.)
func TestJSONPolicyDocumentsAsObjectOrString(t *testing.T) {
	testKeys(t)
	quoted, err := json.Marshal(testJWKS)
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{"object": testJWKS, "string": string(quoted)} {
		t.Run(name, func(t *testing.T) {
			policy := `{"seed_jwks": ` + doc + `, "openid_config": ["https://t.example/x"], "audiences": ["api"],
				"decryption_keys": [{"jwk": {"kty": "oct", "k": "` + secret32u + `"}, "kid": "enc"}]}`
			c, err := LoadPolicy([]byte(policy), "p.json")
			if err != nil {
				t.Fatal(err)
			}
			if string(c.SeedJWKS) != testJWKS && !jsonEqual(t, c.SeedJWKS, []byte(testJWKS)) {
				t.Errorf("seed_jwks = %s", c.SeedJWKS)
			}
			if len(c.Audiences) != 1 || c.Audiences[0] != "api" || len(c.DecryptionKeys) != 1 || c.DecryptionKeys[0].KID != "enc" {
				t.Errorf("members after the nested document: audiences %v, decryption keys %+v", c.Audiences, c.DecryptionKeys)
			}
		})
	}
	for name, tc := range map[string]struct{ policy, want string }{
		"a document that is a number": {`{"seed_jwks": 5, "openid_config": ["https://t.example/x"], "audiences": ["api"]}`, "expected a JSON object or a string"},
		"a document that is a list":   {`{"seed_jwks": [], "openid_config": ["https://t.example/x"], "audiences": ["api"]}`, "expected a JSON object or a string"},
		"a duplicate after a nested object": {`{"audiences": ["a"], "seed_jwks": {"keys": []}, "audiences": ["b"], "openid_config": ["https://t.example/x"]}`,
			`duplicate key "audiences"`},
		"a JSON list, not an object": {`[1]`, "JSON"},
		"a nested member's name again outside it, then an unknown member": {`{"seed_jwks": {"audiences": []}, "audiences": ["api"], "openid_config": ["https://t.example/x"], "x": 1}`,
			`unknown field "x"`},
		"an empty JSON list": {`[]`, "JSON"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadPolicy([]byte(tc.policy), "p.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	x, _ := json.Marshal(va)
	y, _ := json.Marshal(vb)
	return string(x) == string(y)
}
