package keys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/shared/config"
)

// maxBody caps every discovery and JWKS response.
const maxBody = 1 << 20

// wellKnown is the path suffix of an OpenID discovery URL.
const wellKnown = config.WellKnownPath

// checkURL accepts an absolute https URL, or http on a loopback host
// (127.0.0.0/8, ::1, localhost). URLs with credentials are refused.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	if u.User != nil {
		return nil, errors.New("URL must not carry credentials")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !config.IsLoopbackHost(u.Hostname()) {
			return nil, errors.New("URL must use https (plain http only for loopback hosts)")
		}
	default:
		return nil, errors.New("URL must use https")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("URL has no host")
	}
	if u.Fragment != "" {
		return nil, errors.New("URL must not have a fragment")
	}
	return u, nil
}

// redact renders a URL for logs and errors without its query (which could
// carry a key or a signature).
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	c.Fragment = ""
	return c.String()
}

// trimSlash removes one trailing slash.
func trimSlash(s string) string { return strings.TrimSuffix(s, "/") }

// discoveryIssuer returns the issuer a discovery URL stands for and the
// URL to fetch (config.DiscoveryIssuer: the same rule Validate applies).
func discoveryIssuer(u *url.URL) (issuer string, doc *url.URL) { return config.DiscoveryIssuer(u) }

// newClient copies the given client (or a default one) and makes it refuse
// redirects to another host or scheme.
func newClient(c *http.Client) *http.Client {
	var cl http.Client
	if c != nil {
		cl = *c
	}
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
			return errors.New("redirect to another host refused")
		}
		return nil
	}
	return &cl
}

// fetchResult is one bounded GET.
type fetchResult struct {
	body   []byte
	maxAge time.Duration // -1 when the response gave no max-age
}

// get performs one GET bounded by timeout, status 200 only, body at most
// maxBody bytes.
func (s *Store) get(ctx context.Context, u *url.URL, accept string) (*fetchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errors.New("cannot build the request")
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "jwtgate")
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer within %s", s.timeout)
		}
		return nil, fmt.Errorf("request failed: %v", clip(err.Error(), 200))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d, want 200", resp.StatusCode)
	}
	if resp.ContentLength > maxBody {
		return nil, fmt.Errorf("body of %d bytes exceeds the %d byte limit", resp.ContentLength, maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("body not read within %s", s.timeout)
		}
		return nil, errors.New("reading the body failed")
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("body exceeds the %d byte limit", maxBody)
	}
	return &fetchResult{body: body, maxAge: maxAge(resp.Header.Values("Cache-Control"))}, nil
}

// maxAge reads max-age from Cache-Control; no-store and no-cache count as
// zero. It returns -1 when there is no directive.
func maxAge(values []string) time.Duration {
	age := time.Duration(-1)
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-store" || d == "no-cache":
				return 0
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64)
				if err == nil && n >= 0 {
					if n > int64(config.MaxRefreshInterval/time.Second) {
						n = int64(config.MaxRefreshInterval / time.Second)
					}
					age = time.Duration(n) * time.Second
				}
			}
		}
	}
	return age
}

// refreshAfter is how long a fetched key set is fresh: max-age clamped to
// [MinRefreshInterval, MaxRefreshInterval], else the configured interval.
func (s *Store) refreshAfter(age time.Duration) time.Duration {
	if age < 0 {
		return s.refresh
	}
	return min(max(age, config.MinRefreshInterval), config.MaxRefreshInterval)
}

// discoveryDoc is what jwtgate reads from an OpenID discovery document.
type discoveryDoc struct {
	Issuer  string
	JWKSURI *url.URL
}

// parseDiscovery reads issuer and jwks_uri strictly and checks the issuer
// against the one the URL stands for. An issuer that differs from it is
// accepted only when it is one of vouched (JWTGATE_ISSUERS), exactly: the
// operator vouches for it, as go-oidc's InsecureIssuerURLContext lets a
// caller do (Entra's v1.0 and multi-tenant documents).
func parseDiscovery(body []byte, want string, vouched []string) (*discoveryDoc, error) {
	m, err := strictObject(body)
	if err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	iss, err := optString(m, "issuer")
	if err != nil || iss == "" {
		return nil, errors.New(`discovery document: "issuer" missing or not a string`)
	}
	if trimSlash(iss) != trimSlash(want) && !slices.Contains(vouched, iss) {
		return nil, fmt.Errorf("discovery document announces issuer %q, but its URL stands for %q; if you trust this document for that issuer, list %q in JWTGATE_ISSUERS", clip(iss, 200), want, clip(iss, 200))
	}
	ju, err := optString(m, "jwks_uri")
	if err != nil || ju == "" {
		return nil, errors.New(`discovery document: "jwks_uri" missing or not a string`)
	}
	u, err := checkURL(ju)
	if err != nil {
		return nil, fmt.Errorf("discovery document: jwks_uri: %w", err)
	}
	return &discoveryDoc{Issuer: iss, JWKSURI: u}, nil
}
