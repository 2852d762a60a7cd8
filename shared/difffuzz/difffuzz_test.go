package difffuzz

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/localrun"
	"github.com/jwtgate/jwtgate/shared/testvectors"
)

var (
	worldOnce sync.Once
	theWorld  *World
	worldErr  error
)

func world(t testing.TB) *World {
	t.Helper()
	worldOnce.Do(func() { theWorld, worldErr = NewWorld() })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return theWorld
}

// TestSeedsHoldTheProperties runs every seed, with every tweak, through
// the properties, and checks the seeds reach both sides: valid tokens that
// all three accept, and, for every strictness class, a token that jwtgate
// refuses and a peer accepts (so the table holds no dead rows).
func TestSeedsHoldTheProperties(t *testing.T) {
	w := world(t)
	allowed := 0
	reached := map[string]bool{}
	for _, s := range Seeds() {
		for tweak := range tweaks {
			tok, err := w.Build(s.SigAlg, s.Header, s.Payload, tweak)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Check(tok); err != nil {
				t.Errorf("seed %s %q %q tweak %d: %v", s.SigAlg, s.Header, s.Payload, tweak, err)
			}
			v := w.Judge(tok)
			switch {
			case v.Gate.Outcome == decision.Allow:
				allowed++
			case v.JWXErr == nil || v.GJErr == nil:
				if c := Classify(v.Gate.Reason, Dissect(tok, w)); c != nil {
					reached[c.Name] = true
				}
			}
		}
	}
	if allowed < len(Algorithms) {
		t.Fatalf("only %d seed tokens allowed: the seeds do not reach the allow side", allowed)
	}
	for _, c := range Classes {
		if !reached[c.Name] {
			t.Errorf("class %s: no seed that jwtgate refuses and a peer accepts", c.Name)
		}
	}
}

// TestUnknownRefusalFails: a refusal that a peer accepts and no class
// covers is reported (the property can fail).
func TestUnknownRefusalFails(t *testing.T) {
	w := world(t)
	tok, err := w.Build("RS256", Header("RS256", "rsa-rs256"), Claims(), TweakNone)
	if err != nil {
		t.Fatal(err)
	}
	if c := Classify(decision.SignatureInvalid, Dissect(tok, w)); c != nil {
		t.Fatalf("a valid token's refusal as signature_invalid is classed %s", c.Name)
	}
	if c := Classify(decision.TokenMalformed, Dissect(tok, w)); c != nil {
		t.Fatalf("a valid token's refusal as token_malformed is classed %s", c.Name)
	}
}

// TestForwardedClaimsCompare: the claim comparison notices a forwarded
// value that differs from the peer's parse.
func TestForwardedClaimsCompare(t *testing.T) {
	w := world(t)
	tok, err := w.Build("ES256", Header("ES256", "ec-p256"), Claims("n", "1E+2", "obj", `{"z":[1,{"y":null}],"a":"<&>"}`, "roles", `["a b",1,{"c":[true]}]`, "flag", "true"), TweakNone)
	if err != nil {
		t.Fatal(err)
	}
	v := w.Judge(tok)
	if v.Gate.Outcome != decision.Allow {
		t.Fatalf("valid token: %s %s", v.Gate.Reason, v.Gate.Detail)
	}
	peer := peerClaims(v.GJ)
	if err := sameClaims(v.Gate, peer); err != nil {
		t.Fatalf("same claims reported different: %v", err)
	}
	for name, bad := range map[string]any{"roles": "a b 1", "n": int64(101), "flag": false, "obj": `{"z":[1]}`} {
		d := v.Gate
		m := v.Gate.Claims.Clone()
		m[name] = bad
		d.Claims = decision.ClaimsOf(m)
		if sameClaims(d, peer) == nil {
			t.Errorf("forwarded %s = %#v not noticed", name, bad)
		}
	}
}

