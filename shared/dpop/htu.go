package dpop

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// NormalizeURL reduces an http(s) URL to the form RFC 9449 §4.3 compares
// htu in: lower-case scheme and host, no default port (443 for https, 80
// for http), the path as sent ("/" when empty), no query and no fragment.
// ok is false for anything that is not an absolute http(s) URL with a
// host, or that carries user information, or whose host is not ASCII (a
// host name goes on the wire in its A-label form), or that is longer than
// 8 KiB before or after normalising. Only ASCII letters are folded: Unicode
// case mapping would turn each invalid UTF-8 byte into a 3-byte U+FFFD, so
// distinct hosts would compare equal and the result would not be its own
// normal form.
func NormalizeURL(raw string) (string, bool) {
	if raw == "" || len(raw) > 8<<10 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	for i := 0; i < len(u.Host); i++ {
		if u.Host[i] >= utf8.RuneSelf {
			return "", false
		}
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host) // ASCII only: the same bytes, letters folded
	switch scheme {
	case "https":
		host = strings.TrimSuffix(host, ":443")
	case "http":
		host = strings.TrimSuffix(host, ":80")
	default:
		return "", false
	}
	host = strings.TrimSuffix(host, ":")
	if host == "" || host[0] == ':' {
		return "", false
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	n := scheme + "://" + host + path
	if len(n) > 8<<10 {
		return "", false
	}
	return n, true
}

// RequestURL is the URL a proof's htu must match for a request: publicURL
// (scheme://host[:port][/prefix], from JWTGATE_PUBLIC_URL) followed by the
// path the client called when publicURL is set, otherwise https:// and the
// request's host. ok is false when neither gives a host.
func RequestURL(publicURL, host, path string) (string, bool) {
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	if publicURL != "" {
		return strings.TrimSuffix(publicURL, "/") + path, true
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", false
	}
	return "https://" + host + path, true
}
