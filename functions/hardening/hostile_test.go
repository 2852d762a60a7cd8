package hardening

import (
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/functions/lambda/authorizer"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// attack is one hostile token and the reason every channel must give.
type attack struct {
	name   string
	tok    func(t testing.TB, f *fixture) string
	reason decision.Reason
	// also is a second accepted reason (see TestKeyAlgorithmMismatchIsRefused).
	also decision.Reason
}

// signed builds a token signed by the fixture's rsa1 key from raw header
// and payload bytes.
func signed(header string, payload func(f *fixture) []byte) func(testing.TB, *fixture) string {
	return func(t testing.TB, f *fixture) string {
		t.Helper()
		tok, err := SignRaw(f.rsa, []byte(header), payload(f))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

func validPayload(f *fixture) []byte { return MustJSON(f.claims(nil)) }

// payloadWith replaces one claim's JSON with raw text (any bytes).
func payloadWith(name, raw string) func(f *fixture) []byte {
	return func(f *fixture) []byte {
		c := f.claims(map[string]any{name: nil})
		b := MustJSON(c)
		return []byte(`{"` + name + `":` + raw + "," + string(b[1:]))
	}
}

// rsaForms returns the rsa1 public key as the byte strings an attacker
// would try as an HMAC secret: PEM (PKIX and PKCS#1), DER (both), the JWK
// and its modulus.
func rsaForms(t testing.TB, k *SigningKey) map[string][]byte {
	t.Helper()
	pkix, err := x509.MarshalPKIXPublicKey(&k.RSA.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(&k.RSA.PublicKey)
	return map[string][]byte{
		"PEM PKIX":   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"PEM PKCS1":  pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}),
		"DER PKIX":   pkix,
		"DER PKCS1":  pkcs1,
		"JWK":        MustJSON(k.JWK()),
		"JWK n":      []byte(k.JWK()["n"].(string)),
		"modulus":    k.RSA.N.Bytes(),
		"PEM no eol": []byte(strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})))),
	}
}

