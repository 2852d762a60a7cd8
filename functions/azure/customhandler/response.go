package customhandler

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// answer is one rendered decision, written either directly (proxy,
// forward-auth) or into the invocation response's output binding.
type answer struct {
	status int
	// The headers beyond the common ones (setCommonHeaders), each a
	// one-value slice ready for an http.Header (nil: not sent). A constant
	// value (the challenge without an error, Retry-After) is shared by
	// every answer and must never be modified in place, like the common
	// headers' values.
	challenge  []string // WWW-Authenticate
	retryAfter []string // Retry-After
	// Identity headers of an allow: ids[i].header is sent with idVals[i]
	// when that is not "" (ids is the handler's claimHdrs, shared).
	ids    []claimHeader
	idVals []string
	body   []byte
	// bodyBuf, when set, is the pooled buffer body lives in: release
	// returns it once the body is written.
	bodyBuf *[]byte
	outcome string
	reason  string
	detail  string
}

// header is the answer's whole header set (the invocation response's
// output binding, tests).
func (a *answer) header() http.Header {
	h := make(http.Header, 5+len(a.ids))
	a.setHeaders(h)
	return h
}

// setHeaders sets the common headers, then the answer's own (which may
// replace a common one, as a configured identity header may).
func (a *answer) setHeaders(h http.Header) {
	setCommonHeaders(h)
	if a.challenge != nil {
		h[headerWWWAuthenticate] = a.challenge
	}
	if a.retryAfter != nil {
		h["Retry-After"] = a.retryAfter
	}
	for i, ch := range a.ids {
		if a.idVals[i] != "" {
			h[ch.header] = a.idVals[i : i+1 : i+1]
		}
	}
}

