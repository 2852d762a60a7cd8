package core

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
)

func TestDecisionLinesFollowTheOutcomeLevel(t *testing.T) {
	for _, tc := range []struct {
		outcome   decision.Outcome
		reason    decision.Reason
		wantLevel string
		// keptAtWarn: JWTGATE_LOG_LEVEL=warn keeps refusals and faults only.
		keptAtWarn bool
	}{
		{decision.Allow, decision.ReasonOK, "INFO", false},
		{decision.Unauthenticated, decision.TokenExpired, "WARN", true},
		{decision.Forbidden, decision.ScopeMissing, "WARN", true},
		{decision.Unavailable, decision.KeysUnavailable, "ERROR", true},
	} {
		t.Run(tc.outcome.String(), func(t *testing.T) {
			var buf bytes.Buffer
			d := decision.Decision{Outcome: tc.outcome, Reason: tc.reason}
			LogDecision(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), "p", "s", d, 0)
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("line %q: %v", buf.String(), err)
			}
			if rec["level"] != tc.wantLevel || rec["reason"] != string(tc.reason) {
				t.Fatalf("line %v: want level %s reason %s", rec, tc.wantLevel, tc.reason)
			}
			buf.Reset()
			LogDecision(context.Background(), slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})), "p", "s", d, 0)
			if kept := strings.Contains(buf.String(), `"msg":"decision"`); kept != tc.keptAtWarn {
				t.Fatalf("at warn: kept=%v, want %v (%q)", kept, tc.keptAtWarn, buf.String())
			}
		})
	}
}
