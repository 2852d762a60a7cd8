package token

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/decision"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestParseRefusals(t *testing.T) {
	sig := b64("signature-bytes")
	okHdr := b64(`{"alg":"RS256","kid":"k1"}`)
	pl := b64(`{"sub":"a"}`)
	rs256only := func(a *Algorithm) bool { return a.Name == "RS256" }
	cases := []struct {
		name string
		tok  string
		want decision.Reason
	}{
		{"two segments", okHdr + "." + pl, decision.TokenMalformed},
		{"four segments", okHdr + "." + pl + "." + sig + "." + sig, decision.TokenMalformed},
		{"empty signature", okHdr + "." + pl + ".", decision.TokenMalformed},
		{"empty header", "." + pl + "." + sig, decision.TokenMalformed},
		{"padding in header", okHdr + "==." + pl + "." + sig, decision.TokenMalformed},
		{"standard alphabet plus", okHdr + "." + pl + "." + sig[:4] + "+" + sig[5:], decision.TokenMalformed},
		{"newline inside segment", okHdr[:4] + "\n" + okHdr[4:] + "." + pl + "." + sig, decision.TokenMalformed},
		{"space inside segment", okHdr + "." + pl[:3] + " " + pl[3:] + "." + sig, decision.TokenMalformed},
		{"non-canonical trailing bits", okHdr + "." + pl + "." + "AB", decision.TokenMalformed},
		{"header not JSON", b64("alg=RS256") + "." + pl + "." + sig, decision.TokenMalformed},
		{"header is an array", b64(`["RS256"]`) + "." + pl + "." + sig, decision.TokenMalformed},
		{"duplicate alg", b64(`{"alg":"none","alg":"RS256"}`) + "." + pl + "." + sig, decision.TokenMalformed},
		{"no alg", b64(`{"kid":"k1"}`) + "." + pl + "." + sig, decision.TokenMalformed},
		{"alg not a string", b64(`{"alg":["RS256"]}`) + "." + pl + "." + sig, decision.TokenMalformed},
		{"alg none", b64(`{"alg":"none"}`) + "." + pl + "." + sig, decision.AlgorithmNotAllowed},
		{"alg None", b64(`{"alg":"None"}`) + "." + pl + "." + sig, decision.AlgorithmNotAllowed},
		{"alg NONE", b64(`{"alg":"NONE"}`) + "." + pl + "." + sig, decision.AlgorithmNotAllowed},
		{"alg nOnE", b64(`{"alg":"nOnE"}`) + "." + pl + "." + sig, decision.AlgorithmNotAllowed},
		{"alg lower-case rs256", b64(`{"alg":"rs256"}`) + "." + pl + "." + sig, decision.AlgorithmNotAllowed},
		{"alg HS256 not allowed", b64(`{"alg":"HS256"}`) + "." + pl + "." + sig, decision.AlgorithmNotAllowed},
		{"kid not a string", b64(`{"alg":"RS256","kid":7}`) + "." + pl + "." + sig, decision.TokenMalformed},
		{"typ not a string", b64(`{"alg":"RS256","typ":{}}`) + "." + pl + "." + sig, decision.TokenMalformed},
		{"crit b64", b64(`{"alg":"RS256","b64":false,"crit":["b64"]}`) + "." + pl + "." + sig, decision.CritUnsupported},
		{"crit unknown", b64(`{"alg":"RS256","crit":["exp"]}`) + "." + pl + "." + sig, decision.CritUnsupported},
		{"too large", okHdr + "." + b64(strings.Repeat("a", 20000)) + "." + sig, decision.TokenTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.tok, 16<<10, rs256only)
			if err == nil {
				t.Fatalf("accepted")
			}
			if err.Reason != c.want {
				t.Fatalf("reason %s, want %s (%v)", err.Reason, c.want, err)
			}
		})
	}
}

