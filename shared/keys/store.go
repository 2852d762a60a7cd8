package keys

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
)

// Option adjusts a Store.
type Option func(*Store)

// WithHTTPClient sets the client for discovery and JWKS requests. The store
// uses a copy whose redirect policy refuses other hosts.
func WithHTTPClient(c *http.Client) Option { return func(s *Store) { s.client = newClient(c) } }

// WithClock sets the clock used for refresh, cooldown and staleness
// decisions (tests move time instead of sleeping).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLogger sets the logger for key-source events (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// Stats are the key source's counters since the store was built.
type Stats struct {
	DiscoveryFetches int64 // discovery documents requested
	JWKSFetches      int64 // JWKS documents requested
	FetchErrors      int64 // failed discovery or JWKS fetches
	Refreshes        int64 // fetches that produced a new key set
	KidMisses        int64 // lookups whose kid (or kid-less alg) matched no key
	StaleServed      int64 // lookups answered from keys past their refresh time after a failed refresh
	KeysSkipped      int64 // unusable keys left out of fetched sets
	KeysAdded        int64 // kids that appeared in a refreshed set
	KeysRemoved      int64 // kids that left a refreshed set
	Unavailable      int64 // lookups answered ErrUnavailable
}

type counters struct {
	discovery, jwks, fetchErrors, refreshes, kidMisses, stale, skipped, added, removed, unavailable atomic.Int64
}

// Store is the process-wide key source. Build one per process with NewStore
// and share it; all methods are safe for concurrent use.
type Store struct {
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger
	timeout  time.Duration
	cooldown time.Duration
	refresh  time.Duration
	stale    time.Duration

	// Source indexes, built once by NewStore and read-only afterwards.
	sources  []*source            // every source, in configuration order
	byIssuer map[string][]*source // sources by exact issuer: static and JWKS sources bound to it, discovery sources serving it besides their own
	anyIss   []*source            // static keys that serve every issuer but discovery ones (no issuers configured)
	byDisc   map[string][]*source // discovery sources by issuer without trailing slash
	// discBound holds the static and JWKS sources bound to a discovery
	// issuer (by issuer without trailing slash): they serve the issuer
	// its discovery document announces.
	discBound map[string][]*source
	accepted  []string // JWTGATE_ISSUERS, for the start-up log

	c  counters
	bg sync.WaitGroup // running fetches (tests wait on it)
}