// selfSigned is a DER certificate for the attacker's key.
func selfSigned(t testing.TB, k *SigningKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "evil"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.RSA.PublicKey, k.RSA)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// countingServer is the "second loopback server" an attacker points jku or
// x5u at: it serves the attacker's JWKS and counts every request.
func countingServer(t testing.TB, evil *SigningKey) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{evil.JWK()}})
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// attacksFor lists the attacks of issue 3 and issue 9 against a fixture
// whose config allows only the asymmetric defaults.
func attacksFor(t testing.TB, evil, evilEC *SigningKey, jku string) []attack {
	var list []attack
	add := func(name string, reason decision.Reason, tok func(testing.TB, *fixture) string) {
		list = append(list, attack{name: name, tok: tok, reason: reason})
	}
	str := func(s string) func(testing.TB, *fixture) string {
		return func(testing.TB, *fixture) string { return s }
	}

	// alg none, in every spelling, with and without a kid and a signature.
	for _, alg := range []string{"none", "None", "NONE", "nOnE", "none ", " none", "none\x00"} {
		for _, kid := range []string{"", "rsa1"} {
			hdr := Header(alg, kid)
			add("alg "+strconv.Quote(alg)+" kid "+strconv.Quote(kid)+" empty signature", decision.TokenMalformed,
				func(_ testing.TB, f *fixture) string { return Unsigned(hdr, validPayload(f), "") })
			add("alg "+strconv.Quote(alg)+" kid "+strconv.Quote(kid)+" dummy signature", decision.AlgorithmNotAllowed,
				func(_ testing.TB, f *fixture) string { return Unsigned(hdr, validPayload(f), "AAAA") })
		}
	}
	add("alg none two segments", decision.TokenMalformed, func(_ testing.TB, f *fixture) string {
		return Segment(Header("none", "")) + "." + Segment(validPayload(f))
	})
	add("alg none signed by rsa1 anyway", decision.AlgorithmNotAllowed, signed(string(Header("none", "rsa1")), validPayload))
	add("alg missing", decision.TokenMalformed, signed(`{"kid":"rsa1","typ":"JWT"}`, validPayload))
	add("alg as number", decision.TokenMalformed, signed(`{"alg":256,"kid":"rsa1"}`, validPayload))

	// HS256 with the RSA public key as the HMAC secret: HS256 is not in the
	// allowlist without configured secrets.
	for form, secret := range rsaForms(t, rsaKey) {
		for _, kid := range []string{"rsa1", ""} {
			add("HS256 signed with the RSA public key "+form+" kid "+strconv.Quote(kid), decision.AlgorithmNotAllowed,
				func(_ testing.TB, f *fixture) string { return SignHS256(secret, Header("HS256", kid), validPayload(f)) })
		}
	}

	// Key material in the token is never used.
	evilJWK := string(MustJSON(evil.JWK()))
	evilSigned := func(hdr string) func(testing.TB, *fixture) string {
		return func(t testing.TB, f *fixture) string {
			tok, err := SignRaw(evil, []byte(hdr), validPayload(f))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	add("embedded jwk with its own kid", decision.TokenMalformed, evilSigned(string(Header("RS256", "evil", `"jwk":`+evilJWK))))
	add("embedded jwk with a known kid", decision.TokenMalformed, evilSigned(string(Header("RS256", "rsa1", `"jwk":`+evilJWK))))
	add("embedded jwk without kid", decision.TokenMalformed, evilSigned(string(Header("RS256", "", `"jwk":`+evilJWK))))
	add("jku to a second server, its kid", decision.KeyUnknown, evilSigned(string(Header("RS256", "evil", `"jku":"`+jku+`/jwks.json"`))))
	add("jku to a second server, known kid", decision.SignatureInvalid, evilSigned(string(Header("RS256", "rsa1", `"jku":"`+jku+`/jwks.json"`))))
	add("x5u to a second server", decision.KeyUnknown, evilSigned(string(Header("RS256", "evil", `"x5u":"`+jku+`/cert.pem"`))))
	x5c := base64.StdEncoding.EncodeToString(selfSigned(t, evil))
	add("x5c with the attacker's certificate", decision.SignatureInvalid, evilSigned(string(Header("RS256", "rsa1", `"x5c":["`+x5c+`"]`))))
	add("x5c with the attacker's certificate, no kid", decision.SignatureInvalid, evilSigned(string(Header("RS256", "", `"x5c":["`+x5c+`"]`))))

	// kid injection strings never match and never break anything.
	for _, kid := range []string{"../../../../etc/passwd", "' OR '1'='1", "rsa1' --", "$(id)", "`id`", "rsa1\x00", "\x00", "rsa1\x00evil",
		"rsa1 ", " rsa1", "RSA1", "rs\u0430" + "1", `{"$ne":null}`, "%72sa1", "rsa1\r\nX-Injected: 1", "http://127.0.0.1:1/jwks",
		strings.Repeat("k", 2000), "\xff\xfe"} {
		reason := decision.KeyUnknown
		if kid == "\xff\xfe" {
			reason = decision.TokenMalformed
		}
		hdr := `{"alg":"RS256","kid":` + string(MustJSON(kid)) + `}`
		if kid == "\xff\xfe" { // raw invalid UTF-8, not the replacement character encoding/json writes
			hdr = `{"alg":"RS256","kid":"` + kid + `"}`
		}
		add("kid injection "+strconv.Quote(clipName(kid)), reason, signed(hdr, validPayload))
	}
	add("kid of 10,000 bytes (header cap)", decision.TokenTooLarge, signed(`{"alg":"RS256","kid":"`+strings.Repeat("k", 10000)+`"}`, validPayload))
	add("kid with a raw NUL byte in the JSON", decision.TokenMalformed, signed("{\"alg\":\"RS256\",\"kid\":\"rsa1\x00\"}", validPayload))
	add("kid as number", decision.TokenMalformed, signed(`{"alg":"RS256","kid":1}`, validPayload))

	// ECDSA signature forms.
	esPayload := func(f *fixture) []byte { return validPayload(f) }
	ecHeader := Header("ES256", "ec1")
	n := elliptic.P256().Params().N
	for name, sig := range map[string][]byte{
		"r=s=0":     make([]byte, 64),
		"r=s=n":     append(n.FillBytes(make([]byte, 32)), n.FillBytes(make([]byte, 32))...),
		"r=s=1":     append(big.NewInt(1).FillBytes(make([]byte, 32)), big.NewInt(1).FillBytes(make([]byte, 32))...),
		"63 byte":   make([]byte, 63),
		"empty-ish": {0},
	} {
		add("ES256 "+name, decision.SignatureInvalid, func(_ testing.TB, f *fixture) string {
			return Unsigned(ecHeader, esPayload(f), Segment(sig))
		})
	}
	add("ES256 DER-encoded signature", decision.SignatureInvalid, func(t testing.TB, f *fixture) string {
		tok, err := SignES256DER(f.ec, ecHeader, validPayload(f))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	})
	add("ES256 signed by another EC key", decision.SignatureInvalid, func(t testing.TB, f *fixture) string {
		tok, err := SignRaw(evilEC, ecHeader, validPayload(f))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	})

	// Duplicate members.
	add("duplicate alg RS256 then none", decision.TokenMalformed, signed(`{"alg":"RS256","alg":"none","kid":"rsa1"}`, validPayload))
	add("duplicate alg none then RS256", decision.TokenMalformed, signed(`{"alg":"none","alg":"RS256","kid":"rsa1"}`, validPayload))
	add("duplicate kid", decision.TokenMalformed, signed(`{"alg":"RS256","kid":"evil","kid":"rsa1"}`, validPayload))
	add("duplicate alg with an escaped name", decision.TokenMalformed, signed(`{"alg":"RS256","\u0061lg":"none","kid":"rsa1"}`, validPayload))
	add("duplicate exp", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("exp", `1,"exp":99999999999`)))

	// exp in every wrong shape.
	for _, raw := range []string{`"4102444800"`, `"never"`, `1e400`, `-1e400`, `9.3e18`, `99999999999999999999`, `1.7976931348623157e308`, `true`, `null`, `[4102444800]`, `{}`} {
		add("exp "+raw, decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("exp", raw)))
	}
	add("exp 9.3e18 as an integer", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("exp", `9300000000000000000`)))
	add("exp -1", decision.TokenExpired, signed(string(Header("RS256", "rsa1")), payloadWith("exp", `-1`)))
	add("exp 0", decision.TokenExpired, signed(string(Header("RS256", "rsa1")), payloadWith("exp", `0`)))
	add("exp 1.5", decision.TokenExpired, signed(string(Header("RS256", "rsa1")), payloadWith("exp", `1.5`)))
	add("nbf 1e400", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("nbf", `1e400`)))
	add("iat as string", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("iat", `"0"`)))

	// aud type confusion.
	for _, raw := range []string{`42`, `{"api://orders":true}`, `[42]`, `[["api://orders"]]`, `true`, `["api://orders",1]`, `[null]`, `null`, `{"0":"api://orders"}`} {
		add("aud "+raw, decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("aud", raw)))
	}
	for _, raw := range []string{`""`, `[]`, `"API://ORDERS"`, `"api://orders/"`, `" api://orders"`, `"api://orders\u0000"`} {
		add("aud "+raw, decision.AudienceInvalid, signed(string(Header("RS256", "rsa1")), payloadWith("aud", raw)))
	}

	// Substitution (RFC 8725 §2.8, §2.9): right key, wrong recipient or issuer.
	add("token for another audience", decision.AudienceInvalid, signed(string(Header("RS256", "rsa1")), payloadWith("aud", `"api://billing"`)))
	add("token naming another issuer", decision.IssuerInvalid, signed(string(Header("RS256", "rsa1")), payloadWith("iss", `"https://other.example.com/"`)))
	add("issuer with a trailing slash added", decision.IssuerInvalid, func(t testing.TB, f *fixture) string {
		return signed(string(Header("RS256", "rsa1")), payloadWith("iss", string(MustJSON(f.issuer+"/"))))(t, f)
	})

	// Input that no encoder produces.
	add("invalid UTF-8 in a claim", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("sub", "\"user-\xff\xfe\"")))
	add("invalid UTF-8 in a claim name", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("x\xc3", `1`)))
	add("overlong UTF-8 slash in a claim", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("sub", "\"\xc0\xaf\"")))
	add("lone surrogate escape in a claim", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("sub", `"\ud800"`)))
	add("invalid UTF-8 in the header", decision.TokenMalformed, signed("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x\":\"\xff\"}", validPayload))
	add("raw NUL in a claim string", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), payloadWith("sub", "\"a\x00b\"")))
	add("payload is an array", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), func(*fixture) []byte { return []byte(`[]`) }))
	add("trailing data after the payload", decision.ClaimsMalformed, signed(string(Header("RS256", "rsa1")), func(f *fixture) []byte { return append(validPayload(f), []byte(`{}`)...) }))
	add("padded base64url", decision.TokenMalformed, func(t testing.TB, f *fixture) string {
		tok := f.valid(t, nil)
		parts := strings.Split(tok, ".")
		return parts[0] + "=." + parts[1] + "." + parts[2]
	})
	add("standard base64 alphabet", decision.TokenMalformed, func(t testing.TB, f *fixture) string {
		tok := f.valid(t, nil)
		return strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+/"
	})
	add("four segments", decision.TokenMalformed, func(t testing.TB, f *fixture) string { return f.valid(t, nil) + ".AAAA" })
	add("five segments (JWE) without decryption keys", decision.TokenEncrypted, str("eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..AAAA.AAAA.AAAA"))
	add("crit with b64 false", decision.CritUnsupported, signed(`{"alg":"RS256","kid":"rsa1","b64":false,"crit":["b64"]}`, validPayload))
	return list
}

