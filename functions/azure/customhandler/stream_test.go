package customhandler

import (
	"strings"
	"testing"
)

// TestReadInvocationChecksWhatItSkips: the parts of a payload that are read
// through without being kept (the body, metadata, unknown fields) are still
// checked for structure, so a malformed payload is refused however large.
func TestReadInvocationChecksWhatItSkips(t *testing.T) {
	const req = `"req":{"Url":"http://h/api/authorize","Method":"GET"`
	for _, tc := range []struct {
		name, payload, wantErr string
	}{
		{"escaped quotes and backslashes in the body", `{"Data":{` + req + `,"Body":"a\"b\\\\c\\"}}}`, ""},
		{"a JSON body and metadata", `{"Metadata":{"a":[1,{"b":null}],"c":-1.5e3},"Data":{` + req + `,"Body":{"x":[true,false,"]}"]}}}}`, ""},
		{"a control byte in the body", `{"Data":{` + req + `,"Body":"a` + "\n" + `b"}}}`, "syntax error"},
		{"an unterminated body", `{"Data":{` + req + `,"Body":"` + strings.Repeat("a", 100<<10), "unexpected end of input"},
		{"mismatched brackets in the body", `{"Data":{` + req + `,"Body":{"x":[1}}}}`, "syntax error"},
		{"a stray byte in the metadata", `{"Metadata":{"a":#},"Data":{` + req + `}}}`, "syntax error"},
		{"a trailing comma", `{"Data":{` + req + `,}}}`, "syntax error"},
		{"data after the payload", `{"Data":{` + req + `}}} {}`, "data after the JSON payload"},
		{"nesting beyond the bound", `{"Metadata":` + strings.Repeat("[", maxJSONDepth+1) + `,"Data":{` + req + `}}}`, "invalid JSON"},
		{"no Data.req", `{"Data":{"other":` + req[6:] + `}}}`, "Data.req is missing"},
		{"a field of the wrong type", `{"Data":{"req":{"Url":1}}}`, "Data.req.Url: wrong type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readInvocation(strings.NewReader(tc.payload), MaxRequestPartsBytes)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v; want one containing %q", err, tc.wantErr)
			}
		})
	}
}
