package difffuzz

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// Class is a known, intended strictness: a kind of token that jwtgate
// refuses although a peer library may accept it. Every class names the
// reference that justifies the refusal; SECURITY.md lists the same
// classes (TestSecurityMDListsEveryClass keeps the two in step).
type Class struct {
	Name string
	// Reasons are the reason codes jwtgate gives tokens of this class.
	Reasons []decision.Reason
	// Ref is the RFC section or advisory that justifies the refusal.
	Ref string
	// Holds tells, from an independent reading of the token, whether it
	// belongs to the class.
	Holds func(a *Anatomy) bool
}

var malformedReasons = []decision.Reason{decision.TokenMalformed, decision.ClaimsMalformed}

// Classes is the table of intended strictness. A refusal that a peer
// accepts and that no class covers fails the differential targets.
var Classes = []Class{
	{
		Name: "duplicate-member", Reasons: malformedReasons,
		Ref:   "RFC 7515 §5.2 step 4 and RFC 7519 §4: duplicate Header Parameter or claim names must be rejected or resolved lexically last; rejecting removes the parser differential",
		Holds: func(a *Anatomy) bool { return a.Header.Duplicate || a.Payload.Duplicate },
	},
	{
		Name: "invalid-unicode", Reasons: malformedReasons,
		Ref:   "RFC 8259 §8.1 (JSON text exchanged between systems MUST be UTF-8) and RFC 7493 §2.1 (I-JSON: no invalid UTF-8, no lone surrogates); peers replace them with U+FFFD",
		Holds: func(a *Anatomy) bool { return a.Header.BadUnicode || a.Payload.BadUnicode },
	},
	{
		Name: "deep-nesting", Reasons: append([]decision.Reason{decision.TokenTooLarge}, malformedReasons...),
		Ref:   "RFC 8259 §9 (a parser may limit the depth of nesting): jwtgate stops at 32 levels",
		Holds: func(a *Anatomy) bool { return a.Header.Depth > 32 || a.Payload.Depth > 32 },
	},
	{
		Name: "non-canonical-base64url", Reasons: []decision.Reason{decision.TokenMalformed},
		Ref:   "RFC 7515 §2 and RFC 4648 §5 (base64url without padding or other characters) and RFC 4648 §3.5 (non-zero pad bits: non-canonical encodings let one token have many spellings)",
		Holds: func(a *Anatomy) bool { return a.NonCanonical },
	},
	{
		Name: "registered-claim-type", Reasons: []decision.Reason{decision.ClaimsMalformed},
		Ref:   "RFC 7519 §4.1 (iss, sub, jti strings; exp, nbf, iat NumericDate; aud a string or array of strings) and RFC 8693 §4.2 / RFC 9068 §2.2.3 (scope a space-separated string): a wrong type is malformed, never absent",
		Holds: func(a *Anatomy) bool { return a.ClaimTypeWrong },
	},
	{
		Name: "numericdate-range", Reasons: []decision.Reason{decision.ClaimsMalformed},
		Ref:   "RFC 7519 §2 (NumericDate) with RFC 7493 §2.2 (I-JSON: numbers beyond IEEE 754 double precision are not interoperable): exp, nbf, iat must be integers of at most 2^53 - 1 seconds after truncation",
		Holds: func(a *Anatomy) bool { return a.TimeOutOfRange },
	},
	{
		Name: "registered-header-parameter", Reasons: []decision.Reason{decision.TokenMalformed},
		Ref:   "RFC 7515 §4.1 (kid, typ, cty, jku, x5u, x5t, x5t#S256 are strings; x5c an array of base64 DER certificates, §4.1.6) RFC 7797 §6 (b64 must be listed in crit) and RFC 8725 §3.10 (an embedded jwk is never trusted; jwx refuses any it cannot import): jwx refuses or reinterprets such headers, golang-jwt ignores them",
		Holds: func(a *Anatomy) bool { return a.HeaderTypeWrong },
	},
	{
		Name: "header-whitespace", Reasons: []decision.Reason{decision.TokenMalformed},
		Ref:   "no RFC forbids it (RFC 8259 §2 allows whitespace around a value); jwx v3.4.0 verifies such a token against the trimmed header and refuses it, so jwtgate refuses it too rather than accept what a peer refuses; no issuer emits it",
		Holds: func(a *Anatomy) bool { return a.HeaderPadded },
	},
	{
		Name: "crit", Reasons: []decision.Reason{decision.CritUnsupported},
		Ref:   "RFC 7515 §4.1.11: a recipient MUST reject a JWS whose crit lists extensions it does not understand; jwtgate understands none (so RFC 7797 b64:false never applies)",
		Holds: func(a *Anatomy) bool { return a.Header.Obj != nil && hasMember(a.Header.Obj, "crit") },
	},
	{
		Name: "ambiguous-key", Reasons: []decision.Reason{decision.KeyUnknown},
		Ref:   "RFC 7515 §4.1.4 and RFC 7517 §4.5 (kid selects the key): without a kid jwtgate uses a key only when exactly one fits the algorithm, never tries the set in turn",
		Holds: func(a *Anatomy) bool { return !a.HasKid && a.FittingKeys > 1 },
	},
	{
		Name: "header-alg-mismatch", Reasons: []decision.Reason{decision.KeyMismatch, decision.SignatureInvalid, decision.KeyUnknown},
		Ref:   "RFC 8725 §3.1 and RFC 7515 §4.1.1 (alg is the algorithm that secured the JWS; the key must fit it): jwx verifies with the JWK's own alg and golang-jwt tries every key, so a token signed under another algorithm than its header names passes them",
		Holds: func(a *Anatomy) bool { return a.KidKeyMismatch || a.OtherAlgVerifies },
	},
	{
		Name: "size-limit", Reasons: []decision.Reason{decision.TokenTooLarge, decision.TokenMalformed},
		Ref:   "GHSA-mh63-6h87-95cp (golang-jwt CVE-2025-30204) and CVE-2025-27144 (go-jose): unbounded token parts exhaust memory; jwtgate caps the token (16 KiB), header (4 KiB) and signature (1 KiB) before decoding",
		Holds: func(a *Anatomy) bool { return a.OverLimit },
	},
	{
		Name: "pss-salt-length", Reasons: []decision.Reason{decision.SignatureInvalid},
		Ref:   "RFC 7518 §3.5: the RSASSA-PSS salt is as long as the hash output; golang-jwt accepts any salt length",
		Holds: func(a *Anatomy) bool { return a.PSSOtherSalt },
	},
}

