package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/devissuer/apimfixture"
)

// TestAPIMFullPolicyThroughTheHandler: the APIM policy
// (<openid-config> + <issuer-signing-keys> with n/e, a secret and a
// certificate body + <decryption-keys> + <required-claims>) starts the
// handler binary, which logs which key sources serve the issuer and then
// decides as APIM would, proxied and invoked: each listed key (signed, or
// signed and encrypted) is allowed with the required claim and forbidden
// without it; an unlisted key is refused.
func TestAPIMFullPolicyThroughTheHandler(t *testing.T) {
	idp := startIssuer(t)
	k, err := apimfixture.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.xml")
	if err := os.WriteFile(policy, []byte(k.FullPolicy(idp)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startHandler(t, map[string]string{"JWTGATE_APIM_POLICY_FILE": policy})
	p.ready()
	if !p.waitFor("ready") { // the core (and its start-up log) is built after the listener
		t.Fatalf("handler exited before ready:\n%s", p.logs())
	}
	var sources []string
	for _, line := range strings.Split(p.logs(), "\n") {
		var rec struct {
			Msg     string `json:"msg"`
			Issuer  string `json:"issuer"`
			Sources []struct {
				Source, Kind string
				Kids         []string
			} `json:"sources"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "issuer keys" && rec.Issuer == idp.Issuer() {
			for _, s := range rec.Sources {
				sources = append(sources, fmt.Sprintf("%s %s %d", s.Kind, s.Source, len(s.Kids)))
			}
		}
	}
	// The discovery source's kid was fetched during the warm-up; the
	// policy's keys have no id.
	want := []string{"discovery " + idp.DiscoveryURL() + " 1", "static static key 1 1", "static static key 2 1", "static static key 3 1"}
	if strings.Join(sources, "|") != strings.Join(want, "|") {
		t.Errorf("start-up log: issuer %s served by %q; want %q", idp.Issuer(), sources, want)
	}
	if strings.Contains(p.logs(), k.Secret) || strings.Contains(p.logs(), k.N) {
		t.Error("the start-up log holds key material")
	}

	claims := func(groups ...string) map[string]any {
		now := time.Now()
		return map[string]any{"iss": idp.Issuer(), "sub": "caller", "aud": "api://orders", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "groups": groups}
	}
	signers := []struct {
		name string
		key  func(map[string]any) (string, error)
	}{
		{"discovery", func(c map[string]any) (string, error) { return idp.Mint(c) }},
		{"n/e", func(c map[string]any) (string, error) { return devissuer.Sign(k.NE, c, nil) }},
		{"secret", func(c map[string]any) (string, error) { return devissuer.Sign(k.HS, c, nil) }},
		{"certificate", func(c map[string]any) (string, error) { return devissuer.Sign(k.Cert, c, nil) }},
		{"unlisted", func(c map[string]any) (string, error) { return devissuer.Sign(k.Unlisted, c, nil) }},
	}
	for _, s := range signers {
		ok, err := s.key(claims("logistics"))
		if err != nil {
			t.Fatal(err)
		}
		noClaim, _ := s.key(claims("sales"))
		enc, err := apimfixture.Encrypt(ok, k.Decryption)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"with the claim": 200, "encrypted": 200, "without the claim": 403}
		if s.name == "unlisted" {
			want = map[string]int{"with the claim": 401, "encrypted": 401, "without the claim": 401}
		}
		for what, tok := range map[string]string{"with the claim": ok, "encrypted": enc, "without the claim": noClaim} {
			if r := p.proxied(t, "GET", "/orders/1", tok, nil); r.status != want[what] {
				t.Errorf("%s key, %s, proxied: %d %v; want %d", s.name, what, r.status, r.body, want[what])
			}
			if r := p.invoked(t, "GET", "/orders/1", tok); r.status != want[what] {
				t.Errorf("%s key, %s, invoked: %d %v; want %d", s.name, what, r.status, r.body, want[what])
			}
		}
	}
}

// mebibytes streams n MiB of "x", holding one MiB.
func mebibytes(n int) io.Reader {
	mib := strings.Repeat("x", 1<<20)
	rs := make([]io.Reader, n)
	for i := range rs {
		rs[i] = strings.NewReader(mib)
	}
	return io.MultiReader(rs...)
}

// memory reads the handler's resident set and its peak (VmRSS, VmHWM) from
// /proc, in KiB.
func (p *proc) memory(t *testing.T) (rss, hwm int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			v, _ := strconv.Atoi(f[1])
			if f[0] == "VmRSS:" {
				rss = v
			} else {
				hwm = v
			}
		}
	}
	return rss, hwm
}

// TestInvocationWithLargeTokenAndBodyKeepsMemoryFlat: the host forwards the
// caller's whole request in the invocation payload. A 100 MB body gets an
// allow and a 1 MiB token a 401 decision in Outputs.res, both with a 200
// answer to the host, and the handler's peak resident set stays within a
// few MiB of idle (the body is read through, never kept). The figures are
// logged (go test -v).
func TestInvocationWithLargeTokenAndBodyKeepsMemoryFlat(t *testing.T) {
	idp := startIssuer(t)
	p := startHandler(t, gateEnv(t, idp))
	p.ready()
	good := mint(t, idp, nil)
	if r := p.invoked(t, "GET", "/orders/1", good); r.status != 200 { // warm: keys fetched, caches filled
		t.Fatalf("warm-up: %d %v", r.status, r.body)
	}
	idleRSS, idleHWM := p.memory(t)

	const bodySize = 100 << 20
	head, _ := json.Marshal(map[string]any{"Url": "https://app.azurewebsites.net" + customhandler.ProxyPrefix + "/orders/1", "Method": "POST",
		"Headers": map[string][]string{"Authorization": {"Bearer " + good}, "Content-Type": {"application/octet-stream"}}, "Query": map[string]string{}})
	payload := io.MultiReader(
		strings.NewReader(`{"Data":{"req":`+strings.TrimSuffix(string(head), "}")+`,"Body":"`),
		mebibytes(bodySize>>20),
		strings.NewReader(`"}},"Metadata":{"sys":{"MethodName":"authorize"}}}`))
	if r := p.invoke(t, payload); r.status != 200 || r.body["allow"] != true {
		t.Errorf("100 MB body: %d %v; want 200 allow", r.status, r.body)
	}
	bodyRSS, bodyHWM := p.memory(t)

	huge := strings.Repeat("a", 1<<20) + "." + strings.Repeat("b", 10) + "." + strings.Repeat("c", 10)
	if r := p.invoked(t, "GET", "/orders/1", huge); r.status != 401 || r.body["reason"] != "token_too_large" {
		t.Errorf("1 MiB token: %d %v; want 401 token_too_large", r.status, r.body)
	}
	tokenRSS, tokenHWM := p.memory(t)
	t.Logf("handler memory (KiB): idle VmRSS %d VmHWM %d; after the 100 MB body VmRSS %d VmHWM %d; after the 1 MiB token VmRSS %d VmHWM %d",
		idleRSS, idleHWM, bodyRSS, bodyHWM, tokenRSS, tokenHWM)
	// A few MiB: the body costs nothing but buffers; the 1 MiB token is
	// held a few times over (payload field, header, core) before its 401.
	if grew := bodyHWM - idleRSS; grew > 4<<10 {
		t.Errorf("the 100 MB body raised the peak resident set by %d KiB over idle (%d KiB); want at most 4 MiB", grew, idleRSS)
	}
	if grew := tokenHWM - idleRSS; grew > 12<<10 {
		t.Errorf("the 1 MiB token raised the peak resident set by %d KiB over idle (%d KiB); want at most 12 MiB", grew, idleRSS)
	}
}
