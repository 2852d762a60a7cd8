package validate

import (
	"strings"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// route is a compiled route rule.
type route struct {
	method   string   // upper case; "*" for any
	segments []string // "{x}" matches one segment
	prefix   bool     // pattern ends in "/*": matches the rest
	grant    decision.RouteGrant
	req      requirements
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