func clipName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// expected is what channel ch must answer for tok, taking the channel's
// own size caps into account: a Lambda event over MaxEventBytes and an
// Azure invocation payload whose request parts exceed MaxRequestPartsBytes
// are refused before the core sees the token.
func expected(ch string, tokLen int, reason decision.Reason) (decision.Reason, int) {
	switch {
	case strings.HasPrefix(ch, "lambda") && tokLen+1024 > authorizer.MaxEventBytes:
		return decision.EventMalformed, http.StatusUnauthorized
	case ch == "azure-invocation" && tokLen+1024 > customhandler.MaxRequestPartsBytes:
		return decision.TokenTooLarge, http.StatusUnauthorized
	}
	return reason, http.StatusUnauthorized
}

func runAttack(t *testing.T, f *fixture, a attack) {
	t.Helper()
	tok := a.tok(t, f)
	for _, ch := range channels {
		got := ch.run(t, f, tok)
		reason, status := expected(ch.name, len(tok), a.reason)
		if got.Reason != reason && (a.also == "" || got.Reason != a.also) {
			t.Errorf("%s: reason %s (%s), want %s", ch.name, got.Reason, got.Detail, reason)
		}
		if status == http.StatusUnauthorized {
			checkDenied401(t, ch.name, got)
		} else if got.Status != status {
			t.Errorf("%s: status %d, want %d", ch.name, got.Status, status)
		}
	}
}