// Classify returns the class that covers a refusal with this reason of a
// token with these facts, or nil.
func Classify(reason decision.Reason, a *Anatomy) *Class {
	for i := range Classes {
		c := &Classes[i]
		if slices.Contains(c.Reasons, reason) && c.Holds(a) {
			return c
		}
	}
	return nil
}

// Facts is what an independent reading (encoding/json, lenient base64)
// says about one JSON segment.
type Facts struct {
	Decoded    bool           // the segment decodes as lenient base64
	Obj        map[string]any // the object (last duplicate wins), nil when not one
	Duplicate  bool
	BadUnicode bool
	Depth      int
}

// Anatomy is an independent reading of a token, used only to classify
// refusals; it never decides anything.
type Anatomy struct {
	Segments        int
	NonCanonical    bool
	OverLimit       bool
	Header, Payload Facts
	HasKid          bool
	FittingKeys     int
	ClaimTypeWrong  bool
	TimeOutOfRange  bool
	HeaderTypeWrong bool
	PSSOtherSalt    bool
	HeaderPadded    bool // whitespace around the header object
	// KidKeyMismatch: the kid names a configured key that does not fit
	// the header alg (JWK alg pin, key type or curve).
	KidKeyMismatch bool
	// OtherAlgVerifies: the signature verifies with a configured key
	// under an algorithm other than the header's.
	OtherAlgVerifies bool
}

// String lists the facts that hold (never the token).
func (a *Anatomy) String() string {
	var f []string
	add := func(ok bool, name string) {
		if ok {
			f = append(f, name)
		}
	}
	add(a.Segments != 3, "segments!=3")
	add(a.NonCanonical, "non-canonical-base64")
	add(a.OverLimit, "over-limit")
	add(a.Header.Duplicate || a.Payload.Duplicate, "duplicate")
	add(a.Header.BadUnicode || a.Payload.BadUnicode, "bad-unicode")
	add(a.Header.Depth > 32 || a.Payload.Depth > 32, "deep")
	add(a.Header.Obj == nil, "header-not-object")
	add(a.Payload.Obj == nil, "payload-not-object")
	add(!a.HasKid, "no-kid")
	add(a.ClaimTypeWrong, "claim-type")
	add(a.TimeOutOfRange, "time-range")
	add(a.HeaderTypeWrong, "header-type")
	add(a.HeaderPadded, "header-padded")
	add(a.PSSOtherSalt, "pss-salt")
	add(a.KidKeyMismatch, "kid-key-mismatch")
	add(a.OtherAlgVerifies, "other-alg-verifies")
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, ",")
}

