package core

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
)

// TestEncryptedTokens: a JWE (dir, A256GCM) wrapping a signed token is
// decrypted with the configured key and then validated as usual; without
// decryption keys the same token is refused.
func TestEncryptedTokens(t *testing.T) {
	iss := startIssuer(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	base := map[string]string{
		"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(),
		"JWTGATE_AUDIENCES":     "api://orders",
	}
	withKeys := map[string]string{"JWTGATE_DECRYPTION_KEYS": base64.StdEncoding.EncodeToString(secret)}
	for k, v := range base {
		withKeys[k] = v
	}
	jws, err := iss.Mint(map[string]any{"iss": iss.Issuer(), "sub": "svc", "aud": "api://orders", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := jwe.Encrypt([]byte(jws), jwe.WithKey(jwa.DIRECT(), secret), jwe.WithContentEncryption(jwa.A256GCM()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(context.Background(), env(withKeys))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Decide(context.Background(), req(string(enc))); d.Outcome != decision.Allow {
		t.Fatalf("encrypted token: %s/%s (%s)", d.Outcome, d.Reason, d.Detail)
	}
	// Flip one bit of the authentication tag (decoded, so the token stays
	// well-formed base64url): decryption must fail, with its own reason.
	parts := strings.Split(string(enc), ".")
	tag, err := base64.RawURLEncoding.DecodeString(parts[4])
	if err != nil {
		t.Fatal(err)
	}
	tag[0] ^= 1
	parts[4] = base64.RawURLEncoding.EncodeToString(tag)
	if d := c.Decide(context.Background(), req(strings.Join(parts, "."))); d.Reason != decision.DecryptionFailed {
		t.Fatalf("tampered: %s", d.Reason)
	}
	// A JWE algorithm outside the allowlist keeps its own reason code.
	rsa15 := strings.Split(string(enc), ".")
	rsa15[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RSA1_5","enc":"A256GCM"}`))
	if d := c.Decide(context.Background(), req(strings.Join(rsa15, "."))); d.Reason != decision.AlgorithmNotAllowed {
		t.Fatalf("RSA1_5: %s", d.Reason)
	}
	plain, err := FromEnv(context.Background(), env(base))
	if err != nil {
		t.Fatal(err)
	}
	if d := plain.Decide(context.Background(), req(string(enc))); d.Reason != decision.TokenEncrypted {
		t.Fatalf("no keys: %s", d.Reason)
	}
}
