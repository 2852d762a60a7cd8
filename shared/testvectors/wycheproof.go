package testvectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Wycheproof is a Wycheproof JOSE test file (json_web_signature_test.json,
// json_web_key_test.json): groups of cases sharing one key.
type Wycheproof struct {
	TestGroups []WycheproofGroup `json:"testGroups"`
}

// WycheproofGroup is one key (a JWK or a JWK set) and its cases.
type WycheproofGroup struct {
	Comment string           `json:"comment"`
	Private json.RawMessage  `json:"private"`
	Public  json.RawMessage  `json:"public"`
	Tests   []WycheproofCase `json:"tests"`
}

// WycheproofCase is one JWS and the verdict it should get.
type WycheproofCase struct {
	TcID    int             `json:"tcId"`
	Comment string          `json:"comment"`
	JWS     json.RawMessage `json:"jws"` // a compact string or a JSON serialization object
	Result  string          `json:"result"`
	Flags   []string        `json:"flags"`
}

// Key returns the group's public key, or its private key (secret true)
// when it has no public one (HMAC groups).
func (g WycheproofGroup) Key() (raw json.RawMessage, secret bool) {
	if len(g.Public) == 0 || string(g.Public) == "null" {
		return g.Private, true
	}
	return g.Public, false
}

// Compact returns the case's JWS in the compact serialization; false when
// it is in the JSON serialization (which jwtgate does not accept).
func (c WycheproofCase) Compact() (string, bool) {
	var s string
	if json.Unmarshal(c.JWS, &s) != nil {
		return "", false
	}
	return s, true
}

// LoadWycheproof decodes wycheproof/<name> from the vectors folder,
// skipping the test when it is absent.
func LoadWycheproof(t testing.TB, name string) *Wycheproof {
	t.Helper()
	data, err := os.ReadFile(Path(t, filepath.Join("wycheproof", name)))
	if err != nil {
		t.Fatal(err)
	}
	var w Wycheproof
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatalf("wycheproof/%s: %v", name, err)
	}
	return &w
}