// Dissect reads tok independently of jwtgate's parser.
func Dissect(tok string, w *World) *Anatomy {
	a := &Anatomy{Segments: strings.Count(tok, ".") + 1}
	segs := strings.Split(tok, ".")
	if len(tok) > 16<<10 {
		a.OverLimit = true
	}
	var raw [3][]byte
	for i, s := range segs {
		strict, serr := base64.RawURLEncoding.Strict().DecodeString(s)
		if strings.ContainsAny(s, "\r\n") { // Go's decoders skip them, even Strict
			serr = base64.CorruptInputError(strings.IndexAny(s, "\r\n"))
		}
		loose, lerr := lenientB64(s)
		if serr != nil && lerr == nil {
			a.NonCanonical = true
		}
		if i < 3 {
			if serr == nil {
				raw[i] = strict
			} else if lerr == nil {
				raw[i] = loose
			}
		}
	}
	if len(segs) >= 1 && len(segs[0]) > base64.RawURLEncoding.EncodedLen(4<<10) {
		a.OverLimit = true
	}
	if len(segs) == 3 && len(segs[2]) > base64.RawURLEncoding.EncodedLen(1<<10) {
		a.OverLimit = true
	}
	if len(segs) < 2 {
		return a
	}
	a.Header = readFacts(raw[0], segs[0] != "" && raw[0] != nil)
	a.Payload = readFacts(raw[1], raw[1] != nil)
	h := a.Header.Obj
	alg, _ := h["alg"].(string)
	if kid, present := h["kid"]; present {
		a.HasKid = true
		ks, ok := kid.(string)
		if !ok {
			a.HeaderTypeWrong = true
		}
		for _, p := range w.pubs {
			if ok && p.kid == ks && !keyFits(p, alg) {
				a.KidKeyMismatch = true
			}
		}
	}
	if t := strings.TrimSpace(string(raw[0])); t != string(raw[0]) && strings.HasPrefix(t, "{") {
		a.HeaderPadded = true
	}
	a.HeaderTypeWrong = a.HeaderTypeWrong || headerTypesWrong(h)
	for _, p := range w.pubs {
		if keyFits(p, alg) {
			a.FittingKeys++
		}
	}
	if c := a.Payload.Obj; c != nil {
		a.ClaimTypeWrong, a.TimeOutOfRange = claimTypes(c)
	}
	if len(segs) == 3 && raw[2] != nil {
		input := segs[0] + "." + segs[1]
		for _, p := range w.pubs {
			for _, other := range Algorithms {
				if other != alg && keyFits(p, other) && verifies(p.raw, other, input, raw[2]) {
					a.OtherAlgVerifies = true
				}
			}
		}
	}
	if alg == "PS256" && len(segs) == 3 && raw[2] != nil {
		d := sha256.Sum256([]byte(segs[0] + "." + segs[1]))
		for _, p := range w.pubs {
			if k, ok := p.raw.(*rsa.PublicKey); ok && rsa.VerifyPSS(k, crypto.SHA256, d[:], raw[2], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil {
				a.PSSOtherSalt = true
			}
		}
	}
	return a
}

// verifies checks sig over input with key under alg (the standard
// library only).
func verifies(key any, alg, input string, sig []byte) bool {
	h := crypto.SHA256
	if alg == "RS512" {
		h = crypto.SHA512
	}
	d := h.New()
	d.Write([]byte(input))
	sum := d.Sum(nil)
	switch k := key.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(alg, "PS") {
			return rsa.VerifyPSS(k, h, sum, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
		}
		return rsa.VerifyPKCS1v15(k, h, sum, sig) == nil
	case *ecdsa.PublicKey:
		return len(sig) == 64 && ecdsa.Verify(k, sum, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case ed25519.PublicKey:
		return ed25519.Verify(k, []byte(input), sig)
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		return hmac.Equal(m.Sum(nil), sig)
	}
	return false
}

// keyFits is RFC 7518's key type per algorithm plus the JWK alg pin.
func keyFits(p pubKey, alg string) bool {
	if p.alg != "" && p.alg != alg {
		return false
	}
	switch p.raw.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return alg == "ES256"
	case ed25519.PublicKey:
		return alg == "EdDSA"
	case []byte:
		return alg == "HS256"
	}
	return false
}

// lenientB64 decodes as lenient peers do: padding, the standard alphabet
// and non-zero pad bits accepted.
func lenientB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

// readFacts parses b with encoding/json, noting duplicates, bad Unicode
// and depth on the way.
func readFacts(b []byte, decoded bool) Facts {
	f := Facts{Decoded: decoded}
	if !decoded {
		return f
	}
	f.BadUnicode = !utf8.Valid(b) || loneSurrogate(b)
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	// Walk the tokens for duplicates and depth.
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // next string token is a member name
	}
	var stack []*frame
	for {
		t, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			break
		}
		top := func() *frame {
			if len(stack) == 0 {
				return nil
			}
			return stack[len(stack)-1]
		}
		switch v := t.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if fr := top(); fr != nil && fr.obj {
					fr.key = true
				}
				stack = append(stack, &frame{obj: v == '{', keys: map[string]bool{}, key: v == '{'})
				f.Depth = max(f.Depth, len(stack))
			default:
				stack = stack[:len(stack)-1]
			}
		default:
			fr := top()
			if fr != nil && fr.obj {
				if fr.key {
					s, _ := v.(string)
					if fr.keys[s] {
						f.Duplicate = true
					}
					fr.keys[s] = true
					fr.key = false
				} else {
					fr.key = true
				}
			}
		}
	}
	var obj map[string]any
	d2 := json.NewDecoder(strings.NewReader(string(b)))
	d2.UseNumber()
	if d2.Decode(&obj) == nil && obj != nil {
		f.Obj = obj
	}
	return f
}

