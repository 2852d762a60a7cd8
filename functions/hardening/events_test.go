package hardening

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// devFixture is a core configured like events/replay.env, but with the dev
// issuer's public key given statically (no network), so the sample events'
// valid tokens are allowed.
func devFixture(t testing.TB) (*fixture, string) {
	t.Helper()
	dir := filepath.Join(localruntest.Root(t), "events")
	k, err := devissuer.LoadKey(filepath.Join(dir, "dev-signing-key.jwk.json"))
	if err != nil {
		t.Skipf("no sample events (%v)", err)
	}
	pub, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	f := buildFixture(t, map[string]string{
		"JWTGATE_JWKS":            string(MustJSON(map[string]any{"keys": []any{pub}})),
		"JWTGATE_ISSUERS":         "http://127.0.0.1:8917",
		"JWTGATE_AUDIENCES":       "https://api.example.com",
		"JWTGATE_REQUIRED_SCOPES": "orders:read",
	}, &fixture{clock: newClock(), logs: &syncBuffer{}})
	return f, dir
}

// sampleEvents returns the sample events: name → raw JSON, and whether it
// is an Azure invocation payload (else a Lambda event).
func sampleEvents(t testing.TB, dir string) (map[string][]byte, map[string]bool) {
	t.Helper()
	out, azure := map[string][]byte{}, map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "apigw-*.json"))
	inv, _ := filepath.Glob(filepath.Join(dir, "azure-invocation-*.json"))
	files = append(files, inv...)
	if mod, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output(); err == nil {
		td := filepath.Join(strings.TrimSpace(string(mod)), "events", "testdata")
		for _, n := range []string{"apigw-custom-auth-request.json", "apigw-custom-auth-request-type-request.json",
			"apigw-v2-custom-authorizer-v1-request.json", "apigw-v2-custom-authorizer-v2-request.json"} {
			files = append(files, filepath.Join(td, n))
		}
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		name := filepath.Base(p)
		if strings.Contains(p, "aws-lambda-go") {
			name = "aws-lambda-go/" + name
		}
		out[name] = b
		azure[name] = strings.HasPrefix(name, "azure-")
	}
	if len(out) == 0 {
		t.Skip("no sample events found")
	}
	return out, azure
}

// swaps returns values of other JSON types than v.
func swaps(v any) []any {
	all := []any{"x", 1.5, true, nil, map[string]any{}, []any{}, -1e308}
	var out []any
	for _, s := range all {
		if sameKind(s, v) {
			continue
		}
		out = append(out, s)
	}
	return out
}

func sameKind(a, b any) bool {
	switch a.(type) {
	case string:
		_, ok := b.(string)
		return ok
	case float64:
		_, ok := b.(float64)
		return ok
	case bool:
		_, ok := b.(bool)
		return ok
	case nil:
		return b == nil
	case map[string]any:
		_, ok := b.(map[string]any)
		return ok
	case []any:
		_, ok := b.([]any)
		return ok
	}
	return false
}

// variant is the event with the value at path replaced.
type variant struct {
	path string
	raw  []byte
}

// typeSwapped yields every variant of doc with one value (at any depth)
// replaced by a value of another JSON type.
func typeSwapped(doc any) []variant {
	var out []variant
	var walk func(path string, v any, set func(any))
	walk = func(path string, v any, set func(any)) {
		for _, s := range swaps(v) {
			set(s)
			out = append(out, variant{path: path + "=" + string(MustJSON(s)), raw: MustJSON(doc)})
			set(v)
		}
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, x[k], func(n any) { x[k] = n })
			}
		case []any:
			for i := range x {
				walk(path+"["+strconv.Itoa(i)+"]", x[i], func(n any) { x[i] = n })
			}
		}
	}
	walk("", doc, func(any) {})
	return out
}

// carriesToken reports whether the variant put a wrong, non-null type where
// the token travels. (null reads as "absent" in Go: the token may still
// arrive by another field, e.g. multiValueHeaders beside headers.)
func carriesToken(path string) bool {
	p := strings.ToLower(path)
	return (strings.Contains(p, "authorization") || strings.Contains(p, "cookie")) && !strings.HasSuffix(p, "=null")
}

