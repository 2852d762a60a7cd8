package jwe

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/testvectors"
	jwxjwa "github.com/lestrrat-go/jwx/v3/jwa"
	jwxjwe "github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// innerJWS stands for the signed token an encrypted JWT carries.
const innerJWS = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"

func TestMain(m *testing.M) {
	panicHook = func(r any) { panic(fmt.Sprintf("jwx panicked: %v", r)) }
	os.Exit(m.Run())
}

var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func pemPKCS1(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func pemPKCS8(t testing.TB, k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func jwkJSON(t testing.TB, raw any, set map[string]any) []byte {
	t.Helper()
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range set {
		if err := k.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encrypt makes a compact JWE with jwx, the way an issuer would.
func encrypt(t testing.TB, payload []byte, alg, enc string, key any, extra map[string]any) []byte {
	t.Helper()
	kalg, ok := jwxjwa.LookupKeyEncryptionAlgorithm(alg)
	if !ok {
		t.Fatalf("unknown alg %s", alg)
	}
	calg, ok := jwxjwa.LookupContentEncryptionAlgorithm(enc)
	if !ok {
		t.Fatalf("unknown enc %s", enc)
	}
	opts := []jwxjwe.EncryptOption{jwxjwe.WithKey(kalg, key), jwxjwe.WithContentEncryption(calg), jwxjwe.WithCompact()}
	if len(extra) > 0 {
		h := jwxjwe.NewHeaders()
		for name, v := range extra {
			if err := h.Set(name, v); err != nil {
				t.Fatal(err)
			}
		}
		opts = append(opts, jwxjwe.WithProtectedHeaders(h))
	}
	out, err := jwxjwe.Encrypt(payload, opts...)
	if err != nil {
		t.Fatalf("encrypt %s/%s: %v", alg, enc, err)
	}
	return out
}

func newDecrypter(t testing.TB, keys ...config.DecryptionKey) *Decrypter {
	t.Helper()
	d, err := NewDecrypter(keys)
	if err != nil {
		t.Fatalf("NewDecrypter: %v", err)
	}
	return d
}

func TestDecryptRoundTrips(t *testing.T) {
	rk := testRSAKey()
	encKeyLen := map[string]int{"A128CBC-HS256": 32, "A192CBC-HS384": 48, "A256CBC-HS512": 64, "A128GCM": 16, "A192GCM": 24, "A256GCM": 32}
	allEncs := []string{"A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM"}
	type tc struct {
		name   string
		alg    string
		enc    string
		encKey any                  // key given to the encrypter
		key    config.DecryptionKey // configured key
	}
	var tests []tc
	for _, enc := range allEncs {
		secret := randomBytes(t, encKeyLen[enc])
		tests = append(tests,
			tc{"dir " + enc + " raw secret", "dir", enc, secret, config.DecryptionKey{Secret: secret}},
			tc{"dir " + enc + " oct JWK", "dir", enc, secret, config.DecryptionKey{JWK: jwkJSON(t, secret, nil)}},
		)
	}
	for alg, n := range map[string]int{"A128KW": 16, "A192KW": 24, "A256KW": 32} {
		secret := randomBytes(t, n)
		for _, enc := range []string{"A128GCM", "A256GCM", "A128CBC-HS256", "A256CBC-HS512"} {
			tests = append(tests, tc{alg + " " + enc + " raw secret", alg, enc, secret, config.DecryptionKey{Secret: secret}})
		}
		tests = append(tests, tc{alg + " pinned JWK", alg, "A256GCM", secret,
			config.DecryptionKey{JWK: jwkJSON(t, secret, map[string]any{"alg": alg, "use": "enc"})}})
	}
	for _, alg := range []string{"RSA-OAEP", "RSA-OAEP-256"} {
		for _, enc := range allEncs {
			tests = append(tests, tc{alg + " " + enc + " PKCS#1 PEM", alg, enc, &rk.PublicKey, config.DecryptionKey{PEM: pemPKCS1(rk)}})
		}
		tests = append(tests,
			tc{alg + " PKCS#8 PEM", alg, "A256GCM", &rk.PublicKey, config.DecryptionKey{PEM: pemPKCS8(t, rk)}},
			tc{alg + " RSA JWK", alg, "A128CBC-HS256", &rk.PublicKey, config.DecryptionKey{JWK: jwkJSON(t, rk, nil)}},
			tc{alg + " pinned RSA JWK", alg, "A128GCM", &rk.PublicKey, config.DecryptionKey{JWK: jwkJSON(t, rk, map[string]any{"alg": alg})}},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecrypter(t, tc.key)
			token := encrypt(t, []byte(innerJWS), tc.alg, tc.enc, tc.encKey, nil)
			got, err := d.Decrypt(token)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if string(got) != innerJWS {
				t.Fatalf("plaintext %q", got)
			}
		})
	}
}

// replaceHeader swaps a token's protected header for the given JSON text.
func replaceHeader(token []byte, header string) []byte {
	parts := strings.SplitN(string(token), ".", 2)
	return []byte(base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + parts[1])
}

// mutateSegment applies f to the decoded segment i and re-encodes it.
func mutateSegment(t testing.TB, token []byte, i int, f func([]byte) []byte) []byte {
	t.Helper()
	parts := strings.Split(string(token), ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	parts[i] = base64.RawURLEncoding.EncodeToString(f(bytes.Clone(b)))
	return []byte(strings.Join(parts, "."))
}

func flipLast(b []byte) []byte { b[len(b)-1] ^= 1; return b }

func TestDecryptRefuses(t *testing.T) {
	rk := testRSAKey()
	secret := randomBytes(t, 16)
	kw := randomBytes(t, 32)
	d := newDecrypter(t,
		config.DecryptionKey{KID: "dir-key", Secret: secret},
		config.DecryptionKey{KID: "kw-key", Secret: kw},
		config.DecryptionKey{KID: "rsa-key", PEM: pemPKCS1(rk)},
	)
	dirTok := encrypt(t, []byte(innerJWS), "dir", "A128GCM", secret, map[string]any{"kid": "dir-key"})
	cbcTok := encrypt(t, []byte(innerJWS), "A256KW", "A128CBC-HS256", kw, map[string]any{"kid": "kw-key"})
	rsaTok := encrypt(t, []byte(innerJWS), "RSA-OAEP-256", "A256GCM", &rk.PublicKey, nil)
	for name, tok := range map[string][]byte{"dir": dirTok, "cbc": cbcTok, "rsa": rsaTok} {
		if _, err := d.Decrypt(tok); err != nil {
			t.Fatalf("baseline %s token does not decrypt: %v", name, err)
		}
	}
	rsa15 := encrypt(t, []byte(innerJWS), "RSA1_5", "A128GCM", &rk.PublicKey, nil)
	zipped, err := jwxjwe.Encrypt([]byte(innerJWS), jwxjwe.WithKey(jwxjwa.DIRECT(), secret),
		jwxjwe.WithContentEncryption(jwxjwa.A128GCM()), jwxjwe.WithCompress(jwxjwa.Deflate()), jwxjwe.WithCompact())
	if err != nil {
		t.Fatal(err)
	}
	otherSecret := encrypt(t, []byte(innerJWS), "dir", "A128GCM", randomBytes(t, 16), nil)
	wrongKidKey := encrypt(t, []byte(innerJWS), "dir", "A128GCM", secret, map[string]any{"kid": "kw-key"})
	unknownKid := encrypt(t, []byte(innerJWS), "dir", "A128GCM", secret, map[string]any{"kid": "nobody"})
	gcmKW := encrypt(t, []byte(innerJWS), "A128GCMKW", "A128GCM", secret, nil)
	pbes2 := encrypt(t, []byte(innerJWS), "PBES2-HS256+A128KW", "A128GCM", []byte("password"), nil)
	dirParts := strings.Split(string(dirTok), ".")

	tests := []struct {
		name  string
		token []byte
		want  error
	}{
		{"modified tag", mutateSegment(t, dirTok, 4, flipLast), ErrDecryption},
		{"modified ciphertext", mutateSegment(t, dirTok, 3, flipLast), ErrDecryption},
		{"modified iv", mutateSegment(t, dirTok, 2, flipLast), ErrDecryption},
		{"modified CBC tag", mutateSegment(t, cbcTok, 4, flipLast), ErrDecryption},
		{"modified CBC ciphertext", mutateSegment(t, cbcTok, 3, flipLast), ErrDecryption},
		{"modified wrapped key", mutateSegment(t, cbcTok, 1, flipLast), ErrDecryption},
		{"modified RSA encrypted key", mutateSegment(t, rsaTok, 1, flipLast), ErrDecryption},
		{"modified header", replaceHeader(dirTok, `{"alg":"dir","enc":"A128GCM","kid":"dir-key","x":1}`), ErrDecryption},
		{"header reordered", replaceHeader(dirTok, `{"kid":"dir-key","enc":"A128GCM","alg":"dir"}`), ErrDecryption},
		{"encrypted with another secret", otherSecret, ErrDecryption},
		{"kid of a key that does not fit", wrongKidKey, ErrNoKey},
		{"unknown kid", unknownKid, ErrNoKey},
		{"RSA1_5 refused", rsa15, ErrAlgorithm},
		{"zip refused", zipped, ErrAlgorithm},
		{"A128GCMKW not allowed", gcmKW, ErrAlgorithm},
		{"PBES2 not allowed", pbes2, ErrAlgorithm},
		{"alg none", replaceHeader(dirTok, `{"alg":"none","enc":"A128GCM"}`), ErrAlgorithm},
		{"alg ECDH-ES", replaceHeader(dirTok, `{"alg":"ECDH-ES","enc":"A128GCM"}`), ErrAlgorithm},
		{"alg lower-case", replaceHeader(dirTok, `{"alg":"DIR","enc":"A128GCM"}`), ErrAlgorithm},
		{"unknown enc", replaceHeader(dirTok, `{"alg":"dir","enc":"A128CTR"}`), ErrAlgorithm},
		{"crit header", replaceHeader(dirTok, `{"alg":"dir","enc":"A128GCM","crit":["exp"],"exp":1}`), ErrCrit},
		{"empty crit header", replaceHeader(dirTok, `{"alg":"dir","enc":"A128GCM","crit":[]}`), ErrCrit},
		{"duplicate alg", replaceHeader(dirTok, `{"alg":"RSA-OAEP","alg":"dir","enc":"A128GCM"}`), ErrMalformed},
		{"duplicate enc", replaceHeader(dirTok, `{"alg":"dir","enc":"A256GCM","enc":"A128GCM"}`), ErrMalformed},
		{"header not JSON", replaceHeader(dirTok, `alg=dir`), ErrMalformed},
		{"header an array", replaceHeader(dirTok, `["dir"]`), ErrMalformed},
		{"header with trailing data", replaceHeader(dirTok, `{"alg":"dir","enc":"A128GCM"}x`), ErrMalformed},
		{"alg missing", replaceHeader(dirTok, `{"enc":"A128GCM"}`), ErrMalformed},
		{"enc missing", replaceHeader(dirTok, `{"alg":"dir"}`), ErrMalformed},
		{"alg not a string", replaceHeader(dirTok, `{"alg":["dir"],"enc":"A128GCM"}`), ErrMalformed},
		{"kid not a string", replaceHeader(dirTok, `{"alg":"dir","enc":"A128GCM","kid":1}`), ErrMalformed},
		{"dir with an encrypted key", []byte(strings.Join([]string{dirParts[0], "AAAA", dirParts[2], dirParts[3], dirParts[4]}, ".")), ErrMalformed},
		{"iv too short", mutateSegment(t, dirTok, 2, func(b []byte) []byte { return b[:8] }), ErrMalformed},
		{"tag truncated", mutateSegment(t, dirTok, 4, func(b []byte) []byte { return b[:15] }), ErrMalformed},
		{"tag too long", mutateSegment(t, dirTok, 4, func(b []byte) []byte { return append(b, 0) }), ErrMalformed},
		{"CBC ciphertext not whole blocks", mutateSegment(t, cbcTok, 3, func(b []byte) []byte { return b[:len(b)-1] }), ErrMalformed},
		{"wrapped key wrong length", mutateSegment(t, cbcTok, 1, func(b []byte) []byte { return b[:len(b)-8] }), ErrMalformed},
		{"empty ciphertext", []byte(strings.Join([]string{dirParts[0], "", dirParts[2], "", dirParts[4]}, ".")), ErrMalformed},
		{"empty header", []byte(strings.Join(append([]string{""}, dirParts[1:]...), ".")), ErrMalformed},
		{"four segments", []byte(strings.Join(dirParts[:4], ".")), ErrMalformed},
		{"six segments", append(bytes.Clone(dirTok), '.'), ErrMalformed},
		{"three segments (a JWS)", []byte(innerJWS), ErrMalformed},
		{"padding", []byte(string(dirTok) + "="), ErrMalformed},
		{"standard base64 alphabet", []byte(strings.Join([]string{dirParts[0], "", dirParts[2], "+" + dirParts[3][1:], dirParts[4]}, ".")), ErrMalformed},
		{"newline inside", []byte(dirParts[0][:4] + "\n" + string(dirTok)[4:]), ErrMalformed},
		{"leading space", append([]byte(" "), dirTok...), ErrMalformed},
		{"stray bits in last base64 character", []byte(strings.Join([]string{dirParts[0], "", dirParts[2], dirParts[3], nonCanonical(dirParts[4])}, ".")), ErrMalformed},
		{"JSON serialization", []byte(`{"protected":"` + dirParts[0] + `","iv":"` + dirParts[2] + `","ciphertext":"` + dirParts[3] + `","tag":"` + dirParts[4] + `"}`), ErrMalformed},
		{"empty input", nil, ErrMalformed},
		{"too large", bytes.Repeat([]byte("A"), config.DefaultMaxTokenBytes+1), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decrypt(tc.token)
			if err == nil {
				t.Fatalf("decrypted to %q", got)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if got != nil {
				t.Fatal("plaintext returned with an error")
			}
		})
	}
}

// nonCanonical changes the unused low bits of the last base64url character
// (a 16-byte tag ends in a character that carries 4 unused bits).
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}

func TestKeySelection(t *testing.T) {
	a, b := randomBytes(t, 16), randomBytes(t, 16)
	t.Run("kid picks the key", func(t *testing.T) {
		d := newDecrypter(t, config.DecryptionKey{KID: "a", Secret: a}, config.DecryptionKey{KID: "b", Secret: b})
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "dir", "A128GCM", b, map[string]any{"kid": "b"})); err != nil {
			t.Fatal(err)
		}
		// Encrypted with a but labelled b: only b is tried.
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "dir", "A128GCM", a, map[string]any{"kid": "b"})); !errors.Is(err, ErrDecryption) {
			t.Fatalf("error %v, want ErrDecryption", err)
		}
	})
	t.Run("no kid tries every fitting key", func(t *testing.T) {
		d := newDecrypter(t, config.DecryptionKey{KID: "a", Secret: a}, config.DecryptionKey{KID: "b", Secret: b})
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "dir", "A128GCM", b, nil)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a key without kid serves any kid", func(t *testing.T) {
		d := newDecrypter(t, config.DecryptionKey{Secret: a})
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "dir", "A128GCM", a, map[string]any{"kid": "whatever"})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("JWK alg pins key wrap, refusing dir with the same key", func(t *testing.T) {
		d := newDecrypter(t, config.DecryptionKey{JWK: jwkJSON(t, a, map[string]any{"alg": "A128KW"})})
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "A128KW", "A256GCM", a, nil)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "dir", "A128GCM", a, nil)); !errors.Is(err, ErrNoKey) {
			t.Fatalf("error %v, want ErrNoKey", err)
		}
	})
	t.Run("JWK alg naming an enc pins dir to that enc", func(t *testing.T) {
		k := randomBytes(t, 32)
		d := newDecrypter(t, config.DecryptionKey{JWK: jwkJSON(t, k, map[string]any{"alg": "A256GCM"})})
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "dir", "A256GCM", k, nil)); err != nil {
			t.Fatal(err)
		}
		for _, tok := range [][]byte{
			encrypt(t, []byte(innerJWS), "dir", "A128CBC-HS256", k, nil),
			encrypt(t, []byte(innerJWS), "A256KW", "A256GCM", k, nil),
		} {
			if _, err := d.Decrypt(tok); !errors.Is(err, ErrNoKey) {
				t.Fatalf("error %v, want ErrNoKey", err)
			}
		}
	})
	t.Run("a secret never serves RSA-OAEP", func(t *testing.T) {
		d := newDecrypter(t, config.DecryptionKey{Secret: randomBytes(t, 32)})
		tok := encrypt(t, []byte(innerJWS), "RSA-OAEP", "A256GCM", &testRSAKey().PublicKey, nil)
		if _, err := d.Decrypt(tok); !errors.Is(err, ErrNoKey) {
			t.Fatalf("error %v, want ErrNoKey", err)
		}
	})
	t.Run("an RSA key never serves dir", func(t *testing.T) {
		d := newDecrypter(t, config.DecryptionKey{PEM: pemPKCS1(testRSAKey())})
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "dir", "A128GCM", a, nil)); !errors.Is(err, ErrNoKey) {
			t.Fatalf("error %v, want ErrNoKey", err)
		}
	})
	t.Run("size limit option", func(t *testing.T) {
		d, err := NewDecrypter([]config.DecryptionKey{{Secret: a}}, WithMaxBytes(100))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Decrypt(encrypt(t, []byte(innerJWS), "dir", "A128GCM", a, nil)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error %v, want ErrTooLarge", err)
		}
	})
}

