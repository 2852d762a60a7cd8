// Package validate turns a platform-neutral request into a decision: it
// extracts the bearer token, parses and verifies it against the key source,
// checks its registered claims, then the scopes, claims and route rules
// that authorization requires. It remembers verified tokens in a bounded
// cache so that a repeat token skips the signature check, but never the
// time or authorization checks.
//
// # Explaining a decision
//
// DecideTraced runs the same checks as Decide and records each one, in
// order, into a *Trace (check name, pass/fail/skip, reason code, detail):
// `replay explain` prints it. Decide passes a nil *Trace, and every Trace
// method is a no-op on nil, so production pays one pointer test per check
// and no allocation. A new check reports with one call next to its return:
//
//	if terr := checkSomething(p); terr != nil {
//		return …, CheckSomething, terr // verifyChecks records the failure
//	}
//	tr.Pass(CheckSomething, "what passed")    // constant text costs nothing
//	if tr.On() { tr.Pass(CheckSomething, "kid "+kid) } // build text only when tracing
//
// In authorize (or anywhere a refusal is not returned through
// verifyChecks) record the failure yourself with tr.Fail(check, terr).
// Name the check with a Check constant and add it to Checks where it runs,
// so explain lists it as "not reached" when an earlier check refuses.
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
	"github.com/jwtgate/jwtgate/shared/rules"
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
	issuers    []string // exact issuers and {tenantid} templates; nil: whatever the key source serves
	tenants    []string // accepted tid values for template issuers
	anyTenant  bool
	clients    []string // accepted client ids (empty: any)
	clientAuth bool     // a wrong client is unauthenticated (APIM import), not forbidden
	tokenUse   string   // required token_use ("" : not checked)
	audiences  []string
	anyAud     bool
	requireExp bool
	skew       int64 // seconds
	defaults   requirements
	routes     []route
	fields     []fieldRule
	cache      *tokenCache
	cacheTTL   time.Duration
	forward    []string
	binding    bindingPolicy
	rule       *rules.Rule // the top-level rule (nil: none)
	hasRules   bool        // any rule is configured: verified tokens carry their CEL form
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
		extract:    newExtractor(cfg),
		maxBytes:   cfg.MaxTokenBytes,
		algByName:  map[string]bool{},
		types:      cfg.TokenTypes,
		audiences:  cfg.Audiences,
		anyAud:     cfg.AnyAudience,
		requireExp: cfg.RequireExpiration,
		skew:       int64(cfg.ClockSkew / time.Second),
		defaults:   requirements{scopes: cfg.RequiredScopes, claims: cfg.RequiredClaims},
		routes:     compileRoutes(cfg.Routes),
		fields:     compileFieldRules(cfg.DeniedFields),
		cache:      newTokenCache(cfg.TokenCacheSize),
		cacheTTL:   cfg.TokenCacheMaxTTL,
		forward:    cfg.ForwardClaims,
		tenants:    cfg.Tenants,
		anyTenant:  cfg.AnyTenant,
		clients:    cfg.ClientIDs,
		clientAuth: cfg.APIMImport,
		tokenUse:   cfg.TokenUse,
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
		v.issuers = cfg.Issuers
	}
	if len(cfg.Audiences) == 0 && !cfg.AnyAudience {
		return nil, errors.New("validate: no audiences configured (use AnyAudience to disable the check explicitly)")
	}
	if err := v.compileRules(cfg); err != nil {
		return nil, err
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
func (v *Validator) Decide(ctx context.Context, r *decision.Request) decision.Decision {
	return v.decide(ctx, r, nil)
}

// decide is Decide, recording each check into tr when tr is not nil (see
// Trace; a traced call neither reads nor fills the verified-token cache).
func (v *Validator) decide(ctx context.Context, r *decision.Request, tr *Trace) (d decision.Decision) {
	defer func() {
		if p := recover(); p != nil {
			d = decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "internal error"}
		}
	}()
	if r == nil {
		terr := &token.Error{Reason: decision.EventMalformed, Msg: "no request"}
		tr.Fail(CheckExtraction, terr)
		return deny(terr)
	}
	tok, src, terr := v.extract.extract(r)
	dpopScheme := src == fromHeaderDPoP
	if terr != nil {
		if tr.On() {
			terr := *terr
			terr.Msg += " (" + v.extract.describe(src) + ")"
			tr.Fail(CheckExtraction, &terr)
		}
		return deny(terr)
	}
	if tr.On() {
		tr.Pass(CheckExtraction, "token found in "+v.extract.describe(src))
	}
	now := v.now()
	cache := v.cache
	if tr.On() {
		cache = nil
	}
	var ver *verified
	if cache != nil {
		if ver = cache.get(tok, now); ver != nil && !v.keys.Holds(ver.reg.iss, ver.key) {
			cache.drop(tok)
			ver = nil
		}
	}
	hit := ver != nil
	if ver == nil {
		var err *token.Error
		var unavailable bool
		ver, unavailable, err = v.verify(ctx, tok, now, tr)
		if err != nil {
			if unavailable {
				return decision.Decision{Outcome: decision.Unavailable, Reason: decision.KeysUnavailable, Detail: err.Msg}
			}
			return v.withChallenge(deny(err), dpopScheme)
		}
		if cache != nil {
			cache.put(ver)
		}
	} else if terr := v.checkTimes(&ver.reg, now.Unix()); terr != nil {
		return v.withChallenge(deny(terr), dpopScheme)
	}
	constrained, refusal := v.checkBinding(ctx, ver, tok, dpopScheme, r, now)
	if refusal != nil {
		if tr.On() {
			tr.Fail(CheckBinding, &token.Error{Reason: refusal.Reason, Msg: refusal.Detail})
		}
		return *refusal
	}
	if tr.On() {
		if constrained {
			tr.Pass(CheckBinding, "the DPoP proof or client certificate matches the token's cnf")
		} else {
			tr.Skip(CheckBinding, "the token has no cnf (a bearer token)")
		}
	}
	d = v.authorize(ver, r, now, tr)
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
func (v *Validator) verify(ctx context.Context, tok string, now time.Time, tr *Trace) (*verified, bool, *token.Error) {
	ver, unavailable, check, terr := v.verifyChecks(ctx, tok, now, tr)
	if terr != nil {
		tr.Fail(check, terr)
	}
	return ver, unavailable, terr
}

// verifyChecks is verify; a refusal also names the check that failed.
func (v *Validator) verifyChecks(ctx context.Context, tok string, now time.Time, tr *Trace) (*verified, bool, string, *token.Error) {
	if len(tok) > v.maxBytes {
		return nil, false, CheckSize, &token.Error{Reason: decision.TokenTooLarge, Msg: "token is larger than " + strconv.Itoa(v.maxBytes) + " bytes"}
	}
	if tr.On() {
		tr.Pass(CheckSize, strconv.Itoa(len(tok))+" bytes (limit "+strconv.Itoa(v.maxBytes)+")")
	}
	jws := tok
	if n := token.Segments(tok); n == 5 {
		if v.decrypter == nil {
			return nil, false, CheckDecryption, &token.Error{Reason: decision.TokenEncrypted, Msg: "encrypted tokens are not accepted (no decryption keys configured)"}
		}
		inner, err := v.decrypter.Decrypt([]byte(tok))
		if err != nil {
			var te *token.Error
			if errors.As(err, &te) {
				return nil, false, CheckDecryption, te
			}
			return nil, false, CheckDecryption, &token.Error{Reason: decision.DecryptionFailed, Msg: "token could not be decrypted", Err: err}
		}
		tr.Pass(CheckDecryption, "encrypted token (JWE) opened with a configured decryption key")
		jws = string(inner)
	} else {
		tr.Skip(CheckDecryption, "not encrypted (a signed JWS)")
	}
	p, terr := token.Parse(jws, v.maxBytes, v.allowed)
	if terr != nil {
		if tr.On() && terr.Reason == decision.AlgorithmNotAllowed {
			tr.Hint("allowed: " + v.allowedAlgorithms())
		}
		return nil, false, CheckHeader, terr
	}
	if tr.On() {
		tr.Header = &TraceHeader{Alg: p.Alg.Name, Kid: p.KeyID, Typ: p.Type, Encrypted: jws != tok}
		tr.Pass(CheckHeader, "alg "+p.Alg.Name+" (allowed), kid "+strconv.Quote(p.KeyID)+", typ "+strconv.Quote(p.Type))
	}
	if terr := p.ParseClaims(); terr != nil {
		return nil, false, CheckClaims, terr
	}
	reg, terr := readRegistered(p.Claims)
	if tr.On() {
		tr.Claims = p.Claims.AppendJSON(nil)
	}
	if terr != nil {
		return nil, false, CheckClaims, terr
	}
	if tr.On() {
		tr.Times = &TraceTimes{Now: now.Unix(), Skew: v.skew, Exp: reg.exp, HasExp: reg.hasExp, Nbf: reg.nbf, HasNbf: reg.hasNbf, Iat: reg.iat, HasIat: reg.hasIat}
		tr.Pass(CheckClaims, "a JSON object; iss, sub, exp, nbf, iat and scopes have valid types")
	}
	if len(v.types) > 0 {
		if !typeAllowed(p.Type, v.types) {
			if tr.On() {
				tr.Hint("token typ " + strconv.Quote(p.Type) + "; accepted: " + strings.Join(v.types, ", "))
			}
			return nil, false, CheckType, &token.Error{Reason: decision.TypeNotAllowed, Msg: "token typ is not accepted"}
		}
		if tr.On() {
			tr.Pass(CheckType, "typ "+strconv.Quote(p.Type)+" is one of "+strings.Join(v.types, ", "))
		}
	} else {
		tr.Skip(CheckType, "any typ accepted (JWTGATE_TOKEN_TYPES not set)")
	}
	// The issuer picks the key set before the signature is checked; it is
	// trusted only once the signature verifies with a key of that issuer.
	if reg.iss == "" {
		return nil, false, CheckIssuer, &token.Error{Reason: decision.IssuerInvalid, Msg: "token has no iss"}
	}
	if terr := v.checkIssuer(tr, &reg); terr != nil {
		return nil, false, CheckIssuer, terr
	}
	key, err := v.keys.Lookup(ctx, reg.iss, p.KeyID, p.Alg.Name)
	if err != nil && errors.Is(err, keys.ErrIssuerUnknown) {
		return nil, false, CheckIssuer, v.issuerRefused(tr, reg.iss)
	}
	if tr.On() {
		tr.Pass(CheckIssuer, strconv.Quote(reg.iss)+" is accepted")
	}
	sigOK := false
	// errors.As only when there is an error: its target escapes, and
	// declaring it on the success path would cost an allocation per token.
	if several := severalKeys(err); several != nil {
		// No kid singles out a key: each of the issuer's fitting keys is
		// tried, as APIM tries every key of a policy (a bounded few).
		key = several.Find(func(k *keys.Key) bool { return p.Alg.Verify(k, p.SigningInput, p.Signature) == nil })
		if key == nil {
			if tr.On() {
				tr.Pass(CheckKey, strconv.Itoa(len(several.Keys))+" keys fit the algorithm and no kid singles one out: each is tried")
			}
			return nil, false, CheckSignature, &token.Error{Reason: decision.SignatureInvalid, Msg: "signature does not verify with any of the issuer's keys"}
		}
		err, sigOK = nil, true
	}
	if err != nil {
		if tr.On() {
			tr.Hint(err.Error())
		}
		switch {
		case errors.Is(err, keys.ErrKeyMismatch): // also matches ErrKeyUnknown: first
			return nil, false, CheckKey, &token.Error{Reason: decision.KeyMismatch, Msg: "the key named by the token's kid does not fit its algorithm"}
		case errors.Is(err, keys.ErrKeyUnknown):
			return nil, false, CheckKey, &token.Error{Reason: decision.KeyUnknown, Msg: "no key of the issuer matches the token's kid"}
		default:
			return nil, true, CheckKey, &token.Error{Reason: decision.KeysUnavailable, Msg: "no usable keys for the issuer", Err: err}
		}
	}
	v.traceKey(tr, reg.iss, key)
	if !sigOK {
		if terr := p.Alg.Verify(key, p.SigningInput, p.Signature); terr != nil {
			return nil, false, CheckSignature, terr
		}
	}
	tr.Pass(CheckSignature, "verifies with the key")
	if terr := checkKeyIssuer(key, &reg); terr != nil {
		return nil, false, CheckKeyIssuer, terr
	}
	if tr.On() {
		if key.Issuer == "" {
			tr.Skip(CheckKeyIssuer, "the key has no issuer member")
		} else {
			tr.Pass(CheckKeyIssuer, "the key's issuer "+strconv.Quote(key.Issuer)+" is the token's")
		}
	}
	if v.tokenUse != "" && reg.tokenUse != v.tokenUse {
		msg := "token has no token_use (" + v.tokenUse + " required)"
		if reg.tokenUse != "" {
			msg = "token_use is not " + v.tokenUse
		}
		return nil, false, CheckTokenUse, &token.Error{Reason: decision.TokenUseInvalid, Msg: msg}
	}
	if tr.On() {
		if v.tokenUse == "" {
			tr.Skip(CheckTokenUse, "not checked (JWTGATE_TOKEN_USE not set)")
		} else {
			tr.Pass(CheckTokenUse, "token_use is "+v.tokenUse)
		}
	}
	if terr := audienceMatches(p.Claims, v.audiences, v.anyAud); terr != nil {
		if tr.On() {
			tr.Hint("accepted: " + strings.Join(v.audiences, ", "))
		}
		return nil, false, CheckAudience, terr
	}
	if tr.On() {
		if v.anyAud {
			tr.Pass(CheckAudience, "any audience accepted (JWTGATE_AUDIENCES=*)")
		} else {
			if p.Claims.Has("aud") {
				tr.Pass(CheckAudience, "the token's aud holds one of "+strings.Join(v.audiences, ", "))
			} else {
				tr.Pass(CheckAudience, "no aud: the token's client_id is one of "+strings.Join(v.audiences, ", "))
			}
		}
	}
	if !reg.hasExp && v.requireExp {
		return nil, false, CheckTimes, &token.Error{Reason: decision.ExpirationMissing, Msg: "token has no exp"}
	}
	if terr := v.checkTimes(&reg, now.Unix()); terr != nil {
		return nil, false, CheckTimes, terr
	}
	tr.Pass(CheckTimes, "within exp, nbf and iat (with the clock skew)")
	expires := now.Add(v.cacheTTL)
	if reg.hasExp {
		if e := time.Unix(reg.exp+v.skew, 0); e.Before(expires) {
			expires = e
		}
	}
	ver := &verified{tok: tok, claims: p.Claims, reg: reg, key: key, expires: expires, cnf: readConfirmation(p.Claims), forward: v.forward}
	if v.hasRules {
		ver.rules = rules.NewToken(p.Claims, p.Header)
	}
	return ver, false, "", nil
}

// severalKeys is the key source's "no kid singles out a key" answer, or nil.
func severalKeys(err error) *keys.SeveralKeysError {
	if err == nil {
		return nil
	}
	var several *keys.SeveralKeysError
	if errors.As(err, &several) {
		return several
	}
	return nil
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

// authorize applies scopes, required claims, route rules and CEL rules to
// a verified token. It runs on every request, cached token or not.
func (v *Validator) authorize(ver *verified, r *decision.Request, now time.Time, tr *Trace) decision.Decision {
	d := decision.Decision{
		Principal: ver.reg.sub,
		Issuer:    ver.reg.iss,
		KeyID:     ver.key.ID,
		Claims:    decision.LazyClaims(ver),
	}
	if ver.reg.hasExp {
		d.CacheUntil = time.Unix(ver.reg.exp, 0)
	} else {
		d.CacheUntil = ver.expires
	}
	if len(v.clients) > 0 && !contains(v.clients, ver.reg.clientID) {
		d.Outcome, d.Reason, d.Detail = decision.Forbidden, decision.ClientNotAllowed, "the calling application (azp, appid, client_id or cid) is not accepted"
		if v.clientAuth {
			d.Outcome = decision.Unauthenticated
		}
		if tr.On() {
			tr.Hint("client " + strconv.Quote(ver.reg.clientID) + "; accepted: " + strings.Join(v.clients, ", "))
			tr.Fail(CheckClient, &token.Error{Reason: d.Reason, Msg: d.Detail})
		}
		return d
	}
	if tr.On() {
		if len(v.clients) == 0 {
			tr.Skip(CheckClient, "any client (JWTGATE_CLIENT_IDS not set)")
		} else {
			tr.Pass(CheckClient, strconv.Quote(ver.reg.clientID)+" is accepted")
		}
	}
	// The path matters to route rules and to a top-level rule that reads it.
	ambiguous := false
	if r.Path != "" && (len(v.routes) > 0 || (v.rule != nil && v.rule.Reads().Path)) {
		ambiguous = ambiguousPath(r.Path)
	}
	path := normalizePath(r.Path)
	// The rules' input is built at most once, and only when a rule runs.
	var in *rules.Input
	input := func() *rules.Input {
		if in == nil {
			x := v.ruleInput(ver, r, path, now)
			in = &x
		}
		return in
	}
	// A top-level rule that reads only the token holds for every call or
	// for none: evaluate it first, so that route grants account for it.
	var top failure
	var topPlace, topKind string
	topDone := false
	if v.rule != nil && tokenOnly(v.rule) {
		top, topPlace, topKind = evalRule(v.rule, input())
		topDone = true
	}
	defFail := v.defaults.check(ver.claims, ver.reg.scopes)
	d.DefaultsSatisfied = defFail.ok() && top.ok()
	applied := defFail
	var place, kind string
	appliedReq := &v.defaults
	var appliedRule *decision.RouteGrant // the matched rule, for the trace only
	if len(v.routes) > 0 {
		d.RoutesConfigured = true
		segs := splitPath(path)
		matched := false
		for i := range v.routes {
			rt := &v.routes[i]
			isMatch := !matched && r.Method != "" && !ambiguous && rt.match(r.Method, segs)
			f := rt.req.check(ver.claims, ver.reg.scopes)
			var fPlace, fKind string
			// A grant holds for every call the rule covers: a when that
			// reads the request or the clock is judged per call, never
			// granted ahead.
			grantable := f.ok() && top.ok()
			if f.ok() && rt.when != nil {
				if tokenOnly(rt.when) || isMatch {
					f, fPlace, fKind = evalRule(rt.when, input())
				}
				grantable = grantable && f.ok() && tokenOnly(rt.when)
			}
			if grantable {
				d.Routes = append(d.Routes, rt.grant)
			} else {
				d.DeniedRoutes = append(d.DeniedRoutes, rt.grant)
			}
			if isMatch {
				matched = true
				applied, place, kind = f, fPlace, fKind
				appliedReq, appliedRule = &rt.req, &rt.grant
			}
		}
		if ambiguous {
			applied = failure{reason: decision.RouteDenied, detail: "request path is ambiguous (dot segments or encoded separators)"}
			place, kind = "", ""
			tr.failure(CheckRoutes, applied)
		} else if tr.On() {
			v.traceRoutes(tr, r, matched, ruleName(appliedRule))
		}
	} else {
		tr.Skip(CheckRoutes, "no route rules configured")
	}
	if tr.On() && applied.reason != decision.RouteDenied && applied.reason != decision.RuleDenied && applied.reason != decision.RuleError {
		traceRequirements(tr, appliedReq, applied, ver.reg.scopes, ruleName(appliedRule))
	}
	if applied.ok() && !top.ok() {
		applied, place, kind = top, topPlace, topKind
	}
	if v.rule != nil && !topDone {
		// The decision depends on this call: it must not be reused for
		// another one.
		d.PerCall = true
		if applied.ok() {
			if ambiguous && v.rule.Reads().Path {
				applied = failure{reason: decision.RouteDenied, detail: "request path is ambiguous (dot segments or encoded separators)"}
			} else {
				applied, place, kind = evalRule(v.rule, input())
			}
		}
	}
	if tr.On() && v.hasRules {
		traceRules(tr, applied, place, kind)
	}
	if !applied.ok() {
		d.Outcome = decision.Forbidden
		d.Reason = applied.reason
		d.Detail = applied.detail
		d.MissingScopes = applied.missing
		d.RulePlace, d.RuleFailure = place, kind
		return d
	}
	d.Outcome = decision.Allow
	d.Reason = decision.ReasonOK
	d.DeniedFields = deniedFields(v.fields, ver)
	return d
}

// ForwardedClaims is the map of the claims that adapters pass on, built
// the first time a decision's Claims are read (most in-process callers
// never read them) and then shared by every decision for this token:
// read-only. It implements decision.ClaimSource.
func (ver *verified) ForwardedClaims() map[string]any {
	ver.fwdOnce.Do(func() { ver.fwd = forwarded(&ver.reg, ver.claims, ver.forward) })
	return ver.fwd
}

// forwarded flattens the claims that adapters pass on: sub, iss, scope,
// client id, and the configured ones in forward (arrays joined with a
// space, objects as JSON text).
func forwarded(reg *registered, c jsonstrict.Object, forward []string) map[string]any {
	m := make(map[string]any, 4+len(forward))
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
	if reg.clientID != "" {
		m["client_id"] = reg.clientID
	}
	for _, name := range forward {
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
