// Package devissuer is a tiny OpenID issuer for development and tests only:
// it serves an OpenID discovery document and a JWKS on a loopback address
// and signs (mints) JWTs with its private keys, so the replay runner and the
// tests can drive the whole path — discovery, JWKS fetch, cache, validation —
// without a real identity provider.
//
// It is not an identity provider: it has no clients, no login and no token
// endpoint, its keys are throw-away or test-only files, and it must never be
// used to protect anything.
package devissuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Paths served by the issuer.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/jwks.json"
)

// Option configures Start.
type Option func(*settings)

type settings struct {
	addr         string
	issuer       string
	signing      jwk.Key
	extra        []jwk.Key
	extraAlgs    []string
	cacheControl string
}

// WithAddr makes the issuer listen on a fixed address such as
// "127.0.0.1:8917" (default "127.0.0.1:0", a free port).
func WithAddr(addr string) Option { return func(s *settings) { s.addr = addr } }

// WithKey sets the current signing key (a private JWK, see LoadKey and
// GenerateKey). Without it, Start generates an RS256 2048-bit key.
func WithKey(k jwk.Key) Option { return func(s *settings) { s.signing = k } }

// WithExtraKeys publishes more private keys beside the signing key (for
// example a rotated-out or next key). Mint can sign with them by kid or alg.
func WithExtraKeys(keys ...jwk.Key) Option {
	return func(s *settings) { s.extra = append(s.extra, keys...) }
}

// WithGeneratedKeys generates and publishes one extra key for each algorithm
// (e.g. "ES256", "EdDSA", "PS256"); Mint selects them with MintAlg.
func WithGeneratedKeys(algs ...string) Option {
	return func(s *settings) { s.extraAlgs = append(s.extraAlgs, algs...) }
}

// WithIssuer makes the discovery document announce iss instead of the
// issuer's own base URL (to test issuer/URL mismatches or a trailing slash).
// Mint defaults a token's iss to the same value.
func WithIssuer(iss string) Option { return func(s *settings) { s.issuer = iss } }

// WithJWKSCacheControl sets the Cache-Control header of JWKS answers.
func WithJWKSCacheControl(v string) Option { return func(s *settings) { s.cacheControl = v } }

// Issuer is a running dev issuer.
type Issuer struct {
	url          string
	issuer       string
	cacheControl string
	srv          *http.Server
	ln           net.Listener
	done         chan struct{}

	down      atomic.Bool
	discovery atomic.Int64
	jwks      atomic.Int64
	other     atomic.Int64

	// mu guards keys and current.
	mu      sync.RWMutex
	keys    []jwk.Key // published private keys, in publication order
	current string    // kid of the signing key
}

// Start generates any missing keys, listens and serves until Close.
func Start(opts ...Option) (*Issuer, error) {
	s := settings{addr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&s)
	}
	if s.signing == nil {
		k, err := GenerateKey()
		if err != nil {
			return nil, err
		}
		s.signing = k
	}
	iss := &Issuer{cacheControl: s.cacheControl, done: make(chan struct{})}
	if err := iss.addKey(s.signing, true); err != nil {
		return nil, err
	}
	for _, k := range s.extra {
		if err := iss.addKey(k, false); err != nil {
			return nil, err
		}
	}
	for _, alg := range s.extraAlgs {
		k, err := GenerateKeyFor(alg)
		if err != nil {
			return nil, err
		}
		if err := iss.addKey(k, false); err != nil {
			return nil, err
		}
	}

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("devissuer: listen on %s: %w", s.addr, err)
	}
	iss.ln = ln
	iss.url = "http://" + ln.Addr().String()
	iss.issuer = iss.url
	if s.issuer != "" {
		iss.issuer = s.issuer
	}
	iss.srv = &http.Server{Handler: iss, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(iss.done)
		_ = iss.srv.Serve(ln)
	}()
	return iss, nil
}

// URL is the base URL, e.g. "http://127.0.0.1:8917".
func (i *Issuer) URL() string { return i.url }

// Issuer is the iss value the discovery document announces (URL unless
// WithIssuer changed it).
func (i *Issuer) Issuer() string { return i.issuer }

// DiscoveryURL is the URL of the OpenID discovery document.
func (i *Issuer) DiscoveryURL() string { return i.url + DiscoveryPath }

// JWKSURL is the URL of the JWKS.
func (i *Issuer) JWKSURL() string { return i.url + JWKSPath }

// DiscoveryRequests counts requests for the discovery document.
func (i *Issuer) DiscoveryRequests() int64 { return i.discovery.Load() }

