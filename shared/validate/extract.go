package validate

import (
	"net/http"
	"strings"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/token"
)

// extractor finds the token in a request, as APIM's header-name,
// require-scheme, query-parameter-name (and a cookie name) describe.
type extractor struct {
	header string // canonical header name; "" when only query/cookie are used
	scheme string // "Bearer"; "" when the header holds the bare token
	query  string
	cookie string
	// subprotocol is the Sec-WebSocket-Protocol marker ("jwtgate.bearer")
	// followed by the token; "" reads no subprotocol.
	subprotocol string
}

func newExtractor(cfg *config.Config) extractor {
	header := cfg.HeaderName
	if header == "" && cfg.QueryParam == "" && cfg.CookieName == "" && cfg.Subprotocol == "" {
		header = "Authorization"
	}
	return extractor{header: http.CanonicalHeaderKey(header), scheme: cfg.Scheme, query: cfg.QueryParam,
		cookie: cfg.CookieName, subprotocol: cfg.Subprotocol}
}

// tokenSource tells where extract found (or looked for) the token.
type tokenSource uint8

const (
	fromNowhere tokenSource = iota
	fromHeader
	fromHeaderDPoP // the header with the DPoP scheme (RFC 9449 §7.1)
	fromQuery
	fromCookie
	fromWebSocketProtocol
)

// describe names a source for explanations.
func (e extractor) describe(s tokenSource) string {
	switch s {
	case fromHeader:
		if e.scheme == "" {
			return "the " + e.header + " header (bare token, no scheme)"
		}
		return "the " + e.header + " header (" + e.scheme + " scheme)"
	case fromHeaderDPoP:
		return "the " + e.header + " header (DPoP scheme)"
	case fromQuery:
		return "the query parameter " + e.query
	case fromCookie:
		return "the cookie " + e.cookie
	case fromWebSocketProtocol:
		return "the Sec-WebSocket-Protocol after " + e.subprotocol
	}
	var looked []string
	if e.header != "" {
		looked = append(looked, "the "+e.header+" header")
	}
	if e.query != "" {
		looked = append(looked, "the query parameter "+e.query)
	}
	if e.subprotocol != "" {
		looked = append(looked, "the Sec-WebSocket-Protocol after "+e.subprotocol)
	}
	if e.cookie != "" {
		looked = append(looked, "the cookie "+e.cookie)
	}
	return "looked in " + strings.Join(looked, ", ")
}

// extract returns the token and its source, or a refusal. Sources are
// tried in order: header, query parameter, WebSocket subprotocol, cookie;
// the first present source decides, and a source that is present but
// malformed is not skipped.
func (e extractor) extract(r *decision.Request) (string, tokenSource, *token.Error) {
	if e.header != "" {
		if vals := headerValues(r.Header, e.header); len(vals) > 0 {
			if len(vals) > 1 {
				return "", fromHeader, &token.Error{Reason: decision.TokenMalformed, Msg: "more than one " + e.header + " header"}
			}
			t, dpop, err := e.fromHeader(vals[0])
			if dpop {
				return t, fromHeaderDPoP, err
			}
			return t, fromHeader, err
		}
	}
	if e.query != "" && r.Query != nil {
		if vals, ok := r.Query[e.query]; ok {
			if len(vals) != 1 {
				return "", fromQuery, &token.Error{Reason: decision.TokenMalformed, Msg: "query parameter " + e.query + " must appear once"}
			}
			t, err := checkBare(vals[0])
			return t, fromQuery, err
		}
	}
	if e.subprotocol != "" {
		if t, found, err := e.fromSubprotocol(r); found {
			return t, fromWebSocketProtocol, err
		}
	}
	if e.cookie != "" {
		if v, n := findCookie(r, e.cookie); n > 0 {
			if n > 1 {
				return "", fromCookie, &token.Error{Reason: decision.TokenMalformed, Msg: "cookie " + e.cookie + " must appear once"}
			}
			t, err := checkBare(v)
			return t, fromCookie, err
		}
	}
	return "", fromNowhere, &token.Error{Reason: decision.TokenMissing, Msg: "no bearer token in the request"}
}

// fromSubprotocol finds the token a browser WebSocket client sends as the
// protocol after the marker: new WebSocket(url, ["jwtgate.bearer", token])
// arrives as "Sec-WebSocket-Protocol: jwtgate.bearer, <token>". found is
// false when the marker is absent. A marker without a token after it, or a
// marker given twice, is malformed.
func (e extractor) fromSubprotocol(r *decision.Request) (tok string, found bool, err *token.Error) {
	var protocols []string
	for _, v := range headerValues(r.Header, "Sec-Websocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			protocols = append(protocols, strings.TrimSpace(p))
		}
	}
	at := -1
	for i, p := range protocols {
		if p != e.subprotocol {
			continue
		}
		if at >= 0 {
			return "", true, &token.Error{Reason: decision.TokenMalformed, Msg: "WebSocket subprotocol " + e.subprotocol + " must appear once"}
		}
		at = i
	}
	if at < 0 {
		return "", false, nil
	}
	if at+1 >= len(protocols) {
		return "", true, &token.Error{Reason: decision.TokenMalformed, Msg: "no token after the WebSocket subprotocol " + e.subprotocol}
	}
	t, terr := checkBare(protocols[at+1])
	return t, true, terr
}

// fromHeader reads the header value: the configured scheme, or DPoP
// (dpop true), then exactly one token.
func (e extractor) fromHeader(v string) (string, bool, *token.Error) {
	if e.scheme == "" {
		t, terr := checkBare(strings.TrimSpace(v))
		return t, false, terr
	}
	scheme, rest, ok := strings.Cut(v, " ")
	dpop := strings.EqualFold(scheme, "DPoP")
	if !dpop && !strings.EqualFold(scheme, e.scheme) {
		// RFC 6750 §3.1: a request without a bearer token is not a
		// malformed bearer request; it just has no token.
		return "", false, &token.Error{Reason: decision.TokenMissing, Msg: "no " + e.scheme + " token in the " + e.header + " header"}
	}
	if !ok {
		return "", dpop, &token.Error{Reason: decision.TokenMalformed, Msg: e.header + " header has the scheme but no token"}
	}
	t, terr := checkBare(strings.TrimLeft(rest, " "))
	return t, dpop, terr
}

// checkBare accepts exactly one word: no space inside. Any other byte
// outside base64url and '.' is refused by the strict decoder later, with
// the same reason, so it is not scanned for here.
func checkBare(t string) (string, *token.Error) {
	t = strings.TrimRight(t, " ")
	if t == "" {
		return "", &token.Error{Reason: decision.TokenMalformed, Msg: "empty token"}
	}
	if strings.IndexByte(t, ' ') >= 0 {
		return "", &token.Error{Reason: decision.TokenMalformed, Msg: "more than one token (a space inside)"}
	}
	return t, nil
}

// headerValues reads a header whatever the case of its key: adapters build
// Header from platforms that lower-case names (HTTP API 2.0).
func headerValues(h http.Header, canonical string) []string {
	if v, ok := h[canonical]; ok {
		return v
	}
	var out []string
	for k, v := range h {
		if strings.EqualFold(k, canonical) {
			out = append(out, v...)
		}
	}
	return out
}

func findCookie(r *decision.Request, name string) (string, int) {
	var val string
	n := 0
	scan := func(s string) {
		for part := range strings.SplitSeq(s, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				val = v
				n++
			}
		}
	}
	for _, c := range r.Cookies {
		scan(c)
	}
	for _, c := range headerValues(r.Header, "Cookie") {
		scan(c)
	}
	return val, n
}
