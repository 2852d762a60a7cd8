package config

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LoadAPIM reads an Azure API Management policy XML and takes its one
// <validate-jwt> element (anywhere, e.g. inside <policies><inbound>) as the
// configuration, applies defaults and validates. Policy expressions
// (@(...), @{...}), named values ({{name}}) and certificate references are
// refused with an error naming where they are, never ignored.
func LoadAPIM(data []byte) (*Config, error) {
	b := newBuilder()
	b.applyAPIM(data, "APIM policy")
	return b.finish()
}

// xnode is one XML element of the <validate-jwt> subtree.
type xnode struct {
	name     string
	path     string // "validate-jwt/audiences/audience[2]"
	attrs    []xml.Attr
	children []*xnode
	text     string
}

func (n *xnode) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

const maxXMLDepth = 64

// applyAPIM applies the <validate-jwt> element of an APIM policy; name
// labels errors (the file name).
func (b *builder) applyAPIM(data []byte, name string) {
	b.apim = true
	at := name + ": "
	if len(data) > maxFileBytes {
		b.failf(name, "larger than %d bytes", maxFileBytes)
		return
	}
	vj, err := findValidateJWT(data)
	if err != nil {
		b.failf(name, "%v", err)
		return
	}
	if err := refuseDynamic(vj); err != nil {
		b.failf(name, "%v", err)
		return
	}
	if vj.name == aadElement {
		b.applyAzureADToken(vj, at)
		return
	}
	b.apimAttributes(vj, at)
	for _, ch := range vj.children {
		label := at + "<" + ch.path + ">"
		switch ch.name {
		case "openid-config":
			if !b.onlyAttrs(ch, label, "url", "validate-connectivity") {
				continue
			}
			u, ok := ch.attr("url")
			if !ok || u == "" {
				b.failf(label, "the url attribute is missing")
				continue
			}
			b.c.OpenIDConfigURLs = append(b.c.OpenIDConfigURLs, u)
			b.apimDiscovery = append(b.apimDiscovery, u)
			b.mark("JWTGATE_OPENID_CONFIG", at+"<openid-config>")
		case "issuer-signing-keys":
			for _, k := range b.children(ch, label, "key") {
				b.apimSigningKey(k, at+"<"+k.path+">")
			}
		case "decryption-keys":
			for _, k := range b.children(ch, label, "key") {
				b.apimDecryptionKey(k, at+"<"+k.path+">")
			}
		case "audiences":
			vals := b.texts(ch, label, "audience")
			if len(vals) == 0 {
				b.failf(label, "no <audience> elements")
				continue
			}
			if contains(vals, "*") {
				// In APIM "*" is a literal audience; in jwtgate it turns the
				// check off. Never turn it off by accident.
				b.failf(label, `"*" would turn the audience check off in jwtgate (APIM compares it literally); set JWTGATE_AUDIENCES="*" to do that explicitly`)
				continue
			}
			b.setAudiences(at+"<audiences>", vals)
		case "issuers":
			vals := b.texts(ch, label, "issuer")
			if len(vals) == 0 {
				b.failf(label, "no <issuer> elements")
				continue
			}
			b.setList("JWTGATE_ISSUERS", at+"<issuers>", vals, &b.c.Issuers)
		case "required-claims":
			for _, cl := range b.children(ch, label, "claim") {
				b.apimClaim(cl, at+"<"+cl.path+">")
			}
			b.mark("JWTGATE_REQUIRED_CLAIMS", at+"<required-claims>")
		default:
			b.failf(label, "unknown element in <validate-jwt> (expected openid-config, issuer-signing-keys, decryption-keys, audiences, issuers or required-claims)")
		}
	}
}