// JWKSRequests counts requests for the JWKS.
func (i *Issuer) JWKSRequests() int64 { return i.jwks.Load() }

// OtherRequests counts requests for any other path.
func (i *Issuer) OtherRequests() int64 { return i.other.Load() }

// SetDown makes every answer a 500 (true) or serves normally again (false),
// for "keys unavailable" and outage tests. Requests are still counted.
func (i *Issuer) SetDown(down bool) { i.down.Store(down) }

// Close stops the server and waits for it to finish.
func (i *Issuer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := i.srv.Shutdown(ctx)
	<-i.done
	return err
}

// ServeHTTP serves discovery and JWKS.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case DiscoveryPath:
		i.discovery.Add(1)
	case JWKSPath:
		i.jwks.Add(1)
	default:
		i.other.Add(1)
		http.NotFound(w, r)
		return
	}
	if i.down.Load() {
		http.Error(w, "dev issuer is down", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var body []byte
	var err error
	if r.URL.Path == DiscoveryPath {
		body, err = json.Marshal(i.discoveryDocument())
	} else {
		body, err = i.PublicJWKS()
		if i.cacheControl != "" {
			w.Header().Set("Cache-Control", i.cacheControl)
		}
	}
	if err != nil {
		http.Error(w, "dev issuer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (i *Issuer) discoveryDocument() map[string]any {
	i.mu.RLock()
	algs := make([]string, 0, len(i.keys))
	seen := map[string]bool{}
	for _, k := range i.keys {
		if a := keyAlg(k); a != "" && !seen[a] {
			seen[a] = true
			algs = append(algs, a)
		}
	}
	i.mu.RUnlock()
	return map[string]any{
		"issuer":                                i.issuer,
		"jwks_uri":                              i.JWKSURL(),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
	}
}

// PublicJWKS returns the JWKS document currently published.
func (i *Issuer) PublicJWKS() ([]byte, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	set := jwk.NewSet()
	for _, k := range i.keys {
		if k.KeyType() == jwa.OctetSeq() {
			continue // secrets are never published
		}
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("devissuer: public key: %w", err)
		}
		if err := set.AddKey(pub); err != nil {
			return nil, fmt.Errorf("devissuer: add key: %w", err)
		}
	}
	return json.Marshal(set)
}

// SigningKey returns the current signing key (private).
func (i *Issuer) SigningKey() jwk.Key {
	i.mu.RLock()
	defer i.mu.RUnlock()
	k, _ := i.findLocked(i.current)
	return k
}

// AddKey publishes another private key without making it the signing key.
func (i *Issuer) AddKey(k jwk.Key) error { return i.addKey(k, false) }

// Rotate publishes k (if it is not yet published) and makes it the signing
// key. The previous key stays published until RemoveKey.
func (i *Issuer) Rotate(k jwk.Key) error { return i.addKey(k, true) }

// RemoveKey stops publishing the key with this kid. Removing the signing key
// leaves the issuer without one until Rotate.
func (i *Issuer) RemoveKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := i.keys[:0]
	for _, k := range i.keys {
		if keyID(k) != kid {
			out = append(out, k)
		}
	}
	i.keys = out
	if i.current == kid {
		i.current = ""
	}
}

func (i *Issuer) addKey(k jwk.Key, current bool) error {
	if k == nil {
		return errors.New("devissuer: nil key")
	}
	if err := checkPrivate(k); err != nil {
		return err
	}
	kid := keyID(k)
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, ok := i.findLocked(kid); !ok {
		i.keys = append(i.keys, k)
	}
	if current {
		i.current = kid
	}
	return nil
}

func (i *Issuer) findLocked(kid string) (jwk.Key, bool) {
	for _, k := range i.keys {
		if keyID(k) == kid {
			return k, true
		}
	}
	return nil, false
}

// findByAlg returns the first published key whose alg is alg (the signing
// key first).
func (i *Issuer) findByAlg(alg string) (jwk.Key, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	if k, ok := i.findLocked(i.current); ok && keyAlg(k) == alg {
		return k, true
	}
	for _, k := range i.keys {
		if keyAlg(k) == alg {
			return k, true
		}
	}
	return nil, false
}

func (i *Issuer) findByKID(kid string) (jwk.Key, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.findLocked(kid)
}

func keyID(k jwk.Key) string {
	kid, _ := k.KeyID()
	return kid
}

func keyAlg(k jwk.Key) string {
	a, ok := k.Algorithm()
	if !ok {
		return ""
	}
	return a.String()
}
