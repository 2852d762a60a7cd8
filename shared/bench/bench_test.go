package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/ed25519verify"
	"github.com/jwtgate/jwtgate/shared/rsaverify"
)

// distinctTokens is how many different tokens each case cycles through, so
// no case (and no CPU cache) sees one token only.
const distinctTokens = 64

// skew is the clock skew every validator is given (jwtgate's default).
const skew = 30 * time.Second

// world is everything the benchmarks share, built once.
type world struct {
	fx     *Fixture
	tokens map[string][]string // distinct tokens by algorithm
	pub    map[string]any      // raw public keys by kid
	kid    map[string]string   // kid by algorithm

	uncached *core.Core // verified-token cache disabled (TokenCacheSize = 0)
	cached   *core.Core // default cache

	jwxSet   jwk.Set
	gjParser *gjwt.Parser
	joseSet  jose.JSONWebKeySet
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

func getWorld(tb testing.TB) *world {
	tb.Helper()
	worldOnce.Do(func() { theWorld, worldErr = buildWorld() })
	if worldErr != nil {
		tb.Fatal(worldErr)
	}
	return theWorld
}

func buildWorld() (*world, error) {
	fx, err := NewFixture()
	if err != nil {
		return nil, err
	}
	w := &world{fx: fx, tokens: map[string][]string{}, pub: map[string]any{}, kid: map[string]string{}}
	for _, alg := range Algs {
		if w.tokens[alg], err = fx.MintN(alg, distinctTokens); err != nil {
			return nil, err
		}
		pk, err := fx.Keys[alg].PublicKey()
		if err != nil {
			return nil, err
		}
		var raw any
		if err := jwk.Export(pk, &raw); err != nil {
			return nil, err
		}
		kid, _ := pk.KeyID()
		w.kid[alg] = kid
		w.pub[kid] = raw
	}

	quiet := core.WithLogger(slog.New(slog.DiscardHandler))
	cfg, err := fx.Config()
	if err != nil {
		return nil, err
	}
	if w.cached, err = core.New(context.Background(), cfg, quiet); err != nil {
		return nil, err
	}
	cfg0, err := fx.Config()
	if err != nil {
		return nil, err
	}
	cfg0.TokenCacheSize = 0
	if w.uncached, err = core.New(context.Background(), cfg0, quiet); err != nil {
		return nil, err
	}

	if w.jwxSet, err = jwk.Parse(fx.JWKS); err != nil {
		return nil, err
	}
	w.gjParser = gjwt.NewParser(
		gjwt.WithValidMethods(Algs),
		gjwt.WithAudience(Audience),
		gjwt.WithIssuer(Issuer),
		gjwt.WithExpirationRequired(),
		gjwt.WithIssuedAt(),
		gjwt.WithLeeway(skew),
	)
	if err := json.Unmarshal(fx.JWKS, &w.joseSet); err != nil {
		return nil, err
	}
	return w, nil
}

var errScope = errors.New("required scope missing")

func hasScope(scope string) bool {
	for s := range strings.FieldsSeq(scope) {
		if s == RequiredScope {
			return true
		}
	}
	return false
}

// checker validates the i-th token of a case.
type checker func(i int) error

// floor returns the bare standard-library signature check of each token:
// hash and verify, with the signature already decoded (as the signature
// bytes of a parsed token would be).
func (w *world) floor(tb testing.TB, alg string, toks []string, asn1Form bool) checker {
	inputs, sigs := signed(tb, toks)
	rs := make([][2]*big.Int, len(sigs))
	for i, sig := range sigs {
		if alg == "ES256" {
			rs[i] = [2]*big.Int{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])}
			if asn1Form {
				der, err := asn1.Marshal(struct{ R, S *big.Int }{rs[i][0], rs[i][1]})
				if err != nil {
					tb.Fatal(err)
				}
				sigs[i] = der
			}
		}
	}
	pub := w.pub[w.kid[alg]]
	switch alg {
	case "RS256":
		k := pub.(*rsa.PublicKey)
		return func(i int) error {
			h := sha256.Sum256(inputs[i])
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sigs[i])
		}
	case "ES256":
		k := pub.(*ecdsa.PublicKey)
		if asn1Form {
			return func(i int) error {
				h := sha256.Sum256(inputs[i])
				if !ecdsa.VerifyASN1(k, h[:], sigs[i]) {
					return errors.New("bad signature")
				}
				return nil
			}
		}
		return func(i int) error {
			h := sha256.Sum256(inputs[i])
			if !ecdsa.Verify(k, h[:], rs[i][0], rs[i][1]) {
				return errors.New("bad signature")
			}
			return nil
		}
	case "EdDSA":
		k := pub.(ed25519.PublicKey)
		return func(i int) error {
			if !ed25519.Verify(k, inputs[i], sigs[i]) {
				return errors.New("bad signature")
			}
			return nil
		}
	}
	tb.Fatalf("no floor for %s", alg)
	return nil
}