func (b *builder) apimAttributes(vj *xnode, at string) {
	var header, query, scheme string
	var hasHeader, hasQuery, hasScheme bool
	for _, a := range vj.attrs {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
			continue
		}
		v := strings.TrimSpace(a.Value)
		label := at + "<validate-jwt " + a.Name.Local + ">"
		switch a.Name.Local {
		case "header-name":
			header, hasHeader = v, true
		case "query-parameter-name":
			query, hasQuery = v, true
		case "require-scheme":
			scheme, hasScheme = v, true
		case "token-value":
			b.failf(label, "token-value takes a policy expression, which jwtgate cannot evaluate; use header-name or query-parameter-name")
		case "failed-validation-httpcode":
			b.setInt(settingFailedStatus, label, v, &b.c.FailedStatus)
		case "failed-validation-error-message":
			b.setString(settingFailedMessage, label, v, &b.c.FailedMessage)
		case "require-expiration-time":
			if x, ok := b.apimBool(label, v); ok {
				b.c.RequireExpiration = x
				b.mark("JWTGATE_REQUIRE_EXPIRATION", label)
			}
		case "require-signed-tokens":
			if x, ok := b.apimBool(label, v); ok && !x {
				b.failf(label, "false is refused: jwtgate never accepts unsigned tokens (remove the attribute or set it to true)")
			}
		case "clock-skew":
			secs, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				b.failf(label, "%q is not a whole number of seconds", v)
				continue
			}
			b.c.ClockSkew = time.Duration(secs) * time.Second
			b.mark("JWTGATE_CLOCK_SKEW", label)
		case "output-token-variable-name":
			// An APIM context variable; jwtgate forwards claims instead
			// (JWTGATE_FORWARD_CLAIMS, JWTGATE_CLAIM_HEADERS). Accepted and ignored.
		default:
			b.failf(label, "unknown attribute of <validate-jwt>")
		}
	}
	// APIM's clock skew defaults to 0 seconds; keep its behaviour.
	if !b.isSet("JWTGATE_CLOCK_SKEW") {
		b.c.ClockSkew = 0
		b.mark("JWTGATE_CLOCK_SKEW", at+"<validate-jwt clock-skew>")
	}
	switch {
	case hasHeader:
		b.setString("JWTGATE_TOKEN_HEADER", at+"<validate-jwt header-name>", header, &b.c.HeaderName)
	case hasQuery:
		// The token comes from the query only.
		b.setString("JWTGATE_TOKEN_HEADER", at+"<validate-jwt query-parameter-name>", "", &b.c.HeaderName)
	}
	if hasQuery {
		b.setString("JWTGATE_TOKEN_QUERY", at+"<validate-jwt query-parameter-name>", query, &b.c.QueryParam)
	}
	switch {
	case hasHeader && !strings.EqualFold(header, DefaultHeaderName):
		// A custom header holds the bare token: APIM ignores require-scheme
		// with a custom header.
		b.setString("JWTGATE_TOKEN_SCHEME", at+"<validate-jwt header-name>", "", &b.c.Scheme)
	case hasScheme:
		b.setOptional("JWTGATE_TOKEN_SCHEME", at+"<validate-jwt require-scheme>", scheme, &b.c.Scheme)
	}
}

func (b *builder) apimBool(label, v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	b.failf(label, "%q is neither true nor false", v)
	return false, false
}

func (b *builder) apimSigningKey(k *xnode, label string) {
	if !b.onlyAttrs(k, label, "id", "certificate-id", "n", "e") {
		return
	}
	if cert, ok := k.attr("certificate-id"); ok {
		b.failf(label, "certificate-id %q names a certificate stored in API Management, which jwtgate cannot read; export it and put its base64 body in the <key> element (or configure it as JWTGATE_PUBLIC_KEYS, PEM)", cert)
		return
	}
	kid, _ := k.attr("id")
	n, hasN := k.attr("n")
	e, hasE := k.attr("e")
	key := StaticKey{KID: kid}
	switch {
	case hasN || hasE:
		if !hasN || !hasE || n == "" || e == "" {
			b.failf(label, "an RSA key needs both n and e")
			return
		}
		if k.text != "" {
			b.failf(label, "give either n/e or a base64 key, not both")
			return
		}
		key.N, key.E = n, e
	case k.text != "":
		der, err := DecodeBase64(stripSpace(k.text))
		if err != nil {
			b.failf(label, "%v", err)
			return
		}
		// A certificate or public key body verifies with its public key;
		// anything else is a symmetric secret. (Used as an HMAC secret, a
		// public key would let anyone who knows it sign tokens.)
		if blk := publicKeyPEM(der); blk != nil {
			key.PEM = blk
		} else {
			key.Secret = der
		}
	default:
		b.failf(label, "empty key (expected a base64 secret or certificate, or n and e)")
		return
	}
	b.c.StaticKeys = append(b.c.StaticKeys, key)
	b.apimKeys = append(b.apimKeys, len(b.c.StaticKeys)-1)
	b.mark(keySetting(key), label)
}

