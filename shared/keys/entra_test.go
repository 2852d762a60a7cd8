package keys

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
)

const tenantGUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// entraJWK is a key as Entra's v2.0 JWKS publishes it: no alg, x5t and x5c
// (a real certificate of the key), cloud_instance_name and issuer.
func entraJWK(t *testing.T, kid, issuer string) map[string]any {
	t.Helper()
	priv := testRSA(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1900000000, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	thumb := sha1.Sum(der)
	return with(rsaJWK(&priv.PublicKey, kid), "alg", nil,
		"x5t", base64.RawURLEncoding.EncodeToString(thumb[:]),
		"x5c", []string{base64.StdEncoding.EncodeToString(der)},
		"cloud_instance_name", "microsoftonline.com",
		"issuer", issuer)
}

func TestParseJWKSKeepsEntraKeysAndTheirIssuerMember(t *testing.T) {
	tmpl := "https://login.microsoftonline.com/{tenantid}/v2.0"
	set, err := parseJWKS(jwksJSON(t,
		entraJWK(t, "common", tmpl),
		with(entraJWK(t, "v1", ""), "issuer", nil),
		with(entraJWK(t, "bad-issuer", ""), "issuer", 42),
	), false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range set.Keys {
		got[k.ID] = k.Issuer
	}
	if len(set.Keys) != 2 || got["common"] != tmpl || got["v1"] != "" {
		t.Fatalf("keys %v, skipped %v", got, set.Skipped)
	}
	if len(set.Skipped) != 1 || set.Skipped[0].KID != "bad-issuer" || !strings.Contains(set.Skipped[0].Reason, `"issuer" is not a string`) {
		t.Fatalf("skipped %+v", set.Skipped)
	}
}

func TestDiscoveryIssuerOtherThanItsURLsIsServedOnlyWhenListed(t *testing.T) {
	p := newIDP(t, jwksJSON(t, rsaJWK(&testRSA(t).PublicKey, "k1")))
	v1 := "https://sts.windows.net/" + tenantGUID + "/"
	p.set(func(p *idp) { p.issuer = v1 })

	s, _ := newTestStore(t, &config.Config{OpenIDConfigURLs: []string{p.discoveryURL()}, Issuers: []string{v1}}, newClock())
	if _, err := s.Lookup(bg, v1, "k1", "RS256"); err != nil {
		t.Fatalf("listed announced issuer: %v", err)
	}

	s, _ = newTestStore(t, &config.Config{OpenIDConfigURLs: []string{p.discoveryURL()}}, newClock())
	_, err := s.Lookup(bg, p.srv.URL, "k1", "RS256")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "JWTGATE_ISSUERS") || !strings.Contains(err.Error(), v1) {
		t.Fatalf("unlisted announced issuer: %v", err)
	}
	if _, err := s.Lookup(bg, v1, "k1", "RS256"); !errors.Is(err, ErrIssuerUnknown) {
		t.Fatalf("token of the unlisted announced issuer: %v", err)
	}
}

func TestOneDiscoverySourceServesEveryListedIssuerForm(t *testing.T) {
	p := newIDP(t, jwksJSON(t, rsaJWK(&testRSA(t).PublicKey, "k1")))
	v2 := p.srv.URL
	v1 := "https://sts.windows.net/" + tenantGUID + "/"
	s, _ := newTestStore(t, &config.Config{OpenIDConfigURLs: []string{p.discoveryURL()}, Issuers: []string{v2, v1}}, newClock())
	for _, iss := range []string{v2, v1} {
		if _, err := s.Lookup(bg, iss, "k1", "RS256"); err != nil {
			t.Fatalf("%s: %v", iss, err)
		}
	}
	if _, err := s.Lookup(bg, "https://sts.windows.net/other/", "k1", "RS256"); !errors.Is(err, ErrIssuerUnknown) {
		t.Fatalf("an issuer not listed: %v", err)
	}

	// With two discovery sources, neither serves an issuer it does not announce.
	q := newIDP(t, jwksJSON(t, rsaJWK(&testRSA(t).PublicKey, "k2")))
	s, _ = newTestStore(t, &config.Config{OpenIDConfigURLs: []string{p.discoveryURL(), q.discoveryURL()}, Issuers: []string{v2, q.srv.URL, v1}}, newClock())
	if _, err := s.Lookup(bg, v1, "k1", "RS256"); !errors.Is(err, ErrIssuerUnknown) {
		t.Fatalf("two discovery sources served an unannounced form: %v", err)
	}
	if _, err := s.Lookup(bg, q.srv.URL, "k1", "RS256"); !errors.Is(err, ErrKeyUnknown) {
		t.Fatalf("one source's key served another's issuer: %v", err)
	}
}

func TestTemplateAnnouncedByDiscoveryServesEachTenantsForm(t *testing.T) {
	p := newIDP(t, jwksJSON(t, rsaJWK(&testRSA(t).PublicKey, "k1")))
	tmpl := p.srv.URL + "/{tenantid}/v2.0"
	p.set(func(p *idp) { p.issuer = tmpl })
	s, _ := newTestStore(t, &config.Config{OpenIDConfigURLs: []string{p.discoveryURL()}, Issuers: []string{tmpl}}, newClock())
	if _, err := s.Lookup(bg, p.srv.URL+"/"+tenantGUID+"/v2.0", "k1", "RS256"); err != nil {
		t.Fatal(err)
	}
	for _, iss := range []string{p.srv.URL + "/a/b/v2.0", p.srv.URL + "//v2.0", tmpl} {
		if _, err := s.Lookup(bg, iss, "k1", "RS256"); !errors.Is(err, ErrIssuerUnknown) {
			t.Errorf("%s: %v", iss, err)
		}
	}
}

func TestDiscoveryCannotAnnounceAnotherSourcesIssuer(t *testing.T) {
	p := newIDP(t, jwksJSON(t, rsaJWK(&testRSA(t).PublicKey, "k1")))
	q := newIDP(t, jwksJSON(t, rsaJWK(&testRSA(t).PublicKey, "k2")))
	p.set(func(p *idp) { p.issuer = q.srv.URL }) // p claims to be q
	s, _ := newTestStore(t, &config.Config{OpenIDConfigURLs: []string{p.discoveryURL(), q.discoveryURL()}, Issuers: []string{p.srv.URL, q.srv.URL}}, newClock())
	if _, err := s.Lookup(bg, q.srv.URL, "k1", "RS256"); !errors.Is(err, ErrKeyUnknown) {
		t.Fatalf("p's key served q's issuer: %v", err)
	}
	if _, err := s.Lookup(bg, p.srv.URL, "k1", "RS256"); err == nil || !strings.Contains(err.Error(), "JWTGATE_ISSUERS") {
		t.Fatalf("p's document announcing q's issuer: %v", err)
	}

	// Nor an issuer a static key is bound to.
	other := "https://static.example/"
	p.set(func(p *idp) { p.issuer = other })
	s, _ = newTestStore(t, &config.Config{OpenIDConfigURLs: []string{p.discoveryURL()}, Issuers: []string{p.srv.URL, other},
		StaticKeys: []config.StaticKey{{JWKS: jwksJSON(t, rsaJWK(&testRSA(t).PublicKey, "s1")), Issuers: []string{other}}}}, newClock())
	if _, err := s.Lookup(bg, other, "k1", "RS256"); !errors.Is(err, ErrKeyUnknown) {
		t.Fatalf("a discovery source served a statically bound issuer: %v", err)
	}
}

func FuzzParseDiscovery(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://sts.windows.net/t/","jwks_uri":"https://login.example/keys"}`), "https://login.example/t", "https://sts.windows.net/t/")
	f.Add([]byte(`{"issuer":"https://login.example/{tenantid}/v2.0","jwks_uri":"http://127.0.0.1/k"}`), "https://login.example/common/v2.0", "")
	f.Fuzz(func(t *testing.T, body []byte, want, vouched string) {
		doc, err := parseDiscovery(body, want, []string{vouched})
		if err != nil {
			return
		}
		if trimSlash(doc.Issuer) != trimSlash(want) && doc.Issuer != vouched {
			t.Fatalf("issuer %q accepted for %q (vouched %q)", doc.Issuer, want, vouched)
		}
		if doc.JWKSURI == nil {
			t.Fatal("no jwks_uri")
		}
	})
}
