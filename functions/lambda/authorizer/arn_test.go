package authorizer

import (
	"context"
	"testing"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// TestARNWithWildcardOrEmptyPartIsMalformed: every ARN field that policy
// resources are built from must be a plain name. A stage of "*" would make
// the whole-stage Allow cover every stage; the event is refused instead.
func TestARNWithWildcardOrEmptyPartIsMalformed(t *testing.T) {
	arns := map[string]string{
		"wildcard partition": "arn:*:execute-api:eu-west-1:123456789012:abc123/prod/GET/x",
		"wildcard region":    "arn:aws:execute-api:eu-*:123456789012:abc123/prod/GET/x",
		"wildcard account":   "arn:aws:execute-api:eu-west-1:12345678901?:abc123/prod/GET/x",
		"wildcard API id":    "arn:aws:execute-api:eu-west-1:123456789012:abc*/prod/GET/x",
		"wildcard stage":     "arn:aws:execute-api:eu-west-1:123456789012:abc123/*/GET/x",
		"partial stage":      "arn:aws:execute-api:eu-west-1:123456789012:abc123/pr?d/GET/x",
		"wildcard method":    "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/x",
		"partial method":     "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/G*/x",
		"empty region":       "arn:aws:execute-api::123456789012:abc123/prod/GET/x",
		"empty account":      "arn:aws:execute-api:eu-west-1::abc123/prod/GET/x",
		"empty API id":       "arn:aws:execute-api:eu-west-1:123456789012:/prod/GET/x",
		"empty stage":        "arn:aws:execute-api:eu-west-1:123456789012:abc123//GET/x",
		"empty method":       "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod//x",
		"space in stage":     "arn:aws:execute-api:eu-west-1:123456789012:abc123/pr d/GET/x",
	}
	for name, a := range arns {
		events := map[string][]byte{
			ShapeRESTToken:   tokenEvent(a, testToken),
			ShapeRESTRequest: restRequestEvent(a, map[string]string{"Authorization": testToken}, nil),
			ShapeHTTPv1:      v1Event(a, map[string]string{"authorization": testToken}),
			ShapeHTTPv2:      v2Event(a, map[string]string{"authorization": testToken}),
		}
		for shape, ev := range events {
			t.Run(name+"/"+shape, func(t *testing.T) {
				f := &fakeDecider{d: allowDecision()}
				res := New(f, &config.Config{HTTPAPIResponse: "iam"}, quietLogger()).Evaluate(context.Background(), ev)
				if f.calls != 0 || res.Status != 401 || res.Err != ErrUnauthorized || res.Decision.Reason != decision.EventMalformed {
					t.Fatalf("calls %d status %d err %v reason %q response %+v", f.calls, res.Status, res.Err, res.Decision.Reason, res.Response)
				}
			})
		}
	}
}
