package customhandler

import (
	"errors"
	"net/http"
	"net/url"
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

// ForwardedHeaders selects which forward-auth header family the handler
// reads (JWTGATE_FORWARDED_HEADERS).
type ForwardedHeaders string

// The JWTGATE_FORWARDED_HEADERS values.
const (
	// ForwardedAuto reads both families; when both are present they must
	// describe the same call.
	ForwardedAuto ForwardedHeaders = "auto"
	// ForwardedTraefik reads only X-Forwarded-Method and X-Forwarded-Uri.
	ForwardedTraefik ForwardedHeaders = "traefik"
	// ForwardedNginx reads only X-Original-Method and X-Original-URI.
	ForwardedNginx ForwardedHeaders = "nginx"
	// ForwardedNone ignores every forward-auth header: the original call is
	// the request itself (Envoy ext_authz, the Functions host's proxy).
	ForwardedNone ForwardedHeaders = "none"
)

// ParseForwardedHeaders reads a JWTGATE_FORWARDED_HEADERS value ("" is
// auto), case-insensitively.
func ParseForwardedHeaders(s string) (ForwardedHeaders, error) {
	switch m := ForwardedHeaders(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ForwardedAuto, nil
	case ForwardedAuto, ForwardedTraefik, ForwardedNginx, ForwardedNone:
		return m, nil
	}
	return "", errors.New("must be one of auto, traefik, nginx, none")
}

// headerFamily is one convention's pair of headers.
type headerFamily struct{ method, uri string }

var (
	traefikFamily = headerFamily{HeaderForwardedMethod, HeaderForwardedURI}
	nginxFamily   = headerFamily{HeaderOriginalMethod, HeaderOriginalURI}
)

// families lists the header families the mode reads (shared slices:
// read-only).
func (m ForwardedHeaders) families() []headerFamily {
	switch m {
	case ForwardedTraefik:
		return traefikOnly
	case ForwardedNginx:
		return nginxOnly
	case ForwardedNone:
		return nil
	}
	return bothFamilies
}

var (
	traefikOnly  = []headerFamily{traefikFamily}
	nginxOnly    = []headerFamily{nginxFamily}
	bothFamilies = []headerFamily{traefikFamily, nginxFamily}
)

// maxPathBytes bounds the original path taken from a request or header.
const maxPathBytes = 8 << 10

// forwardValues holds the forward-auth headers of one request, each as
// h.Values(name) would give it but also finding keys that are not in
// canonical form (a Header built by hand, e.g. "X-Original-URI"): every
// value of every key equal to the name case-insensitively. They are
// gathered in one pass over the header.
type forwardValues struct {
	fwdMethod, fwdURI, origMethod, origURI, fwdHost []string
}

// gatherForwarded collects the forward-auth headers in one pass. The five
// names have five different lengths, so a key is compared with one name
// at most. The header's own slices are shared, never modified.
func gatherForwarded(h http.Header) (v forwardValues) {
	for k, vs := range h {
		var dst *[]string
		var name string
		switch len(k) {
		case len(HeaderForwardedMethod):
			dst, name = &v.fwdMethod, HeaderForwardedMethod
		case len(HeaderForwardedURI):
			dst, name = &v.fwdURI, HeaderForwardedURI
		case len(HeaderOriginalMethod):
			dst, name = &v.origMethod, HeaderOriginalMethod
		case len(HeaderOriginalURI):
			dst, name = &v.origURI, HeaderOriginalURI
		case len(HeaderForwardedHost):
			dst, name = &v.fwdHost, HeaderForwardedHost
		default:
			continue
		}
		if !strings.EqualFold(k, name) {
			continue
		}
		if len(*dst) == 0 {
			*dst = vs
		} else {
			*dst = append((*dst)[:len(*dst):len(*dst)], vs...) // a copy: never into the header's array
		}
	}
	return v
}

// of is the family's method and URI values.
func (v *forwardValues) of(f headerFamily) (methods, uris []string) {
	if f == traefikFamily {
		return v.fwdMethod, v.fwdURI
	}
	return v.origMethod, v.origURI
}

// original is the protected call's method, path (raw, still escaped) and
// query.
type original struct {
	method string
	path   string
	query  url.Values
}

func (o original) same(p original) bool {
	return o.method == p.method && o.path == p.path && o.query.Encode() == p.query.Encode()
}

// fromFamily reads the original call from one header family. present is
// false when the family sends neither header. A family's method comes only
// from its own method header, else the request's own method: never from the
// other family.
func fromFamily(v *forwardValues, f headerFamily, requestMethod string) (o original, present bool, err error) {
	ms, us := v.of(f)
	if len(ms) == 0 && len(us) == 0 {
		return o, false, nil
	}
	if len(ms) > 1 || len(us) > 1 {
		return o, true, errors.New("forward-auth header repeated: " + f.method + " / " + f.uri)
	}
	method, uri := requestMethod, ""
	if len(ms) == 1 && strings.TrimSpace(ms[0]) != "" {
		method = strings.TrimSpace(ms[0])
	}
	if len(us) == 1 {
		uri = strings.TrimSpace(us[0])
	}
	if uri == "" {
		return o, true, errors.New("forward-auth request with " + f.method + " but without " + f.uri)
	}
	if o.method, err = checkMethod(method); err != nil {
		return o, true, err
	}
	if o.path, o.query, err = splitURI(uri); err != nil {
		return o, true, err
	}
	return o, true, nil
}

// fromForwardHeaders reads the original call from the forward-auth headers
// the mode trusts. ok is false when none are present. With both families
// present (auto), each is read on its own and they must describe the same
// call: an ambiguous original call must not pick the more lenient route
// rule.
func fromForwardHeaders(v *forwardValues, mode ForwardedHeaders, requestMethod string) (o original, ok bool, err error) {
	for _, f := range mode.families() {
		fo, present, ferr := fromFamily(v, f, requestMethod)
		if ferr != nil {
			return o, true, ferr
		}
		if !present {
			continue
		}
		if ok && !fo.same(o) {
			return o, true, errors.New("X-Forwarded-Method/X-Forwarded-Uri and X-Original-Method/X-Original-URI describe different calls")
		}
		o, ok = fo, true
	}
	return o, ok, nil
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

// splitURI splits a request URI (origin form "/p?q" or absolute form
// "https://host/p?q") into its raw path, exactly as sent (still escaped,
// dot segments kept), and its parsed query.
func splitURI(uri string) (string, url.Values, error) {
	if len(uri) > maxPathBytes {
		return "", nil, errors.New("original URI too long")
	}
	if _, err := url.ParseRequestURI(uri); err != nil {
		return "", nil, errors.New("original URI is not a valid request URI")
	}
	var p, rawQuery string
	if strings.HasPrefix(uri, "/") {
		p, rawQuery, _ = strings.Cut(uri, "?")
	} else {
		var err error
		if p, rawQuery, err = splitURIPath(uri); err != nil {
			return "", nil, errors.New("original URI is not a valid request URI")
		}
	}
	if err := checkRawPath(p); err != nil {
		return "", nil, err
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", nil, errors.New("original URI has an invalid query string")
	}
	return p, q, nil
}

// checkRawPath checks a raw path before the core sees it. The path is never
// decoded or cleaned for the core: route rules see what the upstream
// receives, and the core refuses ambiguous forms (dot segments, "//",
// encoded "/", "." or "\") when route rules are configured. Refused here:
// a path that is not absolute, path parameters (";" or "%3B": some
// backends strip "/admin;x=1/1" to "/admin/1"), a fragment, invalid
// percent-encoding and control characters.
func checkRawPath(p string) error {
	if len(p) > maxPathBytes {
		return errors.New("original path too long")
	}
	if !strings.HasPrefix(p, "/") {
		return errors.New("original path is not absolute")
	}
	if strings.ContainsAny(p, ";#") || strings.Contains(strings.ToLower(p), "%3b") {
		return errors.New("original path has path parameters (;) or a fragment")
	}
	dec, err := url.PathUnescape(p)
	if err != nil {
		return errors.New("original path has invalid percent-encoding")
	}
	for i := 0; i < len(dec); i++ {
		if dec[i] < 0x20 || dec[i] == 0x7f {
			return errors.New("original path contains control characters")
		}
	}
	return nil
}

// rawRequestPath is r's path exactly as received (escaped, query
// stripped): the request-target when it is in origin form, else the
// path of the absolute form, else the URL's escaped path (requests not
// read by a server).
func rawRequestPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	if r.RequestURI != "" && r.RequestURI != "*" {
		if p, _, err := splitURIPath(r.RequestURI); err == nil {
			return p
		}
	}
	return r.URL.EscapedPath()
}

// splitURIPath splits an absolute URI ("https://host/p?q") into its raw
// path ("/" when it has none) and raw query, without checking them.
func splitURIPath(uri string) (string, string, error) {
	_, after, found := strings.Cut(uri, "://")
	if !found {
		return "", "", errors.New("not an absolute URI")
	}
	i := strings.IndexAny(after, "/?")
	if i < 0 {
		return "/", "", nil
	}
	if after[i] == '?' {
		return "/", after[i+1:], nil
	}
	p, q, _ := strings.Cut(after[i:], "?")
	return p, q, nil
}

// stripProxyPrefix returns the raw path after /api/authorize ("/" when
// none); p must have the prefix (hasProxyPrefix).
func stripProxyPrefix(p string) string {
	if rest := p[len(ProxyPrefix):]; rest != "" {
		return rest
	}
	return "/"
}

// requestFromHTTP builds the core request for a proxied or forward-auth
// call; reqPath is the raw original path the request itself names ("/"
// at the root or the bare prefix). The shape tells which one it was.
func (h *Handler) requestFromHTTP(r *http.Request, reqPath string) (*decision.Request, string, error) {
	// The core only reads the headers (decision.Request): no copy.
	req := &decision.Request{Header: r.Header}
	if err := checkRawPath(reqPath); err != nil {
		return nil, ShapeProxy, err
	}
	var q url.Values // nil without a query: nothing to parse
	var qerr error
	if r.URL.RawQuery != "" {
		q, qerr = url.ParseQuery(r.URL.RawQuery)
	}
	own := original{path: reqPath, query: q}
	var fv forwardValues
	o, forwarded, err := h.forwarded(r.Header, &fv, r.Method, own)
	if err != nil {
		return nil, ShapeForwardAuth, err
	}
	req.Host = r.Host // rules' request.host; the caller's address is not known here
	if forwarded {
		req.Method, req.Path, req.Query = o.method, o.path, o.query
		req.Host = h.forwardedHost(&fv, req.Host)
		req.CalledHost, req.CalledPath = req.Host, o.path
		return req, ShapeForwardAuth, nil
	}
	if req.Method, err = checkMethod(r.Method); err != nil {
		return nil, ShapeProxy, err
	}
	if qerr != nil {
		return nil, ShapeProxy, errors.New("invalid query string")
	}
	req.Path, req.Query = reqPath, q
	// A DPoP proof names the URL the client called: this request's own
	// host and whole path (the /api/authorize prefix included).
	req.CalledHost, req.CalledPath = r.Host, rawRequestPath(r)
	return req, ShapeProxy, nil
}

// HeaderForwardedHost names the original host in Traefik's forward-auth
// request (rules' request.host).
const HeaderForwardedHost = "X-Forwarded-Host"

// forwardedHost is the original call's host in a forward-auth request:
// X-Forwarded-Host when the handler trusts Traefik's headers and exactly one
// is present, else the request's own host. fv holds the headers forwarded
// gathered.
func (h *Handler) forwardedHost(fv *forwardValues, own string) string {
	for _, f := range h.fwd.families() {
		if f == traefikFamily {
			if vs := fv.fwdHost; len(vs) == 1 && strings.TrimSpace(vs[0]) != "" {
				return strings.TrimSpace(vs[0])
			}
		}
	}
	return own
}

// forwarded reads the forward-auth headers the handler trusts. When the
// request itself names a path (something after /api/authorize), it is the
// protected call: a forward header naming another path is refused, so a
// caller's own X-Forwarded-Uri cannot replace the path it asked for.
// It gathers the forward-auth headers into fv (for forwardedHost).
func (h *Handler) forwarded(hdr http.Header, fv *forwardValues, requestMethod string, own original) (original, bool, error) {
	if h.fwd != ForwardedNone {
		*fv = gatherForwarded(hdr)
	}
	o, ok, err := fromForwardHeaders(fv, h.fwd, requestMethod)
	if err != nil || !ok {
		return o, ok, err
	}
	if own.path != "/" && o.path != own.path {
		return o, true, errors.New("forward-auth header names another path than the request (" + ProxyPrefix + own.path + ")")
	}
	return o, true, nil
}
