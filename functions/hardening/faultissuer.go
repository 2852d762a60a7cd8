package hardening

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Paths the fault issuer serves.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/jwks.json"
)

// Fault is a way for the issuer to misbehave. It applies to discovery and
// JWKS requests alike.
type Fault int

// Faults.
const (
	// FaultNone serves normally.
	FaultNone Fault = iota
	// FaultSlow accepts the request and never answers: the handler waits
	// until the client gives up (or the issuer closes).
	FaultSlow
	// FaultSlowloris sends a status line, then dribbles header bytes one at
	// a time and never ends the headers.
	FaultSlowloris
	// FaultReset closes the connection with a TCP reset, no answer.
	FaultReset
	// Fault500 answers 500.
	Fault500
	// Fault429 answers 429 with Retry-After: 120.
	Fault429
	// FaultMalformedJWKS answers 200 with a truncated JSON document.
	FaultMalformedJWKS
	// FaultWrongTypesJWKS answers 200 with {"keys":{}} (keys not an array).
	FaultWrongTypesJWKS
	// FaultOversizedJWKS answers 200 with a 2 MiB chunked JWKS (no
	// Content-Length), larger than any fetch may read.
	FaultOversizedJWKS
	// FaultNoUsableKey answers a JWKS whose only key is unusable (RSA 1024).
	FaultNoUsableKey
)

var faultNames = map[Fault]string{
	FaultNone: "none", FaultSlow: "slow", FaultSlowloris: "slowloris", FaultReset: "reset",
	Fault500: "500", Fault429: "429", FaultMalformedJWKS: "malformed-jwks", FaultWrongTypesJWKS: "wrong-types-jwks",
	FaultOversizedJWKS: "oversized-jwks", FaultNoUsableKey: "no-usable-key",
}