// TestTypeSwappedSampleEvents: every sample event (events/ and the
// aws-lambda-go samples), with each value at any depth replaced by a value
// of another JSON type, through the real adapters and core: no panic, an
// allow only where the original event is allowed and the swap did not touch
// the token, and wrong types in the fields the adapters read are refused as
// malformed events.
func TestTypeSwappedSampleEvents(t *testing.T) {
	f, dir := devFixture(t)
	samples, isAzure := sampleEvents(t, dir)
	malformed, total := 0, 0
	names := make([]string, 0, len(samples))
	for n := range samples {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := samples[name]
		run := func(b []byte) answerSeen {
			if isAzure[name] {
				r := httptest.NewRequest(http.MethodPost, customhandler.InvocationPath, strings.NewReader(string(b)))
				return serveAzure(t, f.azure, r)
			}
			return evalLambdaRaw(t, f.lam, b)
		}
		base := run(raw)
		if strings.HasSuffix(name, "-valid.json") && base.Outcome != decision.Allow {
			t.Fatalf("%s: the original sample is refused (%s: %s)", name, base.Reason, base.Detail)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, v := range typeSwapped(doc) {
			total++
			got := run(v.raw)
			if got.Reason == decision.EventMalformed {
				malformed++
			}
			if got.Outcome == decision.Allow && (base.Outcome != decision.Allow || carriesToken(v.path)) {
				t.Errorf("%s %s: allowed (original: %s)", name, v.path, base.Outcome)
			}
			if !isAzure[name] && got.Status == http.StatusOK && got.Outcome != decision.Allow {
				t.Errorf("%s %s: status 200 for %s", name, v.path, got.Outcome)
			}
		}
	}
	t.Logf("%d samples, %d type-swapped variants, %d refused as malformed events", len(samples), total, malformed)
	if total == 0 || malformed < total/10 {
		t.Fatalf("only %d of %d variants were refused as malformed: wrong field types are being accepted", malformed, total)
	}
}

// TestHostileEvents: ambiguous, huge, empty and nested events through both
// adapters with a real core.
func TestHostileEvents(t *testing.T) {
	f := newStaticFixture(t, nil)
	tok := f.valid(t, nil)
	many := make([]string, 1000)
	for i := range many {
		many[i] = "Bearer " + tok
	}
	junk := strings.Repeat("j", 900<<10)
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)

	lambda := []struct {
		name   string
		event  string
		reason decision.Reason
	}{
		{"empty event", ``, decision.EventMalformed},
		{"null event", `null`, decision.EventMalformed},
		{"empty object", `{}`, decision.EventMalformed},
		{"array", `[]`, decision.EventMalformed},
		{"string", `"TOKEN"`, decision.EventMalformed},
		{"nested 100,000 deep", deep, decision.EventMalformed},
		{"nested inside a field", `{"type":"TOKEN","methodArn":` + deep + `}`, decision.EventMalformed},
		{"1000 Authorization values", string(MustJSON(map[string]any{"type": "REQUEST", "methodArn": testARN,
			"multiValueHeaders": map[string]any{"Authorization": many}})), decision.TokenMalformed},
		{"Authorization in two spellings (payload 2.0)", `{"version":"2.0","type":"REQUEST","routeArn":"` + testRouteARN +
			`","rawPath":"/orders/1","headers":{"authorization":"Bearer ` + tok + `","Authorization":"Bearer ` + tok + `"}}`, decision.TokenMalformed},
		{"event over 1 MiB", string(MustJSON(map[string]any{"type": "REQUEST", "methodArn": testARN,
			"headers": map[string]any{"Authorization": "Bearer " + tok, "X-Junk": junk + junk}})), decision.EventMalformed},
		{"TOKEN without methodArn", `{"type":"TOKEN","authorizationToken":"Bearer ` + tok + `"}`, decision.EventMalformed},
		{"methodArn of another service", `{"type":"TOKEN","authorizationToken":"Bearer ` + tok + `","methodArn":"arn:aws:s3:::bucket"}`, decision.EventMalformed},
		{"unknown version", `{"version":"3.0","type":"REQUEST","routeArn":"` + testRouteARN + `"}`, decision.EventMalformed},
		{"invalid UTF-8", "{\"type\":\"TOKEN\",\"authorizationToken\":\"Bearer \xff\",\"methodArn\":\"" + testARN + "\"}", decision.TokenMalformed},
	}
	for _, tc := range lambda {
		t.Run("lambda "+tc.name, func(t *testing.T) {
			got := evalLambdaRaw(t, f.lam, []byte(tc.event))
			if got.Reason != tc.reason {
				t.Errorf("reason %s (%s), want %s", got.Reason, got.Detail, tc.reason)
			}
			checkDenied401(t, "lambda", got)
		})
	}
	t.Run("lambda huge but legal headers do not change the decision", func(t *testing.T) {
		got := evalLambda(t, f.lam, map[string]any{"type": "REQUEST", "methodArn": testARN,
			"headers": map[string]any{"Authorization": "Bearer " + tok, "X-Junk": junk}})
		if got.Outcome != decision.Allow {
			t.Fatalf("%s/%s", got.Outcome, got.Reason)
		}
	})

	proxy := func(hdr http.Header) *http.Request {
		r := httptest.NewRequest(testMethod, customhandler.ProxyPrefix+testPath, nil)
		r.Header = hdr
		return r
	}
	azure := []struct {
		name   string
		req    *http.Request
		status int
		reason decision.Reason
	}{
		{"proxy: 1000 Authorization headers", proxy(http.Header{"Authorization": many}), 401, decision.TokenMalformed},
		{"proxy: no headers at all", proxy(http.Header{}), 401, decision.TokenMissing},
		{"proxy: 900 KiB of other headers", proxy(http.Header{"Authorization": {"Bearer " + tok}, "X-Junk": {junk}}), 200, decision.ReasonOK},
		{"proxy: conflicting forwarded methods", proxy(http.Header{"Authorization": {"Bearer " + tok}, "X-Forwarded-Method": {"GET", "DELETE"}}), 400, decision.EventMalformed},
		{"invocation: empty body", httptest.NewRequest(http.MethodPost, customhandler.InvocationPath, strings.NewReader("")), 400, decision.EventMalformed},
		{"invocation: null", httptest.NewRequest(http.MethodPost, customhandler.InvocationPath, strings.NewReader("null")), 400, decision.EventMalformed},
		{"invocation: nested 100,000 deep", httptest.NewRequest(http.MethodPost, customhandler.InvocationPath, strings.NewReader(deep)), 400, decision.EventMalformed},
		{"invocation: two Authorization values", invocationRequest(http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}), 401, decision.TokenMalformed},
		{"invocation: Headers of the wrong type", httptest.NewRequest(http.MethodPost, customhandler.InvocationPath,
			strings.NewReader(`{"Data":{"req":{"Url":"http://h/api/authorize","Method":"GET","Headers":"Bearer `+tok+`"}}}`)), 400, decision.EventMalformed},
		{"invocation: 1.8 MiB of other headers and no token (no 1 MiB ceiling)", httptest.NewRequest(http.MethodPost, customhandler.InvocationPath,
			strings.NewReader(string(MustJSON(map[string]any{"Data": map[string]any{"req": map[string]any{"Url": "http://h/api/authorize", "Method": "GET", "Headers": map[string]any{"X": []string{junk, junk}}}}})))), 401, decision.TokenMissing},
		{"invocation: 5 MiB of other headers", httptest.NewRequest(http.MethodPost, customhandler.InvocationPath,
			strings.NewReader(string(MustJSON(map[string]any{"Data": map[string]any{"req": map[string]any{"Url": "http://h/api/authorize", "Method": "GET", "Headers": map[string]any{"X": []string{junk, junk, junk, junk, junk, junk}, "Authorization": []string{"Bearer " + tok}}}}})))), 401, decision.TokenTooLarge},
	}
	for _, tc := range azure {
		t.Run("azure "+tc.name, func(t *testing.T) {
			got := serveAzure(t, f.azure, tc.req)
			if got.Status != tc.status || got.Reason != tc.reason {
				t.Errorf("status %d reason %s (%s), want %d %s", got.Status, got.Reason, got.Detail, tc.status, tc.reason)
			}
		})
	}
}

