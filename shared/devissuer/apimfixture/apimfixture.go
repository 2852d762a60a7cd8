// Package apimfixture holds, for tests, the signing and decryption keys an
// Azure API Management validate-jwt policy may list (an RSA key as n/e, an
// HMAC secret, an EC key as a certificate body, a symmetric decryption key),
// a key no policy lists, and a full policy that lists them next to a
// loopback IdP's discovery URL.
package apimfixture

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/base64"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Keys are fresh keys for one test.
type Keys struct {
	// NE (RS256), HS (HS256) and Cert (ES256) are the listed signing keys;
	// Unlisted (RS256) is listed nowhere.
	NE, HS, Cert, Unlisted jwk.Key
	// N, E (base64url), Secret (base64) and CertBody (base64 DER, over
	// several lines) are how a policy lists them.
	N, E, Secret, CertBody string
	// Decryption is the symmetric decryption key (dir, A256GCM).
	Decryption []byte
}

// NewKeys generates the keys.
func NewKeys() (*Keys, error) {
	var k Keys
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if k.NE, err = devissuer.ImportKey(rsaPriv, "RS256"); err != nil {
		return nil, err
	}
	b64u := base64.RawURLEncoding
	k.N, k.E = b64u.EncodeToString(rsaPriv.N.Bytes()), b64u.EncodeToString(big.NewInt(int64(rsaPriv.E)).Bytes())
	secret := make([]byte, 32)
	rand.Read(secret)
	if k.HS, err = devissuer.ImportKey(secret, "HS256"); err != nil {
		return nil, err
	}
	k.Secret = base64.StdEncoding.EncodeToString(secret)
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "internal signer"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Now().AddDate(10, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecPriv.PublicKey, ecPriv)
	if err != nil {
		return nil, err
	}
	body := base64.StdEncoding.EncodeToString(der)
	var lines []string
	for len(body) > 64 { // pasted over several lines, as a certificate body usually is
		lines, body = append(lines, body[:64]), body[64:]
	}
	k.CertBody = strings.Join(append(lines, body), "\n")
	if k.Cert, err = devissuer.ImportKey(ecPriv, "ES256"); err != nil {
		return nil, err
	}
	if k.Unlisted, err = devissuer.GenerateKeyFor("RS256"); err != nil {
		return nil, err
	}
	k.Decryption = make([]byte, 32)
	rand.Read(k.Decryption)
	return &k, nil
}

//go:embed full-policy.xml
var fullPolicy string

// FullPolicy is the full APIM policy (full-policy.xml) for the IdP idp and
// the keys: discovery, the three signing keys, the decryption key, audience
// api://orders, idp's issuer, and a required "groups" claim (any of
// finance, logistics).
func (k *Keys) FullPolicy(idp *devissuer.Issuer) string {
	vars := map[string]string{"DISCOVERY": idp.DiscoveryURL(), "ISSUER": idp.Issuer(), "N": k.N, "E": k.E,
		"SECRET": k.Secret, "CERT": k.CertBody, "DECRYPTION": base64.StdEncoding.EncodeToString(k.Decryption)}
	return os.Expand(fullPolicy, func(name string) string { return vars[name] })
}

// Encrypt wraps a compact JWS as a JWE (dir, A256GCM) with key.
func Encrypt(jws string, key []byte) (string, error) {
	enc, err := jwe.Encrypt([]byte(jws), jwe.WithKey(jwa.DIRECT(), key), jwe.WithContentEncryption(jwa.A256GCM()))
	return string(enc), err
}