// TestSecurityMDListsEveryClass keeps SECURITY.md's strictness table and
// Classes in step: one row per class, named in backquotes.
func TestSecurityMDListsEveryClass(t *testing.T) {
	root, err := localrun.ModuleRoot()
	if err != nil {
		t.Skip(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	rows := 0
	for line := range strings.SplitSeq(doc, "\n") {
		if strings.HasPrefix(line, "| `") && strings.Contains(line, "strict:") {
			rows++
		}
	}
	for _, c := range Classes {
		if !strings.Contains(doc, "| `"+c.Name+"` | strict:") {
			t.Errorf("SECURITY.md has no strictness row for class %s", c.Name)
		}
	}
	if rows != len(Classes) {
		t.Errorf("SECURITY.md has %d strictness rows, Classes has %d", rows, len(Classes))
	}
}

// FuzzDifferentialSigned signs the fuzzer's header and payload with the
// key of one allowed algorithm (the header may name another: algorithm
// swaps), applies an encoding tweak, and checks the properties.
func FuzzDifferentialSigned(f *testing.F) {
	w := world(f)
	for i, s := range Seeds() {
		f.Add(algIndex(s.SigAlg), s.Header, s.Payload, uint8(i%tweaks))
	}
	for _, s := range vectorSeeds(f) {
		f.Add(algIndex(s.SigAlg), s.Header, s.Payload, uint8(TweakNone))
	}
	f.Fuzz(func(t *testing.T, alg uint8, header, payload string, tweak uint8) {
		sigAlg := Algorithms[int(alg)%len(Algorithms)]
		tok, err := w.Build(sigAlg, header, payload, int(tweak)%tweaks)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Check(tok); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDifferentialCompact checks the properties on the fuzzer's token as
// is: the public vectors (Wycheproof, RFC 7520), the signed seeds and
// hostile spellings of the whole token.
func FuzzDifferentialCompact(f *testing.F) {
	w := world(f)
	for _, tok := range vectorTokens(f) {
		f.Add(tok)
	}
	for i, s := range Seeds() {
		tok, err := w.Build(s.SigAlg, s.Header, s.Payload, i%tweaks)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		if i < len(Algorithms) {
			f.Add(" " + tok)
			f.Add(tok + "\n")
			f.Add(strings.Replace(tok, ".", "..", 1))
			f.Add(tok[:strings.LastIndexByte(tok, '.')+1])
		}
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if err := w.Check(tok); err != nil {
			t.Fatal(err)
		}
	})
}

func algIndex(alg string) uint8 {
	for i, a := range Algorithms {
		if a == alg {
			return uint8(i)
		}
	}
	return 0
}

// vectorTokens returns the compact JWS of the Wycheproof JOSE files and
// the RFC 7520 (and RFC 8037) examples, read in place.
func vectorTokens(tb testing.TB) []string {
	var out []string
	if _, err := os.Stat(filepath.Join(vectorsDir(tb), "wycheproof")); err == nil {
		for _, name := range []string{"json_web_signature_test.json", "json_web_crypto_test.json"} {
			if _, err := os.Stat(filepath.Join(vectorsDir(tb), "wycheproof", name)); err != nil {
				continue
			}
			for _, g := range testvectors.LoadWycheproof(tb, name).TestGroups {
				for _, c := range g.Tests {
					if tok, ok := c.Compact(); ok && strings.Count(tok, ".") == 2 {
						out = append(out, tok)
					}
				}
			}
		}
	}
	for _, f := range []string{"jws/4_1.rsa_v15_signature.json", "jws/4_2.rsa-pss_signature.json", "jws/4_3.ecdsa_signature.json", "jws/4_4.hmac-sha2_integrity_protection.json", "curve25519/jws.json"} {
		b, err := os.ReadFile(filepath.Join(vectorsDir(tb), "jose-cookbook", f))
		if err != nil {
			continue
		}
		var ex struct {
			Output struct {
				Compact string `json:"compact"`
			} `json:"output"`
		}
		if json.Unmarshal(b, &ex) == nil && ex.Output.Compact != "" {
			out = append(out, ex.Output.Compact)
		}
	}
	return out
}

// vectorSeeds turns the vectors' headers and payloads into signed seeds.
func vectorSeeds(tb testing.TB) []Seed {
	var out []Seed
	for _, tok := range vectorTokens(tb) {
		parts := strings.Split(tok, ".")
		h, err1 := base64.RawURLEncoding.DecodeString(parts[0])
		p, err2 := base64.RawURLEncoding.DecodeString(parts[1])
		if err1 != nil || err2 != nil {
			continue
		}
		var hdr struct {
			Alg string `json:"alg"`
		}
		_ = json.Unmarshal(h, &hdr)
		sigAlg := "RS256"
		if _, ok := signerFor[hdr.Alg]; ok {
			sigAlg = hdr.Alg
		}
		out = append(out, Seed{sigAlg, string(h), string(p)})
	}
	return out
}

var vectorsOnce sync.Once
var vectorsPath string

// vectorsDir is the public vectors folder, or "" (seeds from it are then
// skipped, not the target).
func vectorsDir(tb testing.TB) string {
	vectorsOnce.Do(func() {
		root, err := localrun.ModuleRoot()
		if err != nil {
			return
		}
		vectorsPath = filepath.Join(filepath.Dir(root), "shared", "testdata")
	})
	return vectorsPath
}