// FuzzTokenAcrossAdapters puts arbitrary text where the bearer token goes,
// in every channel (core, both Azure shapes, all four Lambda shapes) with a
// real core: no panic, the same outcome everywhere (and the same reason
// when the text survives JSON unchanged), and an allow only for text that
// contains the valid token.
func FuzzTokenAcrossAdapters(f *testing.F) {
	fx := newStaticFixture(f, nil)
	valid := fx.valid(f, nil)
	f.Add(valid)
	f.Add(valid + " ")
	f.Add(" " + valid)
	f.Add(strings.Replace(valid, ".", "..", 1))
	f.Add(Unsigned(Header("none", ""), validPayload(fx), ""))
	f.Add(SignHS256(MustJSON(fx.rsa.JWK()), Header("HS256", "rsa1"), validPayload(fx)))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		var first answerSeen
		for i, ch := range channels {
			got := ch.run(t, fx, tok)
			if got.Outcome == decision.Allow && !strings.Contains(tok, valid) {
				t.Fatalf("%s allowed %q", ch.name, tok)
			}
			if i == 0 {
				first = got
				continue
			}
			if got.Outcome != first.Outcome {
				t.Fatalf("%s says %s/%s, core says %s/%s", ch.name, got.Outcome, got.Reason, first.Outcome, first.Reason)
			}
			jsonSafe := utf8.ValidString(tok) && !strings.ContainsAny(tok, "\r\n")
			if jsonSafe && got.Reason != first.Reason && got.Reason != decision.EventMalformed {
				t.Fatalf("%s says %s, core says %s", ch.name, got.Reason, first.Reason)
			}
		}
	})
}
