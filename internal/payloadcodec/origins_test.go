package payloadcodec

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// With no allowed origin configured (or only "*"), the handler allows none:
// rs/cors alone would read an empty list as every origin.
func TestNoAllowedOriginsAllowsNone(t *testing.T) {
	for _, origins := range [][]string{nil, {}, {"*"}, {""}} {
		h := NewHTTPHandler(nil, ServerOptions{AllowedOrigins: origins})
		r := httptest.NewRequest(http.MethodOptions, "/decode", nil)
		r.Header.Set("Origin", "https://evil.example")
		r.Header.Set("Access-Control-Request-Method", "POST")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" || w.Code != http.StatusForbidden {
			t.Errorf("origins %q: status %d, Access-Control-Allow-Origin %q; want 403 and none", origins, w.Code, got)
		}
	}
}
