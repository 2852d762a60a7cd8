package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// kvList collects repeated k=v flags.
type kvList []string

func (l *kvList) String() string     { return strings.Join(*l, ",") }
func (l *kvList) Set(v string) error { *l = append(*l, v); return nil }

// mintRequest describes a dev token.
type mintRequest struct {
	issuer  string
	sub     string
	aud     string // comma-separated: one value is a string claim, several an array
	scope   string
	exp     string // a duration from now ("1h"), a Unix time, or RFC 3339
	claims  []string
	headers []string
	now     time.Time
}

// buildClaims turns a mint request into a claims set and header overrides.
// Extra claim values are JSON when they parse as JSON (numbers, true,
// arrays, objects, "quoted strings") and plain strings otherwise.
func buildClaims(r mintRequest) (map[string]any, map[string]any, error) {
	c := map[string]any{"iss": r.issuer, "iat": r.now.Unix()}
	if r.sub != "" {
		c["sub"] = r.sub
	}
	if r.scope != "" {
		c["scope"] = r.scope
	}
	if r.aud != "" {
		auds := strings.Split(r.aud, ",")
		if len(auds) == 1 {
			c["aud"] = auds[0]
		} else {
			c["aud"] = auds
		}
	}
	if r.exp != "" {
		exp, err := parseExp(r.exp, r.now)
		if err != nil {
			return nil, nil, err
		}
		c["exp"] = exp
	}
	for _, kv := range r.claims {
		k, v, err := splitKV(kv)
		if err != nil {
			return nil, nil, fmt.Errorf("--claim: %w", err)
		}
		c[k] = jsonOrString(v)
	}
	h := map[string]any{"typ": "at+jwt"}
	for _, kv := range r.headers {
		k, v, err := splitKV(kv)
		if err != nil {
			return nil, nil, fmt.Errorf("--header: %w", err)
		}
		h[k] = jsonOrString(v)
	}
	return c, h, nil
}

func splitKV(kv string) (string, string, error) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return "", "", fmt.Errorf("want name=value, got %q", kv)
	}
	return k, v, nil
}

func jsonOrString(v string) any {
	var x any
	if json.Unmarshal([]byte(v), &x) == nil {
		return x
	}
	return v
}

// parseExp reads an expiry: a Go duration from now (negative for an
// expired token), a Unix time, or an RFC 3339 time.
func parseExp(s string, now time.Time) (int64, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d).Unix(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	return 0, errors.New("--exp: want a duration (1h, -5m), a Unix time or an RFC 3339 time")
}

func cmdMint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	r := mintRequest{now: time.Now()}
	key := fs.String("key", filepath.Join("events", KeyFileName), "private JWK to sign with (test-only dev key)")
	addr := fs.String("addr", DefaultAddr, "dev issuer address (iss is http://<addr> unless --iss)")
	fs.StringVar(&r.issuer, "iss", "", "iss claim (default http://<addr>)")
	fs.StringVar(&r.sub, "sub", SampleSubject, "sub claim")
	fs.StringVar(&r.aud, "aud", SampleAudience, "aud claim (comma-separated for an array)")
	fs.StringVar(&r.scope, "scope", RequiredScope, "scope claim (space-separated)")
	fs.StringVar(&r.exp, "exp", "1h", "expiry: duration from now (1h, -5m), Unix time or RFC 3339")
	fs.Var((*kvList)(&r.claims), "claim", "extra claim name=value (value parsed as JSON when it is JSON); repeatable")
	fs.Var((*kvList)(&r.headers), "header", "protected header name=value (e.g. typ=JWT); repeatable")
	if err := fs.Parse(args); err != nil {
		return exitSetup
	}
	if r.issuer == "" {
		r.issuer = "http://" + *addr
	}
	claims, headers, err := buildClaims(r)
	if err != nil {
		fmt.Fprintln(stderr, "mint:", err)
		return exitSetup
	}
	k, err := devissuer.LoadKey(*key)
	if err != nil {
		fmt.Fprintln(stderr, "mint:", err)
		return exitSetup
	}
	tok, err := devissuer.Sign(k, claims, headers)
	if err != nil {
		fmt.Fprintln(stderr, "mint:", err)
		return exitSetup
	}
	fmt.Fprintln(stdout, tok)
	return exitOK
}