// TestHostileTokensAreRefusedByEveryAdapter sends every attack through the
// core, both Azure shapes and all four Lambda event shapes; each must be
// refused with the same reason code and the platform's 401 answer, and the
// jku/x5u server must never be asked anything.
func TestHostileTokensAreRefusedByEveryAdapter(t *testing.T) {
	_, _, evil, evilEC := testKeys(t)
	f := newFixture(t, nil)
	srv, hits := countingServer(t, evil)
	if d := channels[0].run(t, f, f.valid(t, nil)); d.Outcome != decision.Allow {
		t.Fatalf("the valid control token is refused: %s (%s)", d.Reason, d.Detail)
	}
	for _, a := range attacksFor(t, evil, evilEC, srv.URL) {
		t.Run(a.name, func(t *testing.T) { runAttack(t, f, a) })
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the attacker's jku/x5u server received %d requests", n)
	}
	if n := f.iss.JWKSRequests(); n > 3 {
		t.Fatalf("attacks made the issuer's JWKS be fetched %d times (unknown kids share one refetch per cooldown)", n)
	}
}

// TestKeyConfusionWithHMACConfigured: with a configured HMAC secret (so
// HS256 is allowed), HS256 tokens signed with the RSA public key in any
// form are still refused: the RSA key never serves HMAC, and the secret is
// not the public key.
func TestKeyConfusionWithHMACConfigured(t *testing.T) {
	f := newFixture(t, map[string]string{
		"JWTGATE_HMAC_SECRETS": "hs1:" + testSecretB64,
		"JWTGATE_ISSUERS":      "{ISS}," + hmacIssuer,
	})
	secret, _ := base64.StdEncoding.DecodeString(testSecretB64)
	hmacPayload := func(f *fixture) []byte { return MustJSON(f.claims(map[string]any{"iss": hmacIssuer})) }
	if d := channels[0].run(t, f, SignHS256(secret, Header("HS256", "hs1"), hmacPayload(f))); d.Outcome != decision.Allow {
		t.Fatalf("control: a token signed with the configured secret is refused: %s (%s)", d.Reason, d.Detail)
	}
	for form, pub := range rsaForms(t, f.rsa) {
		for _, tc := range []struct {
			iss, kid     string
			reason, also decision.Reason
		}{
			// Claiming the discovery issuer: its key set holds no HMAC key.
			{"discovery", "rsa1", decision.KeyMismatch, ""},
			// Without a kid the configured secret may be tried (static
			// keys without issuers serve every accepted issuer): either way
			// the public key is not the secret.
			{"discovery", "", decision.SignatureInvalid, decision.KeyUnknown},
			// Claiming the HMAC issuer: its secret is not the public key.
			{"hmac", "hs1", decision.SignatureInvalid, ""},
			{"hmac", "", decision.SignatureInvalid, ""},
			{"hmac", "rsa1", decision.KeyUnknown, ""},
		} {
			payload := validPayload
			if tc.iss == "hmac" {
				payload = hmacPayload
			}
			a := attack{name: form + " iss " + tc.iss + " kid " + strconv.Quote(tc.kid), reason: tc.reason, also: tc.also,
				tok: func(_ testing.TB, f *fixture) string { return SignHS256(pub, Header("HS256", tc.kid), payload(f)) }}
			t.Run(a.name, func(t *testing.T) { runAttack(t, f, a) })
		}
	}
}