// loneSurrogate reports a \uD800–\uDFFF escape that is not a proper pair.
func loneSurrogate(b []byte) bool {
	s := string(b)
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if s[i+1] != 'u' || i+6 > len(s) {
			i++ // skip the escaped character
			continue
		}
		r := hex4(s[i+2 : i+6])
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(s) || s[i+6] != '\\' || s[i+7] != 'u' {
				return true
			}
			if lo := hex4(s[i+8 : i+12]); lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

func hex4(s string) int {
	n := 0
	for _, c := range []byte(s) {
		n <<= 4
		switch {
		case c >= '0' && c <= '9':
			n |= int(c - '0')
		case c >= 'a' && c <= 'f':
			n |= int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			n |= int(c-'A') + 10
		default:
			return -1
		}
	}
	return n
}

// headerTypesWrong checks the registered Header Parameters' types and
// x5c's certificates, and flags b64 (meaningless without crit).
func headerTypesWrong(h map[string]any) bool {
	for name, v := range h {
		switch name {
		case "typ", "cty", "jku", "x5u", "x5t", "x5t#S256":
			if _, ok := v.(string); !ok {
				return true
			}
		case "jwk", "b64":
			return true
		case "x5c":
			arr, ok := v.([]any)
			if !ok || len(arr) == 0 {
				return true
			}
			for _, e := range arr {
				s, ok := e.(string)
				if !ok {
					return true
				}
				der, err := base64.StdEncoding.Strict().DecodeString(s)
				if err != nil {
					return true
				}
				if _, err := x509.ParseCertificate(der); err != nil {
					return true
				}
			}
		}
	}
	return false
}

func hasMember(o map[string]any, name string) bool { _, ok := o[name]; return ok }

// maxSafe is 2^53 - 1, the largest integer I-JSON (RFC 7493 §2.2)
// exchanges exactly.
var maxSafe = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 53), big.NewInt(1))

// claimTypes checks the registered claims' JSON types, and whether a
// NumericDate leaves int64 seconds.
func claimTypes(c map[string]any) (wrong, outOfRange bool) {
	isString := func(v any) bool { _, ok := v.(string); return ok }
	isStrings := func(v any) bool {
		if isString(v) {
			return true
		}
		arr, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range arr {
			if !isString(e) {
				return false
			}
		}
		return true
	}
	for name, v := range c {
		switch name {
		case "iss", "sub", "jti", "scope":
			wrong = wrong || !isString(v)
		case "aud", "scp":
			wrong = wrong || !isStrings(v)
		case "exp", "nbf", "iat":
			n, ok := v.(json.Number)
			if !ok {
				wrong = true
				continue
			}
			f, _, err := big.ParseFloat(string(n), 10, 256, big.ToZero)
			if err != nil {
				outOfRange = true
				continue
			}
			f.SetMode(big.ToZero)
			if i, _ := f.Int(nil); new(big.Int).Abs(i).Cmp(maxSafe) > 0 {
				outOfRange = true
			}
		}
	}
	return wrong, outOfRange
}
