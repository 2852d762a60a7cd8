package customhandler

import "net/http"

// serveProxy answers /api/authorize[/path] and "/": the caller's request
// itself, proxied by the Functions host, or a forward-auth subrequest from
// nginx, Traefik, Envoy or APIM. reqPath is the raw path the request names
// after the prefix ("/" for none). The status is the decision; the body is
// never read.
func (h *Handler) serveProxy(w http.ResponseWriter, r *http.Request, reqPath string) {
	invocationID := invocationID(r)
	req, shape, err := h.requestFromHTTP(r, reqPath)
	if err != nil {
		a := h.refuse(r.Context(), shape, invocationID, err.Error())
		a.write(w)
		return
	}
	a := h.decide(r.Context(), req, shape, invocationID)
	a.write(w)
}
