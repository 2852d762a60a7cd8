// Package difffuzz compares jwtgate's decisions with two peer libraries,
// github.com/lestrrat-go/jwx/v3 and github.com/golang-jwt/jwt/v5,
// configured alike (the same keys, algorithm allowlist, issuer, audience,
// clock skew and required exp, one fixed clock). Its fuzz targets
// (FuzzDifferential…) hold jwtgate to two properties: whatever jwtgate
// allows, both peers accept, with the same claims; whatever jwtgate
// refuses and a peer accepts belongs to a known, intended strictness class
// (Classes, also tabled in SECURITY.md). It is a nested module so that the
// peers never enter the product's go.mod.
package difffuzz

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	_ "crypto/sha512" // crypto.SHA512 for RS512
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// The configuration every validator gets.
const (
	Issuer   = "https://issuer.difffuzz.example/"
	Audience = "https://api.difffuzz.example/orders"
	Skew     = 30 * time.Second
)

// Now is the one clock of every validator, so a decision depends on the
// token alone and a failing input replays.
var Now = time.Unix(1_800_000_000, 0)

// Algorithms is the allowlist of every validator; each has a signing key.
var Algorithms = []string{"RS256", "RS512", "PS256", "ES256", "EdDSA", "HS256"}

// Forward are the extra claims jwtgate forwards (besides sub, iss, scope
// and the client id); the properties compare them with the peers' parse.
var Forward = []string{"email", "roles", "n", "obj", "flag", "jti", "nothing"}

// keysJSON holds private test-only keys (generated for this module, never
// used anywhere else): RS256-pinned RSA "rsa-rs256", unpinned RSA
// "rsa-any" (PS256, RS512), ES256 "ec-p256", EdDSA "ed25519" and the
// 32-byte HS256 secret "hmac". Fixed keys make every corpus entry replay.
//
//go:embed testdata/keys.json
var keysJSON []byte

// signerFor names the key that signs each algorithm.
var signerFor = map[string]string{
	"RS256": "rsa-rs256", "RS512": "rsa-any", "PS256": "rsa-any",
	"ES256": "ec-p256", "EdDSA": "ed25519", "HS256": "hmac",
}

// pubKey is one verification key as the peers see it.
type pubKey struct {
	kid string
	alg string // JWK alg pin, "" when none
	raw any    // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte
}

// World holds jwtgate's core and both peers, configured alike.
type World struct {
	Core    *core.Core
	jwxSet  jwk.Set
	gj      *gjwt.Parser
	pubs    []pubKey
	private map[string]any // by kid
}

// NewWorld builds the validators from the embedded keys.
func NewWorld() (*World, error) {
	priv, err := jwk.Parse(keysJSON)
	if err != nil {
		return nil, fmt.Errorf("difffuzz: keys: %w", err)
	}
	w := &World{private: map[string]any{}, jwxSet: jwk.NewSet()}
	cfg := config.Default()
	pubSet := jwk.NewSet()
	for i := range priv.Len() {
		k, _ := priv.Key(i)
		kid, _ := k.KeyID()
		alg := ""
		if a, ok := k.Algorithm(); ok {
			alg = a.String()
		}
		var raw any
		if err := jwk.Export(k, &raw); err != nil {
			return nil, fmt.Errorf("difffuzz: key %s: %w", kid, err)
		}
		w.private[kid] = raw
		pk, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("difffuzz: key %s: %w", kid, err)
		}
		var pub any
		if err := jwk.Export(pk, &pub); err != nil {
			return nil, fmt.Errorf("difffuzz: key %s: %w", kid, err)
		}
		if b, ok := pub.([]byte); ok { // HMAC: a configured secret, not JWKS
			cfg.StaticKeys = append(cfg.StaticKeys, config.StaticKey{Secret: b, KID: kid, Alg: alg})
		} else if err := pubSet.AddKey(pk); err != nil {
			return nil, err
		}
		if err := w.jwxSet.AddKey(pk); err != nil {
			return nil, err
		}
		w.pubs = append(w.pubs, pubKey{kid: kid, alg: alg, raw: pub})
	}
	jwks, err := json.Marshal(pubSet)
	if err != nil {
		return nil, err
	}
	cfg.StaticKeys = append(cfg.StaticKeys, config.StaticKey{JWKS: jwks})
	cfg.Issuers = []string{Issuer}
	cfg.Audiences = []string{Audience}
	cfg.Algorithms = Algorithms
	cfg.ClockSkew = Skew
	cfg.RequireExpiration = true
	cfg.ForwardClaims = Forward
	cfg.TokenCacheSize = 0 // every decision verifies: no state between inputs
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w.Core, err = core.New(context.Background(), cfg,
		core.WithClock(func() time.Time { return Now }),
		core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	w.gj = gjwt.NewParser(
		gjwt.WithValidMethods(Algorithms),
		gjwt.WithAudience(Audience),
		gjwt.WithIssuer(Issuer),
		gjwt.WithExpirationRequired(),
		gjwt.WithIssuedAt(),
		gjwt.WithLeeway(Skew),
		gjwt.WithTimeFunc(func() time.Time { return Now }),
		gjwt.WithJSONNumber(), // numbers compare exactly
	)
	return w, nil
}

