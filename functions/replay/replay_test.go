package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// sampleDir generates the sample events for a dev issuer on a free port,
// signed with the committed dev key, into a temporary directory.
func sampleDir(t *testing.T) (dir, addr string) {
	t.Helper()
	dir = t.TempDir()
	addr = localruntest.FreeAddr(t)
	_, err := generateEvents(generateOptions{
		dir:     dir,
		keyPath: filepath.Join(localruntest.Root(t), "events", KeyFileName),
		addr:    addr,
	})
	if err != nil {
		t.Fatalf("generate events: %v", err)
	}
	return dir, addr
}

func devKey(t *testing.T) string { return filepath.Join(localruntest.Root(t), "events", KeyFileName) }

// replayArgs replays events (a file or directory) with the configuration
// generated into dir, serving the dev issuer at addr.
func replayArgs(t *testing.T, events, dir, addr string, extra ...string) []string {
	return append([]string{
		"--events", events,
		"--env-file", filepath.Join(dir, EnvFileName),
		"--addr", addr,
		"--key", devKey(t),
	}, extra...)
}

func TestReplayMeetsEveryExpectation(t *testing.T) {
	dir, addr := sampleDir(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), replayArgs(t, dir, dir, addr), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "54 events via") || !strings.Contains(out, "54 checked, every expectation met") {
		t.Fatalf("summary line missing or wrong:\n%s", out)
	}
	for _, s := range shapes() {
		for _, c := range sampleCases("") {
			name := s.prefix + "-" + c.name + s.ext
			line := lineFor(out, name)
			if line == "" {
				t.Errorf("no row for %s", name)
				continue
			}
			want := []string{c.expect.Outcome, c.expect.Reason, " ok"}
			for _, w := range want {
				if !strings.Contains(line, w) {
					t.Errorf("row for %s lacks %q: %s", name, w, line)
				}
			}
		}
	}
}

func TestReplayFailsWhenADecisionDiffersFromItsExpectation(t *testing.T) {
	dir, addr := sampleDir(t)
	expect, err := loadExpectations(filepath.Join(dir, ExpectFileName))
	if err != nil {
		t.Fatal(err)
	}
	// Claim the expired token should be allowed: replay must refuse.
	expect["azure-proxy-expired.http"] = Expectation{Outcome: "allow", Reason: "ok", Status: 200}
	b, _ := json.Marshal(expect)
	if err := os.WriteFile(filepath.Join(dir, ExpectFileName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), replayArgs(t, dir, dir, addr), &stdout, &stderr)
	if code != exitMismatch {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitMismatch, stdout.String(), stderr.String())
	}
	if line := lineFor(stdout.String(), "azure-proxy-expired.http"); !strings.Contains(line, "MISMATCH (want allow ok 200)") {
		t.Fatalf("row does not show the mismatch: %q", line)
	}
	if !strings.Contains(stdout.String(), "1 NOT as expected") {
		t.Fatalf("summary does not count the mismatch:\n%s", stdout.String())
	}
}

func TestReplayWithoutUsableKeysNeverAllows(t *testing.T) {
	// The configuration points at an issuer nobody serves (replay only
	// serves the dev issuer at --addr): every token decision is
	// unavailable, never allow.
	dir, _ := sampleDir(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), replayArgs(t, dir, dir, localruntest.FreeAddr(t)), &stdout, &stderr)
	if code != exitMismatch {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitMismatch, stdout.String(), stderr.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "allow" {
			t.Errorf("allowed without keys: %s", line)
		}
	}
	if line := lineFor(stdout.String(), "azure-proxy-valid.http"); !strings.Contains(line, "unavailable") || !strings.Contains(line, "503") {
		t.Errorf("valid token without keys: %q, want unavailable 503", line)
	}
}

func TestCommittedEventsAreWhatTheGeneratorWrites(t *testing.T) {
	root := localruntest.Root(t)
	dir := t.TempDir()
	names, err := generateEvents(generateOptions{dir: dir, keyPath: filepath.Join(root, "events", KeyFileName), addr: DefaultAddr})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range append(names, ExpectFileName, EnvFileName) {
		want, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, "events", n))
		if err != nil {
			t.Errorf("events/%s: %v (run `make events`)", n, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("events/%s differs from the generator's output (run `make events`)", n)
		}
	}
}

func TestMintedTokenIsAllowedByTheAzureHandler(t *testing.T) {
	dir, addr := sampleDir(t)
	var tok bytes.Buffer
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"mint", "--key", devKey(t), "--addr", addr, "--sub", "alice", "--claim", "tenant=acme"}, &tok, &stderr)
	if code != exitOK {
		t.Fatalf("mint exit %d: %s", code, stderr.String())
	}
	token := strings.TrimSpace(tok.String())
	req := "GET /api/authorize/orders HTTP/1.1\nHost: x\nAuthorization: Bearer " + token + "\n"
	if err := os.WriteFile(filepath.Join(dir, "mine.http"), []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	args := replayArgs(t, filepath.Join(dir, "mine.http"), dir, addr)
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if line := lineFor(stdout.String(), "mine.http"); !strings.Contains(line, "allow") || !strings.Contains(line, "200") {
		t.Fatalf("minted token not allowed: %q", line)
	}
}

