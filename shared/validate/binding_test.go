package validate

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/clientcert"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
	"github.com/jwtgate/jwtgate/shared/replaystore"
)

const (
	boundHost = "api.example.com"
	boundPath = "/prod/orders/42"
	boundURL  = "https://" + boundHost + boundPath
)

type bindingFixture struct {
	t       *testing.T
	now     time.Time
	client  *devissuer.ProofSigner
	other   *devissuer.ProofSigner
	certDER []byte
	x5t     string
}

func newBindingFixture(t *testing.T) *bindingFixture {
	t.Helper()
	f := &bindingFixture{t: t, now: time.Unix(1_800_000_000, 0)}
	var err error
	if f.client, err = devissuer.NewProofSigner("ES256"); err != nil {
		t.Fatal(err)
	}
	if f.other, err = devissuer.NewProofSigner("ES256"); err != nil {
		t.Fatal(err)
	}
	if f.certDER, err = devissuer.NewClientCertificate(f.now); err != nil {
		t.Fatal(err)
	}
	f.x5t = clientcert.Thumbprint(f.certDER)
	return f
}

func (f *bindingFixture) token(cnf map[string]any) string {
	over := map[string]any{}
	if cnf != nil {
		over["cnf"] = cnf
	}
	return sign(f.t, "RS256", mustJSON(map[string]any{"alg": "RS256", "kid": "rsa1"}), mustJSON(claims(f.now, over)))
}

