//go:build integration

package app_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"testing"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/pgcluster"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/testwait"
)

// failing is /readyz's body: which checks fail, with their errors.
func failing(t *testing.T, body string) map[string]string {
	t.Helper()
	var doc struct {
		Failing map[string]string `json:"failing"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	return doc.Failing
}

// The worker's /readyz is 503 until Temporal and PostgreSQL are connected,
// 200 once they are, and 503 naming PostgreSQL when it stops, while
// /healthz stays 200: alive, not ready.
func TestWorkerReadiness(t *testing.T) {
	s := itest.New(t, itest.Options{NoWorker: true})
	bg := context.Background()

	// A PostgreSQL that accepts connections and never answers: Open waits
	// on its ping, and /readyz already answers, not ready.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			held <- c
		}
	}()
	// lib/pq's startup ignores the context: dropping the connections ends it.
	release := func() {
		hole.Close()
		for {
			select {
			case c := <-held:
				c.Close()
			default:
				return
			}
		}
	}
	cfg := s.Config
	cfg.MetricsAddr = freeAddr(t)
	cfg.DatabaseURL = redact.Secret("postgres://tzurot@" + hole.Addr().String() + "/tzurot?sslmode=disable")
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- app.RunWorker(ctx, cfg, s.Activities.Log) }()
	var code int
	var body string
	testwait.Until(t, "/readyz to answer", func() bool { code, body = fetch(t, cfg.MetricsAddr, "/readyz"); return code != 0 })
	if f := failing(t, body); code != 503 || f["temporal"] == "" || f["postgres"] == "" {
		t.Errorf("/readyz before anything is connected = %d %q, want 503 naming temporal and postgres", code, body)
	}
	if code, _ := fetch(t, cfg.MetricsAddr, "/healthz"); code != 200 {
		t.Errorf("/healthz while connecting = %d, want 200", code)
	}
	cancel()
	release()
	if err := <-done; err == nil {
		t.Error("RunWorker returned no error though PostgreSQL never answered")
	}

	// A PostgreSQL of its own, to stop.
	dir, err := os.MkdirTemp("", "tzurot-readyz-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pg, err := pgcluster.Start(bg, pgcluster.Options{Dir: dir, StopWithProcess: true, RemoveWithProcess: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	cfg.DatabaseURL = redact.Secret(pg.URL("postgres"))
	cfg.MetricsAddr = freeAddr(t)
	ctx, cancel = context.WithCancel(bg)
	defer cancel()
	go func() { done <- app.RunWorker(ctx, cfg, s.Activities.Log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunWorker: %v", err)
		}
	})
	testwait.Until(t, "/readyz to say ready", func() bool { code, body = fetch(t, cfg.MetricsAddr, "/readyz"); return code == 200 })

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "/readyz to notice PostgreSQL stopped", func() bool { code, body = fetch(t, cfg.MetricsAddr, "/readyz"); return code != 200 })
	if f := failing(t, body); code != 503 || f["postgres"] == "" || f["temporal"] != "" {
		t.Errorf("/readyz with PostgreSQL stopped = %d %q, want 503 naming postgres alone", code, body)
	}
	if code, _ := fetch(t, cfg.MetricsAddr, "/healthz"); code != 200 {
		t.Errorf("/healthz with PostgreSQL stopped = %d, want 200", code)
	}
}
