package customhandler

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// Forward-auth headers naming the original call. Traefik forwardAuth sends
// X-Forwarded-Method and X-Forwarded-Uri; the usual nginx auth_request
// configuration sets X-Original-Method and X-Original-URI. Envoy ext_authz
// (HTTP service) needs neither: it sends the original method and the
// original path behind its path_prefix, which is the proxy shape.
const (
	HeaderForwardedMethod = "X-Forwarded-Method"
	HeaderForwardedURI    = "X-Forwarded-Uri"
	HeaderOriginalMethod  = "X-Original-Method"
	HeaderOriginalURI     = "X-Original-Uri" // canonical form of X-Original-URI
)

// maxPathBytes bounds the original path taken from a request or header.
const maxPathBytes = 8 << 10

func hasForwardHeaders(h http.Header) bool {
	for _, k := range []string{HeaderForwardedMethod, HeaderForwardedURI, HeaderOriginalMethod, HeaderOriginalURI} {
		if len(headerValues(h, k)) > 0 {
			return true
		}
	}
	return false
}

// headerValues is h.Values(name), also finding keys that are not in
// canonical form (a Header built by hand, e.g. "X-Original-URI").
func headerValues(h http.Header, name string) []string {
	var out []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

// original is the protected call's method, path and query.
type original struct {
	method string
	path   string
	query  url.Values
}

// fromForwardHeaders reads the original call from forward-auth headers.
// ok is false when none are present. Two families that disagree, a repeated
// header or an unparsable value is an error: an ambiguous original call
// must not pick the more lenient route rule.
func fromForwardHeaders(h http.Header, fallbackMethod string) (o original, ok bool, err error) {
	if !hasForwardHeaders(h) {
		return o, false, nil
	}
	method, err := agree(h, HeaderForwardedMethod, HeaderOriginalMethod)
	if err != nil {
		return o, true, err
	}
	uri, err := agree(h, HeaderForwardedURI, HeaderOriginalURI)
	if err != nil {
		return o, true, err
	}
	if method == "" {
		method = fallbackMethod
	}
	if o.method, err = checkMethod(method); err != nil {
		return o, true, err
	}
	if uri == "" {
		return o, true, errors.New("forward-auth request without X-Forwarded-Uri or X-Original-URI")
	}
	u, perr := url.ParseRequestURI(uri)
	if perr != nil || len(uri) > maxPathBytes {
		return o, true, errors.New("original URI is not a valid request URI")
	}
	if o.path, err = cleanPath(u.Path); err != nil {
		return o, true, err
	}
	if o.query, perr = url.ParseQuery(u.RawQuery); perr != nil {
		return o, true, errors.New("original URI has an invalid query string")
	}
	return o, true, nil
}

// agree returns the single value the two headers give (either may be
// absent), or an error when a header repeats or the two disagree.
func agree(h http.Header, a, b string) (string, error) {
	va, vb := headerValues(h, a), headerValues(h, b)
	if len(va) > 1 || len(vb) > 1 {
		return "", errors.New("forward-auth header repeated: " + a + " / " + b)
	}
	var x, y string
	if len(va) == 1 {
		x = strings.TrimSpace(va[0])
	}
	if len(vb) == 1 {
		y = strings.TrimSpace(vb[0])
	}
	if x != "" && y != "" && x != y {
		return "", errors.New(a + " and " + b + " disagree")
	}
	if x != "" {
		return x, nil
	}
	return y, nil
}

// checkMethod upper-cases a method and checks it is an HTTP token.
func checkMethod(m string) (string, error) {
	if m == "" || len(m) > 32 {
		return "", errors.New("invalid original method")
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", errors.New("invalid original method")
		}
	}
	return strings.ToUpper(m), nil
}

// cleanPath returns p (already percent-decoded) as an absolute, clean path
// so that route rules see what the upstream will serve: "/a/../admin" is
// "/admin". A trailing slash is kept. Control characters are refused.
func cleanPath(p string) (string, error) {
	if len(p) > maxPathBytes {
		return "", errors.New("original path too long")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return "", errors.New("original path contains control characters")
		}
	}
	if p == "" {
		return "/", nil
	}
	if p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c, nil
}

// stripProxyPrefix returns the path after /api/authorize ("/" when none).
func stripProxyPrefix(p string) string {
	if !hasProxyPrefix(p) {
		return p
	}
	return p[len(ProxyPrefix):]
}

// requestFromHTTP builds the core request for a proxied or forward-auth
// call. The shape tells which one it was.
func requestFromHTTP(r *http.Request) (*decision.Request, string, error) {
	req := &decision.Request{Header: r.Header.Clone()}
	o, forwarded, err := fromForwardHeaders(r.Header, r.Method)
	if err != nil {
		return nil, ShapeForwardAuth, err
	}
	if forwarded {
		req.Method, req.Path, req.Query = o.method, o.path, o.query
		return req, ShapeForwardAuth, nil
	}
	if req.Method, err = checkMethod(r.Method); err != nil {
		return nil, ShapeProxy, err
	}
	if req.Path, err = cleanPath(stripProxyPrefix(r.URL.Path)); err != nil {
		return nil, ShapeProxy, err
	}
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	if qerr != nil {
		return nil, ShapeProxy, errors.New("invalid query string")
	}
	req.Query = q
	return req, ShapeProxy, nil
}
