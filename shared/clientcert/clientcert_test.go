package clientcert

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/devissuer"
)

func testCert(t testing.TB) []byte {
	t.Helper()
	der, err := devissuer.NewClientCertificate(time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// Formats returns the certificate in every header format, as the front ends
// that produce them write it.
func formats(der []byte) map[string]string {
	p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	// Envoy and nginx escape PEM like a URL query component would, with
	// %20 for spaces and %0A for newlines.
	esc := strings.ReplaceAll(url.QueryEscape(p), "+", "%20")
	return map[string]string{
		"App Service base64 DER":         base64.StdEncoding.EncodeToString(der),
		"base64url DER without padding":  base64.RawURLEncoding.EncodeToString(der),
		"API Gateway PEM":                p,
		"PEM with literal \\n":           strings.ReplaceAll(p, "\n", `\n`),
		"PEM folded onto one line":       strings.ReplaceAll(strings.TrimSpace(p), "\n", " "),
		"nginx URL-encoded PEM":          esc,
		"Envoy XFCC":                     `By=spiffe://gw;Hash=abc;Cert="` + esc + `";Subject="/C=US/CN=client";URI=spiffe://client`,
		"Envoy XFCC, Cert unquoted":      "Hash=abc;Cert=" + esc,
		"Envoy XFCC, chained elements":   `By=spiffe://a;Hash=1,By=spiffe://b;Hash=2;Cert="` + esc + `"`,
		"PEM with a key block before it": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" + p,
	}
}

func TestParseEveryFormat(t *testing.T) {
	der := testCert(t)
	want := Thumbprint(der)
	for name, v := range formats(der) {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(v)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if Thumbprint(got) != want {
				t.Fatal("thumbprint differs from the certificate's")
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	der := testCert(t)
	esc := formats(der)["nginx URL-encoded PEM"]
	cases := map[string]struct {
		v    string
		want error
	}{
		"empty":                        {"", ErrEmpty},
		"spaces":                       {"   ", ErrEmpty},
		"garbage":                      {"not a certificate!", ErrMalformed},
		"base64 of garbage":            {base64.StdEncoding.EncodeToString([]byte("hello world")), ErrMalformed},
		"truncated DER":                {base64.StdEncoding.EncodeToString(der[:len(der)/2]), ErrMalformed},
		"PEM without END":              {"-----BEGIN CERTIFICATE-----\nAAAA", ErrMalformed},
		"PEM of a key only":            {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", ErrMalformed},
		"bad URL escape":               {"-----BEGIN%20CERTIFICATE-----%ZZ", ErrMalformed},
		"XFCC without Cert":            {"By=spiffe://a;Hash=1", ErrEmpty},
		"XFCC with two Certs":          {`Cert="` + esc + `",Cert="` + esc + `"`, ErrMalformed},
		"XFCC with an open quote":      {`Hash=1;Cert="` + esc, ErrMalformed},
		"XFCC with a member without =": {"Hash=1;junk", ErrMalformed},
		"too large":                    {strings.Repeat("A", MaxValueBytes+4), ErrTooLarge},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(c.v)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range formats(testCert(f)) {
		f.Add(v)
	}
	f.Add(`Cert="a\"b";x=,`)
	f.Fuzz(func(t *testing.T, v string) {
		der, err := Parse(v)
		if err != nil {
			if der != nil {
				t.Fatal("error with a certificate")
			}
			return
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			t.Fatal("accepted a value that is not a certificate")
		}
	})
}
