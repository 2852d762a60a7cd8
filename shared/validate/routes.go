package validate

import (
	"strings"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/rules"
)

// route is a compiled route rule.
type route struct {
	method   string   // upper case; "*" for any
	segments []string // "{x}" matches one segment
	prefix   bool     // pattern ends in "/*": matches the rest
	grant    decision.RouteGrant
	req      requirements
	when     *rules.Rule // the route's CEL rule (nil: none)
}

func compileRoutes(rules []config.RouteRule) []route {
	out := make([]route, 0, len(rules))
	for _, r := range rules {
		m := strings.ToUpper(strings.TrimSpace(r.Method))
		if m == "" || m == "ANY" {
			m = "*"
		}
		p := r.Path
		prefix := false
		if p == "/*" || strings.HasSuffix(p, "/*") {
			prefix = true
			p = strings.TrimSuffix(p, "/*")
		}
		out = append(out, route{
			method:   m,
			segments: splitPath(p),
			prefix:   prefix,
			grant:    decision.RouteGrant{Method: m, Path: r.Path},
			req:      requirements{scopes: r.Scopes, claims: r.Claims},
		})
	}
	return out
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match reports whether the call (method, path) falls under the rule.
func (r *route) match(method string, segs []string) bool {
	if r.method != "*" && !strings.EqualFold(r.method, method) {
		return false
	}
	if len(segs) < len(r.segments) || (!r.prefix && len(segs) != len(r.segments)) {
		return false
	}
	for i, want := range r.segments {
		if strings.HasPrefix(want, "{") && strings.HasSuffix(want, "}") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		// Literal segments match case-insensitively: most hosts (Azure
		// Functions, ASP.NET, Express) route /Admin like /admin, so a rule
		// must cover every spelling that can reach the same handler.
		if !strings.EqualFold(segs[i], want) {
			return false
		}
	}
	return true
}

// ambiguousPath reports paths whose meaning a backend may normalise
// differently from the rule matcher: dot segments, empty segments and
// encoded slashes, dots or backslashes. With route rules configured such a
// path is refused rather than guessed at.
func ambiguousPath(p string) bool {
	if strings.Contains(p, "//") || strings.Contains(p, "\\") {
		return true
	}
	for _, s := range strings.Split(p, "/") {
		if s == "." || s == ".." {
			return true
		}
	}
	l := strings.ToLower(p)
	return strings.Contains(l, "%2e") || strings.Contains(l, "%2f") || strings.Contains(l, "%5c")
}

// normalizePath decodes percent-encoded unreserved characters (RFC 3986
// §6.2.2.2: ALPHA, DIGIT, '-', '.', '_', '~'), which a backend treats as
// the characters themselves, so "/%61dmin" meets the rule for "/admin".
// Encoded separators never get here: ambiguousPath refuses them first.
func normalizePath(p string) string {
	if strings.IndexByte(p, '%') < 0 {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if c, ok := unhex2(p[i+1], p[i+2]); ok && unreserved(c) {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func unhex2(a, b byte) (byte, bool) {
	h, ok1 := unhex(a)
	l, ok2 := unhex(b)
	return h<<4 | l, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
