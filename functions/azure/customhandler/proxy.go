package customhandler

import "net/http"

// serveProxy answers /api/authorize[/path] (and "/" with forward-auth
// headers): the caller's request itself, proxied by the Functions host, or
// a forward-auth subrequest from nginx, Traefik, Envoy or APIM. The status
// is the decision; the body is never read.
func (h *Handler) serveProxy(w http.ResponseWriter, r *http.Request) {
	invocationID := r.Header.Get(InvocationIDHeader)
	req, shape, err := requestFromHTTP(r)
	if err != nil {
		h.refuse(r.Context(), shape, invocationID, err.Error()).write(w)
		return
	}
	h.decide(r.Context(), req, shape, invocationID).write(w)
}
