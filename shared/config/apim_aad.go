package config

import (
	"encoding/xml"
	"strings"
)

// aadElement is APIM's Entra-specific validation policy.
const aadElement = "validate-azure-ad-token"

// aadAttributes are the attributes of <validate-azure-ad-token>.
var aadAttributes = []string{"tenant-id", "header-name", "failed-validation-httpcode", "failed-validation-error-message", "output-token-variable-name"}

// applyAzureADToken applies a <validate-azure-ad-token> element: the
// tenant's v2.0 discovery document under JWTGATE_ENTRA_AUTHORITY, accepting
// the tenant's v2.0 and v1.0 issuers (Entra signs both with the same keys),
// the client applications as JWTGATE_CLIENT_IDS, the backend applications
// (bare and api://) and <audiences> as audiences, required claims and
// decryption keys.
func (b *builder) applyAzureADToken(n *xnode, at string) {
	b.c.APIMImport = true
	label := func(what string) string { return at + "<" + aadElement + " " + what + ">" }
	var common []xml.Attr
	tenant := ""
	for _, a := range n.attrs {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
			continue
		}
		switch {
		case a.Name.Space != "" || !contains(aadAttributes, a.Name.Local):
			b.failf(label(a.Name.Local), "unknown attribute of <%s> (expected %s)", aadElement, strings.Join(aadAttributes, ", "))
		case a.Name.Local == "tenant-id":
			tenant = strings.TrimSpace(a.Value)
		default:
			common = append(common, a)
		}
	}
	// header-name, failed-validation-* and output-token-variable-name mean
	// what they mean on <validate-jwt>.
	b.apimAttributes(&xnode{name: n.name, path: n.path, attrs: common}, at)
	switch {
	case tenant == "":
		b.failf(label("tenant-id"), "required: the Entra tenant id (a GUID)")
	case !IsGUID(tenant):
		b.failf(label("tenant-id"), "%q is not a tenant id (a GUID); jwtgate imports the tenant id, not a domain name", tenant)
	default:
		authority := b.c.EntraAuthority
		if authority == "" {
			authority = DefaultEntraAuthority
		}
		authority = strings.TrimSuffix(authority, "/")
		b.c.OpenIDConfigURLs = append(b.c.OpenIDConfigURLs, authority+"/"+tenant+"/v2.0"+WellKnownPath)
		b.mark("JWTGATE_OPENID_CONFIG", label("tenant-id"))
		b.setList("JWTGATE_ISSUERS", label("tenant-id"), EntraIssuers(authority, tenant), &b.c.Issuers)
	}
	var audiences, clients []string
	for _, ch := range n.children {
		where := at + "<" + ch.path + ">"
		switch ch.name {
		case "client-application-ids":
			clients = append(clients, b.texts(ch, where, "application-id")...)
		case "backend-application-ids":
			for _, id := range b.texts(ch, where, "application-id") {
				audiences = append(audiences, id, "api://"+id)
			}
		case "audiences":
			vals := b.texts(ch, where, "audience")
			if contains(vals, "*") {
				b.failf(where, `"*" would turn the audience check off in jwtgate (APIM compares it literally); set JWTGATE_AUDIENCES="*" to do that explicitly`)
				continue
			}
			audiences = append(audiences, vals...)
		case "required-claims":
			for _, cl := range b.children(ch, where, "claim") {
				b.apimClaim(cl, at+"<"+cl.path+">")
			}
			b.mark("JWTGATE_REQUIRED_CLAIMS", where)
		case "decryption-keys":
			for _, k := range b.children(ch, where, "key") {
				b.apimDecryptionKey(k, at+"<"+k.path+">")
			}
		default:
			b.failf(where, "unknown element in <%s> (expected client-application-ids, backend-application-ids, audiences, required-claims or decryption-keys)", aadElement)
		}
	}
	if len(clients) == 0 {
		b.failf(at+"<"+aadElement+"/client-application-ids>", "required: the application ids of the clients allowed to call (APIM requires at least one <application-id>)")
	} else {
		b.setList("JWTGATE_CLIENT_IDS", at+"<client-application-ids>", clients, &b.c.ClientIDs)
	}
	if len(audiences) > 0 {
		b.setAudiences(at+"<backend-application-ids>/<audiences>", audiences)
	}
}
