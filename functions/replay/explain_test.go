package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"

	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/explain"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// explainEnv is a test setup: the sample events and configuration for a
// dev issuer on a free port, and a way to mint tokens from it.
type explainEnv struct {
	t    *testing.T
	dir  string
	addr string
	now  time.Time
}

func newExplainEnv(t *testing.T) *explainEnv {
	dir, addr := sampleDir(t)
	return &explainEnv{t: t, dir: dir, addr: addr, now: time.Now()}
}

func (e *explainEnv) issuer() string { return "http://" + e.addr }

// claims are valid sample claims with over applied (nil deletes).
func (e *explainEnv) claims(over map[string]any) map[string]any {
	c := map[string]any{
		"iss": e.issuer(), "sub": SampleSubject, "aud": SampleAudience, "scope": RequiredScope,
		"iat": e.now.Unix(), "exp": e.now.Add(time.Hour).Unix(),
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// mint signs claims with the dev key.
func (e *explainEnv) mint(over map[string]any, headers map[string]any) string {
	e.t.Helper()
	k, err := devissuer.LoadKey(devKey(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := devissuer.Sign(k, e.claims(over), headers)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// forged builds header.payload.signature with any header and a dummy
// signature: for refusals that happen before the signature check.
func (e *explainEnv) forged(header string, over map[string]any) string {
	e.t.Helper()
	p, err := json.Marshal(e.claims(over))
	if err != nil {
		e.t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc(p) + "." + enc(bytes.Repeat([]byte{7}, 256))
}

// envFile writes the sample configuration plus extra lines and returns its path.
func (e *explainEnv) envFile(extra ...string) string {
	e.t.Helper()
	base, err := os.ReadFile(filepath.Join(e.dir, EnvFileName))
	if err != nil {
		e.t.Fatal(err)
	}
	text := string(base) + strings.Join(extra, "\n") + "\n"
	f := filepath.Join(e.t.TempDir(), "explain.env")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return f
}

func (e *explainEnv) write(name, text string) string {
	e.t.Helper()
	f := filepath.Join(e.t.TempDir(), name)
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return f
}

// run runs explain with the dev issuer at e.addr and returns the exit
// status, stdout and stderr.
func (e *explainEnv) run(args ...string) (int, string, string) {
	return e.runStdin("", args...)
}

func (e *explainEnv) runStdin(stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"--addr", e.addr, "--key", devKey(e.t)}, args...)
	code := cmdExplain(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// reasonCodes reads every Reason constant from shared/decision/reason.go,
// so that a new reason code without an explain case fails the test.
func reasonCodes(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(localruntest.Root(t), "shared", "decision", "reason.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					r, _ := strconv.Unquote(lit.Value)
					out = append(out, r)
				}
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("read only %d reason codes from %s", len(out), path)
	}
	return out
}

// notCausedByToken are reason codes no token or event can cause.
var notCausedByToken = map[string]string{
	"internal_error": "a recovered panic inside the core; no input is known to cause one",
	"dpop_replayed":  "a second presentation of one proof; explain decides a single request (the replay store tests cover it)",
}

// TestExplainNamesTheFailingCheckForEveryReasonCode: for every reason code
// a token (or an event) can cause, explain names the check that failed and
// the reason code, exits 1 for a refusal and 0 for allow, and --json gives
// the same as one JSON object.
func TestExplainNamesTheFailingCheckForEveryReasonCode(t *testing.T) {
	e := newExplainEnv(t)
	ev := func(name string) []string {
		return []string{"--env-file", e.envFile(), "--event", filepath.Join(e.dir, name)}
	}
	tok := func(tok string, extraEnv ...string) []string {
		return []string{"--env-file", e.envFile(extraEnv...), "--token", tok}
	}
	validSig := strings.Split(e.mint(nil, nil), ".")[2]
	otherSig := func() string { // a well-formed signature of other content
		parts := strings.Split(e.mint(map[string]any{"sub": "someone-else"}, nil), ".")
		return parts[2]
	}
	signedWrong := strings.Join(append(strings.Split(e.mint(nil, nil), ".")[:2], otherSig()), ".")
	if strings.HasSuffix(signedWrong, validSig) {
		t.Fatal("test setup: the two signatures are equal")
	}
	secret := bytes.Repeat([]byte{0x42}, 32)
	encrypted, err := jwe.Encrypt([]byte(e.mint(nil, nil)), jwe.WithKey(jwa.DIRECT(), bytes.Repeat([]byte{0x24}, 32)), jwe.WithContentEncryption(jwa.A256GCM()))
	if err != nil {
		t.Fatal(err)
	}
	policy := e.write("routes.yaml", "routes:\n  - method: GET\n    path: /admin/*\n    scopes: [admin]\n")
	malformedEvent := e.write("bad-event.json", `{"type":"TOKEN","methodArn":"not an arn","authorizationToken":"Bearer x"}`)

	// Entra ID and Cognito refusals: a {tenantid} template served by the
	// dev issuer's keys, and a static copy of its key whose JWK issuer
	// member names another tenant.
	const tenantA, tenantB = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	template := e.issuer() + "/{tenantid}/v2.0"
	tenants := []string{"JWTGATE_ISSUERS=" + e.issuer() + "," + template, "JWTGATE_TENANTS=" + tenantA}
	keyOfTenantA := e.write("tenant-a.env", "JWTGATE_JWKS="+devJWKWith(t, "issuer", e.issuer()+"/"+tenantA+"/v2.0")+
		"\nJWTGATE_ISSUERS="+template+"\nJWTGATE_TENANTS="+tenantA+","+tenantB+"\nJWTGATE_AUDIENCES="+SampleAudience+"\n")
	// Sender-constrained tokens: raw HTTP requests carrying DPoP proofs or
	// a client certificate header.
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	certDER, err := devissuer.NewClientCertificate(e.now)
	if err != nil {
		t.Fatal(err)
	}
	dpopBound := e.mint(map[string]any{"cnf": map[string]any{"jkt": client.JKT}}, nil)
	const proxyHost, proxyPath = "jwtgate-demo.azurewebsites.net", "/api/authorize/orders/42"
	validProof, err := client.Proof("GET", "https://"+proxyHost+proxyPath, dpopBound, e.now, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	httpEvent := func(name string, headers ...string) []string {
		f := e.write(name, "GET "+proxyPath+" HTTP/1.1\nHost: "+proxyHost+"\n"+strings.Join(headers, "\n")+"\n\n")
		return []string{"--event", f}
	}
	withEnv := func(args []string, extraEnv ...string) []string {
		return append([]string{"--env-file", e.envFile(extraEnv...)}, args...)
	}

	cases := []struct {
		reason string
		args   []string
		check  string // the failing check ("" for allow)
	}{
		{"tenant_not_allowed", tok(e.mint(map[string]any{"iss": e.issuer() + "/" + tenantB + "/v2.0", "tid": tenantB}, nil), tenants...), "issuer"},
		{"tenant_mismatch", tok(e.mint(map[string]any{"iss": e.issuer() + "/" + tenantA + "/v2.0", "tid": tenantB}, nil), tenants...), "issuer"},
		{"key_issuer_mismatch", []string{"--env-file", keyOfTenantA, "--token", e.mint(map[string]any{"iss": e.issuer() + "/" + tenantB + "/v2.0", "tid": tenantB}, nil)}, "key issuer"},
		{"token_use_invalid", tok(e.mint(map[string]any{"token_use": "id"}, nil), "JWTGATE_TOKEN_USE=access"), "token use"},
		{"client_not_allowed", tok(e.mint(map[string]any{"azp": "another-app"}, nil), "JWTGATE_CLIENT_IDS=web-app"), "client"},
		{"rule_denied", tok(e.mint(nil, nil), "JWTGATE_RULE=claims.sub == claims.iss"), "rules"},
		{"rule_error", tok(e.mint(nil, nil), "JWTGATE_RULE=claims.nosuch == 1"), "rules"},
		{"token_bound", tok(dpopBound), "sender binding"},
		{"token_not_bound", tok(e.mint(nil, nil), "JWTGATE_REQUIRE_BOUND_TOKENS=true"), "sender binding"},
		{"certificate_missing", tok(e.mint(map[string]any{"cnf": map[string]any{"x5t#S256": "not-this-certificate"}}, nil)), "sender binding"},
		{"certificate_binding_mismatch", withEnv(httpEvent("cert.http", "Authorization: Bearer "+e.mint(map[string]any{"cnf": map[string]any{"x5t#S256": "not-this-certificate"}}, nil),
			"X-ARR-ClientCert: "+base64.StdEncoding.EncodeToString(certDER)), "JWTGATE_CLIENT_CERT_HEADER=X-ARR-ClientCert"), "sender binding"},
		{"dpop_binding_mismatch", withEnv(httpEvent("unbound.http", "Authorization: DPoP "+e.mint(nil, nil), "DPoP: "+validProof)), "sender binding"},
		{"dpop_proof_invalid", withEnv(httpEvent("badproof.http", "Authorization: DPoP "+dpopBound, "DPoP: not-a-proof")), "sender binding"},
		{"replay_store_unavailable", withEnv(httpEvent("redisdown.http", "Authorization: DPoP "+dpopBound, "DPoP: "+validProof),
			"JWTGATE_REPLAY_STORE=redis://127.0.0.1:1/0", "JWTGATE_HTTP_TIMEOUT=1s"), "sender binding"},
		{"ok", ev("apigw-rest-request-valid.json"), ""},
		{"token_missing", ev("apigw-rest-request-no-token.json"), "extraction"},
		{"token_malformed", ev("azure-proxy-malformed-token.http"), "header"},
		{"token_too_large", tok(e.mint(map[string]any{"pad": strings.Repeat("x", 600)}, nil), "JWTGATE_MAX_TOKEN_BYTES=512"), "size"},
		{"token_encrypted_unsupported", tok(string(encrypted)), "decryption"},
		{"token_decryption_failed", tok(string(encrypted), "JWTGATE_DECRYPTION_KEYS="+base64.StdEncoding.EncodeToString(secret)), "decryption"},
		{"algorithm_not_allowed", tok(e.forged(`{"alg":"HS256","kid":"x"}`, nil)), "header"},
		{"crit_unsupported", tok(e.forged(`{"alg":"RS256","kid":"jwtgate-dev-test-only","crit":["exp"],"exp":1}`, nil)), "header"},
		{"token_type_not_allowed", tok(e.mint(nil, map[string]any{"typ": "JWT"}), "JWTGATE_TOKEN_TYPES=at+jwt"), "type"},
		{"key_unknown", tok(e.forged(`{"alg":"RS256","kid":"no-such-key"}`, nil)), "key lookup"},
		{"key_algorithm_mismatch", tok(e.forged(`{"alg":"ES256","kid":"jwtgate-dev-test-only"}`, nil)), "key lookup"},
		{"signature_invalid", tok(signedWrong), "signature"},
		{"issuer_invalid", tok(e.mint(map[string]any{"iss": "https://evil.example.com/"}, nil)), "issuer"},
		{"audience_invalid", ev("apigw-http-v1-wrong-audience.json"), "audience"},
		{"token_expired", ev("apigw-rest-token-expired.json"), "times"},
		{"expiration_missing", tok(e.mint(map[string]any{"exp": nil}, nil)), "times"},
		{"token_not_yet_valid", tok(e.mint(map[string]any{"nbf": e.now.Add(10 * time.Minute).Unix()}, nil)), "times"},
		{"token_issued_in_future", tok(e.mint(map[string]any{"iat": e.now.Add(10 * time.Minute).Unix()}, nil)), "times"},
		{"claims_malformed", tok(e.mint(map[string]any{"exp": "tomorrow"}, nil)), "claims"},
		{"event_malformed", []string{"--env-file", e.envFile(), "--event", malformedEvent}, "extraction"},
		{"scope_missing", ev("azure-invocation-missing-scope.json"), "scopes"},
		{"claim_missing", tok(e.mint(nil, nil), "JWTGATE_REQUIRED_CLAIMS=tenant"), "required claims"},
		{"route_denied", append(tok(e.mint(nil, nil), "JWTGATE_POLICY_FILE="+policy), "--path", "/admin/../orders"), "route rules"},
		{"keys_unavailable", []string{"--env-file", e.write("down.env", "JWTGATE_OPENID_CONFIG=http://127.0.0.1:1/.well-known/openid-configuration\nJWTGATE_AUDIENCES="+SampleAudience+"\nJWTGATE_WARMUP_TIMEOUT=0\nJWTGATE_HTTP_TIMEOUT=1s\n"),
			"--token", e.mint(map[string]any{"iss": "http://127.0.0.1:1"}, nil)}, "key lookup"},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.reason] = true
	}
	for _, r := range reasonCodes(t) {
		if !covered[r] && notCausedByToken[r] == "" {
			t.Errorf("reason code %s has no explain case: add a token or event that causes it", r)
		}
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			code, out, errOut := e.run(c.args...)
			want := exitRefused
			if c.check == "" {
				want = exitAllow
			}
			if code != want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
			}
			if c.check != "" {
				row := rowOf(out, c.check)
				if !strings.Contains(row, "FAIL") || !strings.Contains(row, c.reason) {
					t.Fatalf("the %s row does not show the failure %s: %q\n%s", c.check, c.reason, row, out)
				}
				if !strings.Contains(out, "reason "+c.reason+" (failed check: "+c.check+")") {
					t.Fatalf("decision line does not name %s and %s:\n%s", c.check, c.reason, out)
				}
			} else if !strings.Contains(out, "decision:  allow, reason ok") {
				t.Fatalf("no allow decision:\n%s", out)
			}
			// An event its adapter refuses has only that platform's answer.
			if !strings.Contains(out, "API Gateway") || (c.reason != "event_malformed" && !strings.Contains(out, "Azure Functions")) {
				t.Fatalf("an answer is missing:\n%s", out)
			}
			for _, arg := range c.args {
				if parts := strings.Split(arg, "."); len(parts) == 3 && len(parts[2]) > 16 && strings.Contains(out, parts[2]) {
					t.Fatalf("the output shows the token's signature:\n%s", out)
				}
			}

			code, js, errOut := e.run(append(c.args, "--json")...)
			if code != want {
				t.Fatalf("--json: exit %d, want %d: %s", code, want, errOut)
			}
			var rep explain.Report
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatalf("--json output does not parse: %v\n%s", err, js)
			}
			if rep.Decision.Reason != c.reason || rep.FailedCheck != c.check {
				t.Fatalf("--json: reason %q, failed check %q; want %q, %q", rep.Decision.Reason, rep.FailedCheck, c.reason, c.check)
			}
		})
	}
}

// rowOf returns the line of the checks table for check.
func rowOf(out, check string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, check+"  ") {
			return l
		}
	}
	return ""
}