func TestNewDecrypterRefuses(t *testing.T) {
	rk := testRSAKey()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	secret := randomBytes(t, 32)
	ecJWK := `{"kty":"EC","crv":"P-256","x":"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ","y":"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck","d":"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"}`
	pub := jwkJSON(t, &rk.PublicKey, nil)
	tests := []struct {
		name string
		keys []config.DecryptionKey
	}{
		{"no keys", nil},
		{"empty key", []config.DecryptionKey{{KID: "x"}}},
		{"secret and PEM together", []config.DecryptionKey{{Secret: secret, PEM: pemPKCS1(rk)}}},
		{"secret of 20 bytes", []config.DecryptionKey{{Secret: randomBytes(t, 20)}}},
		{"secret of 8 bytes", []config.DecryptionKey{{Secret: randomBytes(t, 8)}}},
		{"PEM garbage", []config.DecryptionKey{{PEM: []byte("not a pem")}}},
		{"PEM public key", []config.DecryptionKey{{PEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rk.PublicKey))})}}},
		{"PEM two blocks", []config.DecryptionKey{{PEM: append(pemPKCS1(rk), pemPKCS1(rk)...)}}},
		{"PEM encrypted", []config.DecryptionKey{{PEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: x509.MarshalPKCS1PrivateKey(rk)})}}},
		{"PEM RSA 1024 bits", []config.DecryptionKey{{PEM: pemPKCS1(small)}}},
		{"PEM PKCS#8 non-RSA", []config.DecryptionKey{{PEM: pemPKCS8(t, must(jwkRawEC(ecJWK)))}}},
		{"JWK public RSA key", []config.DecryptionKey{{JWK: pub}}},
		{"JWK EC key", []config.DecryptionKey{{JWK: []byte(ecJWK)}}},
		{"JWK use sig", []config.DecryptionKey{{JWK: jwkJSON(t, secret, map[string]any{"use": "sig"})}}},
		{"JWK key_ops sign only", []config.DecryptionKey{{JWK: jwkJSON(t, secret, map[string]any{"key_ops": []string{"sign"}})}}},
		{"JWK alg RSA1_5", []config.DecryptionKey{{JWK: jwkJSON(t, rk, map[string]any{"alg": "RSA1_5"})}}},
		{"JWK alg A128KW on a 32-byte key", []config.DecryptionKey{{JWK: jwkJSON(t, secret, map[string]any{"alg": "A128KW"})}}},
		{"JWK alg A128GCM on a 32-byte key", []config.DecryptionKey{{JWK: jwkJSON(t, secret, map[string]any{"alg": "A128GCM"})}}},
		{"JWK alg RSA-OAEP on an oct key", []config.DecryptionKey{{JWK: jwkJSON(t, secret, map[string]any{"alg": "RSA-OAEP"})}}},
		{"JWK RSA 1024 bits", []config.DecryptionKey{{JWK: rsaJWK1024(small)}}},
		{"JWK kid differs from configured kid", []config.DecryptionKey{{KID: "a", JWK: jwkJSON(t, secret, map[string]any{"kid": "b"})}}},
		{"JWK duplicate member", []config.DecryptionKey{{JWK: []byte(`{"kty":"oct","k":"` + base64.RawURLEncoding.EncodeToString(secret) + `","kty":"oct"}`)}}},
		{"JWK not JSON", []config.DecryptionKey{{JWK: []byte(`kty=oct`)}}},
		{"one bad key among good ones", []config.DecryptionKey{{Secret: secret}, {Secret: randomBytes(t, 7)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDecrypter(tc.keys)
			if err == nil {
				t.Fatalf("accepted: %+v", d)
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			for _, k := range tc.keys {
				assertNoKeyMaterial(t, err.Error(), k)
			}
		})
	}
}

