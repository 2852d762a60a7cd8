package customhandler

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// InvocationRequest is the host's invocation payload for an HTTP trigger
// named "req". Field names match the host's (encoding/json matches them
// case-insensitively, as the host does).
type InvocationRequest struct {
	Data     InvocationData             `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata,omitempty"`
}

// InvocationData holds the trigger's input.
type InvocationData struct {
	Req *HTTPTriggerRequest `json:"req"`
}

// HTTPTriggerRequest is the caller's HTTP request as the host describes it.
// Body and Identities are never needed for a decision and are not decoded.
type HTTPTriggerRequest struct {
	URL     string                `json:"Url"`
	Method  string                `json:"Method"`
	Query   map[string]StringList `json:"Query,omitempty"`
	Headers map[string]StringList `json:"Headers,omitempty"`
	Params  map[string]string     `json:"Params,omitempty"`
}

// StringList is a JSON string or array of strings (the host sends header
// values as arrays and query values as strings).
type StringList []string

// UnmarshalJSON accepts a string, an array of strings or null.
func (s *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = StringList{v}
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("expected a string or an array of strings")
	}
	*s = v
	return nil
}

// InvocationResponse is the answer to an invocation payload: the HTTP
// output binding "res" carries the decision.
type InvocationResponse struct {
	Outputs     InvocationOutputs `json:"Outputs"`
	Logs        []string          `json:"Logs"`
	ReturnValue any               `json:"ReturnValue"`
}

// InvocationOutputs holds the output bindings.
type InvocationOutputs struct {
	Res HTTPBindingResponse `json:"res"`
}

// HTTPBindingResponse is the HTTP output binding: the caller receives this
// status, these headers and this body.
type HTTPBindingResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// serveInvocation answers POST /authorize. The host requires a 2xx answer
// to a well-formed payload and reads the decision from Outputs.res; a
// malformed payload is answered 400 with a JSON error (the host then fails
// the invocation: never an allow).
func (h *Handler) serveInvocation(w http.ResponseWriter, r *http.Request) {
	invocationID := r.Header.Get(InvocationIDHeader)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the invocation endpoint takes POST")
		return
	}
	req, err := h.decodeInvocation(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = errors.New("payload larger than " + strconv.Itoa(MaxBodyBytes) + " bytes")
		}
		a := h.refuse(r.Context(), ShapeInvocation, invocationID, "invalid invocation payload: "+err.Error())
		if mbe != nil {
			a.status = http.StatusRequestEntityTooLarge
		}
		a.write(w)
		return
	}
	a := h.decide(r.Context(), req, ShapeInvocation, invocationID)
	resp := InvocationResponse{
		Outputs: InvocationOutputs{Res: HTTPBindingResponse{
			StatusCode: a.status,
			Headers:    flattenHeaders(a.header),
			Body:       string(a.body),
		}},
		Logs: []string{"jwtgate: " + a.outcome + " " + a.reason},
	}
	body, err := json.Marshal(resp)
	if err != nil { // cannot happen with these types; fail closed anyway
		writeError(w, http.StatusInternalServerError, string(decision.InternalError), "cannot encode the answer")
		return
	}
	setCommonHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// decodeInvocation parses an invocation payload into the core request.
func (h *Handler) decodeInvocation(body io.Reader) (*decision.Request, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var p InvocationRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&p); err != nil {
		return nil, errors.New("not a JSON invocation payload: " + shortJSONError(err))
	}
	if dec.More() {
		return nil, errors.New("data after the JSON payload")
	}
	if p.Data.Req == nil {
		return nil, errors.New(`Data.req is missing (the HTTP trigger must be named "req")`)
	}
	return h.requestFromTrigger(p.Data.Req)
}

func shortJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error"
	case errors.As(err, &te):
		return "wrong type for " + te.Field
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return "invalid JSON"
}

// requestFromTrigger builds the core request from the host's description of
// the caller's request. Forward-auth headers are read as in the proxy shape.
func (h *Handler) requestFromTrigger(t *HTTPTriggerRequest) (*decision.Request, error) {
	req := &decision.Request{Header: http.Header{}}
	names := make([]string, 0, len(t.Headers))
	for name := range t.Headers {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic order when names differ only in case
	for _, name := range names {
		if !validHeaderName(name) {
			return nil, errors.New("Data.req.Headers has an invalid header name")
		}
		for _, v := range t.Headers[name] {
			req.Header.Add(name, v)
		}
	}
	reqPath, rawQuery, err := triggerPath(t)
	if err != nil {
		return nil, err
	}
	o, forwarded, err := h.forwarded(req.Header, t.Method, original{path: reqPath})
	if err != nil {
		return nil, err
	}
	host := req.Header.Get("Host")
	if u, perr := url.Parse(t.URL); perr == nil && u.Host != "" {
		host = u.Host
	}
	if forwarded {
		req.Method, req.Path, req.Query = o.method, o.path, o.query
		req.CalledHost, req.CalledPath = forwardedHost(req.Header, host), o.path
		return req, nil
	}
	if req.Method, err = checkMethod(t.Method); err != nil {
		return nil, errors.New("Data.req.Method is missing or invalid")
	}
	req.Path = reqPath
	// A DPoP proof names the URL the client called: Data.req.Url.
	req.CalledHost, req.CalledPath = host, triggerURLPath(t.URL, reqPath)
	req.Query = url.Values{}
	if q, err := url.ParseQuery(rawQuery); err == nil {
		req.Query = q
	}
	for k, vs := range t.Query {
		if _, dup := req.Query[k]; !dup {
			req.Query[k] = append([]string(nil), vs...)
		}
	}
	return req, nil
}

// triggerPath is the original path, raw as received, and the raw query:
// the URL's path after /api/authorize, else (a URL outside the default
// route prefix) the host's route parameter "path" (the {*path}
// catch-all, which the host has already decoded).
func triggerPath(t *HTTPTriggerRequest) (path, rawQuery string, err error) {
	if t.URL != "" {
		var urlPath string
		if strings.HasPrefix(t.URL, "/") {
			urlPath, rawQuery, _ = strings.Cut(t.URL, "?")
		} else if urlPath, rawQuery, err = splitURIPath(t.URL); err != nil {
			return "", "", errors.New("Data.req.Url is not a URL")
		}
		if hasProxyPrefix(urlPath) {
			p := stripProxyPrefix(urlPath)
			if err := checkRawPath(p); err != nil {
				return "", "", errors.New("Data.req.Url: " + err.Error())
			}
			return p, rawQuery, nil
		}
	}
	if t.Params == nil {
		if t.URL == "" {
			return "", "", errors.New("Data.req.Url is missing")
		}
		return "", "", errors.New("Data.req.Url is not under " + ProxyPrefix + " and Params.path is absent")
	}
	p := "/" + strings.TrimPrefix(t.Params["path"], "/")
	if err := checkRawPath(p); err != nil {
		return "", "", errors.New("Data.req.Params.path: " + err.Error())
	}
	return p, rawQuery, nil
}

// triggerURLPath is Data.req.Url's raw path (the /api/authorize prefix
// included), or fallback when the URL has none.
func triggerURLPath(u, fallback string) string {
	if strings.HasPrefix(u, "/") {
		p, _, _ := strings.Cut(u, "?")
		return p
	}
	if p, _, err := splitURIPath(u); err == nil {
		return p
	}
	return fallback
}

// flattenHeaders joins each header's values for the output binding.
func flattenHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[k] = strings.Join(vs, ", ")
	}
	return out
}