func TestParseKeepsSigningInputAndHeader(t *testing.T) {
	hdr := b64(`{"alg":"RS256","kid":"a\u0000b","typ":"at+jwt","jku":"http://127.0.0.1:1/jwks"}`)
	tok := hdr + "." + b64(`{"sub":"x"}`) + "." + b64("sig")
	p, err := Parse(tok, 16<<10, func(*Algorithm) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if p.SigningInput != tok[:strings.LastIndexByte(tok, '.')] {
		t.Fatalf("signing input %q", p.SigningInput)
	}
	if p.KeyID != "a\x00b" || p.Type != "at+jwt" || string(p.Signature) != "sig" {
		t.Fatalf("header read wrong: %+v", p)
	}
	if err := p.ParseClaims(); err != nil {
		t.Fatal(err)
	}
	if v, _ := p.Claims.Get("sub"); v.Raw() != `"x"` {
		if s, _ := v.String(); s != "x" {
			t.Fatalf("sub %v", v)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(b64(`{"alg":"RS256"}`) + "." + b64(`{"exp":1}`) + "." + b64("s"))
	f.Add("a.b.c")
	f.Add("..")
	f.Add(b64(`{"alg":"ES256","crit":[]}`) + ".." + b64("s"))
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := Parse(tok, 16<<10, func(*Algorithm) bool { return true })
		if err != nil {
			if err.Reason == "" || strings.Contains(err.Error(), tok) && len(tok) > 40 {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if p.Alg == nil || !strings.HasPrefix(tok, p.SigningInput+".") {
			t.Fatalf("inconsistent parse of %q", tok)
		}
		_ = p.ParseClaims()
	})
}

// TestDecodeSegmentMatchesStrictStdlib compares the one-pass decoder with
// the standard library's strict decoder on every short input over an
// alphabet that includes the characters it must refuse.
func TestDecodeSegmentMatchesStrictStdlib(t *testing.T) {
	chars := []byte("AQgw_-+/=. \n\x00\xff")
	var rec func(prefix []byte)
	check := func(in []byte) {
		dst := make([]byte, base64.RawURLEncoding.DecodedLen(len(in))+3)
		got, err := decodeSegment(dst, string(in))
		want, werr := base64.RawURLEncoding.Strict().DecodeString(string(in))
		stdOK := werr == nil && !strings.ContainsAny(string(in), "\r\n")
		if (err == nil) != stdOK {
			t.Fatalf("%q: ours err=%v, stdlib err=%v", in, err, werr)
		}
		if err == nil && string(got) != string(want) {
			t.Fatalf("%q: %x != %x", in, got, want)
		}
	}
	rec = func(prefix []byte) {
		check(prefix)
		if len(prefix) == 5 {
			return
		}
		for _, c := range chars {
			rec(append(prefix, c))
		}
	}
	rec(nil)
}

// TestDecodeSegmentLongInputs covers the eight-character loop: every
// length up to 64 bytes, decoded into an exact and a roomier buffer, equals
// the standard library's strict decoding, and a refused character at any
// position (or non-zero trailing bits) is refused.
func TestDecodeSegmentLongInputs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 64; n++ {
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = byte(rnd.Uint32())
		}
		enc := base64.RawURLEncoding.EncodeToString(raw)
		for _, slack := range []int{0, 8} {
			dst := make([]byte, base64.RawURLEncoding.DecodedLen(len(enc))+slack)
			got, err := decodeSegment(dst[:len(dst)-slack:len(dst)-slack], enc)
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("n=%d slack=%d: %x %v, want %x", n, slack, got, err, raw)
			}
			got, err = decodeSegment(dst, enc)
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("n=%d roomy: %x %v, want %x", n, got, err, raw)
			}
		}
		for pos := 0; pos < len(enc); pos++ {
			for _, bad := range []byte("=+/. \n\x00\xff") {
				b := []byte(enc)
				b[pos] = bad
				dst := make([]byte, base64.RawURLEncoding.DecodedLen(len(b)))
				if _, err := decodeSegment(dst, string(b)); err == nil {
					t.Fatalf("n=%d: %q at %d accepted", n, bad, pos)
				}
			}
		}
		if len(enc)%4 != 0 {
			// Set a trailing bit the last character must leave zero.
			b := []byte(enc)
			last := strings.IndexByte(b64alphabet, b[len(b)-1])
			b[len(b)-1] = b64alphabet[last|1]
			if last&1 == 0 {
				dst := make([]byte, base64.RawURLEncoding.DecodedLen(len(b)))
				if _, err := decodeSegment(dst, string(b)); err == nil {
					t.Fatalf("n=%d: non-zero trailing bits accepted", n)
				}
			}
		}
	}
}

const b64alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func FuzzDecodeSegment(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9")
	f.Add("AB")
	f.Fuzz(func(t *testing.T, in string) {
		dst := make([]byte, base64.RawURLEncoding.DecodedLen(len(in)))
		got, err := decodeSegment(dst, in)
		want, werr := base64.RawURLEncoding.Strict().DecodeString(in)
		stdOK := werr == nil && !strings.ContainsAny(in, "\r\n")
		if (err == nil) != stdOK || (err == nil && string(got) != string(want)) {
			t.Fatalf("%q: ours %x %v, stdlib %x %v", in, got, err, want, werr)
		}
	})
}
