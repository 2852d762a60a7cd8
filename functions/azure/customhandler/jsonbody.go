package customhandler

import (
	"slices"
	"strconv"

	"github.com/jwtgate/jwtgate/shared/jsonesc"
)

// headerWWWAuthenticate is WWW-Authenticate in canonical form (the key
// http.Header.Set would use).
const headerWWWAuthenticate = "Www-Authenticate"

// appendBody appends b as JSON, byte for byte what encoding/json writes
// for the body struct, without reflection or a sort of the claims through
// an interface. ok is false when a claim has a type it does not encode (or
// a NaN or infinite number); the caller then falls back to encoding/json.
func appendBody(dst []byte, b body) ([]byte, bool) {
	dst = append(dst, `{"allow":`...)
	dst = strconv.AppendBool(dst, b.Allow)
	dst = append(dst, `,"outcome":`...)
	dst = appendJSONString(dst, b.Outcome)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, b.Reason)
	for _, f := range [...]struct{ name, v string }{
		{`,"error":`, b.Error}, {`,"detail":`, b.Detail}, {`,"principal":`, b.Principal}, {`,"issuer":`, b.Issuer},
	} {
		if f.v != "" {
			dst = append(dst, f.name...)
			dst = appendJSONString(dst, f.v)
		}
	}
	if len(b.Claims) > 0 {
		var small [16]string
		keys := small[:0]
		for k := range b.Claims {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, `,"claims":{`...)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendClaim(dst, b.Claims[k]); !ok {
				return dst, false
			}
		}
		dst = append(dst, '}')
	}
	if len(b.MissingScopes) > 0 {
		dst = append(dst, `,"missing_scopes":[`...)
		for i, s := range b.MissingScopes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, s)
		}
		dst = append(dst, ']')
	}
	if b.RetryAfter != 0 {
		dst = append(dst, `,"retry_after":`...)
		dst = strconv.AppendInt(dst, int64(b.RetryAfter), 10)
	}
	return append(dst, '}'), true
}

// appendClaim appends a flattened claim value (decision.Decision.Claims:
// string, int64 or float64, bool).
func appendClaim(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		return appendJSONString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case float64:
		return jsonesc.AppendFloat(dst, x)
	case nil:
		return append(dst, "null"...), true
	}
	return dst, false
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// appendJSONString is encoding/json's string encoding with HTML escaping
// (its default): jsonesc.EncodingJSON.
func appendJSONString(dst []byte, s string) []byte { return jsonesc.EncodingJSON.Append(dst, s) }

// pooledBody is marshalBody into a pooled buffer (nil when the body
// needs encoding/json's fallback): see answer.release.
func pooledBody(b body) ([]byte, *[]byte) {
	buf := bodyPool.Get().(*[]byte)
	if out, ok := appendBody((*buf)[:0], b); ok {
		return append(out, '\n'), buf
	}
	bodyPool.Put(buf)
	return marshal(b), nil
}

// marshalBody is the body's JSON and a newline.
func marshalBody(b body) []byte {
	if out, ok := appendBody(make([]byte, 0, 256), b); ok {
		return append(out, '\n')
	}
	return marshal(b)
}
