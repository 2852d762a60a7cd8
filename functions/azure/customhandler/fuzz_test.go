package customhandler

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// FuzzInvocationPayload: whatever the host (or anyone reaching the port)
// posts, the handler does not panic, answers JSON, and never lets a denial
// become an allow.
func FuzzInvocationPayload(f *testing.F) {
	for _, s := range []string{
		`{"Data":{"req":{"Url":"http://h/api/authorize/a","Method":"GET","Headers":{"Authorization":["Bearer x"]},"Params":{"path":"a"}}},"Metadata":{}}`,
		`{"Data":{"req":{"Url":"http://h/api/authorize","Method":"GET","Query":{"a":"b"},"Headers":{"X-Forwarded-Uri":["/x?y=1"]}}}}`,
		`{"Data":{"req":null}}`,
		`{"data":{"REQ":{"url":"http://h/api/authorize/%2e%2e","method":"post"}}}`,
		`[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	deny := &fakeDecider{d: decision.Decision{Outcome: decision.Unauthenticated, Reason: decision.SignatureInvalid}}
	h := New(deny, nil, nil)
	f.Fuzz(func(t *testing.T, payload []byte) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(string(payload))))
		switch w.Code {
		case http.StatusOK:
			var resp InvocationResponse
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatalf("200 with a body that is not an invocation response: %v", err)
			}
			if resp.Outputs.Res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a denial answered %d", resp.Outputs.Res.StatusCode)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var m map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m["allow"] != false {
				t.Fatalf("refusal body %q", w.Body)
			}
		default:
			t.Fatalf("unexpected status %d", w.Code)
		}
	})
}

// FuzzProxiedRequest: any method, path and forward-auth headers: no panic,
// no 2xx when the core denies (except the liveness check), and the core only
// ever sees an absolute raw path without path parameters or control
// characters, and a valid method.
func FuzzProxiedRequest(f *testing.F) {
	f.Add("GET", "/api/authorize/orders/1", "", "", "", "")
	f.Add("GET", "/api/authorize", "DELETE", "/admin/../x?y=1", "", "")
	f.Add("POST", "/", "", "", "GET", "/a")
	f.Add("GET", "/api/authorize", "GET", "/a", "POST", "/b")
	f.Add("PUT", "/api/AUTHORIZE/%2e%2e/x", "", "", "", "//x")
	allowAll := &fakeDecider{d: decision.Decision{Outcome: decision.Allow, Reason: decision.ReasonOK}}
	deny := &fakeDecider{d: decision.Decision{Outcome: decision.Forbidden, Reason: decision.RouteDenied}}
	hAllow, hDeny := New(allowAll, nil, nil), New(deny, nil, nil)
	f.Fuzz(func(t *testing.T, method, target, fwdMethod, fwdURI, origMethod, origURI string) {
		build := func() *http.Request {
			if !strings.HasPrefix(target, "/") {
				target = "/" + target
			}
			r, err := http.NewRequest("GET", "http://h"+target, nil)
			if err != nil {
				return nil
			}
			r.Method = method
			for k, v := range map[string]string{HeaderForwardedMethod: fwdMethod, HeaderForwardedURI: fwdURI, HeaderOriginalMethod: origMethod, HeaderOriginalURI: origURI} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			return r
		}
		r := build()
		if r == nil {
			return
		}
		w := httptest.NewRecorder()
		hDeny.ServeHTTP(w, r)
		if w.Code >= 200 && w.Code < 300 && !IsHealthCheck(r) {
			t.Fatalf("denial answered %d", w.Code)
		}
		before := allowAll.calls()
		w = httptest.NewRecorder()
		hAllow.ServeHTTP(w, build())
		if allowAll.calls() > before {
			req := allowAll.last(t)
			if checkRawPath(req.Path) != nil || strings.ContainsAny(req.Path, ";?") {
				t.Fatalf("core saw path %q", req.Path)
			}
			if _, err := checkMethod(req.Method); err != nil || strings.ToUpper(req.Method) != req.Method {
				t.Fatalf("core saw method %q", req.Method)
			}
		}
	})
}

// FuzzReadInvocation: the streaming decoder agrees with encoding/json on
// every payload encoding/json reads (it may accept more in the parts it
// skips, never less), and never panics.
func FuzzReadInvocation(f *testing.F) {
	for _, s := range []string{
		`{"Data":{"req":{"Url":"http://h/api/authorize/a","Method":"GET","Headers":{"Authorization":["Bearer x"]},"Params":{"path":"a"},"Body":"eyJ9"}},"Metadata":{"Headers":{}}}`,
		`{"data":{"REQ":{"url":"u","method":"post","Query":{"a":"b","c":["d","e"]}},"req":{"Method":"GET"}}}`,
		`{"Data":{"req":{"U\u0072l":"x","Body":{"a":[1,2.5e-3,true,null,"\"}"]}}}}`,
		`{"Data":{"req":null}}`, `{"Data":null}`, `null`, `{"Data":{"req":{"Headers":{"A":"b"}}}} `,
		`{"Data":{"req":{"Url":1}}}`, `{"Data":{"req":{}}}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := readInvocation(bytes.NewReader(payload), MaxRequestPartsBytes)
		var want InvocationRequest
		if json.Unmarshal(payload, &want) != nil || !utf8.Valid(payload) || nonASCIIKey(payload) {
			return // not comparable; the decoder only has to not panic
		}
		if want.Data.Req == nil {
			if err == nil {
				t.Fatalf("encoding/json finds no Data.req, the stream decoder found %+v", got)
			}
			return
		}
		if err != nil {
			t.Fatalf("encoding/json reads the payload, the stream decoder says %v", err)
		}
		if !reflect.DeepEqual(got, want.Data.Req) {
			t.Fatalf("stream decoder %+v\nencoding/json  %+v", got, want.Data.Req)
		}
	})
}

// nonASCIIKey reports a payload with non-ASCII bytes, where encoding/json's
// Unicode case folding of field names could differ from ASCII folding.
func nonASCIIKey(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