// hmacIssuer is the issuer the configured HMAC secret signs for (a
// discovery issuer is checked only against its discovery keys).
const hmacIssuer = "https://hmac.example/"

// TestTypConfusion (RFC 8725 §2.6, §3.11): with a typ allowlist, a token
// of another type (an ID token, "JWT") signed by the same key is refused.
func TestTypConfusion(t *testing.T) {
	f := newFixture(t, map[string]string{"JWTGATE_TOKEN_TYPES": "at+jwt"})
	ok := signed(`{"alg":"RS256","kid":"rsa1","typ":"at+jwt"}`, validPayload)(t, f)
	if d := channels[0].run(t, f, ok); d.Outcome != decision.Allow {
		t.Fatalf("control at+jwt refused: %s", d.Reason)
	}
	for _, typ := range []string{`"JWT"`, `"jwt"`, `"at+jwt "`, `"application/jwt"`, `"at+jwt\u0000"`} {
		runAttack(t, f, attack{name: "typ " + typ, reason: decision.TypeNotAllowed,
			tok: signed(`{"alg":"RS256","kid":"rsa1","typ":`+typ+`}`, validPayload)})
	}
}

// TestDeepNestingIsRefusedWithinTheSizeCap: claims nested 10,000 and
// 100,000 deep, with the size cap raised to its maximum so the parser (not
// the cap) must refuse them.
func TestDeepNestingIsRefusedWithinTheSizeCap(t *testing.T) {
	f := newFixture(t, map[string]string{"JWTGATE_MAX_TOKEN_BYTES": "1048576"})
	for _, depth := range []int{33, 1000} {
		deep := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		t.Run("header "+strconv.Itoa(depth)+" deep, within the header cap", func(t *testing.T) {
			runAttack(t, f, attack{reason: decision.TokenMalformed, tok: signed(`{"alg":"RS256","kid":"rsa1","x":`+deep+`}`, validPayload)})
		})
	}
	for _, depth := range []int{10000, 100000} {
		for _, kind := range []struct{ open, close string }{{"[", "]"}, {`{"a":`, "}"}} {
			deep := strings.Repeat(kind.open, depth) + "1" + strings.Repeat(kind.close, depth)
			name := strconv.Itoa(depth) + " deep " + kind.open
			t.Run("claims "+name, func(t *testing.T) {
				a := attack{name: name, reason: decision.ClaimsMalformed, tok: signed(string(Header("RS256", "rsa1")), payloadWith("x", deep))}
				if tok := a.tok(t, f); len(tok) > 1<<20 {
					t.Fatalf("token of %d bytes does not fit the cap; the parser would not be reached", len(tok))
				}
				runAttack(t, f, a)
			})
			t.Run("header "+name, func(t *testing.T) {
				// The header has its own 4 KiB cap: deep nesting there is
				// refused by size before parsing.
				runAttack(t, f, attack{name: name, reason: decision.TokenTooLarge, tok: signed(`{"alg":"RS256","kid":"rsa1","x":`+deep+`}`, validPayload)})
			})
		}
	}
}

