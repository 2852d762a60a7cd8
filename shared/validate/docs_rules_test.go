package validate

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// docsCase is one request an example of docs/rules.md must allow or refuse.
type docsCase struct {
	claims  map[string]any
	method  string
	path    string
	header  http.Header
	query   url.Values
	host    string
	ip      string
	at      time.Time
	allowed bool
}

// A Wednesday, 12:00 UTC (13:00 in Paris).
var docsNoon = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// docsCases: for each example heading of docs/rules.md, requests it must
// allow and refuse. Every example must have cases (and every case an
// example).
var docsCases = map[string][]docsCase{
	"Admins may delete, readers may read": {
		{claims: map[string]any{"roles": []string{"admin"}}, method: "DELETE", path: "/orders/1", allowed: true},
		{claims: map[string]any{"roles": []string{"reader"}}, method: "DELETE", path: "/orders/1"},
		{claims: map[string]any{"scope": "orders:read"}, method: "GET", path: "/orders/1", allowed: true},
		{claims: map[string]any{"scope": "orders:write"}, method: "GET", path: "/orders/1"},
	},
	"The tenant claim must equal the first path segment": {
		{claims: map[string]any{"tenant": "acme"}, method: "GET", path: "/acme/orders", allowed: true},
		{claims: map[string]any{"tenant": "acme"}, method: "GET", path: "/globex/orders"},
	},
	"Scopes by method": {
		{claims: map[string]any{"scope": "orders:read"}, method: "GET", path: "/orders", allowed: true},
		{claims: map[string]any{"scope": "orders:read"}, method: "POST", path: "/orders"},
		{claims: map[string]any{"scope": "orders:write"}, method: "POST", path: "/orders", allowed: true},
	},
	"Office hours in a time zone": {
		{method: "POST", path: "/payments", allowed: true},
		{method: "POST", path: "/payments", at: docsNoon.Add(6 * time.Hour)},             // 19:00 Paris
		{method: "POST", path: "/payments", at: docsNoon.Add(3 * 24 * time.Hour)},        // Saturday
		{method: "GET", path: "/orders", at: docsNoon.Add(6 * time.Hour), allowed: true}, // another route
	},
	"Only the partner client may export, and only outside office hours": {
		{claims: map[string]any{"azp": "partner-app"}, method: "GET", path: "/exports", at: docsNoon.Add(8 * time.Hour), allowed: true},
		{claims: map[string]any{"azp": "partner-app"}, method: "GET", path: "/exports"},
		{claims: map[string]any{"azp": "other"}, method: "GET", path: "/exports", at: docsNoon.Add(8 * time.Hour)},
	},
	"Client allowlist per route": {
		{claims: map[string]any{"azp": "ops-cli"}, method: "DELETE", path: "/admin/users/1", allowed: true},
		{claims: map[string]any{"azp": "web"}, method: "GET", path: "/admin/users"},
		{claims: map[string]any{"azp": nil, "client_id": "billing-service"}, method: "POST", path: "/webhooks", allowed: true},
		{claims: map[string]any{"azp": nil, "client_id": "web"}, method: "POST", path: "/webhooks"},
	},
	"The tenant header must match the token": {
		{claims: map[string]any{"tenant": "acme"}, header: http.Header{"X-Tenant-Id": {"acme"}}, allowed: true},
		{claims: map[string]any{"tenant": "acme"}, header: http.Header{"X-Tenant-Id": {"globex"}}},
		{claims: map[string]any{"tenant": "acme"}},
	},
	"Multi-factor sign-in for writes": {
		{method: "GET", allowed: true},
		{claims: map[string]any{"amr": []string{"pwd", "mfa"}}, method: "POST", allowed: true},
		{claims: map[string]any{"amr": []string{"pwd"}}, method: "POST"},
		{method: "POST"},
	},
	"A recent sign-in for account changes": {
		{claims: map[string]any{"auth_time": docsNoon.Add(-5 * time.Minute).Unix()}, method: "PUT", path: "/account/email", allowed: true},
		{claims: map[string]any{"auth_time": docsNoon.Add(-time.Hour).Unix()}, method: "PUT", path: "/account/email"},
	},
	"Users of one e-mail domain, or a service client": {
		{claims: map[string]any{"email": "Bob@Example.com"}, allowed: true},
		{claims: map[string]any{"email": "bob@other.com"}},
		{claims: map[string]any{"sub": "abc@clients"}, allowed: true},
	},
	"Debug output for admins only": {
		{allowed: true},
		{query: url.Values{"debug": {"1"}}},
		{claims: map[string]any{"roles": []string{"admin"}}, query: url.Values{"debug": {"1"}}, allowed: true},
	},
	"Internal callers only, on the internal host": {
		{method: "GET", path: "/internal/metrics", host: "internal.example.com", ip: "10.1.2.3", allowed: true},
		{method: "GET", path: "/internal/metrics", host: "api.example.com", ip: "10.1.2.3"},
		{method: "GET", path: "/internal/metrics", host: "internal.example.com", ip: "203.0.113.7"},
	},
	"Access tokens only, signed with the current key": {
		{allowed: true},
	},
}

