// Command instr runs one validation case a fixed number of times so that
// valgrind's callgrind can count its instructions. Instruction counts do not
// depend on what else the machine is doing, so the ratio of jwtgate's
// uncached validation to the bare signature check (the floor) can be taken
// on a shared, noisy machine. `make bench` runs it for each algorithm:
//
//	valgrind --tool=callgrind --collect-atstart=no --toggle-collect=main.loop \
//	    instr -alg RS256 -case jwtgate -n 200
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"

	"github.com/jwtgate/jwtgate/shared/bench"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/ed25519verify"
	"github.com/jwtgate/jwtgate/shared/rsaverify"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

func main() {
	alg := flag.String("alg", "RS256", "RS256, ES256 or EdDSA")
	which := flag.String("case", "jwtgate", "floor, floor-prepared (RS256, EdDSA: jwtgate's own check on a key prepared once), jwtgate, entra, cognito (provider-style tokens and checks; -plain: the same tokens without the checks), dpop (an -alg token bound to a fresh ES256 DPoP proof per call, in-memory replay store), or dpop-repeat (one cached -alg token, a fresh ES256 proof per call)")
	n := flag.Int("n", 200, "iterations")
	flag.Parse()
	if err := run(*alg, *which, *n); err != nil {
		fmt.Fprintln(os.Stderr, "instr:", err)
		os.Exit(1)
	}
}

func run(alg, which string, n int) error {
	f, err := bench.NewFixture()
	if err != nil {
		return err
	}
	toks, err := f.MintN(alg, 16)
	if err != nil {
		return err
	}
	var check func(tok string) bool
	switch which {
	case "floor":
		pub, err := publicKey(f.Keys[alg])
		if err != nil {
			return err
		}
		check = func(tok string) bool { return floor(alg, pub, tok) }
	case "floor-prepared":
		// The check jwtgate runs itself: the key prepared once.
		pub, err := publicKey(f.Keys[alg])
		if err != nil {
			return err
		}
		verify, err := preparedFloor(alg, pub)
		if err != nil {
			return err
		}
		check = verify
	case "jwtgate":
		cfg, err := f.Config()
		if err != nil {
			return err
		}
		cfg.TokenCacheSize = 0
		c, err := core.New(context.Background(), cfg)
		if err != nil {
			return err
		}
		reqs := map[string]*decision.Request{}
		for _, t := range toks {
			reqs[t] = bench.Request(t)
		}
		check = func(tok string) bool { return c.Decide(context.Background(), reqs[tok]).Outcome == decision.Allow }
	case "entra", "entra-plain", "cognito", "cognito-plain":
		// The Entra / Cognito budget: a provider-style token through the
		// configuration with the provider's checks, or the plain one.
		style, plain := strings.CutSuffix(which, "-plain")
		if toks, err = f.MintStyle(style, alg, 16); err != nil {
			return err
		}
		cfg, err := f.StyleConfig(style, !plain)
		if err != nil {
			return err
		}
		cfg.TokenCacheSize = 0
		c, err := core.New(context.Background(), cfg)
		if err != nil {
			return err
		}
		reqs := map[string]*decision.Request{}
		for _, t := range toks {
			reqs[t] = bench.Request(t)
		}
		check = func(tok string) bool { return c.Decide(context.Background(), reqs[tok]).Outcome == decision.Allow }
	case "dpop":
		if check, toks, err = dpopCase(f, alg, n); err != nil {
			return err
		}
	case "dpop-repeat":
		if check, toks, err = dpopRepeatCase(f, alg, n); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown case %q", which)
	}
	for _, t := range toks { // warm: first-use costs are not per-token costs
		if !check(t) {
			return fmt.Errorf("%s refused its token", which)
		}
	}
	if bad := loop(check, toks, n); bad > 0 {
		return fmt.Errorf("%d checks failed", bad)
	}
	return nil
}

// dpopCase: 16 distinct tokens bound (cnf.jkt) to one ES256 client key,
// and a fresh proof for every call (made before the measured loop), so
// each call verifies the token, the proof and records the proof.
func dpopCase(f *bench.Fixture, alg string, n int) (func(string) bool, []string, error) {
	withGC := setupWithoutGC()
	client, err := devissuer.NewProofSigner("ES256")
	if err != nil {
		return nil, nil, err
	}
	toks := make([]string, 16)
	for i := range toks {
		c := f.Claims()
		c["cnf"] = map[string]any{"jkt": client.JKT}
		if toks[i], err = devissuer.Sign(f.Keys[alg], c, nil); err != nil {
			return nil, nil, err
		}
	}
	cfg, err := f.Config()
	if err != nil {
		return nil, nil, err
	}
	cfg.TokenCacheSize = 0
	cfg.DPoPMaxAge = config.MaxDPoPMaxAge // valgrind is slow: the proofs must outlive the setup
	c, err := core.New(context.Background(), cfg)
	if err != nil {
		return nil, nil, err
	}
	const htu = "https://api.example.com/orders/42"
	reqs := make([]*decision.Request, n+len(toks))
	for i := range reqs {
		tok := toks[i%len(toks)]
		p, err := client.Proof(http.MethodGet, htu, tok, f.Now, nil, nil)
		if err != nil {
			return nil, nil, err
		}
		r := bench.Request(tok)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set("DPoP", p)
		r.CalledHost, r.CalledPath = "api.example.com", "/orders/42"
		reqs[i] = r
	}
	next := 0
	return withGC(func(string) bool {
		r := reqs[next]
		next++
		return c.Decide(context.Background(), r).Outcome == decision.Allow
	}), toks, nil
}

// loop is the measured region (callgrind --toggle-collect=main.loop).
//
//go:noinline
func loop(check func(string) bool, toks []string, n int) int {
	bad := 0
	for i := 0; i < n; i++ {
		if !check(toks[i%len(toks)]) {
			bad++
		}
	}
	return bad
}

func publicKey(k jwk.Key) (any, error) {
	pk, err := k.PublicKey()
	if err != nil {
		return nil, err
	}
	var raw any
	if err := jwk.Export(pk, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// preparedFloor is jwtgate's own signature check on a key prepared once
// (shared/rsaverify, shared/ed25519verify), for RS256 and EdDSA.
func preparedFloor(alg string, pub any) (func(string) bool, error) {
	sigOf := func(tok string) (string, []byte, bool) {
		i := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
		return tok[:i], sig, err == nil
	}
	switch alg {
	case "RS256":
		k := rsaverify.New(pub.(*rsa.PublicKey))
		return func(tok string) bool {
			in, sig, ok := sigOf(tok)
			h := sha256.Sum256([]byte(in))
			return ok && k.VerifyPKCS1v15(crypto.SHA256, h[:], sig) == nil
		}, nil
	case "EdDSA":
		k := ed25519verify.New(pub.(ed25519.PublicKey))
		return func(tok string) bool {
			in, sig, ok := sigOf(tok)
			return ok && k.Verify([]byte(in), sig)
		}, nil
	}
	return nil, fmt.Errorf("no prepared floor for %s", alg)
}

// floor is the bare standard-library signature check of the token.
func floor(alg string, pub any, tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return false
	}
	switch alg {
	case "RS256":
		h := sha256.Sum256([]byte(tok[:i]))
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, h[:], sig) == nil
	case "ES256":
		h := sha256.Sum256([]byte(tok[:i]))
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub.(*ecdsa.PublicKey), h[:], r, s)
	case "EdDSA":
		return ed25519.Verify(pub.(ed25519.PublicKey), []byte(tok[:i]), sig)
	}
	return false
}
