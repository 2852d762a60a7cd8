package validate

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/jwtgate/jwtgate/shared/clientcert"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/dpop"
	"github.com/jwtgate/jwtgate/shared/jsonstrict"
	"github.com/jwtgate/jwtgate/shared/replaystore"
	"github.com/jwtgate/jwtgate/shared/token"
)

// confirmation is a token's cnf claim (RFC 7800): the key (DPoP, RFC 9449)
// or certificate (RFC 8705) the token is bound to.
type confirmation struct {
	present bool
	jkt     string // cnf.jkt: RFC 7638 thumbprint of the DPoP key
	x5t     string // cnf["x5t#S256"]: SHA-256 of the client certificate
	err     *token.Error
}

// readConfirmation reads cnf strictly: an object whose members are jkt or
// x5t#S256, each a non-empty string. Any other member is a binding
// jwtgate cannot check, so the token is refused rather than accepted as a
// bearer token.
func readConfirmation(c jsonstrict.Object) confirmation {
	v, ok := c.Get("cnf")
	if !ok {
		return confirmation{}
	}
	out := confirmation{present: true}
	if v.Kind() != jsonstrict.KindObject || v.Object().Len() == 0 {
		out.err = malformed("cnf is not an object naming a confirmation method")
		return out
	}
	for name, m := range v.Object().All() {
		s, ok := m.String()
		switch {
		case name != "jkt" && name != "x5t#S256":
			out.err = &token.Error{Reason: decision.TokenBound, Msg: "the token is bound by a confirmation method jwtgate does not check (cnf member " + printableName(name) + ")"}
			return out
		case !ok || s == "":
			out.err = malformed("cnf." + name + " is not a non-empty string")
			return out
		case name == "jkt":
			out.jkt = s
		default:
			out.x5t = s
		}
	}
	return out
}

func printableName(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return string(b)
}

// bindingPolicy holds the sender-constraint settings.
type bindingPolicy struct {
	algs         map[string]bool
	algList      []string
	maxAge       time.Duration
	skew         time.Duration
	publicURL    string
	certHeader   string
	requireBound bool
	replay       replaystore.Store
}

func newBindingPolicy(cfg *config.Config) bindingPolicy {
	p := bindingPolicy{
		algs:         map[string]bool{},
		algList:      cfg.DPoPAlgorithms,
		maxAge:       cfg.DPoPMaxAge,
		skew:         cfg.ClockSkew,
		publicURL:    cfg.PublicURL,
		certHeader:   cfg.ClientCertHeader,
		requireBound: cfg.RequireBoundTokens,
	}
	if len(p.algList) == 0 {
		p.algList = config.DefaultDPoPAlgorithms
	}
	if p.maxAge <= 0 {
		p.maxAge = config.DefaultDPoPMaxAge
	}
	for _, a := range p.algList {
		// Symmetric algorithms never sign a proof, whatever the list says.
		if alg := token.LookupAlgorithm(a); alg != nil && a[:2] != "HS" {
			p.algs[a] = true
		}
	}
	return p
}

// WithReplayStore sets where DPoP proofs are remembered (default: a
// per-process memory store).
func WithReplayStore(s replaystore.Store) Option { return func(v *Validator) { v.binding.replay = s } }

// withChallenge marks a decision for a DPoP answer (RFC 9449 §7.1).
func (v *Validator) withChallenge(d decision.Decision, dpopChallenge bool) decision.Decision {
	if dpopChallenge {
		d.DPoP = true
		d.DPoPAlgorithms = v.binding.algList
	}
	return d
}

func (v *Validator) refuse(reason decision.Reason, msg string, dpopChallenge bool) *decision.Decision {
	d := v.withChallenge(decision.Decision{Outcome: decision.Unauthenticated, Reason: reason, Detail: msg}, dpopChallenge)
	return &d
}

