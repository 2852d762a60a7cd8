package core

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/logging"
)

// reasonCodes reads every Reason constant from the decision package's
// source, so a new code is covered without editing this test.
func reasonCodes(t *testing.T) []decision.Reason {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../decision/reason.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []decision.Reason
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Reason" {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, decision.Reason(s))
			}
		}
		return true
	})
	if len(out) < 40 {
		t.Fatalf("found only %d reason codes in reason.go", len(out))
	}
	return out
}

var timeMember = regexp.MustCompile(`^\{"time":"[^"]+",`)

// TestDecisionLineFastPathMatchesSlog renders many decision lines through
// the fast path (the logger logging.New builds) and through slog's own
// JSONHandler (the attributes the line always had) and wants the same
// bytes, the time member aside (each path reads the clock; the logging
// package checks the time and level rendering against slog with a fixed
// clock).
func TestDecisionLineFastPathMatchesSlog(t *testing.T) {
	awkward := []string{
		"", "/orders/1", `/a"b\c`, "/tab\there\nnl\rcr\x00\x01\x1f\x7f", "/<script>&amp;",
		"/caf\u00e9/\u2028/\u2029/\U0001F600", "/bad\xff\xfeutf8\xc3", strings.Repeat("/abcdefgh", 40),
		"12345678\"", "1234567\\8", "\x80abcdefghijk", "abcdefgh\x1f", "/é" + strings.Repeat("x", 15) + "\"",
	}
	type extraSet struct {
		name  string
		attrs []slog.Attr
	}
	var extras []extraSet
	extras = append(extras, extraSet{"none", nil})
	for i, s := range awkward {
		extras = append(extras, extraSet{"handler-" + strconv.Itoa(i), []slog.Attr{
			slog.Int("http_status", 401), slog.String("invocation_id", s), slog.String("method", "GET"), slog.String("path", s),
		}})
	}
	extras = append(extras,
		extraSet{"kinds", []slog.Attr{slog.Uint64("u", math.MaxUint64), slog.Int64("i", math.MinInt64), slog.Bool("b", false),
			slog.Duration("d", 1500*time.Millisecond), slog.Float64("f", 1e-7), slog.Float64("g", 1e21), slog.Float64("h", -0.125),
			slog.String("key \"quoted\"\n", "v")}},
		// Kinds the fast path leaves to slog: the line must still be right.
		extraSet{"any", []slog.Attr{slog.Any("any", []int{1, 2}), slog.Int("after", 1)}},
		extraSet{"group", []slog.Attr{slog.Group("g", slog.String("a", "b"))}},
		extraSet{"time", []slog.Attr{slog.Time("t", time.Unix(0, 0).UTC())}},
		extraSet{"nan", []slog.Attr{slog.Float64("nan", math.NaN())}},
		extraSet{"empty key", []slog.Attr{slog.String("", "x")}},
	)
	outcomes := []decision.Outcome{decision.Allow, decision.Unauthenticated, decision.Forbidden, decision.Unavailable, decision.Outcome(99)}
	latencies := []time.Duration{0, time.Microsecond, 999 * time.Nanosecond, 1500 * time.Microsecond, 12345678 * time.Microsecond, 100 * time.Hour}
	ctx := context.Background()
	var fast, ref bytes.Buffer
	fastLog := logging.New(&fast, slog.LevelDebug)
	if _, ok := fastLog.Handler().(*logging.Handler); !ok {
		t.Fatal("logging.New's handler is not the fast-path handler: this test would compare slog with itself")
	}
	refLog := slog.New(slog.NewJSONHandler(&ref, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := 0
	for ri, reason := range reasonCodes(t) {
		for _, o := range outcomes {
			for ei, ex := range extras {
				if (ri+ei)%3 != 0 && ex.name != "none" && ri > 2 {
					continue // every extra set with a third of the reasons
				}
				d := decision.Decision{Outcome: o, Reason: reason, Detail: "never logged",
					CacheHit: ri%2 == 0, Claims: decision.ClaimsOf(map[string]any{"sub": "x"})}
				if ri%4 != 1 {
					s := awkward[(ri+ei)%len(awkward)]
					d.KeyID, d.Issuer, d.Principal = "kid-"+s, "https://issuer.example/"+s, s
				}
				switch ri % 3 {
				case 1:
					d.RulePlace = "routes[2].when"
				case 2:
					d.RulePlace, d.RuleFailure = "JWTGATE_RULE", "no such key: \"x\""
				}
				lat := latencies[(ri+ei)%len(latencies)]
				fast.Reset()
				ref.Reset()
				LogDecision(ctx, fastLog, "azure-functions", "forward-auth", d, lat, ex.attrs...)
				refLog.LogAttrs(ctx, DecisionLevel(o), "decision", decisionAttrs("azure-functions", "forward-auth", d, lat, ex.attrs)...)
				got, want := timeMember.ReplaceAllString(fast.String(), "{"), timeMember.ReplaceAllString(ref.String(), "{")
				if got != want || got == fast.String() {
					t.Fatalf("reason %s outcome %v extra %s latency %v:\nfast %s\nslog %s", reason, o, ex.name, lat, fast.String(), ref.String())
				}
				n++
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d lines compared", n)
	}
}

// TestDecisionLineFastPathKeepsTheLevel: the fast path is behind the same
// level check (JWTGATE_LOG_LEVEL=warn keeps refusals and faults only).
func TestDecisionLineFastPathKeepsTheLevel(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, slog.LevelWarn)
	LogDecision(context.Background(), l, "p", "s", decision.Decision{Outcome: decision.Allow, Reason: decision.ReasonOK}, 0)
	if buf.Len() != 0 {
		t.Fatalf("allow written at warn: %q", buf.String())
	}
	LogDecision(context.Background(), l, "p", "s", decision.Decision{Outcome: decision.Forbidden, Reason: decision.ScopeMissing}, 0)
	if !strings.Contains(buf.String(), `"level":"WARN","msg":"decision","platform":"p"`) || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("refusal at warn: %q", buf.String())
	}
}