// Sign returns the signature of input by the key that signs alg. Variant
// picks an unusual but valid form: PS256 with the largest salt instead of
// the hash length; anything else ignores it.
func (w *World) Sign(alg, input string, variant int) ([]byte, error) {
	k := w.private[signerFor[alg]]
	digest := func(h crypto.Hash) []byte {
		d := h.New()
		d.Write([]byte(input))
		return d.Sum(nil)
	}
	switch alg {
	case "RS256":
		return rsa.SignPKCS1v15(nil, k.(*rsa.PrivateKey), crypto.SHA256, digest(crypto.SHA256))
	case "RS512":
		return rsa.SignPKCS1v15(nil, k.(*rsa.PrivateKey), crypto.SHA512, digest(crypto.SHA512))
	case "PS256":
		salt := rsa.PSSSaltLengthEqualsHash
		if variant == 1 {
			salt = rsa.PSSSaltLengthAuto
		}
		return rsa.SignPSS(rand.Reader, k.(*rsa.PrivateKey), crypto.SHA256, digest(crypto.SHA256), &rsa.PSSOptions{SaltLength: salt})
	case "ES256":
		r, s, err := ecdsa.Sign(rand.Reader, k.(*ecdsa.PrivateKey), digest(crypto.SHA256))
		if err != nil {
			return nil, err
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	case "EdDSA":
		return ed25519.Sign(k.(ed25519.PrivateKey), []byte(input)), nil
	case "HS256":
		m := hmac.New(sha256.New, k.([]byte))
		m.Write([]byte(input))
		return m.Sum(nil), nil
	}
	return nil, fmt.Errorf("difffuzz: no signer for %q", alg)
}

// Verdict is every validator's answer for one token.
type Verdict struct {
	Gate   decision.Decision
	JWX    jwxjwt.Token
	JWXErr error
	GJ     gjwt.MapClaims
	GJErr  error
}

// Judge runs tok through jwtgate and both peers.
func (w *World) Judge(tok string) Verdict {
	var v Verdict
	v.Gate = w.Core.Decide(context.Background(), &decision.Request{
		Header: map[string][]string{"Authorization": {"Bearer " + tok}},
		Method: "GET",
		Path:   "/orders/42",
	})
	// An HTTP field value carries no leading or trailing SP/HTAB (RFC 9110
	// §5.5): the peers get the token as jwtgate's extractor sees it.
	tok = strings.Trim(tok, " \t")
	v.JWX, v.JWXErr = w.parseJWX(tok)
	v.GJ, v.GJErr = w.parseGJ(tok)
	return v
}

// parseJWX verifies with the key set: by kid when the header names one,
// otherwise against every key (as jwtgate looks up a key without kid),
// the algorithm inferred from unpinned keys and checked against the
// header; then validates iss, aud, required exp, nbf and iat with skew.
func (w *World) parseJWX(tok string) (jwxjwt.Token, error) {
	msg, err := jws.Parse([]byte(tok))
	if err != nil {
		return nil, err
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, errors.New("jwx: not one signature")
	}
	_, hasKid := sigs[0].ProtectedHeaders().KeyID()
	alg, ok := sigs[0].ProtectedHeaders().Algorithm()
	if !ok || !slices.Contains(Algorithms, alg.String()) {
		return nil, errors.New("jwx: algorithm not in the allowlist")
	}
	return jwxjwt.Parse([]byte(tok),
		jwxjwt.WithKeySet(w.jwxSet, jws.WithRequireKid(hasKid), jws.WithInferAlgorithmFromKey(true)),
		jwxjwt.WithValidate(true),
		jwxjwt.WithIssuer(Issuer),
		jwxjwt.WithAudience(Audience),
		jwxjwt.WithRequiredClaim("exp"),
		jwxjwt.WithAcceptableSkew(Skew),
		jwxjwt.WithClock(jwxjwt.ClockFunc(func() time.Time { return Now })),
	)
}

// parseGJ verifies with a keyfunc that picks the key by kid (every key
// whose pin allows the algorithm when there is none) and the parser's own
// checks.
func (w *World) parseGJ(tok string) (gjwt.MapClaims, error) {
	keyfunc := func(t *gjwt.Token) (any, error) {
		alg := t.Method.Alg()
		fits := func(p pubKey) bool { return p.alg == "" || p.alg == alg }
		if raw, present := t.Header["kid"]; present {
			kid, ok := raw.(string)
			if !ok {
				return nil, errors.New("kid is not a string")
			}
			for _, p := range w.pubs {
				if p.kid == kid {
					if !fits(p) {
						return nil, errors.New("key pinned to another algorithm")
					}
					return p.raw, nil
				}
			}
			return nil, errors.New("unknown kid")
		}
		var set gjwt.VerificationKeySet
		for _, p := range w.pubs {
			if fits(p) {
				set.Keys = append(set.Keys, p.raw)
			}
		}
		return set, nil
	}
	claims := gjwt.MapClaims{}
	if _, err := w.gj.ParseWithClaims(tok, claims, keyfunc); err != nil {
		return nil, err
	}
	return claims, nil
}

// Check runs tok through every validator and returns an error describing
// the first property that fails, or nil.
func (w *World) Check(tok string) error {
	v := w.Judge(tok)
	g := v.Gate
	switch g.Outcome {
	case decision.Allow:
		if v.JWXErr != nil {
			return fmt.Errorf("jwtgate allows, jwx refuses: %v", v.JWXErr)
		}
		if v.GJErr != nil {
			return fmt.Errorf("jwtgate allows, golang-jwt refuses: %v", v.GJErr)
		}
		if err := sameClaims(g, peerClaims(v.GJ)); err != nil {
			return fmt.Errorf("golang-jwt: %w", err)
		}
		if err := sameClaims(g, jwxClaims(v.JWX)); err != nil {
			return fmt.Errorf("jwx: %w", err)
		}
		return nil
	case decision.Unauthenticated:
	default:
		return fmt.Errorf("jwtgate answers %s (%s: %s) for a token", g.Outcome, g.Reason, g.Detail)
	}
	if v.JWXErr != nil && v.GJErr != nil {
		return nil
	}
	a := Dissect(tok, w)
	if c := Classify(g.Reason, a); c != nil {
		return nil
	}
	var who []string
	if v.JWXErr == nil {
		who = append(who, "jwx")
	}
	if v.GJErr == nil {
		who = append(who, "golang-jwt")
	}
	return fmt.Errorf("jwtgate refuses (%s: %s), %s accepts, and no known strictness class covers it (token facts: %s)",
		g.Reason, g.Detail, strings.Join(who, " and "), a)
}
