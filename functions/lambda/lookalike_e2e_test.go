//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/devissuer/lookalike"
)

// TestBootstrapEntraAndCognitoLookalikes drives the Entra ID and Cognito
// look-alike scenarios through the bootstrap under the emulator, every
// authorizer shape in turn: the answer's kind and forwarded context per
// case, and the reason code of each decision from the function's log.
func TestBootstrapEntraAndCognitoLookalikes(t *testing.T) {
	rie := rieOrSkip(t)
	bootstrap := buildBootstrap(t)
	set, err := lookalike.StartSet()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	shapes := []string{"rest_request", "http_v2", "rest_token", "http_v1"}
	for _, sc := range set.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			var fn *function
			t.Run("invocations", func(t *testing.T) {
				fn = startFunction(t, rie, bootstrap, sc.Env)
				for i, tc := range sc.Cases {
					shape := shapes[i%len(shapes)]
					r := fn.invoke(t, shapeEvent(shape, tc.Token))
					if err := lambdaAnswerFits(r, shape, tc); err != nil {
						t.Errorf("%s (%s): %v: %+v", tc.Name, shape, err, r)
					}
				}
			}) // the emulator has exited: its output is complete
			reasons := decisionReasons(fn.output())
			if len(reasons) != len(sc.Cases) {
				t.Fatalf("%d decisions logged for %d cases: %v", len(reasons), len(sc.Cases), reasons)
			}
			for i, tc := range sc.Cases {
				if reasons[i] != string(tc.Reason) {
					t.Errorf("%s: logged reason %s, want %s", tc.Name, reasons[i], tc.Reason)
				}
			}
		})
	}
}

// lambdaAnswerFits checks an answer against a case: allow (with the
// forwarded context), deny (403) or Unauthorized (401).
func lambdaAnswerFits(r answer, shape string, tc lookalike.Case) error {
	allowed := r.ErrorMessage == "" && ((r.IsAuthorized != nil && *r.IsAuthorized) ||
		(r.PolicyDocument != nil && len(r.PolicyDocument.Statement) == 1 && r.PolicyDocument.Statement[0].Effect == "Allow"))
	switch tc.Outcome {
	case decision.Allow:
		if !allowed {
			return fmt.Errorf("not allowed")
		}
		for k, v := range tc.Forwarded {
			if got := fmt.Sprint(r.Context[k]); got != v {
				return fmt.Errorf("context %s = %q, want %q", k, got, v)
			}
		}
	case decision.Forbidden:
		if allowed || r.ErrorMessage != "" {
			return fmt.Errorf("not a deny")
		}
	default:
		if r.ErrorMessage != "Unauthorized" {
			return fmt.Errorf("not Unauthorized")
		}
	}
	return nil
}

// decisionReasons returns the reason of every decision record in the
// function's output, in order.
func decisionReasons(out string) []string {
	var reasons []string
	for _, line := range strings.Split(out, "\n") {
		i := strings.IndexByte(line, '{')
		if i < 0 {
			continue
		}
		var rec struct {
			Msg    string `json:"msg"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal([]byte(line[i:]), &rec) == nil && rec.Msg == "decision" {
			reasons = append(reasons, rec.Reason)
		}
	}
	return reasons
}
