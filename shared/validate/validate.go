// Package validate turns a platform-neutral request into a decision: it
// extracts the bearer token, parses and verifies it against the key source,
// checks its registered claims, then the scopes, claims and route rules
// that authorization requires. It remembers verified tokens in a bounded
// cache so that a repeat token skips the signature check, but never the
// time or authorization checks.
package validate

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/jsonstrict"
	"github.com/jwtgate/jwtgate/shared/keys"
	"github.com/jwtgate/jwtgate/shared/replaystore"
	"github.com/jwtgate/jwtgate/shared/token"
)

// KeySource finds verification keys. *keys.Store implements it.
type KeySource interface {
	Lookup(ctx context.Context, issuer, kid, alg string) (*keys.Key, error)
	Holds(issuer string, k *keys.Key) bool
}

// Decrypter opens an encrypted (JWE) token and returns the inner JWS. An
// error that is (or wraps) a *token.Error keeps its reason code; any other
// error is token_decryption_failed.
type Decrypter interface {
	Decrypt(compact []byte) ([]byte, error)
}

// Validator is safe for concurrent use; build one per process.
type Validator struct {
	keys       KeySource
	decrypter  Decrypter
	now        func() time.Time
	extract    extractor
	maxBytes   int
	algByName  map[string]bool
	types      []string
	issuers    map[string]bool // nil: whatever the key source serves
	audiences  []string
	anyAud     bool
	requireExp bool
	skew       int64 // seconds
	defaults   requirements
	routes     []route
	cache      *tokenCache
	cacheTTL   time.Duration
	forward    []string
	binding    bindingPolicy
}

// Option adjusts a Validator.
type Option func(*Validator)

// WithClock injects the clock.
func WithClock(now func() time.Time) Option { return func(v *Validator) { v.now = now } }

// WithDecrypter enables encrypted tokens.
func WithDecrypter(d Decrypter) Option { return func(v *Validator) { v.decrypter = d } }

// New builds a validator from a checked configuration.
func New(cfg *config.Config, ks KeySource, opts ...Option) (*Validator, error) {
	if ks == nil {
		return nil, errors.New("validate: no key source")
	}
	v := &Validator{
		keys:       ks,
		now:        time.Now,
		extract:    newExtractor(cfg.HeaderName, cfg.Scheme, cfg.QueryParam, cfg.CookieName),
		maxBytes:   cfg.MaxTokenBytes,
		algByName:  map[string]bool{},
		types:      cfg.TokenTypes,
		audiences:  cfg.Audiences,
		anyAud:     cfg.AnyAudience,
		requireExp: cfg.RequireExpiration,
		skew:       int64(cfg.ClockSkew / time.Second),
		defaults:   requirements{scopes: cfg.RequiredScopes, claims: cfg.RequiredClaims},
		routes:     compileRoutes(cfg.Routes),
		cache:      newTokenCache(cfg.TokenCacheSize),
		cacheTTL:   cfg.TokenCacheMaxTTL,
		forward:    cfg.ForwardClaims,
		binding:    newBindingPolicy(cfg),
	}
	if v.maxBytes <= 0 {
		v.maxBytes = config.DefaultMaxTokenBytes
	}
	if v.cacheTTL <= 0 {
		v.cacheTTL = config.DefaultTokenCacheMaxTTL
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = config.DefaultAlgorithms
	}
	for _, a := range algs {
		if token.LookupAlgorithm(a) == nil {
			return nil, errors.New("validate: unknown algorithm " + strconv.Quote(a))
		}
		v.algByName[a] = true
	}
	if len(cfg.Issuers) > 0 {
		v.issuers = make(map[string]bool, len(cfg.Issuers))
		for _, iss := range cfg.Issuers {
			v.issuers[iss] = true
		}
	}
	if len(cfg.Audiences) == 0 && !cfg.AnyAudience {
		return nil, errors.New("validate: no audiences configured (use AnyAudience to disable the check explicitly)")
	}
	for _, o := range opts {
		o(v)
	}
	if v.binding.replay == nil {
		v.binding.replay = replaystore.NewMemory(0, v.now)
	}
	return v, nil
}

func (v *Validator) allowed(a *token.Algorithm) bool { return v.algByName[a.Name] }

// CacheStats returns the verified-token cache's hit and miss counts.
func (v *Validator) CacheStats() (hits, misses int64) {
	if v.cache == nil {
		return 0, 0
	}
	return v.cache.stats()
}