// signed splits tokens into signing inputs and decoded signatures.
func signed(tb testing.TB, toks []string) (inputs, sigs [][]byte) {
	for _, t := range toks {
		dot := strings.LastIndexByte(t, '.')
		sig, err := base64.RawURLEncoding.DecodeString(t[dot+1:])
		if err != nil {
			tb.Fatal(err)
		}
		inputs, sigs = append(inputs, []byte(t[:dot])), append(sigs, sig)
	}
	return inputs, sigs
}

// floorPrepared is the signature check jwtgate itself runs, on the key
// prepared once (shared/rsaverify, shared/ed25519verify): the floor minus
// the per-call key set-up crypto/rsa and crypto/ed25519 repeat. jwtgate
// uncached ÷ this is what jwtgate adds around its own signature check.
func (w *world) floorPrepared(tb testing.TB, alg string, toks []string) checker {
	inputs, sigs := signed(tb, toks)
	switch pub := w.pub[w.kid[alg]].(type) {
	case *rsa.PublicKey:
		k := rsaverify.New(pub)
		return func(i int) error {
			h := sha256.Sum256(inputs[i])
			return k.VerifyPKCS1v15(crypto.SHA256, h[:], sigs[i])
		}
	case ed25519.PublicKey:
		k := ed25519verify.New(pub)
		return func(i int) error {
			if !k.Verify(inputs[i], sigs[i]) {
				return errors.New("bad signature")
			}
			return nil
		}
	}
	return nil
}

// jwtgate decides each token's request through the core (full checks:
// signature, iss, aud, exp/nbf/iat, required scope). Requests are built
// before the loop, as an adapter would have built them from its event.
func (w *world) jwtgate(c *core.Core, toks []string, wantHit bool) checker {
	reqs := make([]*decision.Request, len(toks))
	for i, t := range toks {
		reqs[i] = Request(t)
	}
	ctx := context.Background()
	return func(i int) error {
		d := c.Decide(ctx, reqs[i%len(reqs)])
		if d.Outcome != decision.Allow {
			return fmt.Errorf("jwtgate: %s %s: %s", d.Outcome, d.Reason, d.Detail)
		}
		if d.CacheHit != wantHit {
			return fmt.Errorf("jwtgate: cache hit %v, want %v", d.CacheHit, wantHit)
		}
		return nil
	}
}

// jwx parses with a key set and validation on (iss, aud, exp required,
// skew), then reads the scope claim.
func (w *world) jwx(toks []string) checker {
	bs := make([][]byte, len(toks))
	for i, t := range toks {
		bs[i] = []byte(t)
	}
	return func(i int) error {
		t, err := jwxjwt.Parse(bs[i],
			jwxjwt.WithKeySet(w.jwxSet),
			jwxjwt.WithValidate(true),
			jwxjwt.WithIssuer(Issuer),
			jwxjwt.WithAudience(Audience),
			jwxjwt.WithRequiredClaim("exp"),
			jwxjwt.WithAcceptableSkew(skew),
		)
		if err != nil {
			return err
		}
		var scope string
		if err := t.Get("scope", &scope); err != nil || !hasScope(scope) {
			return errScope
		}
		return nil
	}
}

