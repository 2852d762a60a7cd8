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
// the invocation: never an allow). The payload is read as a stream: the
// caller's body, which it carries, is read through and never kept, so no
// body size changes the answer or the memory used.
func (h *Handler) serveInvocation(w http.ResponseWriter, r *http.Request) {
	invocationID := invocationID(r)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the invocation endpoint takes POST")
		return
	}
	req, err := h.decodeInvocation(r.Body)
	var a answer
	switch {
	case errors.Is(err, errRequestTooLarge):
		// Well-formed, but the request's URL, headers and query are beyond
		// any token's size: a decision, not a malformed payload.
		d := decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.TokenTooLarge, Detail: err.Error()}
		a = h.render(d)
		h.log(r.Context(), ShapeInvocation, d, 0, invocationID, nil, a.status)
	case err != nil:
		a := h.refuse(r.Context(), ShapeInvocation, invocationID, "invalid invocation payload: "+err.Error())
		a.write(w)
		return
	default:
		a = h.decide(r.Context(), req, ShapeInvocation, invocationID)
	}
	resp := InvocationResponse{
		Outputs: InvocationOutputs{Res: HTTPBindingResponse{
			StatusCode: a.status,
			Headers:    flattenHeaders(a.header()),
			Body:       string(a.body),
		}},
		Logs: []string{"jwtgate: " + a.outcome + " " + a.reason},
	}
	a.release() // the body is copied into the response
	body, err := json.Marshal(resp)
	if err != nil { // cannot happen with these types; fail closed anyway
		writeError(w, http.StatusInternalServerError, string(decision.InternalError), "cannot encode the answer")
		return
	}
	setCommonHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// MaxRequestPartsBytes bounds what an invocation payload may hold about the
// caller's request besides its body (URL, method, query, headers, route
// parameters): room for a 1 MiB token (far beyond any token the core
// accepts) and the other headers. Beyond it the answer is a 401
// token_too_large decision. The body itself has no bound: it is read
// through and never kept.
const MaxRequestPartsBytes = 2 << 20

// errRequestTooLarge reports request parts beyond MaxRequestPartsBytes.
var errRequestTooLarge = errors.New("the request's URL, headers and query exceed " + strconv.Itoa(MaxRequestPartsBytes) + " bytes")

// decodeInvocation parses an invocation payload into the core request.
func (h *Handler) decodeInvocation(body io.Reader) (*decision.Request, error) {
	t, err := readInvocation(body, MaxRequestPartsBytes)
	if err != nil {
		return nil, err
	}
	return h.requestFromTrigger(t)
}

// payloadError is a complete message about an invocation payload.
type payloadError string

func (e payloadError) Error() string { return string(e) }

// readInvocation stream-decodes {"Data":{"req":{…}},"Metadata":{…}}: it
// keeps Data.req's URL, method, query, headers and route parameters (names
// matched case-insensitively, as encoding/json and the host do; at most
// limit bytes of them) and reads everything else through without keeping
// it, Data.req.Body included.
func readInvocation(r io.Reader, limit int) (*HTTPTriggerRequest, error) {
	s := newJSONStream(r)
	var req *HTTPTriggerRequest
	over := false
	readReq := func() error {
		t := req // a repeated "req" adds to the first, as encoding/json does
		if t == nil {
			t = &HTTPTriggerRequest{}
		}
		present, err := s.object(func(key string) error {
			var dst any
			switch strings.ToLower(key) {
			case "url":
				dst = &t.URL
			case "method":
				dst = &t.Method
			case "query":
				dst = &t.Query
			case "headers":
				dst = &t.Headers
			case "params":
				dst = &t.Params
			default:
				return s.value(nil)
			}
			c := &capture{limit: limit}
			if err := s.value(c); err != nil {
				return err
			}
			if c.over {
				over = true
				return nil
			}
			limit -= c.n
			if err := json.Unmarshal(c.bytes(), dst); err != nil {
				return payloadError("Data.req." + key + ": " + shortJSONError(err))
			}
			return nil
		})
		if present {
			req = t
		} else {
			req = nil
		}
		return err
	}
	present, err := s.object(func(key string) error {
		if !strings.EqualFold(key, "Data") {
			return s.value(nil)
		}
		_, err := s.object(func(key string) error {
			if !strings.EqualFold(key, "req") {
				return s.value(nil)
			}
			return readReq()
		})
		return err
	})
	if err == nil {
		err = s.end()
	}
	var final payloadError
	switch {
	case errors.As(err, &final):
		return nil, err
	case err != nil || !present:
		return nil, errors.New("not a JSON invocation payload: " + shortJSONError(err))
	case req == nil:
		return nil, errors.New(`Data.req is missing (the HTTP trigger must be named "req")`)
	case over:
		return nil, errRequestTooLarge
	}
	return req, nil
}

func shortJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se), errors.Is(err, errJSONSyntax):
		return "syntax error"
	case errors.As(err, &te):
		if te.Field == "" {
			return "wrong type"
		}
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
	var fv forwardValues
	o, forwarded, err := h.forwarded(req.Header, &fv, t.Method, original{path: reqPath})
	if err != nil {
		return nil, err
	}
	req.Host = triggerHost(t, req.Header) // rules' request.host
	if forwarded {
		req.Method, req.Path, req.Query = o.method, o.path, o.query
		req.Host = h.forwardedHost(&fv, req.Host)
		req.CalledHost, req.CalledPath = req.Host, o.path
		return req, nil
	}
	if req.Method, err = checkMethod(t.Method); err != nil {
		return nil, errors.New("Data.req.Method is missing or invalid")
	}
	req.Path = reqPath
	// A DPoP proof names the URL the client called: Data.req.Url.
	req.CalledHost, req.CalledPath = req.Host, triggerURLPath(t.URL, reqPath)
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

// triggerHost is the host of the trigger's absolute URL, else its Host
// header.
func triggerHost(t *HTTPTriggerRequest, hdr http.Header) string {
	if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
		return u.Host
	}
	return hdr.Get("Host")
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