// Decide validates the request and returns the decision. It never panics
// on any input (a recovered panic is an internal error, never an allow).
func (v *Validator) Decide(ctx context.Context, r *decision.Request) (d decision.Decision) {
	defer func() {
		if p := recover(); p != nil {
			d = decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "internal error"}
		}
	}()
	if r == nil {
		return deny(&token.Error{Reason: decision.EventMalformed, Msg: "no request"})
	}
	tok, dpopScheme, terr := v.extract.extract(r)
	if terr != nil {
		return v.withChallenge(deny(terr), dpopScheme)
	}
	now := v.now()
	var ver *verified
	if v.cache != nil {
		if ver = v.cache.get(tok, now); ver != nil && !v.keys.Holds(ver.reg.iss, ver.key) {
			v.cache.drop(tok)
			ver = nil
		}
	}
	hit := ver != nil
	if ver == nil {
		var err *token.Error
		var unavailable bool
		ver, unavailable, err = v.verify(ctx, tok, now)
		if err != nil {
			if unavailable {
				return decision.Decision{Outcome: decision.Unavailable, Reason: decision.KeysUnavailable, Detail: err.Msg}
			}
			return v.withChallenge(deny(err), dpopScheme)
		}
		if v.cache != nil {
			v.cache.put(ver)
		}
	} else if terr := v.checkTimes(&ver.reg, now.Unix()); terr != nil {
		return v.withChallenge(deny(terr), dpopScheme)
	}
	constrained, refusal := v.checkBinding(ctx, ver, tok, dpopScheme, r, now)
	if refusal != nil {
		return *refusal
	}
	d = v.authorize(ver, r)
	d.CacheHit = hit
	if constrained {
		// The decision holds for this proof or certificate only.
		d.SenderConstrained = true
		d.CacheUntil = time.Time{}
	}
	return v.withChallenge(d, dpopScheme || ver.cnf.jkt != "")
}

// verify runs every check that does not depend on the request: shape,
// algorithm, key, signature and registered claims.
func (v *Validator) verify(ctx context.Context, tok string, now time.Time) (*verified, bool, *token.Error) {
	if len(tok) > v.maxBytes {
		return nil, false, &token.Error{Reason: decision.TokenTooLarge, Msg: "token is larger than " + strconv.Itoa(v.maxBytes) + " bytes"}
	}
	jws := tok
	if n := token.Segments(tok); n == 5 {
		if v.decrypter == nil {
			return nil, false, &token.Error{Reason: decision.TokenEncrypted, Msg: "encrypted tokens are not accepted (no decryption keys configured)"}
		}
		inner, err := v.decrypter.Decrypt([]byte(tok))
		if err != nil {
			var te *token.Error
			if errors.As(err, &te) {
				return nil, false, te
			}
			return nil, false, &token.Error{Reason: decision.DecryptionFailed, Msg: "token could not be decrypted", Err: err}
		}
		jws = string(inner)
	}
	p, terr := token.Parse(jws, v.maxBytes, v.allowed)
	if terr != nil {
		return nil, false, terr
	}
	if terr := p.ParseClaims(); terr != nil {
		return nil, false, terr
	}
	if len(v.types) > 0 && !typeAllowed(p.Type, v.types) {
		return nil, false, &token.Error{Reason: decision.TypeNotAllowed, Msg: "token typ is not accepted"}
	}
	reg, terr := readRegistered(p.Claims)
	if terr != nil {
		return nil, false, terr
	}
	// The issuer picks the key set before the signature is checked; it is
	// trusted only once the signature verifies with a key of that issuer.
	if reg.iss == "" {
		return nil, false, &token.Error{Reason: decision.IssuerInvalid, Msg: "token has no iss"}
	}
	if v.issuers != nil && !v.issuers[reg.iss] {
		return nil, false, &token.Error{Reason: decision.IssuerInvalid, Msg: "token issuer is not accepted"}
	}
	key, err := v.keys.Lookup(ctx, reg.iss, p.KeyID, p.Alg.Name)
	if err != nil {
		switch {
		case errors.Is(err, keys.ErrIssuerUnknown):
			return nil, false, &token.Error{Reason: decision.IssuerInvalid, Msg: "token issuer is not accepted"}
		case errors.Is(err, keys.ErrKeyMismatch): // also matches ErrKeyUnknown: first
			return nil, false, &token.Error{Reason: decision.KeyMismatch, Msg: "the key named by the token's kid does not fit its algorithm"}
		case errors.Is(err, keys.ErrKeyUnknown):
			return nil, false, &token.Error{Reason: decision.KeyUnknown, Msg: "no key of the issuer matches the token's kid"}
		default:
			return nil, true, &token.Error{Reason: decision.KeysUnavailable, Msg: "no usable keys for the issuer", Err: err}
		}
	}
	if terr := p.Alg.Verify(key, p.SigningInput, p.Signature); terr != nil {
		return nil, false, terr
	}
	if terr := audienceMatches(p.Claims, v.audiences, v.anyAud); terr != nil {
		return nil, false, terr
	}
	if !reg.hasExp && v.requireExp {
		return nil, false, &token.Error{Reason: decision.ExpirationMissing, Msg: "token has no exp"}
	}
	if terr := v.checkTimes(&reg, now.Unix()); terr != nil {
		return nil, false, terr
	}
	expires := now.Add(v.cacheTTL)
	if reg.hasExp {
		if e := time.Unix(reg.exp+v.skew, 0); e.Before(expires) {
			expires = e
		}
	}
	ver := &verified{tok: tok, claims: p.Claims, reg: reg, key: key, expires: expires, cnf: readConfirmation(p.Claims)}
	ver.fwd = v.forwarded(&ver.reg, p.Claims)
	return ver, false, nil
}