func (b *builder) apimDecryptionKey(k *xnode, label string) {
	_, hasN := k.attr("n")
	_, hasE := k.attr("e")
	if hasN || hasE {
		b.failf(label, "n and e give a public key, which cannot decrypt; put the base64 private key (PKCS #8 or PKCS #1) in the <key> element, or configure it in JWTGATE_DECRYPTION_KEYS (@file.pem)")
		return
	}
	if !b.onlyAttrs(k, label, "id", "certificate-id") {
		return
	}
	if cert, ok := k.attr("certificate-id"); ok {
		b.failf(label, "certificate-id %q names a certificate stored in API Management, which jwtgate cannot read; put the base64 private key (PKCS #8 or PKCS #1) in the <key> element, or configure it in JWTGATE_DECRYPTION_KEYS (@file.pem)", cert)
		return
	}
	kid, _ := k.attr("id")
	der, err := DecodeBase64(stripSpace(k.text))
	if err != nil {
		b.failf(label, "%v", err)
		return
	}
	dk := DecryptionKey{KID: kid, PEM: privateKeyPEM(der)}
	switch {
	case dk.PEM != nil:
	case publicKeyPEM(der) != nil:
		b.failf(label, "a certificate or public key cannot decrypt; put the base64 private key (PKCS #8 or PKCS #1) in the <key> element")
		return
	default:
		dk.Secret = der
	}
	b.c.DecryptionKeys = append(b.c.DecryptionKeys, dk)
	b.mark("JWTGATE_DECRYPTION_KEYS", label)
}