func TestExplainUsageAndConfigErrorsExit2(t *testing.T) {
	e := newExplainEnv(t)
	good := e.envFile()
	tok := e.mint(nil, nil)
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no input", []string{"--env-file", good}, "exactly one of"},
		{"two inputs", []string{"--env-file", good, "--token", tok, "--event", filepath.Join(e.dir, "apigw-rest-token-valid.json")}, "exactly one of"},
		{"an unknown flag", []string{"--tokne", tok}, "flag provided but not defined"},
		{"a stray argument", []string{"--env-file", good, "--token", tok, "extra"}, "unexpected arguments"},
		{"a missing env file", []string{"--env-file", filepath.Join(e.dir, "nope.env"), "--token", tok}, "env file"},
		{"a configuration error", []string{"--env-file", e.write("bad.env", "JWTGATE_OPENID_CONFIG=http://"+e.addr+"/.well-known/openid-configuration\n"), "--token", tok}, "JWTGATE_AUDIENCES"},
		{"a missing event file", []string{"--env-file", good, "--event", filepath.Join(e.dir, "nope.json")}, "events:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := e.run(c.args...)
			if code != exitSetup || !strings.Contains(errOut, c.msg) {
				t.Fatalf("exit %d, stderr %q; want %d and %q (stdout %q)", code, errOut, exitSetup, c.msg, out)
			}
		})
	}
}