// checkTimes applies exp, nbf and iat with the clock skew.
func (v *Validator) checkTimes(r *registered, now int64) *token.Error {
	if r.hasExp && now >= r.exp+v.skew {
		return &token.Error{Reason: decision.TokenExpired, Msg: "token has expired"}
	}
	if r.hasNbf && now+v.skew < r.nbf {
		return &token.Error{Reason: decision.TokenNotYetValid, Msg: "token is not valid yet"}
	}
	if r.hasIat && now+v.skew < r.iat {
		return &token.Error{Reason: decision.IssuedInFuture, Msg: "token was issued in the future"}
	}
	return nil
}

// authorize applies scopes, required claims and route rules to a verified
// token. It runs on every request, cached token or not.
func (v *Validator) authorize(ver *verified, r *decision.Request) decision.Decision {
	d := decision.Decision{
		Principal: ver.reg.sub,
		Issuer:    ver.reg.iss,
		KeyID:     ver.key.ID,
		Claims:    ver.fwd,
	}
	if ver.reg.hasExp {
		d.CacheUntil = time.Unix(ver.reg.exp, 0)
	} else {
		d.CacheUntil = ver.expires
	}
	defFail := v.defaults.check(ver.claims, ver.reg.scopes)
	d.DefaultsSatisfied = defFail.ok()
	applied := defFail
	if len(v.routes) > 0 {
		d.RoutesConfigured = true
		ambiguous := r.Path != "" && ambiguousPath(r.Path)
		segs := splitPath(normalizePath(r.Path))
		matched := false
		for i := range v.routes {
			rt := &v.routes[i]
			f := rt.req.check(ver.claims, ver.reg.scopes)
			if f.ok() {
				d.Routes = append(d.Routes, rt.grant)
			} else {
				d.DeniedRoutes = append(d.DeniedRoutes, rt.grant)
			}
			if !matched && r.Method != "" && !ambiguous && rt.match(r.Method, segs) {
				matched = true
				applied = f
			}
		}
		if ambiguous {
			applied = failure{reason: decision.RouteDenied, detail: "request path is ambiguous (dot segments or encoded separators)"}
		}
	}
	if !applied.ok() {
		d.Outcome = decision.Forbidden
		d.Reason = applied.reason
		d.Detail = applied.detail
		d.MissingScopes = applied.missing
		return d
	}
	d.Outcome = decision.Allow
	d.Reason = decision.ReasonOK
	return d
}

// forwarded flattens the claims that adapters pass on: sub, iss, scope,
// client id, and the configured ones (arrays joined with a space, objects
// as JSON text). The map is shared by cached decisions: read-only.
func (v *Validator) forwarded(reg *registered, c jsonstrict.Object) map[string]any {
	m := make(map[string]any, 4+len(v.forward))
	if reg.sub != "" {
		m["sub"] = reg.sub
	}
	m["iss"] = reg.iss
	if len(reg.scopes) > 0 {
		if raw, ok := c.Get("scope"); ok && !c.Has("scp") {
			m["scope"], _ = raw.String() // already space-separated: no join
		} else {
			m["scope"] = strings.Join(reg.scopes, " ")
		}
	}
	for _, name := range []string{"azp", "client_id"} {
		if val, ok := c.Get(name); ok {
			if s, ok := val.String(); ok {
				m["client_id"] = s
				break
			}
		}
	}
	for _, name := range v.forward {
		if val, ok := c.Get(name); ok {
			if f := flatten(val); f != nil {
				m[name] = f
			}
		}
	}
	return m
}

func flatten(val jsonstrict.Value) any {
	switch val.Kind() {
	case jsonstrict.KindString:
		s, _ := val.String()
		return s
	case jsonstrict.KindBool:
		b, _ := val.Bool()
		return b
	case jsonstrict.KindNumber:
		if n, err := val.Int64(); err == nil && !strings.ContainsAny(val.Raw(), ".eE") {
			return n
		}
		if f, err := strconv.ParseFloat(val.Raw(), 64); err == nil {
			return f
		}
		return val.Raw()
	case jsonstrict.KindArray:
		parts := make([]string, 0, len(val.Array()))
		for _, e := range val.Array() {
			if s, ok := e.String(); ok {
				parts = append(parts, s)
			} else {
				parts = append(parts, string(e.AppendJSON(nil)))
			}
		}
		return strings.Join(parts, " ")
	case jsonstrict.KindObject:
		return string(val.AppendJSON(nil))
	}
	return nil
}

// typeAllowed compares typ case-insensitively, with or without the
// "application/" prefix (RFC 7515 §4.1.9).
func typeAllowed(typ string, allowed []string) bool {
	t := strings.TrimPrefix(strings.ToLower(typ), "application/")
	for _, a := range allowed {
		if strings.TrimPrefix(strings.ToLower(a), "application/") == t {
			return true
		}
	}
	return false
}

func deny(e *token.Error) decision.Decision {
	return decision.Decision{Outcome: decision.Unauthenticated, Reason: e.Reason, Detail: e.Msg}
}