type docBlock struct{ heading, section, body string }

// rulesDoc reads docs/rules.md: its yaml blocks with their headings, and
// the CEL column of its APIM table.
func rulesDoc(t *testing.T) (blocks []docBlock, apimCEL []string) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	var heading, section string
	lines := strings.Split(string(data), "\n")
	cell := regexp.MustCompile("^\\| `.*` \\| `(.*)` \\|$")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "## "):
			section, heading = l[3:], ""
		case strings.HasPrefix(l, "### "):
			heading = l[4:]
		case strings.TrimSpace(l) == "```yaml":
			indent := l[:strings.Index(l, "`")]
			var body []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				body = append(body, strings.TrimPrefix(lines[i], indent))
			}
			blocks = append(blocks, docBlock{heading, section, strings.Join(body, "\n")})
		case section == "APIM policy expressions in CEL" && cell.MatchString(l):
			apimCEL = append(apimCEL, cell.FindStringSubmatch(l)[1])
		}
	}
	return blocks, apimCEL
}

// docsValidator loads a policy fragment of the docs with the settings a
// policy needs around it.
func docsValidator(t *testing.T, fragment string, clock *time.Time) *Validator {
	t.Helper()
	policy := "jwks_url: [\"https://issuer.example/jwks\"]\nissuers: [\"" + testIssuer + "\"]\naudiences: [\"https://api.example.com\"]\n" + fragment
	cfg, err := config.LoadPolicy([]byte(policy), "rules.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, fragment)
	}
	v, err := New(cfg, newFakeKeys(t), WithClock(func() time.Time { return *clock }))
	if err != nil {
		t.Fatalf("%v\n%s", err, fragment)
	}
	return v
}

func TestEveryRulesDocExampleCompilesAndDecides(t *testing.T) {
	blocks, _ := rulesDoc(t)
	seen := map[string]bool{}
	for _, b := range blocks {
		clock := docsNoon
		v := docsValidator(t, b.body, &clock) // every block compiles
		if b.section != "Examples" {
			continue
		}
		cases, ok := docsCases[b.heading]
		if !ok || len(cases) == 0 {
			t.Errorf("example %q has no test cases", b.heading)
			continue
		}
		seen[b.heading] = true
		for i, c := range cases {
			over := map[string]any{"exp": docsNoon.Add(30 * 24 * time.Hour).Unix(), "iat": docsNoon.Add(-time.Minute).Unix(), "scope": nil}
			for k, val := range c.claims {
				over[k] = val
			}
			tok := sign(t, "RS256", []byte(`{"alg":"RS256","kid":"rsa1","typ":"at+jwt"}`), mustJSON(claims(docsNoon, over)))
			r := &decision.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}, Query: c.query, Method: c.method, Path: c.path, Host: c.host, SourceIP: c.ip}
			if r.Method == "" {
				r.Method = "GET"
			}
			if r.Path == "" {
				r.Path = "/"
			}
			for k, vs := range c.header {
				r.Header[k] = vs
			}
			clock = docsNoon
			if !c.at.IsZero() {
				clock = c.at
			}
			d := v.Decide(context.Background(), r)
			if d.Allowed() != c.allowed {
				t.Errorf("%s, case %d (%s %s): %s %s %s, want allowed=%v", b.heading, i, r.Method, r.Path, d.Outcome, d.Reason, d.RuleFailure, c.allowed)
			}
		}
	}
	for h := range docsCases {
		if !seen[h] {
			t.Errorf("test cases for %q, which is not an example in docs/rules.md", h)
		}
	}
	if len(seen) < 12 {
		t.Errorf("%d examples, want a dozen", len(seen))
	}
}

// Every CEL rule of the APIM table holds on one sample request that
// satisfies all of the APIM expressions.
func TestRulesDocAPIMEquivalents(t *testing.T) {
	_, cel := rulesDoc(t)
	if len(cel) < 10 {
		t.Fatalf("%d APIM equivalents found", len(cel))
	}
	clock := docsNoon // a Wednesday, 12:00 UTC
	tok := sign(t, "RS256", []byte(`{"alg":"RS256","kid":"rsa1"}`), mustJSON(claims(docsNoon, map[string]any{
		"exp": docsNoon.Add(time.Hour).Unix(), "tenant": "acme", "roles": []string{"admin"}, "scp": "orders:read", "sub": "alice",
	})))
	for _, expr := range cel {
		v := docsValidator(t, "rule: '"+strings.ReplaceAll(expr, "'", "''")+"'\n", &clock)
		r := &decision.Request{
			Header:   http.Header{"Authorization": {"Bearer " + tok}, "X-Tenant-Id": {"acme"}, "X-Request-Id": {"1"}},
			Query:    url.Values{"view": {"full"}},
			Method:   "GET",
			Path:     "/acme/orders",
			Host:     "api.example.com",
			SourceIP: "203.0.113.7",
		}
		if d := v.Decide(context.Background(), r); !d.Allowed() {
			t.Errorf("%s: %s %s", expr, d.Reason, d.RuleFailure)
		}
	}
}
