package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one dependency /readyz asks about: Probe returns nil when it is
// ready, else an error saying what is not.
type Check struct {
	Name  string // e.g. "temporal", "postgres", "discord_gateway"
	Probe func(ctx context.Context) error
}

// CheckTimeout bounds each probe of a /readyz request.
const CheckTimeout = 3 * time.Second

// Handler serves GET /metrics (Registry in Prometheus's exposition format),
// /healthz (200 "ok" while the process runs) and /readyz: 200
// {"status":"ready"} when every check passes, else 503
// {"status":"not ready","failing":{"<name>":"<error>",…}}. The probes run
// at once, each within CheckTimeout.
func Handler(checks []Check) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		failing := probe(r.Context(), checks)
		w.Header().Set("Content-Type", "application/json")
		if len(failing) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "not ready", "failing": failing})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ready"})
	})
	return mux
}

// probe runs every check at once and returns the failing ones' errors.
func probe(ctx context.Context, checks []Check) map[string]string {
	var mu sync.Mutex
	var wg sync.WaitGroup
	failing := map[string]string{}
	for _, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
			defer cancel()
			if err := c.Probe(cctx); err != nil {
				mu.Lock()
				failing[c.Name] = err.Error()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return failing
}

// Serve listens on addr (METRICS_ADDR) and serves Handler(checks) until
// stop. Its error names the variable: the address is taken or not local.
func Serve(addr string, checks []Check, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR %s: %w; choose a free host:port", addr, err)
	}
	srv := &http.Server{Handler: Handler(checks), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err)
		}
	}()
	log.Info("serving metrics and health", "addr", ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
