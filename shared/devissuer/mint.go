package devissuer

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
)

// MintOption adjusts one Mint call.
type MintOption func(*mintSettings)

type mintSettings struct {
	alg     string
	kid     string
	key     jwk.Key
	headers map[string]any
	raw     bool
}

// MintAlg signs with the published key whose alg is alg (e.g. "ES256").
func MintAlg(alg string) MintOption { return func(m *mintSettings) { m.alg = alg } }

// MintKeyID signs with the published key whose kid is kid.
func MintKeyID(kid string) MintOption { return func(m *mintSettings) { m.kid = kid } }

// MintWithKey signs with k, which need not be published (for "unknown key"
// and "bad signature" tokens). The header's kid and alg are k's.
func MintWithKey(k jwk.Key) MintOption { return func(m *mintSettings) { m.key = k } }

// MintHeader sets a protected header field after the defaults (alg, kid,
// typ "JWT") are filled in; a nil value removes the field. Overriding "alg"
// changes only what the header claims, not how the token is signed.
func MintHeader(name string, value any) MintOption {
	return func(m *mintSettings) {
		if m.headers == nil {
			m.headers = map[string]any{}
		}
		m.headers[name] = value
	}
}

// MintRaw signs the claims exactly as given: no default iss.
func MintRaw() MintOption { return func(m *mintSettings) { m.raw = true } }

// Mint signs claims as a compact JWS with the current signing key (or the
// key chosen by an option). Unless MintRaw is given, a missing "iss" is set
// to the issuer. Claims are encoded with encoding/json, so any value can be
// given, including wrongly-typed ones (a string "exp") for negative tests.
func (i *Issuer) Mint(claims map[string]any, opts ...MintOption) (string, error) {
	var m mintSettings
	for _, o := range opts {
		o(&m)
	}
	k, err := i.pickKey(&m)
	if err != nil {
		return "", err
	}
	if !m.raw {
		if _, ok := claims["iss"]; !ok {
			c := make(map[string]any, len(claims)+1)
			for n, v := range claims {
				c[n] = v
			}
			c["iss"] = i.issuer
			claims = c
		}
	}
	return Sign(k, claims, m.headers)
}

func (i *Issuer) pickKey(m *mintSettings) (jwk.Key, error) {
	switch {
	case m.key != nil:
		return m.key, nil
	case m.kid != "":
		if k, ok := i.findByKID(m.kid); ok {
			return k, nil
		}
		return nil, fmt.Errorf("devissuer: no published key with kid %q", m.kid)
	case m.alg != "":
		if k, ok := i.findByAlg(m.alg); ok {
			return k, nil
		}
		return nil, fmt.Errorf("devissuer: no published key for alg %q (use WithGeneratedKeys)", m.alg)
	}
	if k := i.SigningKey(); k != nil {
		return k, nil
	}
	return nil, errors.New("devissuer: no signing key (removed without Rotate)")
}

// Sign signs claims with the private JWK k as a compact JWS. The protected
// header holds alg and kid from k and typ "JWT", then headers (a nil value
// removes a field). It is the building block of Mint, usable without a
// running issuer (the event generator signs with the dev key file).
func Sign(k jwk.Key, claims any, headers map[string]any) (string, error) {
	if k == nil {
		return "", errors.New("devissuer: nil key")
	}
	alg := keyAlg(k)
	if alg == "" {
		return "", fmt.Errorf("devissuer: key %q has no alg", keyID(k))
	}
	hdr := map[string]any{"alg": alg, "typ": "JWT"}
	if kid := keyID(k); kid != "" {
		hdr["kid"] = kid
	}
	for n, v := range headers {
		if v == nil {
			delete(hdr, n)
		} else {
			hdr[n] = v
		}
	}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return "", fmt.Errorf("devissuer: encode header: %w", err)
	}
	pb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devissuer: encode claims: %w", err)
	}
	raw, err := rawPrivate(k)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(pb)
	sig, err := jwsbb.Sign(raw, alg, []byte(input), nil)
	if err != nil {
		return "", fmt.Errorf("devissuer: sign with %s key %q: %w", alg, keyID(k), err)
	}
	return input + "." + enc.EncodeToString(sig), nil
}