// publicKeyPEM returns der as a PEM block when it is an X.509 certificate
// or a PKIX public key (a <key> element's base64 body), else nil.
func publicKeyPEM(der []byte) []byte {
	if _, err := x509.ParseCertificate(der); err == nil {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	if _, err := x509.ParsePKIXPublicKey(der); err == nil {
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	return nil
}

// privateKeyPEM returns der as a PEM block when it is a PKCS #8 or PKCS #1
// private key, else nil.
func privateKeyPEM(der []byte) []byte {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
	}
	return nil
}

// stripSpace removes all white space (a base64 body pasted over lines).
func stripSpace(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// bindAPIM applies APIM's key model after every layer: each key of the
// policy serves each issuer of the policy. The policy's static keys are
// bound to the accepted issuers (without <issuers>: to the issuers its
// <openid-config> URLs stand for, i.e. the issuers their documents
// announce), discovery issuers included; each of its discovery sources also
// serves the accepted issuers that no discovery source stands for. The keys
// of one discovery source never serve another's issuer.
func (b *builder) bindAPIM() {
	c := &b.c
	var discovery []string
	for _, u := range b.apimDiscovery {
		if contains(c.OpenIDConfigURLs, u) { // an environment override may have replaced them
			discovery = append(discovery, u)
		}
	}
	issuers := c.Issuers
	if len(issuers) == 0 {
		for _, u := range discovery {
			if pu, err := url.Parse(u); err == nil {
				iss, _ := DiscoveryIssuer(pu)
				issuers = append(issuers, iss)
			}
		}
	}
	if len(issuers) > 0 {
		for _, i := range b.apimKeys {
			if len(c.StaticKeys[i].Issuers) == 0 {
				c.StaticKeys[i].Issuers = append([]string(nil), issuers...)
			}
		}
	}
	if others := c.UnboundIssuers(); len(others) > 0 {
		for _, u := range discovery {
			if c.OpenIDConfigIssuers == nil {
				c.OpenIDConfigIssuers = map[string][]string{}
			}
			c.OpenIDConfigIssuers[u] = append([]string(nil), others...)
		}
	}
}

func (b *builder) apimClaim(cl *xnode, label string) {
	if !b.knownAttrs(cl, label, "name", "match", "separator") {
		return
	}
	name, _ := cl.attr("name")
	match, _ := cl.attr("match")
	req := ClaimRequirement{Name: name, Match: strings.ToLower(match)}
	// The separator is not trimmed: " " is a valid separator.
	for _, a := range cl.attrs {
		if a.Name.Local == "separator" {
			req.Separator = a.Value
		}
	}
	req.Values = b.texts(cl, label, "value")
	if err := checkClaimRequirement(req); err != nil {
		b.failf(label, "%v", err)
		return
	}
	b.c.RequiredClaims = append(b.c.RequiredClaims, req)
}

// children returns n's child elements, all of which must be called want.
func (b *builder) children(n *xnode, label, want string) []*xnode {
	if len(n.attrs) > 0 {
		b.failf(label, "unexpected attribute %s", n.attrs[0].Name.Local)
	}
	if n.text != "" {
		b.failf(label, "unexpected text %q", n.text)
	}
	var out []*xnode
	for _, ch := range n.children {
		if ch.name != want {
			b.failf(label, "unexpected element <%s> (expected <%s>)", ch.name, want)
			continue
		}
		out = append(out, ch)
	}
	return out
}

// texts returns the text of n's child elements called want.
func (b *builder) texts(n *xnode, label, want string) []string {
	var out []string
	for _, ch := range b.children(&xnode{children: n.children, text: n.text}, label, want) {
		if len(ch.attrs) > 0 || len(ch.children) > 0 {
			b.failf(label, "<%s> takes only text", want)
			continue
		}
		if ch.text == "" {
			b.failf(label, "empty <%s>", want)
			continue
		}
		out = append(out, ch.text)
	}
	return out
}

// onlyAttrs checks that n has no attributes but the allowed ones and no
// child elements.
func (b *builder) onlyAttrs(n *xnode, label string, allowed ...string) bool {
	ok := b.knownAttrs(n, label, allowed...)
	if len(n.children) > 0 {
		b.failf(label, "unexpected element <%s>", n.children[0].name)
		ok = false
	}
	return ok
}

// knownAttrs checks that n has no attributes but the allowed ones.
func (b *builder) knownAttrs(n *xnode, label string, allowed ...string) bool {
	ok := true
	for _, a := range n.attrs {
		if a.Name.Space != "" || !contains(allowed, a.Name.Local) {
			b.failf(label, "unknown attribute %s", a.Name.Local)
			ok = false
		}
	}
	return ok
}

// apimItems names the APIM policy item of a setting, for errors about a
// setting the policy left out.
var apimItems = map[string]string{
	"JWTGATE_ISSUERS":       "<issuers>",
	"JWTGATE_OPENID_CONFIG": "<openid-config>",
}

// namedValue returns the first APIM named value in v: the leftmost "{{…}}"
// with no brace inside (what the regular expression \{\{[^{}]*\}\} finds),
// or "". A hand-written scan keeps regexp out of the binaries.
func namedValue(v string) string {
	for i := 0; i+1 < len(v); i++ {
		if v[i] != '{' || v[i+1] != '{' {
			continue
		}
		j := i + 2
		for j < len(v) && v[j] != '{' && v[j] != '}' {
			j++
		}
		if j+1 < len(v) && v[j] == '}' && v[j+1] == '}' {
			return v[i : j+2]
		}
	}
	return ""
}

// refuseDynamic refuses policy expressions and named values anywhere in the
// <validate-jwt> subtree: jwtgate has no APIM context to evaluate them in.
func refuseDynamic(n *xnode) error {
	check := func(where, v string) error {
		t := strings.TrimSpace(v)
		if strings.HasPrefix(t, "@(") || strings.HasPrefix(t, "@{") {
			return fmt.Errorf("%s is a policy expression (%s), which jwtgate cannot evaluate outside API Management; replace it with the literal value", where, shorten(t))
		}
		if m := namedValue(v); m != "" {
			return fmt.Errorf("%s uses the named value %s, which jwtgate cannot resolve; substitute its value", where, m)
		}
		return nil
	}
	for _, a := range n.attrs {
		if err := check(fmt.Sprintf("<%s %s>", n.path, a.Name.Local), a.Value); err != nil {
			return err
		}
	}
	if err := check(fmt.Sprintf("the text of <%s>", n.path), n.text); err != nil {
		return err
	}
	for _, ch := range n.children {
		if err := refuseDynamic(ch); err != nil {
			return err
		}
	}
	return nil
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// findValidateJWT parses the policy XML and returns its one <validate-jwt>
// subtree. Conditional validation (inside <choose>) cannot be imported.
func findValidateJWT(data []byte) (*xnode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var found *xnode
	var stack []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "validate-jwt" && t.Name.Local != aadElement {
				stack = append(stack, t.Name.Local)
				if len(stack) > maxXMLDepth {
					return nil, errors.New("XML nested too deeply")
				}
				continue
			}
			if found != nil {
				return nil, errors.New("more than one <validate-jwt> element (or <validate-azure-ad-token>); jwtgate imports exactly one")
			}
			for _, anc := range stack {
				if anc == "choose" || anc == "when" || anc == "otherwise" {
					return nil, fmt.Errorf("<%s> is inside <choose>: conditional validation cannot be imported", t.Name.Local)
				}
			}
			n, err := readElement(dec, t, t.Name.Local, 1)
			if err != nil {
				return nil, err
			}
			found = n
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if found == nil {
		return nil, errors.New("no <validate-jwt> element found (nor a <validate-azure-ad-token>)")
	}
	return found, nil
}

// readElement reads the element started by start (its tokens up to the
// matching end) into an xnode.
func readElement(dec *xml.Decoder, start xml.StartElement, path string, depth int) (*xnode, error) {
	if depth > maxXMLDepth {
		return nil, errors.New("XML nested too deeply")
	}
	n := &xnode{name: start.Name.Local, path: path, attrs: start.Attr}
	var text strings.Builder
	count := map[string]int{}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count[t.Name.Local]++
			p := path + "/" + t.Name.Local
			if c := count[t.Name.Local]; c > 1 {
				p += "[" + strconv.Itoa(c) + "]"
			}
			ch, err := readElement(dec, t, p, depth+1)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, ch)
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			n.text = strings.TrimSpace(text.String())
			return n, nil
		}
	}
}
