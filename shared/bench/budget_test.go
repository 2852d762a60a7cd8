package bench

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// budgetAlg is the algorithm of the Entra / Cognito budget: the checks do
// not depend on it.
const budgetAlg = "RS256"

// style is one provider style of the budget: its tokens and two uncached
// cores, one applying the provider's checks and one plain.
type style struct {
	toks           []string
	checked, plain *core.Core
}

var (
	stylesOnce sync.Once
	theStyles  map[string]*style
	stylesErr  error
)

func getStyles(tb testing.TB) map[string]*style {
	tb.Helper()
	w := getWorld(tb)
	stylesOnce.Do(func() { theStyles, stylesErr = buildStyles(w.fx) })
	if stylesErr != nil {
		tb.Fatal(stylesErr)
	}
	return theStyles
}

func buildStyles(fx *Fixture) (map[string]*style, error) {
	quiet := core.WithLogger(slog.New(slog.DiscardHandler))
	out := map[string]*style{}
	for _, name := range Styles {
		s := &style{}
		var err error
		if s.toks, err = fx.MintStyle(name, budgetAlg, distinctTokens); err != nil {
			return nil, err
		}
		for _, checked := range []bool{true, false} {
			cfg, err := fx.StyleConfig(name, checked)
			if err != nil {
				return nil, err
			}
			cfg.TokenCacheSize = 0
			c, err := core.New(context.Background(), cfg, quiet)
			if err != nil {
				return nil, err
			}
			if checked {
				s.checked = c
			} else {
				s.plain = c
			}
		}
		out[name] = s
	}
	return out, nil
}

// BenchmarkEntraCognito times a new token through an Entra-style and a
// Cognito-style configuration against the plain configuration on the same
// tokens, within the same iterations (alternating their order), and reports
// the ratio: what the tenant, client and token_use checks add to a new
// token (budget: < 2 %).
func BenchmarkEntraCognito(b *testing.B) {
	w := getWorld(b)
	for _, name := range Styles {
		s := getStyles(b)[name]
		b.Run(budgetAlg+"/"+name, func(b *testing.B) {
			cs := [2]checker{w.jwtgate(s.checked, s.toks, false), w.jwtgate(s.plain, s.toks, false)}
			var spent [2]time.Duration
			n := 0
			for b.Loop() {
				for k := range cs {
					j := (n + k) % 2
					t0 := time.Now()
					if err := cs[j](n % distinctTokens); err != nil {
						b.Fatal(err)
					}
					spent[j] += time.Since(t0)
				}
				n++
			}
			if spent[1] > 0 {
				b.ReportMetric(float64(spent[0])/float64(spent[1]), "checked/plain")
			}
		})
	}
}

// TestStylesAcceptTheirTokensAndRefuseForged checks that both
// configurations of each style accept its tokens and refuse one with an
// altered signature, and that only the checked one refuses a token that
// fails the provider's check (another tenant, an id token): the two cases
// differ by exactly those checks.
func TestStylesAcceptTheirTokensAndRefuseForged(t *testing.T) {
	w := getWorld(t)
	styles := getStyles(t)
	for _, name := range Styles {
		s := styles[name]
		bad := make([]string, len(s.toks))
		for i, tok := range s.toks {
			dot := strings.LastIndexByte(tok, '.')
			r := byte('A')
			if tok[dot+1] == 'A' {
				r = 'B'
			}
			bad[i] = tok[:dot+1] + string(r) + tok[dot+2:]
		}
		// A token the provider's check refuses, and nothing else does.
		c := w.fx.StyleClaims(name)
		wantReason := decision.TenantNotAllowed
		if name == StyleEntra {
			c["tid"] = otherTenant + "0"
			c["iss"] = strings.Replace(EntraIssuer, EntraTenant, otherTenant+"0", 1)
		} else {
			c["token_use"] = "id"
			wantReason = decision.TokenUseInvalid
		}
		off, err := devissuer.Sign(w.fx.Keys[budgetAlg], c, nil)
		if err != nil {
			t.Fatal(err)
		}
		for cname, cr := range map[string]*core.Core{"checked": s.checked, "plain": s.plain} {
			t.Run(name+"/"+cname, func(t *testing.T) {
				if err := w.jwtgate(cr, s.toks, false)(3); err != nil {
					t.Fatalf("valid token refused: %v", err)
				}
				if err := w.jwtgate(cr, bad, false)(3); err == nil {
					t.Fatal("token with an altered signature accepted")
				}
				d := cr.Decide(context.Background(), Request(off))
				if cname == "plain" {
					// The plain configuration names the exact issuer: an Entra
					// token of another tenant is refused by its iss there.
					if name == StyleCognito && d.Outcome != decision.Allow {
						t.Fatalf("plain configuration refused an id token: %s %s", d.Reason, d.Detail)
					}
					return
				}
				if d.Outcome == decision.Allow || d.Reason != wantReason {
					t.Fatalf("checked configuration: %v %s, want %s", d.Outcome, d.Reason, wantReason)
				}
			})
		}
	}
}
