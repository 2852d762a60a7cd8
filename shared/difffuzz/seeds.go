package difffuzz

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Seed is one signed-token seed: a header and a payload (JSON text, maybe
// hostile) and the algorithm whose key signs them.
type Seed struct {
	SigAlg  string
	Header  string
	Payload string
}

// Claims returns a valid payload with extra members (raw JSON values)
// set or replaced; a nil-named value drops the member.
func Claims(extra ...string) string {
	base := [][2]string{
		{"iss", strconv.Quote(Issuer)},
		{"sub", `"auth0|64f1c2e8a9b3d4e5f6a7b8c9"`},
		{"aud", `["` + Audience + `","https://issuer.difffuzz.example/userinfo"]`},
		{"iat", strconv.FormatInt(Now.Unix()-60, 10)},
		{"exp", strconv.FormatInt(Now.Unix()+3600, 10)},
		{"azp", `"client-1"`},
		{"scope", `"openid read:orders"`},
		{"email", `"jane@example.com"`},
		{"roles", `["admin","viewer"]`},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		name, val := extra[i], extra[i+1]
		found := false
		for j := range base {
			if base[j][0] == name {
				base[j][1] = val
				found = true
			}
		}
		if !found {
			base = append(base, [2]string{name, val})
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for _, m := range base {
		if m[1] == "" {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(strconv.Quote(m[0]) + ":" + m[1])
	}
	b.WriteByte('}')
	return b.String()
}

// Header returns a header for alg naming kid ("" for none).
func Header(alg, kid string) string {
	if kid == "" {
		return `{"alg":"` + alg + `","typ":"JWT"}`
	}
	return `{"alg":"` + alg + `","kid":"` + kid + `","typ":"JWT"}`
}

// Seeds are the signed-token seeds: a valid token per algorithm, then the
// hostile headers and claims of jwtgate's own tests
// (functions/hardening/hostile_test.go, shared/validate,
// shared/token), every JSON type in every registered claim, and times at
// and around every boundary.
func Seeds() []Seed {
	var out []Seed
	for _, alg := range Algorithms {
		out = append(out, Seed{alg, Header(alg, signerFor[alg]), Claims()})
	}
	rs := func(h string) { out = append(out, Seed{"RS256", h, Claims()}) }
	claims := func(extra ...string) {
		out = append(out, Seed{"RS256", Header("RS256", "rsa-rs256"), Claims(extra...)})
	}

	// Headers: alg none spellings, swaps, kid tricks, duplicates, crit,
	// embedded keys and URLs, types.
	for _, alg := range []string{"none", "None", "NONE", "nOnE", "none ", " none", `none\u0000`, "", "RS257", "RS256", "HS256", "PS256", "ES256", "EdDSA", "Ed25519", "RS512"} {
		rs(`{"alg":"` + alg + `","kid":"rsa-rs256"}`)
		rs(`{"alg":"` + alg + `"}`)
	}
	rs(`{"kid":"rsa-rs256","typ":"JWT"}`)
	rs(`{"alg":256,"kid":"rsa-rs256"}`)
	rs(`{"alg":"RS256","kid":1}`)
	rs(`{"alg":"RS256","kid":null}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","typ":5}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","typ":"at+jwt","cty":"JWT"}`)
	for _, kid := range []string{"../../../../etc/passwd", "' OR '1'='1", "rsa-rs256' --", "$(id)", `rsa-rs256\u0000`, `\u0000`, "rsa-rs256 ", " rsa-rs256", "RSA-RS256", `rs\u0430-rs256`, `r\u0073a-rs256`, "rsa-any", "ec-p256", "hmac", ""} {
		rs(`{"alg":"RS256","kid":"` + kid + `"}`)
	}
	rs(`{"alg":"RS256","alg":"none","kid":"rsa-rs256"}`)
	rs(`{"alg":"none","alg":"RS256","kid":"rsa-rs256"}`)
	rs(`{"alg":"RS256","kid":"evil","kid":"rsa-rs256"}`)
	rs(`{"alg":"RS256","\u0061lg":"none","kid":"rsa-rs256"}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","crit":["b64"],"b64":false}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","crit":["exp"],"exp":1}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","crit":[]}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","b64":false}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","jku":"http://127.0.0.1:1/jwks","x5u":"http://127.0.0.1:1/x5u"}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","jwk":{"kty":"oct","k":"c2VjcmV0"}}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","x5c":["MIIB"]}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","zip":"DEF"}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","x":` + strings.Repeat("[", 33) + strings.Repeat("]", 33) + `}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","x":"\ud800"}`)
	rs(`{"alg":"RS256","kid":"rsa-rs256","x":"` + strings.Repeat("k", 5000) + `"}`)
	claims("big", `"`+strings.Repeat("b", 17<<10)+`"`)
	rs("{\"alg\":\"RS256\",\"kid\":\"rsa-rs256\",\"x\":\"\xff\"}")
	rs(` {"alg":"RS256","kid":"rsa-rs256"} `)
	rs(`{"alg":"RS256","kid":"rsa-rs256"}x`)
	rs(`["alg","RS256"]`)
	// Algorithm confusion: the header names one algorithm, another key signs.
	for _, pair := range [][2]string{{"HS256", "RS256"}, {"RS256", "HS256"}, {"PS256", "RS256"}, {"RS256", "PS256"}, {"ES256", "EdDSA"}, {"EdDSA", "ES256"}, {"RS512", "RS256"}} {
		out = append(out, Seed{pair[1], Header(pair[0], signerFor[pair[0]]), Claims()})
		out = append(out, Seed{pair[1], Header(pair[0], ""), Claims()})
	}
	// Every JSON type in every registered claim.
	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scp", "azp", "client_id", "email", "roles", "n", "obj", "flag"} {
		for _, val := range []string{`null`, `true`, `false`, `0`, `-1`, `1.5`, `1e3`, `"x"`, `""`, `[]`, `["x"]`, `["x",1]`, `[null]`, `{}`, `{"a":1}`, `[["x"]]`} {
			claims(name, val)
		}
	}
	// Issuer and audience near misses.
	for _, iss := range []string{strings.TrimSuffix(Issuer, "/"), Issuer + "/", strings.ToUpper(Issuer), `"https:\/\/issuer.difffuzz.example\/"`, `"\u0068ttps://issuer.difffuzz.example/"`} {
		if strings.HasPrefix(iss, `"`) {
			claims("iss", iss)
		} else {
			claims("iss", strconv.Quote(iss))
		}
	}
	for _, aud := range []string{`"` + Audience + `"`, `"` + Audience + `/"`, `["x","` + Audience + `"]`, `[]`, `""`, `[42]`, `{"0":"` + Audience + `"}`} {
		claims("aud", aud)
	}
	claims("aud", "")
	claims("iss", "")
	// Times at and around every boundary (skew 30 s).
	now := Now.Unix()
	sk := int64(Skew.Seconds())
	for _, d := range []int64{-sk - 1, -sk, -sk + 1, -1, 0, 1, sk - 1, sk, sk + 1} {
		claims("exp", strconv.FormatInt(now+d, 10))
		claims("nbf", strconv.FormatInt(now+d, 10))
		claims("iat", strconv.FormatInt(now+d, 10))
	}
	for _, v := range []string{`1e400`, `-1e400`, `9.3e18`, `9223372036854775807`, `9223372036854775808`, `-9223372036854775808`, `1800000029.999`, `1799999970.5`, `1.8e9`, `18e8`, `-0`, `0.0`, `"1900000000"`, `1900000000.0`} {
		claims("exp", v)
		claims("nbf", v)
		claims("iat", v)
	}
	claims("exp", "")
	// Duplicates, odd numbers and Unicode in the claims.
	out = append(out,
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{"iss":"` + Issuer + `","aud":"` + Audience + `","exp":1,"exp":` + strconv.FormatInt(now+3600, 10) + `}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{"iss":"` + Issuer + `","aud":"` + Audience + `","exp":` + strconv.FormatInt(now+3600, 10) + `,"a":{"b":1,"b":2}}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{"iss":"evil","iss":"` + Issuer + `","aud":"` + Audience + `","exp":` + strconv.FormatInt(now+3600, 10) + `}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{"iss":"` + Issuer + `","aud":"` + Audience + `","exp":` + strconv.FormatInt(now+3600, 10) + `,"s":"\ud83d\ude00 \u00e9 \u2028"}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{"iss":"` + Issuer + `","aud":"` + Audience + `","exp":` + strconv.FormatInt(now+3600, 10) + `,"n":1E+2,"obj":{"z":[1,{"y":null}],"a":"<&>"}}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{"iss":"` + Issuer + `","aud":"` + Audience + `","exp":` + strconv.FormatInt(now+3600, 10) + `,"n":00}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{"iss":"` + Issuer + `","aud":"` + Audience + `","exp":` + strconv.FormatInt(now+3600, 10) + `,"n":NaN}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{"iss":"` + Issuer + `","aud":"` + Audience + `","exp":` + strconv.FormatInt(now+3600, 10) + `,"deep":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `{}`},
		Seed{"RS256", Header("RS256", "rsa-rs256"), ``},
		Seed{"RS256", Header("RS256", "rsa-rs256"), `null`},
	)
	return out
}

// Tweaks that Build applies to a signed token's encoding.
const (
	TweakNone        = iota
	TweakFlipSig     // one signature bit flipped
	TweakPadHeader   // '=' padding on the header segment
	TweakStdAlphabet // the header segment in the standard alphabet
	TweakPSSSalt     // PS256 signed with the largest salt
	TweakDropSig     // empty signature
	TweakDotSig      // a fourth segment
	TweakSigPadBits  // non-zero pad bits in the signature's last character
	tweaks
)

// Build signs header.payload with the key for sigAlg and applies tweak.
func (w *World) Build(sigAlg, header, payload string, tweak int) (string, error) {
	h := base64.RawURLEncoding.EncodeToString([]byte(header))
	switch tweak {
	case TweakPadHeader:
		h = base64.URLEncoding.EncodeToString([]byte(header))
	case TweakStdAlphabet:
		h = base64.RawStdEncoding.EncodeToString([]byte(header))
	}
	input := h + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	variant := 0
	if tweak == TweakPSSSalt {
		variant = 1
	}
	sig, err := w.Sign(sigAlg, input, variant)
	if err != nil {
		return "", err
	}
	switch tweak {
	case TweakFlipSig:
		sig[len(sig)/2] ^= 1
	case TweakDropSig:
		sig = nil
	}
	enc := base64.RawURLEncoding.EncodeToString(sig)
	if tweak == TweakSigPadBits && len(sig)%3 != 0 {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, enc[len(enc)-1])
		enc = enc[:len(enc)-1] + string(alphabet[last|1])
	}
	tok := input + "." + enc
	if tweak == TweakDotSig {
		tok += ".x"
	}
	return tok, nil
}