// checkBinding enforces the token's cnf against the request: the DPoP proof
// for cnf.jkt, the client certificate for cnf.x5t#S256, and
// JWTGATE_REQUIRE_BOUND_TOKENS. constrained reports that the decision
// depended on a proof or certificate. A non-nil refusal is the answer.
func (v *Validator) checkBinding(ctx context.Context, ver *verified, tok string, dpopScheme bool, r *decision.Request, now time.Time) (constrained bool, refusal *decision.Decision) {
	cnf := &ver.cnf
	challenge := dpopScheme || cnf.jkt != ""
	if cnf.err != nil {
		return false, v.refuse(cnf.err.Reason, cnf.err.Msg, challenge)
	}
	if !cnf.present {
		if v.binding.requireBound {
			return false, v.refuse(decision.TokenNotBound, "only sender-constrained tokens are accepted (the token has no cnf)", dpopScheme)
		}
		if dpopScheme {
			return false, v.refuse(decision.DPoPBindingMismatch, "the DPoP scheme needs a DPoP-bound token (cnf.jkt), and this token has none", true)
		}
		return false, nil
	}
	if r.NoBindingChannel {
		return false, v.refuse(decision.TokenBound, "the token is sender-constrained and this authorizer cannot see a DPoP proof or client certificate (a REST TOKEN authorizer: use a REQUEST authorizer with the DPoP header in its identity sources)", challenge)
	}
	switch {
	case cnf.jkt != "" && !dpopScheme:
		return false, v.refuse(decision.TokenBound, "the token is DPoP-bound: send it with the DPoP scheme and a DPoP proof", true)
	case cnf.jkt == "" && dpopScheme:
		return false, v.refuse(decision.DPoPBindingMismatch, "the DPoP scheme needs a DPoP-bound token (cnf.jkt), and this token has none", true)
	}
	var proof *dpop.Proof
	if cnf.jkt != "" {
		var terr *token.Error
		if proof, terr = v.checkProof(r, tok, cnf.jkt, now); terr != nil {
			return false, v.refuse(terr.Reason, terr.Msg, true)
		}
	}
	if cnf.x5t != "" {
		if terr := v.checkCertificate(r, cnf.x5t); terr != nil {
			return false, v.refuse(terr.Reason, terr.Msg, challenge)
		}
	}
	if proof != nil {
		// Last, so that a request refused for another reason does not
		// use the proof up.
		fresh, err := v.binding.replay.Remember(ctx, proof.ReplayKey(), proof.ValidUntil(v.binding.maxAge, v.binding.skew))
		if err != nil {
			d := decision.Decision{Outcome: decision.Unavailable, Reason: decision.ReplayStoreUnavailable, Detail: "the DPoP replay store cannot be reached"}
			if errors.Is(err, replaystore.ErrFull) {
				d.Detail = "the DPoP replay store is full"
			}
			return false, &d
		}
		if !fresh {
			return false, v.refuse(decision.DPoPReplayed, "the DPoP proof was already used", true)
		}
	}
	return true, nil
}

// checkProof finds the one DPoP header and checks the proof in it.
func (v *Validator) checkProof(r *decision.Request, tok, jkt string, now time.Time) (*dpop.Proof, *token.Error) {
	vals := headerValues(r.Header, "Dpop")
	switch {
	case len(vals) == 0:
		return nil, &token.Error{Reason: decision.DPoPProofInvalid, Msg: "no DPoP header: a DPoP-bound token needs a proof"}
	case len(vals) > 1:
		return nil, &token.Error{Reason: decision.DPoPProofInvalid, Msg: "more than one DPoP header"}
	}
	p, terr := dpop.Parse(vals[0], func(a *token.Algorithm) bool { return v.binding.algs[a.Name] })
	if terr != nil {
		return nil, terr
	}
	if subtle.ConstantTimeCompare([]byte(p.Thumbprint), []byte(jkt)) != 1 {
		return nil, &token.Error{Reason: decision.DPoPBindingMismatch, Msg: "the DPoP proof is signed with another key than the token is bound to (cnf.jkt)"}
	}
	htu, ok := dpop.RequestURL(v.binding.publicURL, r.CalledHost, r.CalledPath)
	if !ok || r.Method == "" {
		return nil, &token.Error{Reason: decision.DPoPProofInvalid, Msg: "the request's URL or method is unknown, so the proof cannot be checked (set JWTGATE_PUBLIC_URL)"}
	}
	if terr := p.Check(dpop.Expect{Method: r.Method, URL: htu, AccessToken: tok, Now: now, MaxAge: v.binding.maxAge, Skew: v.binding.skew}); terr != nil {
		return nil, terr
	}
	return p, nil
}

// checkCertificate compares the client certificate with cnf.x5t#S256.
func (v *Validator) checkCertificate(r *decision.Request, x5t string) *token.Error {
	value, present := r.ClientCert, r.ClientCert != ""
	if !r.ClientCertFromPlatform && v.binding.certHeader != "" {
		vals := headerValues(r.Header, v.binding.certHeader)
		if len(vals) > 1 {
			return &token.Error{Reason: decision.CertificateMissing, Msg: "more than one " + v.binding.certHeader + " header"}
		}
		if len(vals) == 1 {
			value, present = vals[0], true
		}
	}
	if !present || value == "" {
		return &token.Error{Reason: decision.CertificateMissing, Msg: "the token is certificate-bound (cnf.x5t#S256) and the request has no client certificate"}
	}
	der, err := clientcert.Parse(value)
	if err != nil {
		return &token.Error{Reason: decision.CertificateMissing, Msg: "the client certificate value is not a readable certificate"}
	}
	if subtle.ConstantTimeCompare([]byte(clientcert.Thumbprint(der)), []byte(x5t)) != 1 {
		return &token.Error{Reason: decision.CertificateBindingMismatch, Msg: "the client certificate is not the one the token is bound to (cnf.x5t#S256)"}
	}
	return nil
}
