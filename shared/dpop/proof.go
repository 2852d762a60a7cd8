// Package dpop reads and checks DPoP proofs (RFC 9449): the compact JWS a
// client sends in the DPoP header to show that it holds the private key an
// access token is bound to. Parse verifies the proof's shape and its
// signature under the public key in its own header; Check compares its
// claims with the request (method, URL, time, access token hash). Replay
// tracking and the token's cnf claim are the caller's business.
package dpop

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/jsonstrict"
	"github.com/jwtgate/jwtgate/shared/token"
)

// Limits on a proof.
const (
	// MaxProofBytes is the largest DPoP header value accepted (RFC 9449
	// sets none; a proof with an RSA-4096 key is about 1.5 KiB).
	MaxProofBytes = 8 << 10
	// maxJTIBytes bounds the jti, which the replay store remembers.
	maxJTIBytes = 256
)

// Proof is a parsed DPoP proof whose signature verified under its own jwk.
// Its claims still need Check.
type Proof struct {
	// Alg is the proof's signature algorithm.
	Alg string
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of the proof's jwk,
	// base64url: what an access token's cnf.jkt names.
	Thumbprint string
	JTI        string
	HTM        string
	HTU        string
	IAT        int64
	// ATH is the access token hash; "" when the proof has none.
	ATH string
}

// Parse checks a proof's form and signature: a compact JWS of at most
// MaxProofBytes with typ dpop+jwt, an alg allowed by allowed (which the
// caller must restrict to asymmetric algorithms), a public jwk (private
// members refused) that fits the alg, a signature valid under that jwk,
// and the claims jti, htm, htu and iat with their JSON types. Every
// refusal has reason dpop_proof_invalid.
func Parse(proof string, allowed func(*token.Algorithm) bool) (*Proof, *token.Error) {
	if len(proof) > MaxProofBytes {
		return nil, invalid("DPoP proof is larger than 8 KiB")
	}
	p, terr := token.ParseWithJWK(proof, MaxProofBytes, allowed)
	if terr != nil {
		return nil, invalid("DPoP proof: " + terr.Msg)
	}
	if !strings.EqualFold(p.Type, "dpop+jwt") {
		return nil, invalid(`DPoP proof typ is not "dpop+jwt"`)
	}
	jv, ok := p.Header.Get("jwk")
	if !ok || jv.Kind() != jsonstrict.KindObject {
		return nil, invalid("DPoP proof header has no jwk object")
	}
	key, thumb, err := publicJWK(jv.Object())
	if err != nil {
		return nil, invalid("DPoP proof jwk: " + err.Error())
	}
	if !key.Fits(p.Alg.Name) {
		return nil, invalid("DPoP proof jwk does not fit its alg " + p.Alg.Name)
	}
	if terr := p.Alg.Verify(key, p.SigningInput, p.Signature); terr != nil {
		return nil, invalid("DPoP proof signature does not verify under its jwk")
	}
	if terr := p.ParseClaims(); terr != nil {
		return nil, invalid("DPoP proof payload is not a strict JSON object")
	}
	out := &Proof{Alg: p.Alg.Name, Thumbprint: thumb}
	for _, c := range [...]struct {
		name string
		dst  *string
	}{{"jti", &out.JTI}, {"htm", &out.HTM}, {"htu", &out.HTU}} {
		v, ok := p.Claims.Get(c.name)
		if !ok {
			return nil, invalid("DPoP proof has no " + c.name)
		}
		s, ok := v.String()
		if !ok || s == "" {
			return nil, invalid("DPoP proof " + c.name + " is not a non-empty string")
		}
		*c.dst = s
	}
	if len(out.JTI) > maxJTIBytes {
		return nil, invalid("DPoP proof jti is longer than 256 bytes")
	}
	iat, ok := p.Claims.Get("iat")
	if !ok || iat.Kind() != jsonstrict.KindNumber {
		return nil, invalid("DPoP proof has no numeric iat")
	}
	n, ierr := iat.Int64()
	if ierr != nil {
		return nil, invalid("DPoP proof iat is out of range")
	}
	out.IAT = n
	if v, ok := p.Claims.Get("ath"); ok {
		s, ok := v.String()
		if !ok || s == "" {
			return nil, invalid("DPoP proof ath is not a non-empty string")
		}
		out.ATH = s
	}
	return out, nil
}

// Expect is what a proof must match.
type Expect struct {
	// Method is the request method ("GET").
	Method string
	// URL is the request URL as the client called it; query and fragment
	// are ignored, scheme and host compare case-insensitively, a default
	// port equals no port.
	URL string
	// AccessToken is the token the proof is presented with.
	AccessToken string
	// Now, MaxAge and Skew bound iat: now-maxAge-skew ≤ iat ≤ now+skew.
	Now    time.Time
	MaxAge time.Duration
	Skew   time.Duration
}

// Check compares the proof's claims with the request. Every refusal has
// reason dpop_proof_invalid.
func (p *Proof) Check(e Expect) *token.Error {
	if p.HTM != e.Method {
		return invalid("DPoP proof htm does not match the request method")
	}
	want, ok := NormalizeURL(e.URL)
	if !ok {
		return invalid("request URL cannot be compared with the DPoP proof htu")
	}
	if got, ok := NormalizeURL(p.HTU); !ok || got != want {
		return invalid("DPoP proof htu does not match the request URL")
	}
	now := e.Now.Unix()
	skew := int64(e.Skew / time.Second)
	if p.IAT > now+skew {
		return invalid("DPoP proof was issued in the future")
	}
	if p.IAT < now-int64(e.MaxAge/time.Second)-skew {
		return invalid("DPoP proof is too old")
	}
	if p.ATH == "" {
		return invalid("DPoP proof has no ath")
	}
	if subtle.ConstantTimeCompare([]byte(p.ATH), []byte(AccessTokenHash(e.AccessToken))) != 1 {
		return invalid("DPoP proof ath does not match the access token")
	}
	return nil
}

// ValidUntil is the last moment the proof's iat is acceptable: how long
// the replay store must remember its jti.
func (p *Proof) ValidUntil(maxAge, skew time.Duration) time.Time {
	return time.Unix(p.IAT, 0).Add(maxAge + skew)
}

// AccessTokenHash is base64url(SHA-256(token)), the proof's ath.
func AccessTokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ReplayKey names a proof in the replay store: a hash of the key's
// thumbprint and the jti, so one client's jti never blocks another's and
// the stored key has a fixed size.
func (p *Proof) ReplayKey() string {
	h := sha256.New()
	h.Write([]byte(p.Thumbprint))
	h.Write([]byte{0})
	h.Write([]byte(p.JTI))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func invalid(msg string) *token.Error {
	return &token.Error{Reason: decision.DPoPProofInvalid, Msg: msg}
}