func TestBuildClaims(t *testing.T) {
	now := time.Unix(issuedAt, 0)
	tests := []struct {
		name    string
		req     mintRequest
		want    map[string]any
		wantErr bool
	}{
		{name: "relative expiry and single audience", req: mintRequest{issuer: "http://i", sub: "a", aud: "api", scope: "s", exp: "1h", now: now},
			want: map[string]any{"iss": "http://i", "sub": "a", "aud": "api", "scope": "s", "exp": now.Unix() + 3600, "iat": now.Unix()}},
		{name: "several audiences become an array", req: mintRequest{issuer: "http://i", aud: "a,b", now: now},
			want: map[string]any{"iss": "http://i", "aud": []string{"a", "b"}, "iat": now.Unix()}},
		{name: "extra claims are JSON when they parse", req: mintRequest{issuer: "http://i", claims: []string{"n=3", "roles=[\"x\"]", "name=bob", "flag=true"}, now: now},
			want: map[string]any{"iss": "http://i", "iat": now.Unix(), "n": float64(3), "roles": []any{"x"}, "name": "bob", "flag": true}},
		{name: "absolute expiry", req: mintRequest{issuer: "http://i", exp: "2099-01-01T00:00:00Z", now: now},
			want: map[string]any{"iss": "http://i", "iat": now.Unix(), "exp": int64(farFuture)}},
		{name: "bad expiry", req: mintRequest{exp: "tomorrow", now: now}, wantErr: true},
		{name: "claim without name", req: mintRequest{claims: []string{"=x"}, now: now}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := buildClaims(tc.req)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tc.want)
			if !bytes.Equal(gb, wb) {
				t.Fatalf("claims %s, want %s", gb, wb)
			}
		})
	}
}

func TestDetectKind(t *testing.T) {
	tests := []struct {
		name, file, body, want string
		wantErr                bool
	}{
		{name: "http file is a proxied request", file: "x.http", body: "GET / HTTP/1.1\n", want: KindAzureProxy},
		{name: "Data object is an invocation", file: "x.json", body: `{"Data":{"req":{}},"Metadata":{}}`, want: KindAzureInvocation},
		{name: "data in any case is an invocation", file: "x.json", body: `{"data":{}}`, want: KindAzureInvocation},
		{name: "other JSON is an API Gateway event", file: "x.json", body: `{"type":"TOKEN"}`, want: KindLambda},
		{name: "not JSON", file: "x.json", body: `nope`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := detectKind(tc.file, []byte(tc.body))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("detectKind = %q, %v; want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseHTTPRequestAcceptsHandWrittenFiles(t *testing.T) {
	tests := map[string]string{
		"CRLF":                "GET /api/authorize/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer t\r\n\r\n",
		"LF without blank":    "GET /api/authorize/x HTTP/1.1\nHost: h\nAuthorization: Bearer t",
		"absolute URL target": "GET http://h/api/authorize/x HTTP/1.1\nAuthorization: Bearer t\n\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := parseHTTPRequest([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if r.URL.Path != "/api/authorize/x" || r.Header.Get("Authorization") != "Bearer t" {
				t.Fatalf("parsed path %q auth %q", r.URL.Path, r.Header.Get("Authorization"))
			}
		})
	}
	if _, err := parseHTTPRequest([]byte("not a request")); err == nil {
		t.Fatal("accepted garbage")
	}
}

func TestParseEnv(t *testing.T) {
	env, err := parseEnv("# c\n\nexport A=1\nB = \"two words\"\nC='x=y'\n", "t")
	if err != nil {
		t.Fatal(err)
	}
	if env["A"] != "1" || env["B"] != "two words" || env["C"] != "x=y" || len(env) != 3 {
		t.Fatalf("env %v", env)
	}
	for _, bad := range []string{"novalue", "=x", "A B=1"} {
		if _, err := parseEnv(bad, "t"); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestUsesDevIssuer(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"discovery at the dev address", map[string]string{"JWTGATE_OPENID_CONFIG": "http://127.0.0.1:8917/.well-known/openid-configuration"}, true},
		{"jwks among others", map[string]string{"JWTGATE_JWKS_URL": "https://idp/jwks, http://127.0.0.1:8917/jwks.json"}, true},
		{"another port with the same prefix", map[string]string{"JWTGATE_OPENID_CONFIG": "http://127.0.0.1:89170/.well-known/openid-configuration"}, false},
		{"own IdP", map[string]string{"JWTGATE_OPENID_CONFIG": "https://login.example.com/.well-known/openid-configuration"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := usesDevIssuer(envGetter(tc.env), DefaultAddr); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func FuzzParseHTTPRequest(f *testing.F) {
	f.Add([]byte("GET /api/authorize HTTP/1.1\nHost: h\nAuthorization: Bearer x\n\nbody"))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseHTTPRequest(b)
		if err == nil && r == nil {
			t.Fatal("nil request without error")
		}
	})
}

func FuzzParseEnv(f *testing.F) {
	f.Add("A=1\n# x\nexport B='2'\n")
	f.Fuzz(func(t *testing.T, s string) {
		env, err := parseEnv(s, "fuzz")
		if err == nil {
			for k := range env {
				if k == "" {
					t.Fatal("empty key accepted")
				}
			}
		}
	})
}

func lineFor(out, event string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, event+" ") {
			return l
		}
	}
	return ""
}