// golangJWT parses with a kid → key keyfunc and the parser's own checks
// (valid methods, aud, iss, exp required, iat, leeway), then the scope.
func (w *world) golangJWT(toks []string) checker {
	keyfunc := func(t *gjwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := w.pub[kid]; ok {
			return k, nil
		}
		return nil, errors.New("unknown kid")
	}
	return func(i int) error {
		t, err := w.gjParser.Parse(toks[i], keyfunc)
		if err != nil {
			return err
		}
		c, _ := t.Claims.(gjwt.MapClaims)
		if s, _ := c["scope"].(string); !hasScope(s) {
			return errScope
		}
		return nil
	}
}

// goJose parses with the allowed algorithms, verifies against the JWKS
// (key chosen by kid), validates iss, aud, exp/nbf/iat with leeway and
// requires exp, then the scope.
func (w *world) goJose(toks []string) checker {
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}
	return func(i int) error {
		t, err := josejwt.ParseSigned(toks[i], algs)
		if err != nil {
			return err
		}
		var std josejwt.Claims
		var extra struct {
			Scope string `json:"scope"`
		}
		if err := t.Claims(w.joseSet, &std, &extra); err != nil {
			return err
		}
		if std.Expiry == nil {
			return errors.New("no exp")
		}
		if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: Issuer, AnyAudience: josejwt.Audience{Audience}, Time: time.Now()}, skew); err != nil {
			return err
		}
		if !hasScope(extra.Scope) {
			return errScope
		}
		return nil
	}
}

type benchCase struct {
	name string
	c    checker
}

func (w *world) cases(b *testing.B, alg string) []benchCase {
	toks := w.tokens[alg]
	cs := []benchCase{{"floor", w.floor(b, alg, toks, false)}}
	if p := w.floorPrepared(b, alg, toks); p != nil {
		cs = append(cs, benchCase{"floor-prepared", p})
	}
	if alg == "ES256" {
		cs = append(cs, benchCase{"floor-asn1", w.floor(b, alg, toks, true)})
	}
	// The cached case repeats one token; it is decided once before the
	// loop so every timed call is a hit.
	one := toks[:1]
	cached := w.jwtgate(w.cached, one, true)
	if d := w.cached.Decide(context.Background(), Request(one[0])); d.Outcome != decision.Allow {
		b.Fatalf("jwtgate: %s %s", d.Outcome, d.Reason)
	}
	return append(cs,
		benchCase{"jwtgate-uncached", w.jwtgate(w.uncached, toks, false)},
		benchCase{"jwtgate-cached", cached},
		benchCase{"jwx", w.jwx(toks)},
		benchCase{"golang-jwt", w.golangJWT(toks)},
		benchCase{"go-jose", w.goJose(toks)},
	)
}

// BenchmarkValidate compares, for each algorithm on the same tokens: the
// signature floor, jwtgate without and with its verified-token cache, and
// the peers. Uncached means TokenCacheSize = 0 (every call parses and
// verifies) while cycling through distinctTokens pre-minted tokens; the
// peers cycle through the same tokens.
func BenchmarkValidate(b *testing.B) {
	w := getWorld(b)
	for _, alg := range Algs {
		b.Run(alg, func(b *testing.B) {
			for _, bc := range w.cases(b, alg) {
				b.Run(bc.name, func(b *testing.B) {
					if err := bc.c(0); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					n := 0
					for b.Loop() {
						if err := bc.c(n % distinctTokens); err != nil {
							b.Fatal(err)
						}
						n++
					}
				})
			}
		})
	}
}