// NewStore checks the key sources of cfg and parses the static and seed
// keys. It refuses configurations that would trust one issuer's keys for
// another issuer's tokens (config.CheckKeyBindings). It makes no network
// call; see Warm.
func NewStore(cfg *config.Config, opts ...Option) (*Store, error) {
	if cfg == nil {
		return nil, errors.New("keys: no configuration")
	}
	s := &Store{
		now:       time.Now,
		log:       slog.Default(),
		timeout:   orDefault(cfg.HTTPTimeout, config.DefaultHTTPTimeout),
		cooldown:  orDefault(cfg.JWKSCooldown, config.DefaultJWKSCooldown),
		refresh:   orDefault(cfg.RefreshInterval, config.DefaultRefreshInterval),
		stale:     orDefault(cfg.MaxStaleness, config.DefaultMaxStaleness),
		byIssuer:  map[string][]*source{},
		byDisc:    map[string][]*source{},
		discBound: map[string][]*source{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.client == nil {
		s.client = newClient(&http.Client{Transport: http.DefaultTransport})
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	start := s.now()

	var seed []*Key
	if len(cfg.SeedJWKS) > 0 {
		set, err := parseJWKS(cfg.SeedJWKS, false)
		if err != nil {
			return nil, fmt.Errorf("keys: JWTGATE_SEED_JWKS: %w", err)
		}
		if len(set.Keys) == 0 {
			return nil, errors.New("keys: JWTGATE_SEED_JWKS: no usable key")
		}
		for _, sk := range set.Skipped {
			s.log.Warn("key skipped", "source", "seed", "kid", sk.KID, "reason", sk.Reason)
		}
		seed = set.Keys
	}
	seedSnap := func(issuer string) *snapshot {
		if seed == nil {
			return nil
		}
		return newSnapshot(issuer, nil, time.Time{}, seed, start.Add(s.refresh), true)
	}

	for i, raw := range cfg.OpenIDConfigURLs {
		u, err := checkURL(raw)
		if err != nil {
			return nil, fmt.Errorf("keys: JWTGATE_OPENID_CONFIG entry %d: %w", i+1, err)
		}
		want, doc := discoveryIssuer(u)
		src := &source{kind: kindDiscovery, name: redact(doc), url: doc, want: want}
		// Until discovery answers, a seed serves the issuer as configured
		// (JWTGATE_ISSUERS, trailing slash included) or as the URL reads.
		provisional := want
		for _, iss := range cfg.Issuers {
			if trimSlash(iss) == trimSlash(want) {
				provisional = iss
				break
			}
		}
		src.snap.Store(seedSnap(provisional))
		s.addSource(src)
		s.byDisc[trimSlash(want)] = append(s.byDisc[trimSlash(want)], src)
	}
	// Issuers a discovery source serves besides its own (never another
	// discovery source's: serve skips those, CheckKeyBindings refuses them).
	for i, raw := range cfg.OpenIDConfigURLs {
		if extra := cfg.OpenIDConfigIssuers[raw]; len(extra) > 0 {
			s.sources[i].also = uniq(extra)
			s.serve(s.sources[i], extra, true, nil)
		}
	}
	// Issuers that no discovery source serves: the ones a JWKS URL or static
	// key without issuers of its own serves. A discovery issuer is checked
	// only against its discovery source (config.CheckKeyBindings).
	var unbound []string
	for _, iss := range uniq(cfg.Issuers) {
		if len(s.byDisc[trimSlash(iss)]) == 0 {
			unbound = append(unbound, iss)
		}
	}
	needIssuers := len(cfg.JWKSURLs) > 0
	for _, j := range cfg.JWKSSources {
		needIssuers = needIssuers || len(j.Issuers) == 0
	}
	if needIssuers && len(cfg.Issuers) == 0 {
		return nil, errors.New("keys: JWTGATE_JWKS_URL needs JWTGATE_ISSUERS (the issuers whose tokens these keys sign)")
	}
	for i, raw := range cfg.JWKSURLs {
		u, err := checkURL(raw)
		if err != nil {
			return nil, fmt.Errorf("keys: JWTGATE_JWKS_URL entry %d: %w", i+1, err)
		}
		src := &source{kind: kindJWKS, name: redact(u), url: u, jwksURL: u}
		src.snap.Store(seedSnap(""))
		s.addSource(src)
		s.serve(src, unbound, false, nil)
	}
	for i, j := range cfg.JWKSSources {
		u, err := checkURL(j.URL)
		if err != nil {
			return nil, fmt.Errorf("keys: keys[].jwks_url entry %d: %w", i+1, err)
		}
		src := &source{kind: kindJWKS, name: redact(u), url: u, jwksURL: u}
		src.snap.Store(seedSnap(""))
		s.addSource(src)
		if len(j.Issuers) == 0 {
			s.serve(src, unbound, false, nil)
		} else {
			s.serve(src, j.Issuers, true, cfg.Issuers)
		}
	}
	for i, sk := range cfg.StaticKeys {
		ks, err := staticKeys(sk)
		if err != nil {
			return nil, fmt.Errorf("keys: static key %d: %w", i+1, err)
		}
		src := &source{kind: kindStatic, name: fmt.Sprintf("static key %d", i+1)}
		src.snap.Store(newSnapshot("", nil, time.Time{}, ks, time.Time{}, false))
		s.addSource(src)
		switch {
		case len(sk.Issuers) > 0:
			s.serve(src, sk.Issuers, true, cfg.Issuers)
		case len(cfg.Issuers) > 0:
			s.serve(src, unbound, false, nil)
		default: // no accepted issuers configured: any issuer discovery does not serve
			s.anyIss = append(s.anyIss, src)
		}
	}
	// Refuse what would trust one issuer's keys for another's tokens: keys
	// bound to a discovery issuer, unbound sources shared by several
	// issuers next to other sources, a seed shared by several sources.
	if err := cfg.CheckKeyBindings(); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if len(s.sources) == 0 {
		return nil, errors.New("keys: no key source configured (set JWTGATE_OPENID_CONFIG, JWTGATE_JWKS_URL or static keys)")
	}
	s.accepted = uniq(cfg.Issuers)
	return s, nil
}

func (s *Store) addSource(src *source) { s.sources = append(s.sources, src) }

// serve files src under each of issuers. An issuer that a discovery source
// serves is filed only for a JWKS or static source bound to it by name
// (byName): under its discovery group, to serve the issuer the document
// announces, and, when accepted (JWTGATE_ISSUERS) lists it, under that exact
// spelling. Unbound sources and other discovery sources never serve a
// discovery issuer.
func (s *Store) serve(src *source, issuers []string, byName bool, accepted []string) {
	for _, iss := range uniq(issuers) {
		t := trimSlash(iss)
		switch {
		case len(s.byDisc[t]) == 0:
			s.byIssuer[iss] = append(s.byIssuer[iss], src)
		case !byName || src.kind == kindDiscovery:
		default:
			if !slices.Contains(s.discBound[t], src) {
				s.discBound[t] = append(s.discBound[t], src)
			}
			if slices.Contains(accepted, iss) {
				s.byIssuer[iss] = append(s.byIssuer[iss], src)
			}
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func uniq(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, v := range ss {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	return Stats{
		DiscoveryFetches: s.c.discovery.Load(),
		JWKSFetches:      s.c.jwks.Load(),
		FetchErrors:      s.c.fetchErrors.Load(),
		Refreshes:        s.c.refreshes.Load(),
		KidMisses:        s.c.kidMisses.Load(),
		StaleServed:      s.c.stale.Load(),
		KeysSkipped:      s.c.skipped.Load(),
		KeysAdded:        s.c.added.Load(),
		KeysRemoved:      s.c.removed.Load(),
		Unavailable:      s.c.unavailable.Load(),
	}
}

// Warm fetches the discovery document and JWKS of every source that
// fetches, concurrently, and waits for them or for ctx. Adapters call it
// during init with a short bound (JWTGATE_WARMUP_TIMEOUT). A failure is
// returned but is not sticky: Lookup fetches again on the request path.
func (s *Store) Warm(ctx context.Context) error {
	var calls []*fetchCall
	var srcs []*source
	now := s.now()
	for _, src := range s.sources {
		if src.kind == kindStatic {
			continue
		}
		src.mu.Lock()
		c := src.inflight
		if c == nil {
			c = s.startFetch(ctx, src, now)
		}
		src.mu.Unlock()
		calls = append(calls, c)
		srcs = append(srcs, src)
	}
	var errs []error
	for i, c := range calls {
		select {
		case <-c.done:
			if c.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", srcs[i].name, c.err))
			}
		case <-ctx.Done():
			return fmt.Errorf("keys: warm-up: %w", ctx.Err())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("keys: warm-up: %w", errors.Join(errs...))
	}
	return nil
}

// candidates returns the sources that may serve iss. An issuer that a
// discovery source stands for (its URL's issuer, compared without a trailing
// slash; the exact comparison with the announced issuer happens after
// discovery) is served by those discovery sources and by the JWKS URLs and
// static keys bound to it by name (see bound), never by unbound ones. Any
// other issuer is served by the sources filed under it, and by static keys
// for any issuer.
func (s *Store) candidates(iss string) (fixed, anyIss, disc []*source) {
	if d := s.byDisc[trimSlash(iss)]; len(d) > 0 {
		return s.bound(iss, d), nil, d
	}
	return s.byIssuer[iss], s.anyIss, nil
}

// bound returns the JWKS and static sources bound to the discovery issuer
// iss: those bound to this exact accepted spelling, and, once one of its
// discovery sources has announced iss, those bound to any spelling of it.
func (s *Store) bound(iss string, disc []*source) []*source {
	exact := s.byIssuer[iss]
	more := s.discBound[trimSlash(iss)]
	if len(more) == 0 || !slices.ContainsFunc(disc, func(src *source) bool {
		sn := src.snap.Load()
		return sn != nil && !sn.seed && sn.issuer == iss
	}) {
		return exact
	}
	out := slices.Clone(exact)
	for _, src := range more {
		if !slices.Contains(out, src) {
			out = append(out, src)
		}
	}
	return out
}

// Lookup returns the key for a token of issuer iss with header kid and alg.
//
// When the issuer's keys are cached and fresh it reads an immutable snapshot
// without locks or network. Keys due for refresh are still served while one
// background refresh runs. A source with no usable keys is fetched on the
// spot (shared by concurrent callers, retried at most once per cooldown).
// An unknown kid causes at most one refetch per cooldown, shared by
// concurrent callers; a known kid never does.
//
// Errors wrap ErrIssuerUnknown, ErrKeyUnknown (ErrKeyMismatch when the kid
// is known but its key does not fit alg) or ErrUnavailable.
func (s *Store) Lookup(ctx context.Context, iss, kid, alg string) (*Key, error) {
	fixed, anyIss, disc := s.candidates(iss)
	if len(fixed)+len(anyIss)+len(disc) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrIssuerUnknown, clip(iss, 200))
	}
	now := s.now()
	var buf [4]served
	list := buf[:0]
	var firstErr error
	maybe := false // some source serves or may serve iss
	for i, group := range [3][]*source{disc, fixed, anyIss} {
		if i == 1 && len(disc) > 0 {
			group = s.bound(iss, disc) // discovery may just have announced iss
		}
		for _, src := range group {
			snap, serves, err := s.usable(ctx, src, iss, now)
			maybe = maybe || serves
			if snap != nil {
				list = append(list, served{src, snap})
			} else if err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	if !maybe {
		return nil, fmt.Errorf("%w: %q", ErrIssuerUnknown, clip(iss, 200))
	}
	if len(list) == 0 {
		s.c.unavailable.Add(1)
		if firstErr == nil {
			firstErr = errors.New("no keys fetched yet")
		}
		return nil, fmt.Errorf("%w for issuer %q: %w", ErrUnavailable, clip(iss, 200), firstErr)
	}

	k, n, known := find(list, kid, alg)
	if k != nil {
		s.noteStale(list, k, now)
		return k, nil
	}
	if known || n > 1 {
		// The kid exists but does not fit alg, or without a kid the choice
		// is ambiguous: a refetch would not change that.
		if known {
			return nil, fmt.Errorf("%w: key %q, alg %q", ErrKeyMismatch, clip(kid, 64), clip(alg, 16))
		}
		return nil, several(fitting(list, alg, false), alg)
	}

	// Unknown kid: one refetch per source, shared, at most once per cooldown.
	s.c.kidMisses.Add(1)
	refetched := false
	for i, sv := range list {
		if sv.src.kind == kindStatic {
			continue
		}
		ran, _ := s.refetch(ctx, sv.src, sv.snap, now)
		refetched = refetched || ran
		if snap := sv.src.snap.Load(); snap != nil && snap != sv.snap && snap.serves(sv.src, iss) && snap.fresh(now, s.stale) {
			list[i].snap = snap
		}
	}
	if refetched {
		s.log.Info("kid miss", "issuer", clip(iss, 200), "kid", clip(kid, 64), "alg", clip(alg, 16), "refetched", true)
		if k, _, _ := find(list, kid, alg); k != nil {
			return k, nil
		}
	} else {
		s.log.Debug("kid miss", "issuer", clip(iss, 200), "kid", clip(kid, 64), "alg", clip(alg, 16), "refetched", false)
	}
	if kid == "" {
		return nil, fmt.Errorf("%w: no key fits alg %q", ErrKeyUnknown, clip(alg, 16))
	}
	// A configured key without a kid verifies a token whatever kid it names
	// once no key carries that kid (an APIM <key> without id does). It is
	// asked only after the refetch for the unknown kid, so a rotation at
	// the IdP is still picked up.
	switch ks := fitting(list, alg, true); len(ks) {
	case 0:
		return nil, fmt.Errorf("%w: kid %q", ErrKeyUnknown, clip(kid, 64))
	case 1:
		return ks[0], nil
	default:
		return nil, several(ks, alg)
	}
}

// maxCandidates bounds how many keys one token is tried against when no
// kid singles out a key.
const maxCandidates = 8

// SeveralKeysError reports that no kid singles out one key and that these
// keys of the issuer fit the token's algorithm: the caller may try each
// (APIM tries every key of a policy). It matches ErrKeyUnknown.
type SeveralKeysError struct {
	Keys []*Key
	alg  string
}

func (e *SeveralKeysError) Error() string {
	return fmt.Sprintf("%v: %d keys fit alg %q and no kid singles one out", ErrKeyUnknown, len(e.Keys), clip(e.alg, 16))
}

// Is makes the error match ErrKeyUnknown.
func (e *SeveralKeysError) Is(target error) bool { return target == ErrKeyUnknown }

// Find returns the first of the keys for which verifies is true, or nil.
func (e *SeveralKeysError) Find(verifies func(*Key) bool) *Key {
	for _, k := range e.Keys {
		if verifies(k) {
			return k
		}
	}
	return nil
}

// several returns a SeveralKeysError for ks, or, beyond maxCandidates, a
// plain ErrKeyUnknown (the token must then name its key).
func several(ks []*Key, alg string) error {
	if len(ks) > maxCandidates {
		return fmt.Errorf("%w: %d keys fit alg %q and the token names no kid", ErrKeyUnknown, len(ks), clip(alg, 16))
	}
	return &SeveralKeysError{Keys: ks, alg: alg}
}

// fitting returns the distinct keys of the snapshots that fit alg; with
// kidless, only configured (static) keys without a kid.
func fitting(list []served, alg string, kidless bool) []*Key {
	var out []*Key
	for _, sv := range list {
		if kidless && sv.src.kind != kindStatic {
			continue
		}
		for _, k := range sv.snap.keys {
			if (!kidless || k.ID == "") && k.Fits(alg) && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// served pairs a source with the snapshot a lookup reads.
type served struct {
	src  *source
	snap *snapshot
}

// find searches the snapshots: by kid when kid is set, else the single key
// that fits alg. n counts kid-less candidates; known reports that the kid
// exists but fits no key for alg.
func find(list []served, kid, alg string) (k *Key, n int, known bool) {
	if kid != "" {
		for _, sv := range list {
			if c := sv.snap.byKID[kid]; c != nil {
				if c.Fits(alg) {
					return c, 1, true
				}
				known = true
			}
		}
		return nil, 0, known
	}
	for _, sv := range list {
		for _, c := range sv.snap.keys {
			if c.Fits(alg) && c != k {
				k = c
				n++
			}
		}
	}
	if n != 1 {
		return nil, n, false
	}
	return k, 1, false
}

// noteStale counts (and logs once per failed refresh) a key served past its
// refresh time because refreshing failed.
func (s *Store) noteStale(list []served, k *Key, now time.Time) {
	for _, sv := range list {
		if !sv.snap.due(now) || !sv.src.failing.Load() {
			continue
		}
		if sv.snap.byKID[k.ID] != k && !slices.Contains(sv.snap.keys, k) {
			continue
		}
		s.c.stale.Add(1)
		if sv.src.staleLogged.CompareAndSwap(false, true) {
			s.log.Warn("stale served", "source", sv.src.name, "refresh_due", sv.snap.refreshAt, "usable_until", sv.snap.refreshAt.Add(s.stale))
		}
		return
	}
}

// Holds reports whether k is still one of iss's current, usable keys: the
// same *Key value, so a verified-token cache can drop entries whose key left
// the JWKS. It costs a map lookup per source; when keys are due it starts a
// background refresh like Lookup does.
func (s *Store) Holds(iss string, k *Key) bool {
	if k == nil {
		return false
	}
	fixed, anyIss, disc := s.candidates(iss)
	now := s.now()
	for _, group := range [3][]*source{fixed, anyIss, disc} {
		for _, src := range group {
			snap := src.snap.Load()
			if snap == nil || !snap.serves(src, iss) || !snap.fresh(now, s.stale) {
				continue
			}
			if snap.due(now) {
				s.kick(src, now)
			}
			if k.ID != "" {
				if snap.byKID[k.ID] == k {
					return true
				}
			} else if slices.Contains(snap.keys, k) {
				return true
			}
		}
	}
	return false
}

// usable returns src's snapshot when it serves iss and has usable keys,
// fetching first when it has none (or discovery has not yet told which
// issuer it serves). serves is false only when src certainly does not serve
// iss.
func (s *Store) usable(ctx context.Context, src *source, iss string, now time.Time) (snap *snapshot, serves bool, err error) {
	snap = src.snap.Load()
	if snap != nil && snap.serves(src, iss) && snap.fresh(now, s.stale) {
		if snap.due(now) {
			s.kick(src, now)
		}
		return snap, true, nil
	}
	if src.kind == kindStatic {
		return nil, false, nil
	}
	if src.kind == kindDiscovery && snap != nil && !snap.seed && !snap.serves(src, iss) {
		return nil, false, nil // discovery announced another issuer (e.g. with/without trailing slash)
	}
	_, err = s.refetch(ctx, src, snap, now)
	snap = src.snap.Load()
	if snap != nil && snap.serves(src, iss) && snap.fresh(now, s.stale) {
		return snap, true, nil
	}
	if src.kind == kindDiscovery && snap != nil && !snap.seed && !snap.serves(src, iss) {
		return nil, false, nil
	}
	if err == nil {
		err = src.lastError()
	}
	return nil, true, err
}

// refetch runs a fetch for src on the request path, or joins the one in
// flight, and waits for it or ctx. seen is the snapshot the caller read: if
// another fetch replaced it meanwhile, nothing is fetched. Within the
// cooldown after the last attempt it fails fast with errCooldown. ran
// reports whether a fetch completed (or was joined).
func (s *Store) refetch(ctx context.Context, src *source, seen *snapshot, now time.Time) (ran bool, err error) {
	src.mu.Lock()
	c := src.inflight
	switch {
	case c != nil:
	case src.snap.Load() != seen:
		src.mu.Unlock()
		return true, nil
	case !src.lastAttempt.IsZero() && now.Before(src.lastAttempt.Add(s.cooldown)):
		src.mu.Unlock()
		return false, errCooldown
	default:
		c = s.startFetch(ctx, src, now)
	}
	src.mu.Unlock()
	select {
	case <-c.done:
		return true, c.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// errCooldown is returned while a source may not be fetched again.
var errCooldown = errors.New("last fetch failed or was just made; not retried within the cooldown")

// kick starts a background refresh of src unless one is running or the
// last attempt is within the cooldown. It never waits.
func (s *Store) kick(src *source, now time.Time) {
	if now.UnixNano() < src.nextTry.Load() {
		return
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.inflight != nil || (!src.lastAttempt.IsZero() && now.Before(src.lastAttempt.Add(s.cooldown))) {
		return
	}
	s.startFetch(context.Background(), src, now)
}

// startFetch starts a fetch of src in its own goroutine. The caller holds
// src.mu. The fetch is bounded by the HTTP timeout, not by the context of the
// caller that happened to start it (others may be waiting on it); it keeps
// that context's values.
func (s *Store) startFetch(ctx context.Context, src *source, now time.Time) *fetchCall {
	c := &fetchCall{done: make(chan struct{})}
	src.inflight = c
	src.lastAttempt = now
	src.nextTry.Store(now.Add(s.cooldown).UnixNano())
	fctx := context.WithoutCancel(ctx)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		err := s.fetch(fctx, src, now)
		src.mu.Lock()
		src.inflight = nil
		src.lastErr = err
		src.mu.Unlock()
		c.err = err
		close(c.done)
	}()
	return c
}

// waitFetches waits until no fetch is running (for tests).
func (s *Store) waitFetches() { s.bg.Wait() }

// fetch fetches discovery (when needed) and the JWKS of src and installs a
// new snapshot. On failure the old snapshot stays.
func (s *Store) fetch(ctx context.Context, src *source, now time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil { // never let a parser bug take the process down
			err = fmt.Errorf("internal error while fetching keys: %v", r)
		}
		if err != nil {
			s.c.fetchErrors.Add(1)
			src.failing.Store(true)
			src.staleLogged.Store(false)
			s.log.Warn("keys fetch failed", "source", src.name, "error", err.Error())
		}
	}()
	// One deadline for discovery and JWKS together: no caller waits longer
	// than the HTTP timeout for a fetch.
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	old := src.snap.Load()
	issuer := ""
	jwksURL := src.jwksURL
	var discAt time.Time
	if src.kind == kindDiscovery {
		known := old != nil && !old.seed && old.jwksURI != nil
		if known {
			issuer, jwksURL, discAt = old.issuer, old.jwksURI, old.discAt
		}
		if !known || now.Sub(old.discAt) >= config.MaxRefreshInterval {
			s.c.discovery.Add(1)
			doc, err := s.discover(ctx, src)
			switch {
			case err == nil:
				issuer, jwksURL, discAt = doc.Issuer, doc.JWKSURI, now
			case !known:
				return err
			default: // keep the jwks_uri we know; retry discovery next time
				s.c.fetchErrors.Add(1)
				s.log.Warn("keys fetch failed", "source", src.name, "error", err.Error())
			}
		}
	}
	s.c.jwks.Add(1)
	res, err := s.get(ctx, jwksURL, "application/jwk-set+json, application/json")
	if err != nil {
		return fmt.Errorf("JWKS %s: %w", redact(jwksURL), err)
	}
	set, err := parseJWKS(res.body, false)
	if err != nil {
		return fmt.Errorf("JWKS %s: %w", redact(jwksURL), err)
	}
	for _, sk := range set.Skipped {
		s.c.skipped.Add(1)
		s.log.Warn("key skipped", "source", src.name, "kid", sk.KID, "reason", sk.Reason)
	}
	if set.PrivateMaterial > 0 {
		s.log.Warn("private key material ignored", "source", src.name, "keys", set.PrivateMaterial)
	}
	if len(set.Keys) == 0 {
		return fmt.Errorf("JWKS %s: no usable signing key", redact(jwksURL))
	}
	keys := reuse(old, set.Keys)
	fresh := s.refreshAfter(res.maxAge)
	next := newSnapshot(issuer, jwksURL, discAt, keys, now.Add(fresh), false)
	src.snap.Store(next)
	src.failing.Store(false)
	s.c.refreshes.Add(1)
	added, removed := diff(old, next)
	s.c.added.Add(int64(len(added)))
	s.c.removed.Add(int64(len(removed)))
	s.log.Info("keys fetch ok", "source", src.name, "issuer", issuer, "keys", len(keys), "refresh_in", fresh.String())
	if len(added) > 0 {
		s.log.Info("keys added", "source", src.name, "kids", added)
	}
	if len(removed) > 0 {
		s.log.Info("keys removed", "source", src.name, "kids", removed)
	}
	return nil
}

// discover fetches and checks src's discovery document.
func (s *Store) discover(ctx context.Context, src *source) (*discoveryDoc, error) {
	res, err := s.get(ctx, src.url, "application/json")
	if err != nil {
		return nil, fmt.Errorf("discovery %s: %w", src.name, err)
	}
	doc, err := parseDiscovery(res.body, src.want)
	if err != nil {
		return nil, fmt.Errorf("discovery %s: %w", src.name, err)
	}
	return doc, nil
}

// reuse keeps the old *Key for every key that did not change, so that
// Holds stays true across refreshes for tokens verified with it.
func reuse(old *snapshot, ks []*Key) []*Key {
	if old == nil {
		return ks
	}
	for i, k := range ks {
		for _, o := range old.keys {
			if sameKey(o, k) {
				ks[i] = o
				break
			}
		}
	}
	return ks
}

type equaler interface{ Equal(x crypto.PublicKey) bool }

func sameKey(a, b *Key) bool {
	if a.ID != b.ID || a.Alg != b.Alg || a.Kty != b.Kty || a.Crv != b.Crv || a.Static != b.Static {
		return false
	}
	e, ok := a.Public.(equaler)
	return ok && e.Equal(b.Public)
}

// diff lists the kids added and removed between two snapshots.
func diff(old, next *snapshot) (added, removed []string) {
	var before map[string]*Key
	if old != nil && !old.seed {
		before = old.byKID
	}
	for kid := range next.byKID {
		if _, ok := before[kid]; !ok {
			added = append(added, kid)
		}
	}
	for kid := range before {
		if _, ok := next.byKID[kid]; !ok {
			removed = append(removed, kid)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

type sourceKind int

const (
	kindStatic sourceKind = iota
	kindJWKS
	kindDiscovery
)

// source is one configured origin of keys.
type source struct {
	kind    sourceKind
	name    string   // for logs: the redacted URL or "static key N"
	url     *url.URL // discovery URL (discovery) or JWKS URL (jwks)
	jwksURL *url.URL // JWKS URL of a jwks source
	want    string   // discovery: the issuer the URL stands for
	also    []string // discovery: further issuers it serves (config.OpenIDConfigIssuers)

	snap        atomic.Pointer[snapshot] // current keys; replaced whole, never mutated
	failing     atomic.Bool              // the last fetch failed
	staleLogged atomic.Bool              // "stale served" was logged since the last failure
	nextTry     atomic.Int64             // unix nanos before which kick does not even lock mu

	mu          sync.Mutex // guards inflight, lastAttempt and lastErr
	inflight    *fetchCall // the running fetch, shared by every caller that needs it
	lastAttempt time.Time  // start of the last fetch (the cooldown runs from it)
	lastErr     error      // result of the last fetch
}

func (src *source) lastError() error {
	src.mu.Lock()
	defer src.mu.Unlock()
	return src.lastErr
}

// fetchCall is one fetch in flight; err is set before done is closed.
type fetchCall struct {
	done chan struct{}
	err  error
}

// snapshot is an immutable view of a source's keys.
type snapshot struct {
	issuer    string   // discovery: the announced issuer (or the provisional one of a seed)
	jwksURI   *url.URL // discovery: jwks_uri
	discAt    time.Time
	keys      []*Key
	byKID     map[string]*Key
	refreshAt time.Time // when a refresh is due; zero for static keys (never)
	seed      bool      // keys from JWTGATE_SEED_JWKS, not yet fetched
}

func newSnapshot(issuer string, jwksURI *url.URL, discAt time.Time, keys []*Key, refreshAt time.Time, seed bool) *snapshot {
	by := make(map[string]*Key, len(keys))
	for _, k := range keys {
		if k.ID != "" {
			if _, dup := by[k.ID]; !dup {
				by[k.ID] = k
			}
		}
	}
	return &snapshot{issuer: issuer, jwksURI: jwksURI, discAt: discAt, keys: keys, byKID: by, refreshAt: refreshAt, seed: seed}
}

// serves reports whether the snapshot answers for iss: discovery sources
// serve exactly the announced issuer and the issuers bound to them; the
// others were matched by issuer when the store was built.
func (sn *snapshot) serves(src *source, iss string) bool {
	return src.kind != kindDiscovery || sn.issuer == iss || slices.Contains(src.also, iss)
}

// due reports that a refresh is due.
func (sn *snapshot) due(now time.Time) bool {
	return !sn.refreshAt.IsZero() && !now.Before(sn.refreshAt)
}

// fresh reports that the keys may still be used: static keys always, others
// up to maxStale past their refresh time.
func (sn *snapshot) fresh(now time.Time, maxStale time.Duration) bool {
	return sn.refreshAt.IsZero() || now.Before(sn.refreshAt.Add(maxStale))
}

// sourceInfo describes a key source in the start-up log: its name, its kind
// and the kids of the keys it holds so far (never key material).
type sourceInfo struct {
	Source string   `json:"source"`
	Kind   string   `json:"kind"`
	Kids   []string `json:"kids,omitempty"`
}

// LogIssuerKeys logs, per accepted issuer, which key sources serve it and
// the kids they hold so far, so the effect of a configuration (an imported
// APIM policy in particular) is visible at start-up: adapters call it once,
// after Warm. Without JWTGATE_ISSUERS the issuers are the ones the
// discovery URLs stand for, and "*" stands for any other issuer.
func (s *Store) LogIssuerKeys() {
	issuers := s.accepted
	if len(issuers) == 0 {
		for _, src := range s.sources {
			if src.kind == kindDiscovery && !slices.Contains(issuers, src.want) {
				issuers = append(issuers, src.want)
			}
		}
	}
	describe := func(list []*source) []sourceInfo {
		var out []sourceInfo
		for _, src := range list {
			info := sourceInfo{Source: src.name, Kind: [...]string{"static", "jwks", "discovery"}[src.kind]}
			if snap := src.snap.Load(); snap != nil {
				for _, k := range snap.keys {
					kid := k.ID
					if kid == "" {
						kid = "(no kid)"
					}
					info.Kids = append(info.Kids, kid)
				}
			}
			out = append(out, info)
		}
		return out
	}
	for _, iss := range issuers {
		fixed, anyIss, disc := s.candidates(iss)
		if len(disc) > 0 { // before discovery answers: every source bound to any spelling
			fixed = slices.Clone(s.byIssuer[iss])
			for _, src := range s.discBound[trimSlash(iss)] {
				if !slices.Contains(fixed, src) {
					fixed = append(fixed, src)
				}
			}
		}
		all := append(append(slices.Clone(disc), fixed...), anyIss...)
		if len(all) == 0 {
			s.log.Warn("issuer keys", "issuer", clip(iss, 200), "sources", []sourceInfo{}, "note", "no key source serves this issuer: its tokens are refused")
			continue
		}
		s.log.Info("issuer keys", "issuer", clip(iss, 200), "sources", describe(all))
	}
	if len(s.accepted) == 0 && len(s.anyIss) > 0 {
		s.log.Info("issuer keys", "issuer", "*", "sources", describe(s.anyIss))
	}
}
