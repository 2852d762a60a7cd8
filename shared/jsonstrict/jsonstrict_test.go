package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseObjectRefuses(t *testing.T) {
	deep := func(n int, open, close string) string {
		return `{"a":` + strings.Repeat(open, n) + strings.Repeat(close, n) + `}`
	}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty input", ``, ErrNotObject},
		{"only whitespace", " \n\t", ErrNotObject},
		{"top-level array", `[]`, ErrNotObject},
		{"top-level string", `"x"`, ErrNotObject},
		{"top-level number", `1`, ErrNotObject},
		{"top-level null", `null`, ErrNotObject},
		{"byte order mark", "\ufeff{}", ErrNotObject},
		{"duplicate name", `{"a":1,"a":2}`, ErrDuplicate},
		{"duplicate name of different types", `{"alg":"RS256","alg":"none"}`, ErrDuplicate},
		{"duplicate name after unescaping", `{"alg":1,"\u0061lg":2}`, ErrDuplicate},
		{"duplicate name via escaped slash", `{"a/b":1,"a\/b":2}`, ErrDuplicate},
		{"duplicate name in nested object", `{"x":{"a":1,"b":2,"a":3}}`, ErrDuplicate},
		{"duplicate name in object in array", `{"x":[{"k":1},{"k":1,"k":2}]}`, ErrDuplicate},
		{"duplicate name among many members", manyMembers(40, true), ErrDuplicate},
		{"invalid UTF-8 in value", "{\"a\":\"\xff\"}", ErrUTF8},
		{"invalid UTF-8 in name", "{\"\xc3\":1}", ErrUTF8},
		{"overlong UTF-8 encoding", "{\"a\":\"\xc0\xaf\"}", ErrUTF8},
		{"UTF-8 encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", ErrUTF8},
		{"invalid UTF-8 after an escape", "{\"a\":\"\\n\xff\"}", ErrUTF8},
		{"truncated UTF-8 sequence", "{\"a\":\"\xe2\x82\"}", ErrUTF8},
		{"lone high surrogate escape", `{"a":"\uD800"}`, ErrUTF8},
		{"lone high surrogate then text", `{"a":"\uD800xxxxxx"}`, ErrUTF8},
		{"lone low surrogate escape", `{"a":"\uDC00"}`, ErrUTF8},
		{"high surrogate then non-surrogate escape", `{"a":"\uD800\u0041"}`, ErrUTF8},
		{"two high surrogates", `{"a":"\uD800\uD800"}`, ErrUTF8},
		{"reversed surrogate pair", `{"a":"\uDE00\uD83D"}`, ErrUTF8},
		{"nesting one past the limit (objects)", nestedObjects(MaxDepth + 1), ErrDepth},
		{"nesting one past the limit (arrays)", deep(MaxDepth, "[", "]"), ErrDepth},
		{"100000-deep arrays", deep(100000, "[", "]"), ErrDepth},
		{"100000-deep objects", strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000), ErrDepth},
		{"100000-deep unterminated", deep(100000, "[", ""), ErrDepth},
		{"trailing object", `{}{}`, ErrTrailing},
		{"trailing garbage", `{"a":1} x`, ErrTrailing},
		{"trailing NUL", "{}\x00", ErrTrailing},
		{"raw newline in string", "{\"a\":\"x\ny\"}", ErrControl},
		{"raw tab in string", "{\"a\":\"x\ty\"}", ErrControl},
		{"raw NUL in name", "{\"\x00\":1}", ErrControl},
		{"raw control after escape", "{\"a\":\"\\n\x01\"}", ErrControl},
		{"leading zero", `{"a":01}`, ErrNumber},
		{"negative leading zero", `{"a":-01}`, ErrNumber},
		{"plus sign", `{"a":+1}`, ErrSyntax},
		{"bare minus", `{"a":-}`, ErrNumber},
		{"leading dot", `{"a":.5}`, ErrSyntax},
		{"trailing dot", `{"a":1.}`, ErrNumber},
		{"missing exponent digits", `{"a":1e}`, ErrNumber},
		{"missing signed exponent digits", `{"a":1e+}`, ErrNumber},
		{"hex number", `{"a":0x10}`, ErrSyntax},
		{"NaN", `{"a":NaN}`, ErrSyntax},
		{"Infinity", `{"a":Infinity}`, ErrSyntax},
		{"negative Infinity", `{"a":-Infinity}`, ErrNumber},
		{"line comment", "{\"a\":1 // c\n}", ErrSyntax},
		{"block comment", `{/* c */"a":1}`, ErrSyntax},
		{"hash comment", "{# c\n\"a\":1}", ErrSyntax},
		{"trailing comma in object", `{"a":1,}`, ErrSyntax},
		{"trailing comma in array", `{"a":[1,]}`, ErrSyntax},
		{"leading comma in array", `{"a":[,1]}`, ErrSyntax},
		{"double comma", `{"a":1,,"b":2}`, ErrSyntax},
		{"single-quoted name", `{'a':1}`, ErrSyntax},
		{"single-quoted value", `{"a":'x'}`, ErrSyntax},
		{"unquoted name", `{a:1}`, ErrSyntax},
		{"missing colon", `{"a" 1}`, ErrSyntax},
		{"missing value", `{"a":}`, ErrSyntax},
		{"missing comma", `{"a":1 "b":2}`, ErrSyntax},
		{"unterminated object", `{"a":1`, ErrSyntax},
		{"unterminated string", `{"a":"x`, ErrSyntax},
		{"unterminated escape", `{"a":"\`, ErrSyntax},
		{"unterminated array", `{"a":[1`, ErrSyntax},
		{"invalid escape", `{"a":"\x41"}`, ErrSyntax},
		{"short unicode escape", `{"a":"\u41"}`, ErrSyntax},
		{"non-hex unicode escape", `{"a":"\u00G1"}`, ErrSyntax},
		{"escaped single quote", `{"a":"\'"}`, ErrSyntax},
		{"capitalised literal", `{"a":True}`, ErrSyntax},
		{"truncated literal", `{"a":tru}`, ErrSyntax},
		{"undefined", `{"a":undefined}`, ErrSyntax},
		{"vertical tab whitespace", "{\v\"a\":1}", ErrSyntax},
		{"non-breaking space whitespace", "{\u00a0\"a\":1}", ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseObject([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted %q as %v", tc.in, o.Map())
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(tc.in) {
				t.Fatalf("error %v is not a SyntaxError with a valid offset", err)
			}
		})
	}
}

func nestedObjects(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
}

func manyMembers(n int, dupLast bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"m`)
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`":1`)
	}
	if dupLast {
		b.WriteString(`,"mxxx":2`)
	}
	b.WriteString("}")
	return b.String()
}