// BenchmarkParallel runs the floor and jwtgate from GOMAXPROCS goroutines,
// for `-cpu 1,2` scaling and the mutex profile: ns/op falls with more
// cores unless something serialises the requests.
func BenchmarkParallel(b *testing.B) {
	w := getWorld(b)
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			cs := w.cases(b, alg)
			for _, bc := range cs {
				if !slices.Contains([]string{"floor", "jwtgate-uncached", "jwtgate-cached"}, bc.name) {
					continue
				}
				b.Run(bc.name, func(b *testing.B) {
					b.ReportAllocs()
					var seq atomic.Int64
					var failed atomic.Value
					b.RunParallel(func(pb *testing.PB) {
						n := int(seq.Add(1)) * 7
						for pb.Next() {
							if err := bc.c(n % distinctTokens); err != nil {
								failed.Store(err)
								return
							}
							n++
						}
					})
					if err, _ := failed.Load().(error); err != nil {
						b.Fatal(err)
					}
				})
			}
		})
	}
}

// BenchmarkPaired times the floor, jwtgate (uncached) and each peer on
// the same token within each iteration, rotating their order, and reports
// jwtgate's time as a ratio of each: on a shared, loaded machine both sides
// of every ratio see the same load, so the ratios are steadier than ratios
// of separate benchmarks. ns/op is the sum of all five and means little.
func BenchmarkPaired(b *testing.B) {
	w := getWorld(b)
	for _, alg := range Algs {
		b.Run(alg, func(b *testing.B) {
			toks := w.tokens[alg]
			names := []string{"floor", "jwtgate", "jwx", "golang-jwt", "go-jose"}
			cs := []checker{w.floor(b, alg, toks, false), w.jwtgate(w.uncached, toks, false), w.jwx(toks), w.golangJWT(toks), w.goJose(toks)}
			if p := w.floorPrepared(b, alg, toks); p != nil {
				names, cs = append(names, "floor-prepared"), append(cs, p)
			}
			spent := make([]time.Duration, len(cs))
			n := 0
			for b.Loop() {
				for k := range cs {
					j := (n + k) % len(cs)
					t0 := time.Now()
					if err := cs[j](n % distinctTokens); err != nil {
						b.Fatal(err)
					}
					spent[j] += time.Since(t0)
				}
				n++
			}
			for j, name := range names {
				if j != 1 && spent[j] > 0 {
					b.ReportMetric(float64(spent[1])/float64(spent[j]), "jwtgate/"+name)
				}
			}
		})
	}
}

// TestEveryCaseAcceptsItsTokens checks that each benchmarked path really
// validates the fixture tokens (and so does the work it is timed for),
// and refuses a token whose signature was altered.
func TestEveryCaseAcceptsItsTokens(t *testing.T) {
	w := getWorld(t)
	for _, alg := range Algs {
		toks := w.tokens[alg]
		bad := make([]string, len(toks))
		for i, tok := range toks {
			// Flip one bit inside the signature's first character.
			dot := strings.LastIndexByte(tok, '.')
			c := tok[dot+1]
			r := byte('A')
			if c == 'A' {
				r = 'B'
			}
			bad[i] = tok[:dot+1] + string(r) + tok[dot+2:]
		}
		checks := map[string][2]checker{
			"floor":            {w.floor(t, alg, toks, false), w.floor(t, alg, bad, false)},
			"jwtgate-uncached": {w.jwtgate(w.uncached, toks, false), w.jwtgate(w.uncached, bad, false)},
			"jwx":              {w.jwx(toks), w.jwx(bad)},
			"golang-jwt":       {w.golangJWT(toks), w.golangJWT(bad)},
			"go-jose":          {w.goJose(toks), w.goJose(bad)},
		}
		if alg == "ES256" {
			checks["floor-asn1"] = [2]checker{w.floor(t, alg, toks, true), w.floor(t, alg, bad, true)}
		}
		if p := w.floorPrepared(t, alg, toks); p != nil {
			checks["floor-prepared"] = [2]checker{p, w.floorPrepared(t, alg, bad)}
		}
		for name, c := range checks {
			t.Run(alg+"/"+name, func(t *testing.T) {
				if err := c[0](3); err != nil {
					t.Fatalf("valid token refused: %v", err)
				}
				if err := c[1](3); err == nil {
					t.Fatal("token with an altered signature accepted")
				}
			})
		}
	}
}

