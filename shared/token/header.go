package token

import (
	"crypto/x509"
	"encoding/base64"

	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/jsonstrict"
)

// checkRegisteredHeader refuses registered Header Parameters (RFC 7515
// §4.1) that jwtgate never uses but that a peer library would read
// differently or refuse: an embedded jwk, b64 (RFC 7797: only meaningful under crit, which
// is refused, so a bare b64 is a malformed JWS that jwx would verify with
// an unencoded payload), wrong JSON types, and an x5c that is not a chain
// of base64 DER certificates. Keys are never taken from jwk or x5c; this
// only keeps jwtgate from accepting what jwx refuses.
//
// allowJWK leaves jwk to the caller (DPoP proofs, ParseWithJWK).
func checkRegisteredHeader(hdr jsonstrict.Object, allowJWK bool) *Error {
	for _, m := range hdr.Members() {
		switch m.Name {
		case "b64":
			return fail(decision.TokenMalformed, "token header has b64 without crit (RFC 7797 §6)")
		case "jku", "x5u", "x5t", "x5t#S256", "cty":
			if m.Value.Kind() != jsonstrict.KindString {
				return fail(decision.TokenMalformed, "token header %s is not a string", m.Name)
			}
		case "jwk":
			if allowJWK {
				continue
			}
			// Never used, and jwx refuses any jwk it cannot import as a
			// key: refusing it outright keeps jwtgate no laxer than jwx
			// without a second JWK parser (RFC 8725 §3.10).
			return fail(decision.TokenMalformed, "token header embeds a jwk (keys come only from configuration)")
		case "x5c":
			if !certificateChain(m.Value) {
				return fail(decision.TokenMalformed, "token header x5c is not an array of base64 DER certificates")
			}
		}
	}
	return nil
}

// certificateChain reports whether v is a non-empty array of base64
// (standard alphabet, padded: RFC 7515 §4.1.6) DER X.509 certificates.
func certificateChain(v jsonstrict.Value) bool {
	if v.Kind() != jsonstrict.KindArray || len(v.Array()) == 0 {
		return false
	}
	for _, e := range v.Array() {
		s, ok := e.String()
		if !ok {
			return false
		}
		der, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return false
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			return false
		}
	}
	return true
}
