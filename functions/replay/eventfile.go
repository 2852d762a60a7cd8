package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Event kinds, recognised from the file itself.
const (
	KindLambda          = "lambda"           // an API Gateway authorizer event (JSON)
	KindAzureProxy      = "azure-proxy"      // a raw HTTP request (.http)
	KindAzureInvocation = "azure-invocation" // {"Data":{"req":…},"Metadata":…}
)

// maxEventFileBytes bounds what replay reads from one event file.
const maxEventFileBytes = 1 << 20

// eventFile is one event to replay.
type eventFile struct {
	Name string // file name (the key in expectations.json)
	Path string
	Kind string
	Body []byte
}

// loadEvents reads the event files named by paths (files or directories;
// a directory contributes its *.json and *.http files, except
// expectations.json and key files), sorted by name within each directory.
func loadEvents(paths []string) ([]eventFile, error) {
	var out []eventFile
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		files := []string{p}
		if st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("events: %w", err)
			}
			files = files[:0]
			for _, e := range entries {
				n := e.Name()
				if e.IsDir() || n == ExpectFileName || strings.HasSuffix(n, ".jwk.json") {
					continue
				}
				if strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".http") {
					files = append(files, filepath.Join(p, n))
				}
			}
			sort.Strings(files)
		}
		for _, f := range files {
			ev, err := readEvent(f)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("events: no event files found")
	}
	return out, nil
}

func readEvent(path string) (eventFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return eventFile{}, fmt.Errorf("events: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxEventFileBytes+1))
	if err != nil {
		return eventFile{}, fmt.Errorf("events: %s: %w", path, err)
	}
	if len(b) > maxEventFileBytes {
		return eventFile{}, fmt.Errorf("events: %s: larger than %d bytes", path, maxEventFileBytes)
	}
	ev := eventFile{Name: filepath.Base(path), Path: path, Body: b}
	ev.Kind, err = detectKind(ev.Name, ev.Body)
	if err != nil {
		return eventFile{}, fmt.Errorf("events: %s: %w", path, err)
	}
	return ev, nil
}

// detectKind tells the event kind: .http files are proxied requests; JSON
// with a top-level "Data" object is an Azure invocation payload; any other
// JSON object is an API Gateway event (the Lambda adapter recognises which).
func detectKind(name string, body []byte) (string, error) {
	if strings.HasSuffix(name, ".http") {
		return KindAzureProxy, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return "", fmt.Errorf("not a JSON object (.json) or an HTTP request (.http): %v", err)
	}
	for k := range top {
		if strings.EqualFold(k, "Data") {
			return KindAzureInvocation, nil
		}
	}
	return KindLambda, nil
}

// parseHTTPRequest reads a raw HTTP request as a server receives it. LF
// line endings and a missing final blank line are accepted, since people
// write these files by hand.
func parseHTTPRequest(body []byte) (*http.Request, error) {
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	head, rest, found := strings.Cut(text, "\n\n")
	if !found {
		head = strings.TrimRight(text, "\n")
	}
	raw := strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return nil, fmt.Errorf("not an HTTP request: %w", err)
	}
	if rest != "" {
		req.Body = httpBody(rest)
		req.ContentLength = int64(len(rest))
	}
	req.RemoteAddr = "127.0.0.1:49152"
	return req, nil
}

type stringBody struct{ *strings.Reader }

func (stringBody) Close() error { return nil }

func httpBody(s string) stringBody { return stringBody{strings.NewReader(s)} }

// loadExpectations reads an expectations file ({"file": {outcome, reason,
// status}}). A missing file gives no expectations.
func loadExpectations(path string) (map[string]Expectation, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Expectation{}, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]Expectation
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// parseEnvFile reads KEY=VALUE lines (blank lines and # comments ignored;
// an "export " prefix and surrounding quotes are allowed).
func parseEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseEnv(string(b), path)
}

func parseEnv(text, name string) (map[string]string, error) {
	env := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE", name, i+1)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		env[k] = v
	}
	return env, nil
}
