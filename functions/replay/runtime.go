package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/shared/localrun"
)

// throughRuntime runs events through the real processes: the Lambda
// bootstrap under the AWS Lambda Runtime Interface Emulator, and the Azure
// custom handler over HTTP. Outcomes are read from what the platform would
// see (the function's response); reasons from the processes' decision log.
type throughRuntime struct {
	tmp       string
	client    *http.Client
	rieURL    string
	azureURL  string
	procs     []*process
	lambdaLog *process
	azureLog  *process
}

// process is a child process whose stdout decision lines are collected.
type process struct {
	*localrun.Proc
	decisions chan logDecision
}

// logDecision is the part of a decision log line replay reads.
type logDecision struct {
	Msg     string `json:"msg"`
	Shape   string `json:"shape"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Status  int    `json:"status"`
}

// processEnv is the environment of the child processes: the replay
// configuration plus what the Go runtime and the RIE need.
func processEnv(env map[string]string, extra ...string) []string {
	var out []string
	if env == nil { // --own-config: this process's environment
		out = os.Environ()
	} else {
		for _, k := range []string{"PATH", "HOME", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
			if v, ok := os.LookupEnv(k); ok {
				out = append(out, k+"="+v)
			}
		}
		for k, v := range env {
			out = append(out, k+"="+v)
		}
	}
	return append(out, extra...)
}

func newThroughRuntime(ctx context.Context, env map[string]string, f replayFlags, logOut, stderr io.Writer) (_ runner, err error) {
	rie := f.rie
	if rie == "" {
		rie = os.Getenv("JWTGATE_RIE")
	}
	if rie == "" {
		rie = filepath.Join("bin", "aws-lambda-rie")
	}
	if _, err := os.Stat(rie); err != nil {
		return nil, fmt.Errorf("--through-runtime needs the Lambda Runtime Interface Emulator: %v (run `make tools`, or set JWTGATE_RIE / --rie)", err)
	}
	tmp, err := os.MkdirTemp("", "jwtgate-replay-")
	if err != nil {
		return nil, err
	}
	t := &throughRuntime{tmp: tmp, client: &http.Client{Timeout: 30 * time.Second}}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	bootstrap := filepath.Join(tmp, "bootstrap")
	handler := filepath.Join(tmp, "handler")
	root, err := localrun.ModuleRoot()
	if err != nil {
		return nil, fmt.Errorf("--through-runtime builds the binaries from source: run it inside the jwtgate repository (%w)", err)
	}
	for _, b := range []localrun.Build{
		{Dir: root, Pkg: "./functions/lambda", Out: bootstrap, Tags: localrun.LambdaTags},
		{Dir: root, Pkg: "./functions/azure", Out: handler},
	} {
		if err := localrun.GoBuild(ctx, b); err != nil {
			return nil, err
		}
	}

	addrs, err := localrun.FreeAddrs(3)
	if err != nil {
		return nil, err
	}
	rieAddr, apiAddr, azureAddr := addrs[0], addrs[1], addrs[2]
	rieCmd := exec.Command(rie, "--log-level", "error",
		"--runtime-interface-emulator-address", rieAddr,
		"--runtime-api-address", apiAddr, bootstrap)
	rieCmd.Env = processEnv(env)
	if t.lambdaLog, err = startProcess(rieCmd, logOut); err != nil {
		return nil, fmt.Errorf("start the RIE: %w", err)
	}
	t.procs = append(t.procs, t.lambdaLog)
	t.rieURL = "http://" + rieAddr + "/2015-03-31/functions/function/invocations"

	_, port, _ := net.SplitHostPort(azureAddr)
	hCmd := exec.Command(handler)
	hCmd.Env = processEnv(env, "FUNCTIONS_CUSTOMHANDLER_PORT="+port)
	if t.azureLog, err = startProcess(hCmd, logOut); err != nil {
		return nil, fmt.Errorf("start the Azure handler: %w", err)
	}
	t.procs = append(t.procs, t.azureLog)
	t.azureURL = "http://" + azureAddr
	if err := t.waitReady(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

func startProcess(cmd *exec.Cmd, logOut io.Writer) (*process, error) {
	p := &process{decisions: make(chan logDecision, 64)}
	cmd.Stderr = logOut
	cmd.Stdout = localrun.Lines(func(line []byte) {
		_, _ = logOut.Write(append(append([]byte(nil), line...), '\n'))
		var d logDecision
		if json.Unmarshal(line, &d) == nil && d.Msg == "decision" {
			select {
			case p.decisions <- d:
			default:
			}
		}
	})
	var err error
	if p.Proc, err = localrun.Start(cmd); err != nil {
		return nil, err
	}
	return p, nil
}

// waitReady waits until the RIE answers HTTP (any answer: GET / is a 404)
// and the Azure handler answers its liveness check (/healthz; "/" is a
// decision endpoint, never an unconditional 200). On a loaded machine
// either may take seconds to listen.
func (t *throughRuntime) waitReady(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rieRoot := strings.TrimSuffix(t.rieURL, "/2015-03-31/functions/function/invocations") + "/"
	rresp, err := t.lambdaLog.WaitHTTP(wctx, t.client, 50*time.Millisecond, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, rieRoot, nil)
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the Lambda RIE did not answer within 30s: %w", err)
	}
	_ = rresp.Body.Close()
	resp, err := t.azureLog.WaitHTTP(wctx, t.client, 50*time.Millisecond, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, t.azureURL+customhandler.HealthPath, nil)
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the Azure handler did not become ready within 30s: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the Azure handler's liveness check answered %d", resp.StatusCode)
	}
	return nil
}

// Close stops the processes (interrupt, then kill after 5s) and removes
// the binaries.
func (t *throughRuntime) Close() {
	var wg sync.WaitGroup
	for _, p := range t.procs {
		wg.Go(func() { _ = p.Stop(os.Interrupt, 5*time.Second) })
	}
	wg.Wait()
	if t.tmp != "" {
		_ = os.RemoveAll(t.tmp)
	}
}

func drain(ch chan logDecision) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// nextDecision waits briefly for the decision line of the event just run.
func nextDecision(ch chan logDecision) (logDecision, bool) {
	select {
	case d := <-ch:
		return d, true
	case <-time.After(2 * time.Second):
		return logDecision{}, false
	}
}

func (t *throughRuntime) Run(ctx context.Context, ev eventFile) outcome {
	o := outcome{Event: ev.Name, Kind: ev.Kind}
	var p *process
	var req *http.Request
	var err error
	switch ev.Kind {
	case KindLambda:
		p = t.lambdaLog
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, t.rieURL, bytes.NewReader(ev.Body))
	case KindAzureProxy:
		p = t.azureLog
		req, err = parseHTTPRequest(ev.Body)
		if err == nil {
			req.RequestURI = ""
			req.URL.Scheme, req.URL.Host = "http", strings.TrimPrefix(t.azureURL, "http://")
			req = req.WithContext(ctx)
		}
	case KindAzureInvocation:
		p = t.azureLog
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, t.azureURL+customhandler.InvocationPath, bytes.NewReader(ev.Body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(customhandler.InvocationIDHeader, "replay-"+ev.Name)
		}
	default:
		err = fmt.Errorf("unknown event kind %q", ev.Kind)
	}
	if err != nil {
		o.Err = err
		return o
	}
	drain(p.decisions)
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		o.Err = err
		return o
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	o.Latency = time.Since(start)
	if err != nil {
		o.Err = err
		return o
	}
	switch ev.Kind {
	case KindLambda:
		o.Status, err = lambdaStatus(resp.StatusCode, body)
		o.Outcome = outcomeForStatus(o.Status)
	case KindAzureProxy:
		o.Shape, o.Status = "azure_proxy", resp.StatusCode
		o.Outcome, o.Reason = azureBodyDecision(body)
	case KindAzureInvocation:
		o.Shape = "azure_invocation"
		o.Status, o.Outcome, o.Reason, err = invocationAnswer(resp.StatusCode, body)
	}
	if err != nil {
		o.Err = err
		return o
	}
	if d, ok := nextDecision(p.decisions); ok {
		if o.Shape == "" {
			o.Shape = d.Shape
		}
		o.Reason = d.Reason
		if o.Outcome == "" || o.Outcome == "-" {
			o.Outcome = d.Outcome
		}
	}
	return o
}

// lambdaStatus is the HTTP status API Gateway answers for an authorizer's
// response: an "Unauthorized" error is 401, any other error 500; an IAM
// policy is 200 when its statements allow and 403 when they deny; a simple
// response is 200 or 403.
func lambdaStatus(code int, body []byte) (int, error) {
	if code/100 != 2 {
		return http.StatusInternalServerError, nil
	}
	var r struct {
		ErrorMessage *string `json:"errorMessage"`
		IsAuthorized *bool   `json:"isAuthorized"`
		Policy       *struct {
			Statement []struct {
				Effect string
			}
		} `json:"policyDocument"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("the authorizer's response is not JSON: %w", err)
	}
	switch {
	case r.ErrorMessage != nil && *r.ErrorMessage == "Unauthorized":
		return http.StatusUnauthorized, nil
	case r.ErrorMessage != nil:
		return http.StatusInternalServerError, nil
	case r.IsAuthorized != nil && *r.IsAuthorized:
		return http.StatusOK, nil
	case r.IsAuthorized != nil:
		return http.StatusForbidden, nil
	case r.Policy != nil:
		allow := len(r.Policy.Statement) > 0
		for _, s := range r.Policy.Statement {
			if s.Effect != "Allow" {
				allow = false
			}
		}
		if allow {
			return http.StatusOK, nil
		}
		return http.StatusForbidden, nil
	}
	return http.StatusInternalServerError, nil
}

func outcomeForStatus(status int) string {
	switch status {
	case http.StatusOK:
		return "allow"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	}
	return "unavailable"
}