func TestExplainReadsTheTokenFromStandardInput(t *testing.T) {
	e := newExplainEnv(t)
	code, out, errOut := e.runStdin("Bearer "+e.mint(nil, nil)+"\n", "--env-file", e.envFile(), "-")
	if code != exitAllow || !strings.Contains(out, "explain: token, call GET /") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = e.runStdin("  \n", "--env-file", e.envFile(), "-")
	if code != exitSetup || !strings.Contains(errOut, "no token") {
		t.Fatalf("empty stdin: exit %d, %q", code, errOut)
	}
}

// TestExplainShowsTimesAndKeySource: the times read as absolute and
// relative times, and the key lookup names its source and the fetches.
func TestExplainShowsTimesAndKeySource(t *testing.T) {
	e := newExplainEnv(t)
	tok := e.mint(map[string]any{"exp": e.now.Add(-3*time.Minute - 10*time.Second).Unix()}, nil)
	code, out, _ := e.run("--env-file", e.envFile(), "--token", tok)
	if code != exitRefused {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"expired 3 min ago",
		time.Unix(e.now.Add(-3*time.Minute-10*time.Second).Unix(), 0).UTC().Format(time.RFC3339),
		"key:       from discovery http://" + e.addr + "/.well-known/openid-configuration; fetches at start-up 2, during this request 0",
		`"sub": "dev-user-1"`,
		`WWW-Authenticate: Bearer realm="jwtgate", error="invalid_token", error_description="token has expired"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func FuzzReadToken(f *testing.F) {
	f.Add("Bearer abc.def.ghi\n")
	f.Add("   ")
	f.Add("bearer ")
	f.Fuzz(func(t *testing.T, in string) {
		tok, err := readToken(strings.NewReader(in))
		if err != nil {
			if tok != "" {
				t.Fatal("a token and an error")
			}
			return
		}
		if tok == "" || tok != strings.TrimSpace(tok) {
			t.Fatalf("token %q is empty or has surrounding space", tok)
		}
	})
}

// TestExplainAgreesWithReplayOnEverySampleEvent: explain works on every
// sample event out of the box and reaches the decision and status that
// replay expects for it (events/expectations.json).
func TestExplainAgreesWithReplayOnEverySampleEvent(t *testing.T) {
	e := newExplainEnv(t)
	expect, err := loadExpectations(filepath.Join(e.dir, ExpectFileName))
	if err != nil || len(expect) == 0 {
		t.Fatalf("expectations: %v (%d)", err, len(expect))
	}
	for name, want := range expect {
		t.Run(name, func(t *testing.T) {
			code, js, errOut := e.run("--env-file", filepath.Join(e.dir, EnvFileName), "--event", filepath.Join(e.dir, name), "--json")
			var rep explain.Report
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatalf("exit %d: %v\n%s", code, err, errOut)
			}
			if rep.Decision.Outcome != want.Outcome || rep.Decision.Reason != want.Reason {
				t.Fatalf("explain decided %s/%s, replay expects %s/%s", rep.Decision.Outcome, rep.Decision.Reason, want.Outcome, want.Reason)
			}
			if len(rep.Answers) == 0 || rep.Answers[0].Status != want.Status {
				t.Fatalf("the event's own platform answers %+v, replay expects status %d", rep.Answers, want.Status)
			}
			if (code == exitAllow) != (want.Outcome == "allow") {
				t.Fatalf("exit %d for %s", code, want.Outcome)
			}
		})
	}
}

// TestExplainNeverShowsASecret: a token signed with a configured HMAC
// secret is explained (key from "static key 1") without the secret or the
// signature appearing in any form.
func TestExplainNeverShowsASecret(t *testing.T) {
	e := newExplainEnv(t)
	secret := bytes.Repeat([]byte("k"), 32)
	const iss = "https://internal.example"
	env := e.write("hs.env", "JWTGATE_ISSUERS="+iss+"\nJWTGATE_AUDIENCES="+SampleAudience+"\nJWTGATE_HMAC_SECRETS=hs1:"+base64.StdEncoding.EncodeToString(secret)+"\n")
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(e.claims(map[string]any{"iss": iss}))
	input := enc([]byte(`{"alg":"HS256","kid":"hs1","typ":"JWT"}`)) + "." + enc(claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	sig := enc(mac.Sum(nil))
	for _, args := range [][]string{{"--env-file", env, "--token", input + "." + sig}, {"--env-file", env, "--token", input + "." + sig, "--json"}} {
		code, out, errOut := e.run(args...)
		if code != exitAllow || !strings.Contains(out, "static key 1") {
			t.Fatalf("exit %d, want allow with the key from static key 1\n%s\n%s", code, out, errOut)
		}
		for _, form := range []string{string(secret), base64.StdEncoding.EncodeToString(secret), enc(secret), sig} {
			if strings.Contains(out, form) {
				t.Fatalf("the output shows a secret or the signature (%q)", form)
			}
		}
	}
}

// devJWKWith returns the dev key's public JWK as a one-key JWKS with one
// more member (an Entra key's issuer, for example).
func devJWKWith(t *testing.T, name, value string) string {
	t.Helper()
	k, err := devissuer.LoadKey(devKey(t))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(pub)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m[name] = value
	out, err := json.Marshal(map[string]any{"keys": []any{m}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