// release returns the body's pooled buffer; the body is unusable after.
func (a *answer) release() {
	if a.bodyBuf != nil {
		*a.bodyBuf = a.body[:0]
		if cap(a.body) <= 16<<10 {
			bodyPool.Put(a.bodyBuf)
		}
		a.body, a.bodyBuf = nil, nil
	}
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// body is the JSON body of every decision answer.
type body struct {
	Allow         bool           `json:"allow"`
	Outcome       string         `json:"outcome"`
	Reason        string         `json:"reason"`
	Error         string         `json:"error,omitempty"`
	Detail        string         `json:"detail,omitempty"`
	Principal     string         `json:"principal,omitempty"`
	Issuer        string         `json:"issuer,omitempty"`
	Claims        map[string]any `json:"claims,omitempty"`
	MissingScopes []string       `json:"missing_scopes,omitempty"`
	RetryAfter    int            `json:"retry_after,omitempty"`
}

// render turns a decision into its HTTP answer:
//   - allow: 200, identity headers, the principal and selected claims;
//   - unauthenticated: 401 (or APIM's failed-validation-httpcode) with
//     WWW-Authenticate per RFC 6750 (no error code when the token is missing);
//   - forbidden: 403 with error="insufficient_scope" and the missing scopes;
//   - unavailable (or anything unknown): 503 with Retry-After.
func (h *Handler) render(d decision.Decision) answer {
	var a answer
	b := body{Outcome: d.Outcome.String(), Reason: string(d.Reason), Detail: d.Detail}
	if b.Reason == "" {
		b.Reason = string(decision.InternalError)
	}
	var status int
	switch d.Outcome {
	case decision.Allow:
		status = http.StatusOK
		b.Allow, b.Detail = true, ""
		b.Principal, b.Issuer, b.Claims = d.Principal, d.Issuer, d.Claims.Map()
		if len(h.claimHdrs) > 0 {
			// One allocation for every value; "" where the claim is absent.
			a.ids, a.idVals = h.claimHdrs, make([]string, len(h.claimHdrs))
			for i, ch := range h.claimHdrs {
				a.idVals[i] = claimValue(d, b.Claims, ch.claim)
			}
		}
	case decision.Unauthenticated:
		status = h.failStatus
		if h.failMsg != "" {
			b.Detail = h.failMsg
		}
		switch {
		case d.Reason == decision.TokenMissing:
			// RFC 6750 §3.1: no error code when the request carried no
			// authentication information.
			a.challenge = h.bareChallenge
		case dpopChallenge(d):
			// RFC 9449 §7.1: a DPoP request (or a DPoP-bound token) gets
			// a DPoP challenge naming the accepted proof algorithms.
			b.Error = "invalid_token"
			if d.Reason == decision.DPoPProofInvalid || d.Reason == decision.DPoPReplayed {
				b.Error = "invalid_dpop_proof"
			}
			a.challenge = []string{h.challengeFor("DPoP", "error", b.Error, "error_description", b.Detail, "algs", dpopAlgs(d))}
		default:
			b.Error = "invalid_token"
			a.challenge = []string{h.challenge("error", b.Error, "error_description", b.Detail)}
		}
	case decision.Forbidden:
		status = http.StatusForbidden
		b.Error = "insufficient_scope"
		b.MissingScopes = d.MissingScopes
		params := []string{"error", b.Error, "error_description", b.Detail}
		if scope := scopeList(d.MissingScopes); scope != "" {
			params = append(params, "scope", scope)
		}
		if d.DPoP {
			a.challenge = []string{h.challengeFor("DPoP", append(params, "algs", dpopAlgs(d))...)}
		} else {
			a.challenge = []string{h.challenge(params...)}
		}
	default: // Unavailable, and any outcome this adapter does not know
		status = http.StatusServiceUnavailable
		b.Outcome = decision.Unavailable.String()
		b.RetryAfter = h.retryAfterSeconds()
		a.retryAfter = h.retryAfterValue
	}
	a.status, a.outcome, a.reason, a.detail = status, b.Outcome, b.Reason, b.Detail
	a.body, a.bodyBuf = pooledBody(b)
	return a
}

// renderMalformed answers a request that could not be read: 400 with
// RFC 6750's invalid_request.
func (h *Handler) renderMalformed(detail string) answer {
	b := body{Outcome: decision.Unauthenticated.String(), Reason: string(decision.EventMalformed), Error: "invalid_request", Detail: detail}
	a := answer{status: http.StatusBadRequest, body: marshalBody(b), outcome: b.Outcome, reason: b.Reason, detail: detail}
	a.challenge = []string{h.challenge("error", b.Error, "error_description", detail)}
	return a
}

func (h *Handler) retryAfterSeconds() int {
	s := int((h.retryAfter + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// dpopChallenge tells whether a 401 answers with the DPoP scheme: the
// request used it or the token is DPoP-bound, or the refusal is about a
// proof.
func dpopChallenge(d decision.Decision) bool {
	switch d.Reason {
	case decision.DPoPProofInvalid, decision.DPoPReplayed, decision.DPoPBindingMismatch:
		return true
	}
	return d.DPoP
}

// dpopAlgs is the challenge's algs parameter: the accepted proof algorithms.
func dpopAlgs(d decision.Decision) string {
	algs := d.DPoPAlgorithms
	if len(algs) == 0 {
		algs = config.DefaultDPoPAlgorithms
	}
	return strings.Join(algs, " ")
}

// challenge builds a Bearer challenge from name/value pairs; every value is
// a quoted-string restricted to RFC 6750's character set.
func (h *Handler) challenge(params ...string) string { return h.challengeFor("Bearer", params...) }

// challengeFor builds a challenge of the given scheme (Bearer or DPoP).
func (h *Handler) challengeFor(scheme string, params ...string) string {
	var sb strings.Builder
	sb.WriteString(scheme)
	sep := " "
	if h.realm != "" {
		sb.WriteString(` realm="` + quotable(h.realm) + `"`)
		sep = ", "
	}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] == "" {
			continue
		}
		sb.WriteString(sep + params[i] + `="` + quotable(params[i+1]) + `"`)
		sep = ", "
	}
	return sb.String()
}

// quotable maps s into the characters RFC 6750 allows inside its quoted
// attribute values (%x20-21 / %x23-5B / %x5D-7E): a double quote becomes a
// single quote, a backslash a slash, anything else outside the set "?".
// The result can never end the quoted-string early or split the header.
func quotable(s string) string {
	const max = 512
	var sb strings.Builder
	for _, r := range s {
		if sb.Len() >= max {
			break
		}
		switch {
		case r == '"':
			sb.WriteByte('\'')
		case r == '\\':
			sb.WriteByte('/')
		case r >= 0x20 && r <= 0x7e:
			sb.WriteRune(r)
		default:
			sb.WriteByte('?')
		}
	}
	return sb.String()
}

// scopeList renders scopes for the scope attribute: scope-tokens
// (%x21 / %x23-5B / %x5D-7E) separated by spaces; others are dropped.
func scopeList(scopes []string) string {
	var out []string
	for _, s := range scopes {
		ok := s != ""
		for i := 0; i < len(s) && ok; i++ {
			c := s[i]
			ok = c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)
		}
		if ok {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// claimValue is the identity header value for a claim ("" for none): the
// selected claim (from claims, d's forwarded claims), or the principal /
// issuer for sub / iss.
func claimValue(d decision.Decision, claims map[string]any, claim string) string {
	if v, ok := claims[claim]; ok {
		return headerValue(v)
	}
	switch claim {
	case "sub":
		return headerValue(d.Principal)
	case "iss":
		return headerValue(d.Issuer)
	}
	return ""
}

// headerValue formats a flattened claim and removes what cannot appear in
// a header value (control characters).
func headerValue(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		s = strconv.FormatInt(x, 10)
	case int:
		s = strconv.Itoa(x)
	case bool:
		s = strconv.FormatBool(x)
	case nil:
		return ""
	default:
		s = fmt.Sprint(x)
	}
	return dropControls(s)
}

// dropControls removes control characters; a string of printable ASCII
// (the usual claim) is returned as it is, without decoding runes.
func dropControls(s string) string {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		// none < 0x20, none 0x7f (a zero byte of d), none ≥ 0x80
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		d := x ^ (lsb * 0x7f)
		if (((x-lsb*0x20)&^x)|((d-lsb)&^d)|x)&msb != 0 {
			break
		}
	}
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// validHeaderName reports whether s is an HTTP token usable as a header
// name.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func sortClaimHeaders(c []claimHeader) {
	sort.Slice(c, func(i, j int) bool { return c[i].claim < c[j].claim })
}

// setCommonHeaders marks an answer as JSON that no cache may keep: it is
// specific to one token.
// The values are rendered once: the slices are shared by every answer and
// must never be modified in place (net/http only reads them; an append
// copies, as len == cap).
func setCommonHeaders(h http.Header) {
	h["Content-Type"] = contentTypeJSON
	h["Cache-Control"] = cacheNoStore
	h["X-Content-Type-Options"] = noSniff
}

var (
	contentTypeJSON = []string{"application/json; charset=utf-8"}
	cacheNoStore    = []string{"no-store"}
	noSniff         = []string{"nosniff"}
)

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Claims that cannot be encoded (NaN): answer without them rather
		// than fail. Only an allow carries claims.
		if bb, ok := v.(body); ok {
			bb.Claims = nil
			b, _ = json.Marshal(bb)
		}
	}
	return append(b, '\n')
}

// write sends an answer directly and releases its body.
func (a *answer) write(w http.ResponseWriter) {
	a.setHeaders(w.Header())
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body) // an io.Writer does not keep p
	a.release()
}

// writeError answers a request that is not a decision (wrong path or
// method, unreadable payload) with a JSON error. Never a 2xx.
func writeError(w http.ResponseWriter, status int, reason, detail string) {
	setCommonHeaders(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(marshal(body{Outcome: decision.Unauthenticated.String(), Reason: reason, Detail: detail}))
}