func (f Fault) String() string {
	if s, ok := faultNames[f]; ok {
		return s
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// SigningKey is a private key the issuer publishes (public part) and signs
// with.
type SigningKey struct {
	KID string
	Alg string // RS256 or ES256
	RSA *rsa.PrivateKey
	EC  *ecdsa.PrivateKey
}

// NewRSAKey generates a 2048-bit RS256 key.
func NewRSAKey(kid string) (*SigningKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &SigningKey{KID: kid, Alg: "RS256", RSA: k}, nil
}

// NewECKey generates a P-256 ES256 key.
func NewECKey(kid string) (*SigningKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &SigningKey{KID: kid, Alg: "ES256", EC: k}, nil
}

// JWK is the public JWK of k.
func (k *SigningKey) JWK() map[string]any {
	m := map[string]any{"kid": k.KID, "alg": k.Alg, "use": "sig"}
	switch {
	case k.RSA != nil:
		m["kty"] = "RSA"
		m["n"] = b64(k.RSA.N.Bytes())
		m["e"] = b64(bigEndian(k.RSA.E))
	case k.EC != nil:
		size := (k.EC.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"] = "EC", "P-256"
		m["x"] = b64(k.EC.X.FillBytes(make([]byte, size)))
		m["y"] = b64(k.EC.Y.FillBytes(make([]byte, size)))
	}
	return m
}

func bigEndian(e int) []byte {
	var out []byte
	for e > 0 {
		out = append([]byte{byte(e)}, out...)
		e >>= 8
	}
	return out
}

// FaultIssuer is a loopback OpenID issuer whose answers a test can break.
// All methods are safe for concurrent use.
type FaultIssuer struct {
	srv  *httptest.Server
	done chan struct{}
	once sync.Once

	discovery atomic.Int64
	jwks      atomic.Int64
	other     atomic.Int64
	served    atomic.Int64 // requests answered with a fault-free 200

	// mu guards everything below.
	mu           sync.Mutex
	fault        Fault
	issuer       string // announced issuer ("" = the URL)
	jwksURI      string // announced jwks_uri ("" = own JWKS)
	cacheControl string
	keys         []*SigningKey
}

// StartFaultIssuer starts the issuer on 127.0.0.1 with the given keys
// published.
func StartFaultIssuer(keys ...*SigningKey) *FaultIssuer {
	f := &FaultIssuer{done: make(chan struct{}), keys: keys}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the issuer's base URL (http://127.0.0.1:port), also the issuer
// its discovery document announces unless SetIssuer changed it.
func (f *FaultIssuer) URL() string { return f.srv.URL }

// DiscoveryURL is the discovery document's URL.
func (f *FaultIssuer) DiscoveryURL() string { return f.srv.URL + DiscoveryPath }

// JWKSURL is the JWKS URL.
func (f *FaultIssuer) JWKSURL() string { return f.srv.URL + JWKSPath }

// Close stops the server, ending every held connection.
func (f *FaultIssuer) Close() {
	f.once.Do(func() {
		close(f.done)
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
}

// SetFault changes how the issuer answers from now on.
func (f *FaultIssuer) SetFault(x Fault) { f.mu.Lock(); f.fault = x; f.mu.Unlock() }

// SetIssuer makes discovery announce iss ("" restores the URL).
func (f *FaultIssuer) SetIssuer(iss string) { f.mu.Lock(); f.issuer = iss; f.mu.Unlock() }

// SetJWKSURI makes discovery announce uri as jwks_uri ("" restores its own).
func (f *FaultIssuer) SetJWKSURI(uri string) { f.mu.Lock(); f.jwksURI = uri; f.mu.Unlock() }

// SetCacheControl sets the Cache-Control header of JWKS answers.
func (f *FaultIssuer) SetCacheControl(v string) { f.mu.Lock(); f.cacheControl = v; f.mu.Unlock() }

// SetKeys replaces the published keys (e.g. to remove one mid-run).
func (f *FaultIssuer) SetKeys(keys ...*SigningKey) {
	f.mu.Lock()
	f.keys = append([]*SigningKey(nil), keys...)
	f.mu.Unlock()
}

// DiscoveryRequests counts discovery requests received (any answer).
func (f *FaultIssuer) DiscoveryRequests() int64 { return f.discovery.Load() }

// JWKSRequests counts JWKS requests received (any answer).
func (f *FaultIssuer) JWKSRequests() int64 { return f.jwks.Load() }

// Requests counts every request received.
func (f *FaultIssuer) Requests() int64 {
	return f.discovery.Load() + f.jwks.Load() + f.other.Load()
}

func (f *FaultIssuer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case DiscoveryPath:
		f.discovery.Add(1)
	case JWKSPath:
		f.jwks.Add(1)
	default:
		f.other.Add(1)
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	fault, iss, jwksURI, cc := f.fault, f.issuer, f.jwksURI, f.cacheControl
	keys := append([]*SigningKey(nil), f.keys...)
	f.mu.Unlock()
	if iss == "" {
		iss = f.srv.URL
	}
	if jwksURI == "" {
		jwksURI = f.JWKSURL()
	}

	switch fault {
	case FaultSlow:
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
		return
	case FaultSlowloris:
		f.slowloris(w)
		return
	case FaultReset:
		reset(w)
		return
	case Fault500:
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case Fault429:
		w.Header().Set("Retry-After", "120")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}

	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == DiscoveryPath {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss,
			"jwks_uri":                              jwksURI,
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
		f.served.Add(1)
		return
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	switch fault {
	case FaultMalformedJWKS:
		_, _ = w.Write([]byte(`{"keys":[{"kty":"RSA","kid":"k1","n":"`))
	case FaultWrongTypesJWKS:
		_, _ = w.Write([]byte(`{"keys":{"kty":"RSA"}}`))
	case FaultOversizedJWKS:
		oversized(w)
	case FaultNoUsableKey:
		small, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "kid": "weak", "alg": "RS256", "n": b64(small.N.Bytes()), "e": "AQAB",
		}}})
	default:
		set := make([]any, 0, len(keys))
		for _, k := range keys {
			set = append(set, k.JWK())
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
		f.served.Add(1)
	}
}

// slowloris writes a status line and then one header byte every 20ms until
// the client goes away or the issuer closes.
func (f *FaultIssuer) slowloris(w http.ResponseWriter) {
	conn, buf, err := hijack(w)
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nX-Dribble: ")
	if buf.Flush() != nil {
		return
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-f.done:
			return
		case <-tick.C:
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}
}

// reset closes the connection with SO_LINGER 0, so the client sees a
// connection reset instead of an answer.
func reset(w http.ResponseWriter) {
	conn, _, err := hijack(w)
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func hijack(w http.ResponseWriter) (net.Conn, interface {
	WriteString(string) (int, error)
	Flush() error
}, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hardening: response writer cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return conn, rw.Writer, nil
}

// oversized streams a syntactically valid JWKS of 2 MiB without a
// Content-Length, so only a read cap can stop it.
func oversized(w http.ResponseWriter) {
	fl, _ := w.(http.Flusher)
	_, _ = w.Write([]byte(`{"keys":[],"pad":"`))
	chunk := []byte(strings.Repeat("A", 64<<10))
	for i := 0; i < 32; i++ {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
	_, _ = w.Write([]byte(`"}`))
}

// String describes the issuer for test logs.
func (f *FaultIssuer) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("fault issuer %s (fault %s, %d keys)", f.srv.URL, f.fault, len(f.keys))
}
