package customhandler

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/devissuer"
)

// BenchmarkProxiedRepeatToken is the handler's own cost for a proxied
// request with a token the core has already verified (no network, no
// client): decision, headers, JSON body and the decision log line.
func BenchmarkProxiedRepeatToken(b *testing.B) {
	iss, err := devissuer.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer iss.Close()
	env := map[string]string{"JWTGATE_OPENID_CONFIG": iss.DiscoveryURL(), "JWTGATE_AUDIENCES": "api://x"}
	c, err := core.FromEnv(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := iss.Mint(map[string]any{"sub": "s", "aud": "api://x", "exp": time.Now().Add(time.Hour).Unix()})
	h := New(c, c.Config(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	req := httptest.NewRequest(http.MethodGet, "/api/authorize/orders/1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