func TestParseObjectAccepts(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name string
		in   string
		want map[string]any
	}{
		{"empty object", `{}`, map[string]any{}},
		{"surrounding whitespace", " \t\r\n{ \"a\" : 1 }\n ", map[string]any{"a": n("1")}},
		{"all scalar kinds", `{"s":"x","n":-1.5e3,"t":true,"f":false,"z":null}`,
			map[string]any{"s": "x", "n": n("-1.5e3"), "t": true, "f": false, "z": nil}},
		{"empty containers", `{"o":{},"a":[]}`, map[string]any{"o": map[string]any{}, "a": []any{}}},
		{"nested", `{"a":{"b":[1,{"c":"d"}]}}`,
			map[string]any{"a": map[string]any{"b": []any{n("1"), map[string]any{"c": "d"}}}}},
		{"same name in different objects", `{"a":{"a":1},"b":{"a":2}}`,
			map[string]any{"a": map[string]any{"a": n("1")}, "b": map[string]any{"a": n("2")}}},
		{"names differing only in case", `{"alg":1,"ALG":2}`, map[string]any{"alg": n("1"), "ALG": n("2")}},
		{"nesting exactly at the limit", nestedObjects(MaxDepth), nil},
		{"many members without duplicates", manyMembers(40, false), nil},
		{"simple escapes", `{"a":"\"\\\/\b\f\n\r\t"}`, map[string]any{"a": "\"\\/\b\f\n\r\t"}},
		{"unicode escape BMP", `{"a":"\u00e9\u20AC"}`, map[string]any{"a": "é€"}},
		{"escaped NUL", `{"a":"\u0000"}`, map[string]any{"a": "\x00"}},
		{"surrogate pair escape", `{"a":"\uD83D\uDE00"}`, map[string]any{"a": "😀"}},
		{"lowercase surrogate pair escape", `{"a":"\ud834\udd1e"}`, map[string]any{"a": "𝄞"}},
		{"raw multibyte UTF-8", `{"名前":"Zoë 😀"}`, map[string]any{"名前": "Zoë 😀"}},
		{"escaped name", `{"\u0061":1}`, map[string]any{"a": n("1")}},
		{"raw DEL and U+2028", "{\"a\":\"\x7f\u2028\"}", map[string]any{"a": "\x7f\u2028"}},
		{"zero", `{"a":0}`, map[string]any{"a": n("0")}},
		{"negative zero", `{"a":-0}`, map[string]any{"a": n("-0")}},
		{"zero with fraction", `{"a":0.5}`, map[string]any{"a": n("0.5")}},
		{"exponent forms", `{"a":1E+2,"b":1e-2,"c":0e0}`, map[string]any{"a": n("1E+2"), "b": n("1e-2"), "c": n("0e0")}},
		{"huge exponent kept as text", `{"a":1e400}`, map[string]any{"a": n("1e400")}},
		{"big integer kept as text", `{"a":123456789012345678901234567890}`, map[string]any{"a": n("123456789012345678901234567890")}},
		{"long array", `{"a":[` + strings.Repeat(`"x",`, 100) + `"x"]}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseObject([]byte(tc.in))
			if err != nil {
				t.Fatalf("refused %q: %v", tc.in, err)
			}
			if tc.want != nil && !reflect.DeepEqual(o.Map(), tc.want) {
				t.Fatalf("got %#v, want %#v", o.Map(), tc.want)
			}
			// Whatever we accept, encoding/json reads the same way.
			if got, want := o.Map(), stdDecode(t, []byte(tc.in)); !reflect.DeepEqual(got, want) {
				t.Fatalf("differs from encoding/json: got %#v, want %#v", got, want)
			}
		})
	}
}

func stdDecode(t testing.TB, data []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("encoding/json refused input jsonstrict accepted: %v", err)
	}
	if d.More() {
		t.Fatalf("encoding/json sees trailing data jsonstrict accepted")
	}
	return m
}

func TestParseObjectDoesNotAliasInput(t *testing.T) {
	in := []byte(`{"a":"xyz","b":12}`)
	o, err := ParseObject(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'Q'
	}
	a, _ := o.Get("a")
	if s, _ := a.String(); s != "xyz" {
		t.Fatalf("value changed with the input buffer: %q", s)
	}
}

func TestObjectAccessors(t *testing.T) {
	o, err := ParseObject([]byte(`{"iss":"https://t.auth0.com/","aud":["api","https://t.auth0.com/userinfo"],
		"one":"solo","mixed":["a",1],"exp":1700000000,"ok":true,"nil":null,"obj":{"k":"v"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Names(); !reflect.DeepEqual(got, []string{"iss", "aud", "one", "mixed", "exp", "ok", "nil", "obj"}) {
		t.Fatalf("Names = %v", got)
	}
	if o.Len() != 8 || len(o.Members()) != 8 {
		t.Fatalf("Len = %d", o.Len())
	}
	var seen []string
	for name := range o.All() {
		seen = append(seen, name)
		if name == "aud" {
			break
		}
	}
	if !reflect.DeepEqual(seen, []string{"iss", "aud"}) {
		t.Fatalf("All stopped wrongly: %v", seen)
	}

	if v, ok := o.Get("missing"); ok || v.Kind() != KindInvalid || o.Has("missing") {
		t.Fatalf("Get(missing) = %v, %v", v, ok)
	}
	iss, _ := o.Get("iss")
	if s, ok := iss.String(); !ok || s != "https://t.auth0.com/" || iss.Kind() != KindString {
		t.Fatalf("iss = %q %v", s, ok)
	}
	if _, ok := iss.Strings(); !ok {
		t.Fatal("a string is a one-element Strings")
	}
	aud, _ := o.Get("aud")
	if got, ok := aud.Strings(); !ok || !reflect.DeepEqual(got, []string{"api", "https://t.auth0.com/userinfo"}) {
		t.Fatalf("aud Strings = %v %v", got, ok)
	}
	if _, ok := aud.String(); ok {
		t.Fatal("an array is not a String")
	}
	if len(aud.Array()) != 2 || aud.Kind() != KindArray {
		t.Fatal("aud Array")
	}
	one, _ := o.Get("one")
	if got, ok := one.Strings(); !ok || !reflect.DeepEqual(got, []string{"solo"}) {
		t.Fatalf("one Strings = %v", got)
	}
	mixed, _ := o.Get("mixed")
	if _, ok := mixed.Strings(); ok {
		t.Fatal("an array with a number is not Strings")
	}
	exp, _ := o.Get("exp")
	if n, err := exp.Int64(); err != nil || n != 1700000000 {
		t.Fatalf("exp = %d %v", n, err)
	}
	if txt, ok := exp.Number(); !ok || txt != "1700000000" || exp.Raw() != "1700000000" {
		t.Fatalf("exp text = %q", txt)
	}
	if _, ok := exp.Strings(); ok {
		t.Fatal("a number is not Strings")
	}
	if _, err := iss.Int64(); !errors.Is(err, ErrNotNumber) {
		t.Fatalf("string Int64 error = %v", err)
	}
	if _, ok := iss.Number(); ok {
		t.Fatal("a string is not a Number")
	}
	okv, _ := o.Get("ok")
	if b, ok := okv.Bool(); !ok || !b || okv.Raw() != "true" {
		t.Fatal("ok Bool")
	}
	if _, ok := iss.Bool(); ok {
		t.Fatal("a string is not a Bool")
	}
	nilv, _ := o.Get("nil")
	if !nilv.IsNull() || nilv.Raw() != "null" || nilv.Kind().String() != "null" {
		t.Fatal("nil")
	}
	obj, _ := o.Get("obj")
	if k, ok := obj.Object().Get("k"); !ok || k.Raw() != "v" {
		t.Fatal("obj.k")
	}
	if iss.Object().Len() != 0 || iss.Array() != nil || obj.Raw() != "" {
		t.Fatal("wrong-kind accessors must return empty values")
	}
}

func TestInt64(t *testing.T) {
	tests := []struct {
		name string
		num  string
		want int64
		err  error
	}{
		{"integer", "1700000000", 1700000000, nil},
		{"zero", "0", 0, nil},
		{"negative zero", "-0", 0, nil},
		{"negative", "-42", -42, nil},
		{"fraction truncated", "1700000000.999999", 1700000000, nil},
		{"negative fraction truncated toward zero", "-1.9", -1, nil},
		{"fraction below one", "0.5", 0, nil},
		{"many fraction digits", "1700000000.99999999999999999999999999", 1700000000, nil},
		{"exponent", "1.7e9", 1700000000, nil},
		{"upper-case exponent with plus", "17E+8", 1700000000, nil},
		{"exponent with fraction left over", "1.23456e3", 1234, nil},
		{"negative exponent", "17000000000e-1", 1700000000, nil},
		{"exponent to below one", "5e-1", 0, nil},
		{"zero with huge exponent", "0e999999999999", 0, nil},
		{"tiny", "1e-99999999999", 0, nil},
		{"exponent with leading zeros", "1e0009", 1000000000, nil},
		{"max safe integer", "9007199254740991", MaxSafeInteger, nil},
		{"min safe integer", "-9007199254740991", -MaxSafeInteger, nil},
		{"max safe integer with fraction", "9007199254740991.9", MaxSafeInteger, nil},
		{"leading zero digits in mantissa", "0.0017e12", 1700000000, nil},
		{"2^53 refused", "9007199254740992", 0, ErrNotInteger},
		{"-2^53 refused", "-9007199254740992", 0, ErrNotInteger},
		{"int64 max refused", "9223372036854775807", 0, ErrNotInteger},
		{"beyond int64 refused", "99999999999999999999999", 0, ErrNotInteger},
		{"9.3e18 refused", "9.3e18", 0, ErrNotInteger},
		{"1e400 refused", "1e400", 0, ErrNotInteger},
		{"huge exponent refused", "1e99999999999999999999", 0, ErrNotInteger},
		{"1e16 refused", "1e16", 0, ErrNotInteger},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseObject([]byte(`{"n":` + tc.num + `}`))
			if err != nil {
				t.Fatal(err)
			}
			v, _ := o.Get("n")
			got, err := v.Int64()
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("Int64(%s) error = %v, want %v", tc.num, err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("Int64(%s) = %d, want %d", tc.num, got, tc.want)
			}
		})
	}
}

func TestAppendJSONRoundTrips(t *testing.T) {
	in := `{"a":"q\"b\\s\u0001\n\t\r😀","n":-1.5e3,"t":true,"f":false,"z":null,"arr":[1,"x",{}],"o":{"k":[]}}`
	o, err := ParseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out := o.AppendJSON(nil)
	o2, err := ParseObject(out)
	if err != nil {
		t.Fatalf("re-encoded %s does not parse: %v", out, err)
	}
	if !reflect.DeepEqual(o.Map(), o2.Map()) {
		t.Fatalf("round trip changed the value: %s", out)
	}
	if !reflect.DeepEqual(stdDecode(t, out), o.Map()) {
		t.Fatalf("encoding/json reads %s differently", out)
	}
}

func TestErrorDoesNotQuoteInput(t *testing.T) {
	secret := "s3cr3t-token-material"
	_, err := ParseObject([]byte(`{"a":"` + secret + `","a":1}`))
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), `"a"`) {
		t.Fatalf("error %v quotes the input", err)
	}
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":"\uD83D\uDE00"}`, `{"a":"\uD800"}`,
		`{"a":[1,2,{"b":null}],"c":true}`, `{"n":-0.5e-10}`, `{"a":01}`, "{\"a\":\"\xff\"}",
		auth0Claims, `{"a":[` + strings.Repeat("[", 40) + `]}`, ` {"x":"y"} `, `{"\u0061":1,"a":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseObject(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a SyntaxError", err)
			}
			return
		}
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var want map[string]any
		if err := d.Decode(&want); err != nil {
			t.Fatalf("jsonstrict accepted what encoding/json refuses (%v): %q", err, data)
		}
		if _, err := d.Token(); err == nil {
			t.Fatalf("encoding/json sees trailing data in %q", data)
		}
		if got := o.Map(); !reflect.DeepEqual(got, want) {
			t.Fatalf("jsonstrict %#v, encoding/json %#v for %q", got, want, data)
		}
		// Re-encoding gives input that parses to the same value.
		o2, err := ParseObject(o.AppendJSON(nil))
		if err != nil || !reflect.DeepEqual(o2.Map(), want) {
			t.Fatalf("AppendJSON round trip failed: %v", err)
		}
		// Accessors never panic.
		for _, m := range o.Members() {
			m.Value.Int64()
			m.Value.Strings()
			m.Value.Raw()
		}
	})
}

// auth0Claims is a realistic Auth0 access-token payload (authorization code
// flow with openid and RBAC permissions), about 600 bytes.
const auth0Claims = `{"https://example.com/roles":["admin","billing"],"https://example.com/email":"jane.doe@example.com",` +
	`"iss":"https://example-tenant.eu.auth0.com/","sub":"auth0|64f1c2a9b3e4d5f6a7b8c9d0",` +
	`"aud":["https://api.example.com/orders","https://example-tenant.eu.auth0.com/userinfo"],` +
	`"iat":1732960000,"exp":1733046400,"scope":"openid profile email read:orders write:orders offline_access",` +
	`"azp":"Xk7bQ2mN9pR4sT6vW8yZ1aC3dE5fG7hJ","org_id":"org_9aBcDeFgHiJkLmNo",` +
	`"permissions":["read:orders","write:orders","read:invoices","admin:users"],"jti":"5b0e8b0c-0b8a-4c8e-9d3a-0f6c2d1e7a44"}`

func TestAuth0ClaimsParse(t *testing.T) {
	o, err := ParseObject([]byte(auth0Claims))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.Map(), stdDecode(t, []byte(auth0Claims))) {
		t.Fatal("differs from encoding/json")
	}
	perms, _ := o.Get("permissions")
	if p, ok := perms.Strings(); !ok || len(p) != 4 {
		t.Fatalf("permissions = %v", p)
	}
}

func BenchmarkParseClaims(b *testing.B) {
	data := []byte(auth0Claims)
	b.Run("jsonstrict", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := ParseObject(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json_map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