// TestHugeTokensAreRefusedWithBoundedMemory: 1 MiB and 16 MiB tokens are
// refused (token_too_large, or the channel's own size refusal) and a
// refusal allocates far less than the token: the allocation bound is about
// memory (no copy or decode of the token), not time.
func TestHugeTokensAreRefusedWithBoundedMemory(t *testing.T) {
	f := newFixture(t, nil)
	for _, size := range []int{1 << 20, 16 << 20} {
		valid := f.valid(t, nil)
		parts := strings.SplitN(valid, ".", 3)
		pad := size - len(valid)
		tok := parts[0] + "." + parts[1] + strings.Repeat("A", pad) + "." + parts[2]
		name := strconv.Itoa(size>>20) + "MiB"
		t.Run(name, func(t *testing.T) {
			runAttack(t, f, attack{name: name, reason: decision.TokenTooLarge, tok: func(testing.TB, *fixture) string { return tok }})
		})
		authz := "Bearer " + tok
		coreReq := &decision.Request{Header: http.Header{"Authorization": {authz}}, Method: testMethod, Path: testPath}
		lambdaEvent := MustJSON(map[string]any{"type": "TOKEN", "authorizationToken": "Bearer " + tok, "methodArn": testARN})
		invocation := invocationRequest(bearerHeader(tok))
		invBody := readAll(t, invocation)
		for _, m := range []struct {
			name  string
			run   func()
			bound uint64
		}{
			{"core", func() { f.core.Decide(t.Context(), coreReq) }, 256 << 10},
			{"azure-proxy", func() {
				r := httptest.NewRequest(testMethod, customhandler.ProxyPrefix+testPath, nil)
				r.Header["Authorization"] = []string{authz}
				f.azure.ServeHTTP(httptest.NewRecorder(), r)
			}, 256 << 10},
			{"azure-invocation", func() {
				r := httptest.NewRequest(http.MethodPost, customhandler.InvocationPath, strings.NewReader(invBody))
				f.azure.ServeHTTP(httptest.NewRecorder(), r)
			}, 8 << 20}, // keeps at most MaxRequestPartsBytes (2 MiB) of the request, whatever the payload size (2x under -race)
			{"lambda", func() { f.lam.Evaluate(t.Context(), lambdaEvent) }, 256 << 10},
		} {
			m.run() // warm up lazily allocated state
			per := allocatedPerRun(3, m.run)
			t.Logf("%s %s: %d bytes allocated per refusal", name, m.name, per)
			if per > m.bound {
				t.Errorf("%s %s: a refusal allocated %d bytes (bound %d): the token is being copied or decoded", name, m.name, per, m.bound)
			}
		}
	}
}

func readAll(t testing.TB, r *http.Request) string {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// allocatedPerRun is the mean number of heap bytes allocated by fn, from
// runtime.MemStats.TotalAlloc deltas.
func allocatedPerRun(runs int, fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		fn()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// TestKeyAlgorithmMismatchIsRefused: a header alg that does not fit the
// key named by kid (RS256 on the EC key, ES256 on the RSA key) is refused
// by every channel. The documented reason code is key_algorithm_mismatch.
func TestKeyAlgorithmMismatchIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	var wrongReason []string
	for _, hdr := range [][]byte{Header("RS256", "ec1"), Header("ES256", "rsa1"), Header("PS256", "ec1")} {
		tok, err := SignRaw(f.rsa, hdr, validPayload(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range channels {
			got := ch.run(t, f, tok)
			checkDenied401(t, ch.name, got)
			if got.Reason != decision.KeyMismatch {
				wrongReason = append(wrongReason, ch.name+" "+string(hdr)+": "+string(got.Reason))
			}
		}
	}
	if len(wrongReason) > 0 {
		t.Errorf("a kid that exists but does not fit the header alg must be key_algorithm_mismatch: %s", strings.Join(wrongReason, "; "))
	}
}