func (f *bindingFixture) proof(s *devissuer.ProofSigner, tok string, claims map[string]any) string {
	p, err := s.Proof("GET", boundURL, tok, f.now, claims, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *bindingFixture) request(auth string, proofs ...string) *decision.Request {
	h := http.Header{"Authorization": {auth}}
	if len(proofs) > 0 {
		h["Dpop"] = proofs
	}
	return &decision.Request{Header: h, Method: "GET", Path: "/orders/42", CalledHost: boundHost, CalledPath: boundPath}
}

type failingStore struct{}

func (failingStore) Remember(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("replay store unavailable: dial tcp: connection refused")
}
func (failingStore) Close() error { return nil }

func TestSenderConstrainedTokens(t *testing.T) {
	f := newBindingFixture(t)
	pemCert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.certDER}))
	dpopTok := f.token(map[string]any{"jkt": f.client.JKT})
	certTok := f.token(map[string]any{"x5t#S256": f.x5t})
	bothTok := f.token(map[string]any{"jkt": f.client.JKT, "x5t#S256": f.x5t})
	plainTok := f.token(nil)
	type tc struct {
		name      string
		req       func() *decision.Request
		edit      func(*bindingFixture)
		cfg       func(c *configEdit)
		store     replaystore.Store
		outcome   decision.Outcome
		reason    decision.Reason
		challenge bool // a DPoP challenge is due
	}
	cases := []tc{
		{name: "DPoP-bound token with its proof", req: func() *decision.Request { return f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, nil)) }, outcome: decision.Allow, reason: decision.ReasonOK, challenge: true},
		{name: "scheme is case-insensitive", req: func() *decision.Request { return f.request("dpop "+dpopTok, f.proof(f.client, dpopTok, nil)) }, outcome: decision.Allow, reason: decision.ReasonOK, challenge: true},
		{name: "DPoP-bound token as Bearer", req: func() *decision.Request { return f.request("Bearer "+dpopTok, f.proof(f.client, dpopTok, nil)) }, reason: decision.TokenBound, challenge: true},
		{name: "DPoP-bound token without a proof", req: func() *decision.Request { return f.request("DPoP " + dpopTok) }, reason: decision.DPoPProofInvalid, challenge: true},
		{name: "two DPoP headers", req: func() *decision.Request {
			p := f.proof(f.client, dpopTok, nil)
			return f.request("DPoP "+dpopTok, p, p)
		}, reason: decision.DPoPProofInvalid, challenge: true},
		{name: "proof larger than 8 KiB", req: func() *decision.Request {
			return f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, map[string]any{"pad": string(make([]byte, 9000))}))
		}, reason: decision.DPoPProofInvalid, challenge: true},
		{name: "proof by another key", req: func() *decision.Request { return f.request("DPoP "+dpopTok, f.proof(f.other, dpopTok, nil)) }, reason: decision.DPoPBindingMismatch, challenge: true},
		{name: "proof for another URL", req: func() *decision.Request {
			return f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, map[string]any{"htu": "https://api.example.com/prod/orders/43"}))
		}, reason: decision.DPoPProofInvalid, challenge: true},
		{name: "proof for another method", req: func() *decision.Request {
			return f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, map[string]any{"htm": "DELETE"}))
		}, reason: decision.DPoPProofInvalid, challenge: true},
		{name: "proof for another token", req: func() *decision.Request { return f.request("DPoP "+dpopTok, f.proof(f.client, plainTok, nil)) }, reason: decision.DPoPProofInvalid, challenge: true},
		{name: "proof too old", req: func() *decision.Request {
			return f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, map[string]any{"iat": f.now.Add(-91 * time.Second).Unix()}))
		}, reason: decision.DPoPProofInvalid, challenge: true},
		{name: "public URL replaces scheme and host", req: func() *decision.Request {
			r := f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, map[string]any{"htu": "https://gw.example.com/v1" + boundPath}))
			r.CalledHost = "internal:7071"
			return r
		}, cfg: func(c *configEdit) { c.publicURL = "https://gw.example.com/v1" }, outcome: decision.Allow, reason: decision.ReasonOK, challenge: true},
		{name: "no host and no public URL", req: func() *decision.Request {
			r := f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, nil))
			r.CalledHost = ""
			return r
		}, reason: decision.DPoPProofInvalid, challenge: true},
		{name: "plain token with the DPoP scheme", req: func() *decision.Request { return f.request("DPoP "+plainTok, f.proof(f.client, plainTok, nil)) }, reason: decision.DPoPBindingMismatch, challenge: true},
		{name: "plain token as Bearer", req: func() *decision.Request { return f.request("Bearer " + plainTok) }, outcome: decision.Allow, reason: decision.ReasonOK},
		{name: "plain token when bound tokens are required", req: func() *decision.Request { return f.request("Bearer " + plainTok) }, cfg: func(c *configEdit) { c.requireBound = true }, reason: decision.TokenNotBound},
		{name: "bound token when bound tokens are required", req: func() *decision.Request { return f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, nil)) }, cfg: func(c *configEdit) { c.requireBound = true }, outcome: decision.Allow, reason: decision.ReasonOK, challenge: true},
		{name: "unknown cnf member", req: func() *decision.Request {
			tok := f.token(map[string]any{"kid": "x"})
			return f.request("Bearer " + tok)
		}, reason: decision.TokenBound},
		{name: "cnf not an object", req: func() *decision.Request { return f.request("Bearer " + f.token(map[string]any{})) }, reason: decision.ClaimsMalformed},
		{name: "numeric cnf.jkt", req: func() *decision.Request { return f.request("DPoP " + f.token(map[string]any{"jkt": 1})) }, reason: decision.ClaimsMalformed, challenge: true},
		{name: "bound token at a REST TOKEN authorizer", req: func() *decision.Request {
			r := f.request("DPoP " + dpopTok)
			r.NoBindingChannel = true
			return r
		}, reason: decision.TokenBound, challenge: true},
		{name: "certificate-bound token at a REST TOKEN authorizer", req: func() *decision.Request {
			r := f.request("Bearer " + certTok)
			r.NoBindingChannel = true
			return r
		}, reason: decision.TokenBound},
		{name: "certificate-bound token with its certificate (PEM)", req: func() *decision.Request {
			r := f.request("Bearer " + certTok)
			r.ClientCert, r.ClientCertFromPlatform = pemCert, true
			return r
		}, outcome: decision.Allow, reason: decision.ReasonOK},
		{name: "certificate-bound token with its certificate in the configured header", req: func() *decision.Request {
			r := f.request("Bearer " + certTok)
			r.Header.Set("X-Arr-Clientcert", base64.StdEncoding.EncodeToString(f.certDER))
			return r
		}, cfg: func(c *configEdit) { c.certHeader = "X-ARR-ClientCert" }, outcome: decision.Allow, reason: decision.ReasonOK},
		{name: "certificate header ignored when not configured", req: func() *decision.Request {
			r := f.request("Bearer " + certTok)
			r.Header.Set("X-Arr-Clientcert", base64.StdEncoding.EncodeToString(f.certDER))
			return r
		}, reason: decision.CertificateMissing},
		{name: "certificate-bound token without a certificate", req: func() *decision.Request { return f.request("Bearer " + certTok) }, reason: decision.CertificateMissing},
		{name: "garbage in the certificate header", req: func() *decision.Request {
			r := f.request("Bearer " + certTok)
			r.Header.Set("X-Arr-Clientcert", "%%%garbage")
			return r
		}, cfg: func(c *configEdit) { c.certHeader = "X-ARR-ClientCert" }, reason: decision.CertificateMissing},
		{name: "another certificate", req: func() *decision.Request {
			r := f.request("Bearer " + certTok)
			other := newBindingFixture(t)
			r.ClientCert, r.ClientCertFromPlatform = base64.StdEncoding.EncodeToString(other.certDER), true
			return r
		}, reason: decision.CertificateBindingMismatch},
		{name: "token bound to both, with proof and certificate", req: func() *decision.Request {
			r := f.request("DPoP "+bothTok, f.proof(f.client, bothTok, nil))
			r.ClientCert, r.ClientCertFromPlatform = pemCert, true
			return r
		}, outcome: decision.Allow, reason: decision.ReasonOK, challenge: true},
		{name: "token bound to both, proof only", req: func() *decision.Request { return f.request("DPoP "+bothTok, f.proof(f.client, bothTok, nil)) }, reason: decision.CertificateMissing, challenge: true},
		{name: "replay store unreachable", req: func() *decision.Request { return f.request("DPoP "+dpopTok, f.proof(f.client, dpopTok, nil)) }, store: failingStore{}, outcome: decision.Unavailable, reason: decision.ReplayStoreUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edit := configEdit{}
			if c.cfg != nil {
				c.cfg(&edit)
			}
			v := edit.validator(t, f.now, c.store)
			d := v.Decide(context.Background(), c.req())
			if d.Outcome != c.outcome || d.Reason != c.reason {
				t.Fatalf("got %s/%s (%s), want %s/%s", d.Outcome, d.Reason, d.Detail, c.outcome, c.reason)
			}
			if c.outcome != decision.Unavailable && d.DPoP != c.challenge {
				t.Fatalf("DPoP challenge %v, want %v", d.DPoP, c.challenge)
			}
			if d.DPoP && len(d.DPoPAlgorithms) == 0 {
				t.Fatal("a DPoP decision without the accepted algorithms")
			}
			if d.Allowed() && (c.reason == decision.ReasonOK) {
				bound := c.name != "plain token as Bearer"
				if d.SenderConstrained != bound || (bound && !d.CacheUntil.IsZero()) {
					t.Fatalf("SenderConstrained=%v CacheUntil=%v for a decision that depended on a proof or certificate: %v", d.SenderConstrained, d.CacheUntil, bound)
				}
			}
		})
	}
}

