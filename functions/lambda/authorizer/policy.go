package authorizer

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// Policy limits. API Gateway refuses a policy resource longer than 512
// characters; the count and total size caps keep the answer far below any
// response limit. A policy that would exceed them is narrowed, never widened.
const (
	MaxResourceChars   = 512
	MaxPolicyResources = 50
	MaxPolicyBytes     = 8 << 10
)

// arn is a parsed execute-api method or route ARN:
// arn:PARTITION:execute-api:REGION:ACCOUNT:APIID/STAGE/METHOD/PATH...
type arn struct {
	full   string // the ARN as received
	prefix string // "arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE"
	method string // "GET" (or "$default", "*" as API Gateway sends them)
	path   string // "/orders/42", always starting with "/"
}

// parseARN checks and splits an execute-api ARN. Every field the policy's
// resources are built from (partition, region, account, API id, stage and
// method) must be non-empty and free of IAM wildcards ('*', '?') and
// spaces or control characters: a stage of "*" would turn the whole-stage
// resource "API/STAGE/*/*" into an allow for every stage of the API. Such
// an ARN is refused as malformed, never answered with a broader policy.
// Only the path may hold '*' (a client can put one in a URL); exact then
// refuses to use the ARN as a resource.
func parseARN(s string) (arn, error) {
	if s == "" {
		return arn{}, malformed("empty method/route ARN")
	}
	if len(s) > MaxARNBytes {
		return arn{}, malformed("method/route ARN longer than %d bytes", MaxARNBytes)
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "execute-api" {
		return arn{}, malformed("not an execute-api ARN")
	}
	for _, p := range parts[1:5] {
		if !plainARNField(p) {
			return arn{}, malformed("execute-api ARN with an empty or wildcard partition, region or account")
		}
	}
	segs := strings.SplitN(parts[5], "/", 4)
	if len(segs) < 3 {
		return arn{}, malformed("execute-api ARN without apiId/stage/method")
	}
	apiID, stage, method := segs[0], segs[1], segs[2]
	for _, p := range segs[:3] {
		if !plainARNField(p) {
			return arn{}, malformed("execute-api ARN with an empty or wildcard API id, stage or method")
		}
	}
	path := "/"
	if len(segs) == 4 {
		path = "/" + segs[3]
	}
	return arn{
		full:   s,
		prefix: strings.Join(parts[:5], ":") + ":" + apiID + "/" + stage,
		method: method,
		path:   path,
	}, nil
}

// plainARNField reports whether an ARN field may go into a policy resource:
// non-empty, no IAM wildcard, no '/', space or control character.
func plainARNField(p string) bool {
	if p == "" {
		return false
	}
	for _, c := range p {
		if c == '*' || c == '?' || c == '/' || c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// wholeAPI is the resource covering every method and path of the API stage.
func (a arn) wholeAPI() string { return a.prefix + "/*/*" }

// exact is the resource for exactly this call, or "" when the ARN holds
// characters IAM would read as wildcards (a client can put "*" in a path).
func (a arn) exact() string {
	if strings.ContainsAny(a.full, "*?") || len(a.full) > MaxResourceChars {
		return ""
	}
	return a.full
}

// grantMethods are the methods a "*" rule is expanded to: IAM's "*" in the
// method position would also match across "/" into the path.
var grantMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// grantResources turns a route grant into resources when IAM can express
// exactly the calls the rule covers, which is only for a literal path. A
// "{param}" segment or a "/*" suffix cannot be expressed: IAM's "*" also
// matches "/", so it would cover deeper paths, and paths the core refuses
// as ambiguous (dot segments, encoded slashes) that a backend may
// normalise onto another route. Such rules are granted per call instead.
func (a arn) grantResources(g decision.RouteGrant) []string {
	m := strings.ToUpper(g.Method)
	p := g.Path
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "{}*?") {
		return nil
	}
	methods := []string{m}
	if m == "" || m == "*" || m == "ANY" {
		methods = grantMethods
	} else if !isToken(m) {
		return nil
	}
	var out []string
	for _, m := range methods {
		r := a.prefix + "/" + m + p
		if len(r) > MaxResourceChars {
			return nil
		}
		out = append(out, r)
	}
	return out
}

func isToken(s string) bool {
	for _, c := range s {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return s != ""
}

// ruleGlob is a route rule written as an IAM-style glob relative to the
// stage ("GET/orders/*"). "{param}" becomes "*", which over-approximates the
// rule; that is what an overlap check needs.
func ruleGlob(g decision.RouteGrant) string {
	m := strings.ToUpper(g.Method)
	if m == "" || m == "ANY" {
		m = "*"
	}
	segs := strings.Split(g.Path, "/")
	for i, s := range segs {
		if strings.ContainsAny(s, "{}") {
			segs[i] = "*"
		}
	}
	return m + strings.Join(segs, "/")
}

// routeResources are the resources for the grants that are safe to list:
// expressible exactly, and not overlapping any rule the token does not
// satisfy (such a rule could match some of the same calls first, with
// requirements this token fails).
func routeResources(a arn, d decision.Decision) []string {
	var denied []string
	for _, g := range d.DeniedRoutes {
		denied = append(denied, ruleGlob(g))
	}
	var out []string
	seen := map[string]bool{}
	for _, g := range d.Routes {
		for _, r := range a.grantResources(g) {
			if seen[r] {
				continue
			}
			rel := strings.TrimPrefix(r, a.prefix+"/")
			overlaps := false
			for _, o := range denied {
				if globsOverlap(rel, o) {
					overlaps = true
					break
				}
			}
			if !overlaps {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// withinLimits reports whether a resource list fits the policy limits.
func withinLimits(resources []string) bool {
	if len(resources) > MaxPolicyResources {
		return false
	}
	total := 0
	for _, r := range resources {
		if len(r) > MaxResourceChars {
			return false
		}
		total += len(r) + 3
	}
	return total <= MaxPolicyBytes
}

// policy builds the IAM policy document for one statement.
func policy(effect string, resources []string) events.APIGatewayCustomAuthorizerPolicy {
	return events.APIGatewayCustomAuthorizerPolicy{
		Version: "2012-10-17",
		Statement: []events.IAMPolicyStatement{{
			Action:   []string{"execute-api:Invoke"},
			Effect:   effect,
			Resource: resources,
		}},
	}
}

// policyFor chooses the policy for a decision that has a token behind it
// (allow or forbidden). The rules, and why they are safe under API
// Gateway's authorizer cache (a cached policy is reused for every route of
// the API until the TTL ends):
//
//   - The decision does not depend on the route (no route rules, or the
//     token satisfies every rule and the top-level requirements): allow or
//     deny the whole stage ("…/stage/*/*").
//   - Route rules, allow: the literal routes this token satisfies plus
//     exactly this call. Other routes get 403 from the cached policy until
//     it expires: a false 403, never a false allow.
//   - Route rules, forbidden: an Allow for the literal routes the token
//     satisfies, never covering this call (so API Gateway answers 403
//     here), or a Deny of the whole stage when there is nothing to allow.
//   - Anything over the limits is narrowed to exactly this call, and when
//     even that cannot be expressed, the whole stage is denied.
//   - A sender-constrained decision (it depended on a DPoP proof or a
//     client certificate) allows exactly this call and nothing else, or
//     denies the whole stage when forbidden: a
//     cached copy must never let another request through on this proof
//     (the docs require TTL 0 and the DPoP header in the identity sources).
//   - A top-level CEL rule that reads the request or the clock makes the
//     decision hold for this call only (PerCall): allow exactly this call,
//     or deny the whole stage. A route's when that reads them is never
//     among the grants (the core lists its route as denied), so the
//     rules above already keep it to this call.
func policyFor(a arn, d decision.Decision) events.APIGatewayCustomAuthorizerPolicy {
	deny := policy("Deny", []string{a.wholeAPI()})
	if d.PerCall || d.SenderConstrained {
		if e := a.exact(); e != "" && d.Allowed() {
			return policy("Allow", []string{e})
		}
		return deny
	}
	if !d.RoutesConfigured || (len(d.DeniedRoutes) == 0 && d.DefaultsSatisfied) {
		if d.Allowed() {
			return policy("Allow", []string{a.wholeAPI()})
		}
		if !d.RoutesConfigured {
			return deny
		}
	}
	grants := routeResources(a, d)
	if d.Allowed() {
		res := grants
		covered := false
		for _, r := range res {
			if globMatch(r, a.full) {
				covered = true
				break
			}
		}
		if !covered {
			if e := a.exact(); e != "" {
				res = append([]string{e}, res...)
			}
		}
		if !withinLimits(res) {
			res = nil
			if e := a.exact(); e != "" {
				res = []string{e}
			}
		}
		if len(res) == 0 {
			return deny
		}
		return policy("Allow", res)
	}
	var res []string
	for _, r := range grants {
		if !globMatch(r, a.full) {
			res = append(res, r)
		}
	}
	if len(res) == 0 || !withinLimits(res) {
		return deny
	}
	return policy("Allow", res)
}

// statusFor is what API Gateway answers for a policy on this call: 200 when
// an Allow statement covers the call and no Deny does, otherwise 403.
func statusFor(p events.APIGatewayCustomAuthorizerPolicy, call string) int {
	allowed := false
	for _, s := range p.Statement {
		for _, r := range s.Resource {
			if !globMatch(r, call) {
				continue
			}
			switch s.Effect {
			case "Deny":
				return 403
			case "Allow":
				allowed = true
			}
		}
	}
	if allowed {
		return 200
	}
	return 403
}

// globMatch reports whether s matches the IAM pattern p ('*' any run of
// characters including '/', '?' any one character).
func globMatch(p, s string) bool {
	px, sx := 0, 0
	nextP, nextS := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				nextP, nextS = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextS > 0 && nextS <= len(s) {
			px, sx = nextP, nextS
			continue
		}
		return false
	}
	return true
}

// globsOverlap reports whether some string matches both patterns, where
// '*' matches any run of characters and '?' any one character.
func globsOverlap(p, q string) bool {
	type key struct{ i, j int }
	memo := map[key]bool{}
	seen := map[key]bool{}
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		k := key{i, j}
		if seen[k] {
			return memo[k]
		}
		seen[k] = true
		var r bool
		switch {
		case i == len(p) && j == len(q):
			r = true
		case i < len(p) && p[i] == '*':
			r = rec(i+1, j) || (j < len(q) && rec(i, j+1))
		case j < len(q) && q[j] == '*':
			r = rec(i, j+1) || (i < len(p) && rec(i+1, j))
		case i == len(p) || j == len(q):
			r = false
		default:
			r = (p[i] == q[j] || p[i] == '?' || q[j] == '?') && rec(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return rec(0, 0)
}
