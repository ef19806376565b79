package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The healthcheck asks /readyz on METRICS_ADDR's port on loopback, passes
// on 200 only, and says what failed in one line.
func TestHealthcheck(t *testing.T) {
	for addr, want := range map[string]string{
		":9464":          "http://127.0.0.1:9464/readyz",
		"0.0.0.0:9464":   "http://127.0.0.1:9464/readyz",
		"127.0.0.1:8080": "http://127.0.0.1:8080/readyz",
	} {
		if got, err := readyzURL(addr); err != nil || got != want {
			t.Errorf("readyzURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := readyzURL(""); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
		t.Errorf("readyzURL without METRICS_ADDR: %v", err)
	}

	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"not ready","failing":{"postgres":"connection refused"}}` + "\n"))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := healthcheck(context.Background(), srv.URL+"/readyz", &out); err != nil || !strings.Contains(out.String(), "ready") {
		t.Errorf("healthcheck of a ready process: %v, printed %q", err, out.String())
	}
	ready = false
	err := healthcheck(context.Background(), srv.URL+"/readyz", &out)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "postgres") {
		t.Errorf("healthcheck of a process not ready: %v, want one line with 503 and what fails", err)
	}
	if err := healthcheck(context.Background(), "http://127.0.0.1:1/readyz", &out); err == nil {
		t.Error("healthcheck with nothing listening succeeded")
	}
}