// benchRules are three representative CEL rules (the same shapes as
// shared/rules' and shared/validate's BenchmarkEval / BenchmarkDecideCachedRule):
// a claim list or the method; a path segment and a claim prefix; a header
// and a time window (a window that always holds, since the benchmark runs
// at any hour).
var benchRules = []struct{ name, expr string }{
	{"rule-role-or-read", `"write:orders" in claims.permissions || request.method == "GET"`},
	{"rule-tenant-in-path", `request.path.split("/")[1] == "orders" && claims.sub.startsWith("auth0|")`},
	{"rule-header-and-hours", `request.headers["x-tenant"] == "acme" && now.getHours("UTC") >= 0 && now.getHours("UTC") <= 23`},
}

// BenchmarkRule is what a CEL rule adds to a cached-token decision: the
// cached case without a rule, then each rule as JWTGATE_RULE (target: at
// most 2 µs more than jwtgate-cached). The request carries a few typical
// headers beside the token.
func BenchmarkRule(b *testing.B) {
	w := getWorld(b)
	const alg = "RS256"
	tok := w.tokens[alg][0]
	req := Request(tok)
	req.Header.Set("X-Tenant", "acme")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Host", "api.example.com")
	run := func(b *testing.B, c *core.Core) {
		ctx := context.Background()
		if d := c.Decide(ctx, req); d.Outcome != decision.Allow {
			b.Fatalf("jwtgate: %s %s: %s", d.Outcome, d.Reason, d.Detail)
		}
		b.ReportAllocs()
		for b.Loop() {
			if d := c.Decide(ctx, req); d.Outcome != decision.Allow || !d.CacheHit {
				b.Fatalf("jwtgate: %s %s: %s", d.Outcome, d.Reason, d.Detail)
			}
		}
	}
	b.Run(alg+"/jwtgate-cached", func(b *testing.B) { run(b, w.cached) })
	for _, r := range benchRules {
		c, err := ruleCore(w, r.expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/"+r.name, func(b *testing.B) { run(b, c) })
	}
}

// ruleCore is the cached core with a top-level rule.
func ruleCore(w *world, expr string) (*core.Core, error) {
	cfg, err := w.fx.Config()
	if err != nil {
		return nil, err
	}
	cfg.Rule = expr
	return core.New(context.Background(), cfg, core.WithLogger(slog.New(slog.DiscardHandler)))
}

// TestRulesHoldAndRefuse: each benchmarked rule allows the benchmark's
// request (so the benchmark times a full evaluation) and refuses a request
// it must refuse.
func TestRulesHoldAndRefuse(t *testing.T) {
	w := getWorld(t)
	tok := w.tokens["RS256"][0]
	for _, r := range benchRules {
		c, err := ruleCore(w, r.expr)
		if err != nil {
			t.Fatal(err)
		}
		ok := Request(tok)
		ok.Header.Set("X-Tenant", "acme")
		if d := c.Decide(context.Background(), ok); d.Outcome != decision.Allow {
			t.Errorf("%s: %s %s", r.name, d.Outcome, d.Reason)
		}
		bad := Request(tok)
		bad.Method, bad.Path = "POST", "/invoices/1"
		bad.Header.Set("X-Tenant", "other")
		if r.name == "rule-role-or-read" {
			continue // the token holds write:orders: any method passes
		}
		if d := c.Decide(context.Background(), bad); d.Outcome != decision.Forbidden || d.Reason != decision.RuleDenied {
			t.Errorf("%s: %s %s, want rule_denied", r.name, d.Outcome, d.Reason)
		}
	}
}
