package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// TestHeaderParityWithPeers: header forms that jwx refuses or reads
// differently are refused (found by the differential fuzz targets in
// shared/difffuzz); well-formed registered parameters still parse.
func TestHeaderParityWithPeers(t *testing.T) {
	cert := selfSignedForTest(t)
	pl := b64(`{"sub":"a"}`)
	sig := b64("signature-bytes")
	all := func(*Algorithm) bool { return true }
	cases := []struct {
		name   string
		header string
		want   decision.Reason // "" parses
	}{
		{"plain header parses", `{"alg":"RS256","kid":"k1"}`, ""},
		{"inner whitespace parses", "{\"alg\": \"RS256\",\n \"kid\": \"k1\"}", ""},
		{"string registered members parse", `{"alg":"RS256","jku":"https://x/j","x5u":"https://x/c","x5t":"abc","x5t#S256":"abc","cty":"JWT"}`, ""},
		{"x5c certificate chain parses", `{"alg":"RS256","x5c":["` + cert + `"]}`, ""},
		{"leading space before the object", ` {"alg":"RS256"}`, decision.TokenMalformed},
		{"trailing newline after the object", "{\"alg\":\"RS256\"}\n", decision.TokenMalformed},
		{"b64 false without crit", `{"alg":"RS256","b64":false}`, decision.TokenMalformed},
		{"b64 true without crit", `{"alg":"RS256","b64":true}`, decision.TokenMalformed},
		{"b64 under crit stays crit_unsupported", `{"alg":"RS256","b64":false,"crit":["b64"]}`, decision.CritUnsupported},
		{"jku as a number", `{"alg":"RS256","jku":1}`, decision.TokenMalformed},
		{"x5u as an object", `{"alg":"RS256","x5u":{}}`, decision.TokenMalformed},
		{"x5t as null", `{"alg":"RS256","x5t":null}`, decision.TokenMalformed},
		{"x5t#S256 as an array", `{"alg":"RS256","x5t#S256":["a"]}`, decision.TokenMalformed},
		{"cty as a boolean", `{"alg":"RS256","cty":true}`, decision.TokenMalformed},
		{"jwk as a string", `{"alg":"RS256","jwk":"k"}`, decision.TokenMalformed},
		{"jwk object (embedded key)", `{"alg":"RS256","jwk":{"kty":"oct","k":"c2VjcmV0"}}`, decision.TokenMalformed},
		{"empty jwk object", `{"alg":"RS256","jwk":{}}`, decision.TokenMalformed},
		{"x5c empty", `{"alg":"RS256","x5c":[]}`, decision.TokenMalformed},
		{"x5c as a string", `{"alg":"RS256","x5c":"` + cert + `"}`, decision.TokenMalformed},
		{"x5c with a number", `{"alg":"RS256","x5c":[1]}`, decision.TokenMalformed},
		{"x5c not base64", `{"alg":"RS256","x5c":["MIIB*"]}`, decision.TokenMalformed},
		{"x5c in base64url", `{"alg":"RS256","x5c":["` + base64.RawURLEncoding.EncodeToString([]byte{0xfb, 0xff}) + `"]}`, decision.TokenMalformed},
		{"x5c not a certificate", `{"alg":"RS256","x5c":["MIIB"]}`, decision.TokenMalformed},
		{"x5c with a bad second certificate", `{"alg":"RS256","x5c":["` + cert + `","AAAA"]}`, decision.TokenMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(b64(tc.header)+"."+pl+"."+sig, 1<<16, all)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || err.Reason != tc.want):
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func selfSignedForTest(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}
