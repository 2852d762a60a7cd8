// Package lookalike serves loopback look-alikes of Microsoft Entra ID and
// Amazon Cognito for tests and local runs: their discovery documents and
// key sets in the shapes the real services publish, and tokens with their
// real claim sets, signed with devissuer keys.
//
// Entra (one authority, any tenant):
//
//	{authority}/{tid}/v2.0/.well-known/openid-configuration  issuer {authority}/{tid}/v2.0
//	{authority}/{tid}/.well-known/openid-configuration       issuer https://sts.windows.net/{tid}/
//	{authority}/common/v2.0/…, /organizations/v2.0/…         issuer {authority}/{tenantid}/v2.0
//	{authority}/…/discovery/v2.0/keys                        keys with x5t, x5c and issuer
//	{authority}/common/discovery/keys                        v1.0 keys (no issuer member)
//
// Cognito (one user pool): the real https://cognito-idp.{region}.amazonaws.com/{pool}
// issuer is announced by a discovery document served on loopback at
// {url}/{pool}/.well-known/openid-configuration, so a configuration lists
// that issuer in JWTGATE_ISSUERS to vouch for the document.
package lookalike

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// signer is one signing key and the JWK members it is published with.
type signer struct {
	kid    string
	priv   jwk.Key
	public map[string]any // the published JWK, issuer member excluded
	issuer string         // the JWK issuer member ("" for none)
}

func newSigner(kid, issuer string) (*signer, error) {
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("lookalike: generate key: %w", err)
	}
	k, err := devissuer.ImportKey(raw, "RS256")
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    time.Unix(1700000000, 0),
		NotAfter:     time.Unix(1900000000, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &raw.PublicKey, raw)
	if err != nil {
		return nil, fmt.Errorf("lookalike: certificate: %w", err)
	}
	thumb := sha1.Sum(der)
	b64 := base64.RawURLEncoding.EncodeToString
	pub := map[string]any{
		"kty": "RSA",
		"use": "sig",
		"kid": kid,
		"x5t": b64(thumb[:]),
		"n":   b64(raw.N.Bytes()),
		"e":   b64(big.NewInt(int64(raw.E)).Bytes()),
		"x5c": []string{base64.StdEncoding.EncodeToString(der)},
	}
	return &signer{kid: kid, priv: k, public: pub, issuer: issuer}, nil
}

