package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

func TestLambdaStatusIsWhatAPIGatewayAnswers(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
		want int
	}{
		{"Unauthorized error is 401", 200, `{"errorMessage":"Unauthorized","errorType":"errorString"}`, 401},
		{"any other error is 500", 200, `{"errorMessage":"keys unavailable","errorType":"errorString"}`, 500},
		{"allow policy is 200", 200, `{"principalId":"a","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["arn:x/*/*"]}]}}`, 200},
		{"deny policy is 403", 200, `{"principalId":"a","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Deny","Resource":["arn:x/*/*"]}]}}`, 403},
		{"empty policy is 403", 200, `{"principalId":"a","policyDocument":{"Version":"2012-10-17","Statement":[]}}`, 403},
		{"simple true is 200", 200, `{"isAuthorized":true}`, 200},
		{"simple false is 403", 200, `{"isAuthorized":false}`, 403},
		{"emulator failure is 500", 502, `{}`, 500},
		{"unrecognised answer is 500", 200, `{"hello":1}`, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lambdaStatus(tc.code, []byte(tc.body))
			if err != nil || got != tc.want {
				t.Fatalf("lambdaStatus = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	if _, err := lambdaStatus(200, []byte("nope")); err == nil {
		t.Fatal("non-JSON answer accepted")
	}
}

// TestReplayThroughRuntime runs the sample events through the real
// bootstrap under the Lambda RIE and the Azure handler process. make test
// sets JWTGATE_RIE after installing the emulator.
func TestReplayThroughRuntime(t *testing.T) {
	rie := os.Getenv("JWTGATE_RIE")
	if rie == "" {
		t.Skip("JWTGATE_RIE not set (make test installs the emulator and sets it)")
	}
	if _, err := os.Stat(rie); err != nil {
		t.Skipf("JWTGATE_RIE: %v", err)
	}
	dir, addr := sampleDir(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), replayArgs(t, dir, dir, addr, "--through-runtime", "--rie", rie), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "54 checked, every expectation met") {
		t.Fatalf("summary:\n%s", stdout.String())
	}
}
