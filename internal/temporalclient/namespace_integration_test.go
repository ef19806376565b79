//go:build integration

package temporalclient_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/temporalclient"
)

// A namespace the server does not have is one line at start naming it and
// both ways out, not a worker that polls in vain.
func TestDialNamesAMissingNamespace(t *testing.T) {
	s := itest.New(t, itest.Options{NoWorker: true})
	cfg := s.Config
	cfg.TemporalNamespace = "tzurot-nosuch"
	c, _, err := temporalclient.Dial(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		c.Close()
		t.Fatal("dialled a namespace the server does not have")
	}
	for _, want := range []string{"namespace tzurot-nosuch not found", "temporal operator namespace create --namespace tzurot-nosuch", "TEMPORAL_NAMESPACE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	cfg.TemporalNamespace = s.Config.TemporalNamespace
	c, _, err = temporalclient.Dial(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("the stack's own namespace: %v", err)
	}
	c.Close()
}