func (s *signer) jwk(withIssuer bool, extra map[string]any) map[string]any {
	m := make(map[string]any, len(s.public)+3)
	for k, v := range s.public {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	if withIssuer && s.issuer != "" {
		m["issuer"] = s.issuer
	}
	return m
}

func (s *signer) sign(claims map[string]any) (string, error) {
	return devissuer.Sign(s.priv, claims, map[string]any{"kid": s.kid})
}

// Entra is a loopback Entra ID look-alike. Its common key carries the
// issuer template {authority}/{tenantid}/v2.0; each tenant key given to
// StartEntra carries that tenant's own v2.0 issuer.
type Entra struct {
	srv     *httptest.Server
	common  *signer
	tenants map[string]*signer
}

// CommonKID is the kid of the key every tenant's tokens are signed with.
const CommonKID = "entra-common-key"

// StartEntra starts the look-alike. tenantKeys lists tenants that also get
// a key of their own (kid "tenant-{tid}"), published with a concrete issuer.
func StartEntra(tenantKeys ...string) (*Entra, error) {
	e := &Entra{tenants: map[string]*signer{}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	var err error
	if e.common, err = newSigner(CommonKID, e.Authority()+"/{tenantid}/v2.0"); err != nil {
		e.Close()
		return nil, err
	}
	for _, tid := range tenantKeys {
		s, err := newSigner("tenant-"+tid, e.V2Issuer(tid))
		if err != nil {
			e.Close()
			return nil, err
		}
		e.tenants[tid] = s
	}
	return e, nil
}

// Close stops the server.
func (e *Entra) Close() { e.srv.Close() }

// Authority is the look-alike's https://login.microsoftonline.com.
func (e *Entra) Authority() string { return e.srv.URL }

// V2Issuer is a tenant's v2.0 issuer.
func (e *Entra) V2Issuer(tid string) string { return e.Authority() + "/" + tid + "/v2.0" }

// V1Issuer is a tenant's v1.0 issuer (the real one: the look-alike's
// v1.0 documents announce it, as Entra's do).
func V1Issuer(tid string) string { return "https://sts.windows.net/" + tid + "/" }

// V2Template is the multi-tenant issuer template of the v2.0 common documents.
func (e *Entra) V2Template() string { return e.Authority() + "/{tenantid}/v2.0" }

// V1Template is the multi-tenant v1.0 issuer template.
const V1Template = "https://sts.windows.net/{tenantid}/"

// Discovery returns the discovery URL of tenant (a GUID, "common" or
// "organizations"), v2.0 or v1.0.
func (e *Entra) Discovery(tenant string, v2 bool) string {
	if v2 {
		return e.Authority() + "/" + tenant + "/v2.0/.well-known/openid-configuration"
	}
	return e.Authority() + "/" + tenant + "/.well-known/openid-configuration"
}

func (e *Entra) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var body any
	switch {
	case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		iss := e.V2Issuer(parts[0])
		if parts[0] == "common" || parts[0] == "organizations" || parts[0] == "consumers" {
			iss = e.V2Template()
		}
		body = discoveryDoc(iss, e.Authority()+"/"+parts[0]+"/discovery/v2.0/keys")
	case len(parts) == 3 && parts[1] == ".well-known" && parts[2] == "openid-configuration":
		iss := V1Issuer(parts[0])
		if parts[0] == "common" || parts[0] == "organizations" {
			iss = V1Template
		}
		body = discoveryDoc(iss, e.Authority()+"/common/discovery/keys")
	case len(parts) == 4 && parts[1] == "discovery" && parts[2] == "v2.0" && parts[3] == "keys":
		body = e.jwks(true)
	case len(parts) == 3 && parts[1] == "discovery" && parts[2] == "keys":
		body = e.jwks(false)
	default:
		http.NotFound(w, r)
		return
	}
	writeJSON(w, body)
}

func (e *Entra) jwks(v2 bool) map[string]any {
	extra := map[string]any{"cloud_instance_name": "microsoftonline.com"}
	keys := []any{e.common.jwk(v2, extra)}
	for _, s := range e.tenants {
		keys = append(keys, s.jwk(v2, extra))
	}
	return map[string]any{"keys": keys}
}

// AccessTokenV2 mints a v2.0 access token of tenant tid for the API
// audience, called by client app clientID, with app roles or delegated
// scopes (scp, space-separated) as given in extra.
func (e *Entra) AccessTokenV2(tid, audience, clientID string, extra map[string]any) (string, error) {
	now := time.Now().Unix()
	c := map[string]any{
		"aud": audience, "iss": e.V2Issuer(tid), "iat": now, "nbf": now, "exp": now + 3600,
		"aio": "AWQAm/8VAAAA", "azp": clientID, "azpacr": "0",
		"oid": "6e48d2a5-0c25-4a6c-9d31-3a6a3f0f2d11", "rh": "0.AAAA.",
		"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "tid": tid,
		"uti": "AbCdEfGhIjKlMnOpQrStUv", "ver": "2.0",
	}
	return e.common.sign(merge(c, extra))
}

// AccessTokenV1 mints a v1.0 access token (issuer https://sts.windows.net/{tid}/,
// appid instead of azp), as APIs registered with the default
// accessTokenAcceptedVersion receive.
func (e *Entra) AccessTokenV1(tid, audience, clientID string, extra map[string]any) (string, error) {
	now := time.Now().Unix()
	c := map[string]any{
		"aud": audience, "iss": V1Issuer(tid), "iat": now, "nbf": now, "exp": now + 3600,
		"acr": "1", "aio": "AVQAq/8VAAAA", "amr": []string{"pwd"}, "appid": clientID, "appidacr": "0",
		"oid": "6e48d2a5-0c25-4a6c-9d31-3a6a3f0f2d11", "rh": "0.AAAA.",
		"sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA", "tid": tid,
		"unique_name": "user@contoso.example", "upn": "user@contoso.example",
		"uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "1.0",
	}
	return e.common.sign(merge(c, extra))
}

// SignWithTenantKey signs claims with tenant tid's own key (StartEntra's
// tenantKeys), whatever tenant the claims name.
func (e *Entra) SignWithTenantKey(tid string, claims map[string]any) (string, error) {
	s := e.tenants[tid]
	if s == nil {
		return "", fmt.Errorf("lookalike: tenant %s has no key of its own", tid)
	}
	return s.sign(claims)
}

// Cognito is a loopback Amazon Cognito user pool look-alike.
type Cognito struct {
	srv    *httptest.Server
	key    *signer
	region string
	pool   string
}

// StartCognito starts a look-alike of user pool pool (e.g. "us-east-1_Abc123").
func StartCognito(pool string) (*Cognito, error) {
	region, _, ok := strings.Cut(pool, "_")
	if !ok {
		return nil, fmt.Errorf("lookalike: %q is not a user pool id (region_id)", pool)
	}
	c := &Cognito{region: region, pool: pool}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	var err error
	if c.key, err = newSigner("cognito-"+pool, ""); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close stops the server.
func (c *Cognito) Close() { c.srv.Close() }

// Issuer is the pool's real issuer, https://cognito-idp.{region}.amazonaws.com/{pool}.
func (c *Cognito) Issuer() string {
	return "https://cognito-idp." + c.region + ".amazonaws.com/" + c.pool
}

// Discovery is the loopback URL of the pool's discovery document.
func (c *Cognito) Discovery() string {
	return c.srv.URL + "/" + c.pool + "/.well-known/openid-configuration"
}

// JWKS is the loopback URL of the pool's key set.
func (c *Cognito) JWKS() string { return c.srv.URL + "/" + c.pool + "/.well-known/jwks.json" }

func (c *Cognito) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/" + c.pool + "/.well-known/openid-configuration":
		writeJSON(w, discoveryDoc(c.Issuer(), c.JWKS()))
	case "/" + c.pool + "/.well-known/jwks.json":
		k := c.key.jwk(false, map[string]any{"alg": "RS256"})
		delete(k, "x5c")
		delete(k, "x5t")
		writeJSON(w, map[string]any{"keys": []any{k}})
	default:
		http.NotFound(w, r)
	}
}

