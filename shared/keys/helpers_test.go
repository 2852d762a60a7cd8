package keys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var b64 = base64.RawURLEncoding

// ecKey is a P-256 test key with its kid.
type ecKey struct {
	kid  string
	priv *ecdsa.PrivateKey
}

func newEC(t testing.TB, kid string) ecKey {
	t.Helper()
	p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return ecKey{kid: kid, priv: p}
}

func (k ecKey) jwk() map[string]any {
	pt, _ := k.priv.PublicKey.ECDH()
	raw := pt.Bytes() // 0x04 || X || Y
	return map[string]any{"kty": "EC", "crv": "P-256", "kid": k.kid, "alg": "ES256", "use": "sig",
		"x": b64.EncodeToString(raw[1:33]), "y": b64.EncodeToString(raw[33:])}
}

var (
	rsaOnce sync.Once
	rsaPriv *rsa.PrivateKey
)

// testRSA is one 2048-bit RSA key shared by the tests (generation is slow).
func testRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return rsaPriv
}

func rsaJWK(pub *rsa.PublicKey, kid string) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64.EncodeToString(pub.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}
}

func jwksJSON(t testing.TB, ks ...map[string]any) []byte {
	t.Helper()
	if ks == nil {
		ks = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": ks})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// idp is a loopback OpenID provider whose answers tests change.
type idp struct {
	srv        *httptest.Server
	discovery  atomic.Int64
	jwksHits   atomic.Int64
	mu         sync.Mutex
	issuer     string // announced issuer ("" → server URL)
	jwks       []byte
	jwksHeader http.Header
	jwksFn     http.HandlerFunc // overrides jwks when set
	discFn     http.HandlerFunc // overrides discovery when set
}

func newIDP(t testing.TB, jwks []byte) *idp {
	t.Helper()
	p := &idp{jwks: jwks}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	iss, body, hdr, jf, df := p.issuer, p.jwks, p.jwksHeader, p.jwksFn, p.discFn
	p.mu.Unlock()
	if iss == "" {
		iss = p.srv.URL
	}
	switch r.URL.Path {
	case wellKnown:
		p.discovery.Add(1)
		if df != nil {
			df(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": p.srv.URL + "/jwks"})
	case "/jwks":
		p.jwksHits.Add(1)
		if jf != nil {
			jf(w, r)
			return
		}
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	default:
		http.NotFound(w, r)
	}
}

func (p *idp) set(fn func(p *idp)) { p.mu.Lock(); fn(p); p.mu.Unlock() }

func (p *idp) discoveryURL() string { return p.srv.URL + wellKnown }

func (p *idp) counts() (int64, int64) { return p.discovery.Load(), p.jwksHits.Load() }

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

func (l *logBuffer) has(msg string) bool { return strings.Contains(l.String(), `"msg":"`+msg+`"`) }

// newTestStore builds a store on cfg with the test clock and a log buffer.
func newTestStore(t testing.TB, cfg *config.Config, c *clock) (*Store, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts := []Option{WithLogger(slog.New(slog.NewJSONHandler(io.MultiWriter(logs), &slog.HandlerOptions{Level: slog.LevelDebug})))}
	if c != nil {
		opts = append(opts, WithClock(c.Now))
	}
	s, err := NewStore(cfg, opts...)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	t.Cleanup(s.waitFetches)
	return s, logs
}

var bg = context.Background()