func TestDPoPReplayIsRefusedAndNewProofsAccepted(t *testing.T) {
	f := newBindingFixture(t)
	v := configEdit{}.validator(t, f.now, nil)
	tok := f.token(map[string]any{"jkt": f.client.JKT})
	p1 := f.proof(f.client, tok, nil)
	for i, want := range []decision.Reason{decision.ReasonOK, decision.DPoPReplayed} {
		if d := v.Decide(context.Background(), f.request("DPoP "+tok, p1)); d.Reason != want {
			t.Fatalf("presentation %d: %s (%s), want %s", i+1, d.Reason, d.Detail, want)
		}
	}
	// The same token with a new proof: the token comes from the cache,
	// the proof is checked again.
	d := v.Decide(context.Background(), f.request("DPoP "+tok, f.proof(f.client, tok, nil)))
	if !d.Allowed() || !d.CacheHit {
		t.Fatalf("new proof for a cached token: %s/%s cacheHit=%v", d.Outcome, d.Reason, d.CacheHit)
	}
	// A proof refused for another reason is not used up.
	p3 := f.proof(f.client, tok, nil)
	bad := f.request("DPoP "+tok, p3)
	bad.Method = "POST"
	if d := v.Decide(context.Background(), bad); d.Reason != decision.DPoPProofInvalid {
		t.Fatalf("wrong method: %s", d.Reason)
	}
	if d := v.Decide(context.Background(), f.request("DPoP "+tok, p3)); !d.Allowed() {
		t.Fatalf("proof refused once for another request, then: %s/%s", d.Outcome, d.Reason)
	}
}

// configEdit adjusts baseConfig for one case.
type configEdit struct {
	publicURL    string
	certHeader   string
	requireBound bool
}

func (e configEdit) validator(t *testing.T, now time.Time, store replaystore.Store) *Validator {
	t.Helper()
	cfg := baseConfig()
	cfg.PublicURL = e.publicURL
	cfg.ClientCertHeader = e.certHeader
	cfg.RequireBoundTokens = e.requireBound
	opts := []Option{WithClock(func() time.Time { return now })}
	if store != nil {
		opts = append(opts, WithReplayStore(store))
	}
	v, err := New(cfg, newFakeKeys(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
