package devissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// ProofSigner is a DPoP client's key (RFC 9449): it signs proofs whose
// header carries its public JWK, and names that key by the RFC 7638
// thumbprint an access token's cnf.jkt holds. Tests and the event
// generator use it as the client side of DPoP.
type ProofSigner struct {
	key jwk.Key
	pub map[string]any
	// JKT is the public key's RFC 7638 SHA-256 thumbprint (base64url).
	JKT string
}

// NewProofSigner generates a proof key for alg (ES256, RS256, EdDSA, …).
func NewProofSigner(alg string) (*ProofSigner, error) {
	k, err := GenerateKeyFor(alg)
	if err != nil {
		return nil, err
	}
	return ProofSignerFor(k)
}

// ProofSignerFor uses an existing private JWK (with alg) as the proof key.
func ProofSignerFor(k jwk.Key) (*ProofSigner, error) {
	pk, err := k.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("devissuer: proof key: %w", err)
	}
	b, err := json.Marshal(pk)
	if err != nil {
		return nil, err
	}
	var pub map[string]any
	if err := json.Unmarshal(b, &pub); err != nil {
		return nil, err
	}
	for _, m := range []string{"kid", "alg", "use"} {
		delete(pub, m)
	}
	tp, err := pk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &ProofSigner{key: k, pub: pub, JKT: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// PublicJWK returns a copy of the public JWK the proofs carry.
func (s *ProofSigner) PublicJWK() map[string]any {
	out := make(map[string]any, len(s.pub))
	for k, v := range s.pub {
		out[k] = v
	}
	return out
}

// Proof signs a proof for one request: htm method, htu url, iat, a fresh
// random jti, and ath when accessToken is not empty. claims and headers
// override or remove (nil value) members after that, for negative tests.
func (s *ProofSigner) Proof(method, url, accessToken string, iat time.Time, claims, headers map[string]any) (string, error) {
	if s == nil {
		return "", errors.New("devissuer: nil proof signer")
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	c := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
		"htm": method,
		"htu": url,
		"iat": iat.Unix(),
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	h := map[string]any{"typ": "dpop+jwt", "kid": nil, "jwk": s.pub}
	for k, v := range headers {
		h[k] = v
	}
	return Sign(s.key, c, h)
}

// NewClientCertificate returns a self-signed P-256 client certificate
// (DER) valid an hour either side of now: the client side of
// certificate-bound tokens (RFC 8705) in tests.
func NewClientCertificate(now time.Time) ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "jwtgate test client"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
}