// rsaJWK1024 writes a private RSA JWK by hand (jwx refuses to build one
// below 2048 bits).
func rsaJWK1024(k *rsa.PrivateKey) []byte {
	b := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.Bytes()) }
	k.Precompute()
	m := map[string]string{"kty": "RSA", "n": b(k.N), "e": b(big.NewInt(int64(k.E))), "d": b(k.D),
		"p": b(k.Primes[0]), "q": b(k.Primes[1]), "dp": b(k.Precomputed.Dp), "dq": b(k.Precomputed.Dq), "qi": b(k.Precomputed.Qinv)}
	return must(json.Marshal(m))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func jwkRawEC(s string) (any, error) {
	k, err := jwk.ParseKey([]byte(s))
	if err != nil {
		return nil, err
	}
	var raw any
	err = jwk.Export(k, &raw)
	return raw, err
}

func assertNoKeyMaterial(t *testing.T, msg string, k config.DecryptionKey) {
	t.Helper()
	for _, secret := range [][]byte{k.Secret} {
		if len(secret) == 0 {
			continue
		}
		for _, form := range []string{string(secret), base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret), hex.EncodeToString(secret)} {
			if strings.Contains(msg, form) {
				t.Fatalf("error %q contains key material", msg)
			}
		}
	}
	if len(k.PEM) > 0 && (strings.Contains(msg, "MII") || strings.Contains(msg, string(k.PEM))) {
		t.Fatalf("error %q contains PEM material", msg)
	}
	if len(k.JWK) > 0 && (strings.Contains(msg, `"k"`) || strings.Contains(msg, `"d"`) || strings.Contains(msg, string(k.JWK))) {
		t.Fatalf("error %q contains JWK material", msg)
	}
}