// AccessToken mints a user pool access token: no aud; client_id, scope,
// token_use "access", username and cognito:groups.
func (c *Cognito) AccessToken(clientID, username string, groups []string, extra map[string]any) (string, error) {
	now := time.Now().Unix()
	claims := map[string]any{
		"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "cognito:groups": groups,
		"iss": c.Issuer(), "version": 2, "client_id": clientID,
		"origin_jti": "11111111-2222-3333-4444-555555555555", "event_id": "66666666-7777-8888-9999-000000000000",
		"token_use": "access", "scope": "aws.cognito.signin.user.admin phone openid profile email",
		"auth_time": now, "exp": now + 3600, "iat": now, "jti": "aaaaaaaa-0000-1111-2222-333333333333",
		"username": username,
	}
	return c.key.sign(merge(claims, extra))
}

// IDToken mints a user pool ID token: aud is the app client id,
// token_use "id", cognito:username and cognito:groups.
func (c *Cognito) IDToken(clientID, username string, groups []string, extra map[string]any) (string, error) {
	now := time.Now().Unix()
	claims := map[string]any{
		"at_hash": "cBqMnH6gTN8pKz1fFJ2Z3A", "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		"cognito:groups": groups, "email_verified": true, "iss": c.Issuer(),
		"cognito:username": username, "origin_jti": "11111111-2222-3333-4444-555555555555",
		"aud": clientID, "event_id": "66666666-7777-8888-9999-000000000000", "token_use": "id",
		"auth_time": now, "exp": now + 3600, "iat": now, "jti": "bbbbbbbb-0000-1111-2222-333333333333",
		"email": username + "@example.com",
	}
	return c.key.sign(merge(claims, extra))
}

func discoveryDoc(issuer, jwksURI string) map[string]any {
	return map[string]any{
		"issuer": issuer, "jwks_uri": jwksURI,
		"response_types_supported":              []string{"code", "id_token", "code id_token", "token id_token", "token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
}

// merge returns base with extra's members set over it; a nil value in
// extra removes the member (a token without token_use, without tid, …).
func merge(base, extra map[string]any) map[string]any {
	for k, v := range extra {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return base
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