func TestDecryptErrorsDoNotLeakKeys(t *testing.T) {
	secret := randomBytes(t, 16)
	d := newDecrypter(t, config.DecryptionKey{Secret: secret})
	tok := encrypt(t, []byte(innerJWS), "dir", "A128GCM", secret, nil)
	for _, bad := range [][]byte{mutateSegment(t, tok, 4, flipLast), mutateSegment(t, tok, 3, flipLast), replaceHeader(tok, `{"alg":"dir","enc":"A128GCM","kid":"x"}`)} {
		_, err := d.Decrypt(bad)
		if err == nil {
			t.Fatal("tampered token decrypted")
		}
		assertNoKeyMaterial(t, err.Error(), config.DecryptionKey{Secret: secret})
		if strings.Contains(err.Error(), innerJWS) {
			t.Fatalf("error %q contains plaintext", err)
		}
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want decision.Reason
	}{
		{fmt.Errorf("%w: x", ErrMalformed), decision.TokenMalformed},
		{ErrTooLarge, decision.TokenTooLarge},
		{fmt.Errorf("%w: RSA1_5", ErrAlgorithm), decision.AlgorithmNotAllowed},
		{ErrCrit, decision.CritUnsupported},
		{ErrNoKey, decision.KeyUnknown},
		{ErrDecryption, decision.DecryptionFailed},
	}
	for _, tc := range tests {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

func TestRFC7520Cookbook(t *testing.T) {
	dir := filepath.Join(testvectors.Dir(t), "jose-cookbook", "jwe")
	for _, name := range []string{
		"5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json",
		"5_6.direct_encryption_using_aes-gcm.json",
		"5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json",
	} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Skipf("vector missing: %v", err)
			}
			var v struct {
				Input struct {
					Plaintext string          `json:"plaintext"`
					Key       json.RawMessage `json:"key"`
				} `json:"input"`
				Output struct {
					Compact string `json:"compact"`
				} `json:"output"`
			}
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatal(err)
			}
			d := newDecrypter(t, config.DecryptionKey{JWK: v.Input.Key})
			got, err := d.Decrypt([]byte(v.Output.Compact))
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if string(got) != v.Input.Plaintext {
				t.Fatalf("plaintext %q, want %q", got, v.Input.Plaintext)
			}
			// The same token with its tag changed must fail.
			if _, err := d.Decrypt(mutateSegment(t, []byte(v.Output.Compact), 4, flipLast)); !errors.Is(err, ErrDecryption) {
				t.Fatalf("tampered vector: %v", err)
			}
		})
	}
}

// unsupportedByDesign are the key-management algorithms this package
// refuses; Wycheproof cases that need them are counted, not decrypted.
var unsupportedByDesign = map[string]bool{
	"RSA1_5": true, "ECDH-ES": true, "ECDH-ES+A128KW": true, "ECDH-ES+A192KW": true, "ECDH-ES+A256KW": true,
	"A128GCMKW": true, "A192GCMKW": true, "A256GCMKW": true,
	"PBES2-HS256+A128KW": true, "PBES2-HS384+A192KW": true, "PBES2-HS512+A256KW": true,
}

func TestWycheproof(t *testing.T) {
	dir := filepath.Join(testvectors.Dir(t), "wycheproof")
	var decrypted, refusedValid, refusedInvalid int
	for _, file := range []string{"json_web_encryption_test.json", "json_web_crypto_test.json"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Skipf("vector missing: %v", err)
		}
		var v struct {
			TestGroups []struct {
				Private json.RawMessage `json:"private"`
				Tests   []struct {
					TcID    int             `json:"tcId"`
					Comment string          `json:"comment"`
					JWE     json.RawMessage `json:"jwe"`
					PT      *string         `json:"pt"`
					Result  string          `json:"result"`
				} `json:"tests"`
			} `json:"testGroups"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		for _, g := range v.TestGroups {
			var keyAlg struct {
				Alg  string            `json:"alg"`
				Keys []json.RawMessage `json:"keys"`
			}
			_ = json.Unmarshal(g.Private, &keyAlg)
			jwks := []json.RawMessage{g.Private}
			if keyAlg.Keys != nil {
				jwks = keyAlg.Keys
			}
			var cfg []config.DecryptionKey
			for _, k := range jwks {
				var m map[string]any
				if err := json.Unmarshal(k, &m); err != nil {
					t.Fatal(err)
				}
				if m["alg"] == "RSA1_5" {
					// Load the RSA key unpinned, to show that the
					// tokens are refused for their alg, not for
					// want of a key.
					delete(m, "alg")
				}
				cfg = append(cfg, config.DecryptionKey{JWK: must(json.Marshal(m))})
			}
			for _, tc := range g.Tests {
				if tc.JWE == nil {
					continue // a JWS case
				}
				name := fmt.Sprintf("%s/%d_%s", strings.TrimSuffix(file, "_test.json"), tc.TcID, tc.Comment)
				t.Run(name, func(t *testing.T) {
					token := []byte(tc.JWE)
					var s string
					if json.Unmarshal(tc.JWE, &s) == nil {
						token = []byte(s)
					} // else: the JSON serialization, passed as is
					d, err := NewDecrypter(cfg)
					if err != nil {
						if !unsupportedByDesign[keyAlg.Alg] {
							t.Fatalf("key for alg %q refused: %v", keyAlg.Alg, err)
						}
						if tc.Result == "valid" {
							refusedValid++
						} else {
							refusedInvalid++
						}
						return
					}
					pt, err := d.Decrypt(token)
					hdrAlg := headerAlg(token)
					switch {
					case tc.Result == "invalid":
						if err == nil {
							t.Fatalf("invalid case decrypted to %q", pt)
						}
						refusedInvalid++
					case unsupportedByDesign[hdrAlg] || strings.Contains(headerJSON(token), `"zip"`):
						if !errors.Is(err, ErrAlgorithm) {
							t.Fatalf("alg %s / zip: error %v, want ErrAlgorithm", hdrAlg, err)
						}
						refusedValid++
					default:
						if err != nil {
							t.Fatalf("valid case: %v", err)
						}
						if tc.PT == nil {
							tc.PT = new("666f6f") // json_web_crypto_test.json omits pt; its JWE cases encrypt "foo"
						}
						if want := must(hex.DecodeString(*tc.PT)); !bytes.Equal(pt, want) {
							t.Fatalf("plaintext %x, want %x", pt, want)
						}
						decrypted++
					}
				})
			}
		}
	}
	t.Logf("wycheproof JWE: %d valid cases decrypted, %d invalid cases refused, %d valid cases refused by design (RSA1_5, ECDH-ES*, A*GCMKW, zip)",
		decrypted, refusedInvalid, refusedValid)
	if decrypted < 26 {
		t.Fatalf("only %d valid Wycheproof cases decrypted; the vectors were not exercised", decrypted)
	}
}

func headerJSON(token []byte) string {
	h, _, _ := strings.Cut(string(token), ".")
	b, _ := base64.RawURLEncoding.DecodeString(h)
	return string(b)
}

func headerAlg(token []byte) string {
	var h struct {
		Alg string `json:"alg"`
	}
	_ = json.Unmarshal([]byte(headerJSON(token)), &h)
	return h.Alg
}

func FuzzDecrypt(f *testing.F) {
	dirKey := bytes.Repeat([]byte{7}, 16)
	kwKey := bytes.Repeat([]byte{9}, 32)
	cbcKey := bytes.Repeat([]byte{3}, 32)
	rk := testRSAKey()
	d := newDecrypter(f,
		config.DecryptionKey{KID: "dir", Secret: dirKey},
		config.DecryptionKey{KID: "kw", Secret: kwKey},
		config.DecryptionKey{KID: "cbc", JWK: jwkJSON(f, cbcKey, map[string]any{"alg": "A128CBC-HS256"})},
		config.DecryptionKey{KID: "rsa", PEM: pemPKCS1(rk)},
	)
	seeds := [][]byte{
		encrypt(f, []byte(innerJWS), "dir", "A128GCM", dirKey, map[string]any{"kid": "dir"}),
		encrypt(f, []byte(innerJWS), "A256KW", "A256CBC-HS512", kwKey, nil),
		encrypt(f, []byte(innerJWS), "dir", "A128CBC-HS256", cbcKey, map[string]any{"kid": "cbc"}),
		encrypt(f, []byte(innerJWS), "RSA-OAEP-256", "A256GCM", &rk.PublicKey, nil),
		[]byte("...."), []byte("a.b.c.d.e"), []byte(innerJWS),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token []byte) {
		pt, err := d.Decrypt(token)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext with an error")
			}
			for _, kind := range []error{ErrMalformed, ErrTooLarge, ErrAlgorithm, ErrCrit, ErrNoKey, ErrDecryption} {
				if errors.Is(err, kind) {
					return
				}
			}
			t.Fatalf("error %v wraps no package error", err)
		}
	})
}
