package opcli

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devstack"
	"github.com/tzurot/tzurot/internal/redact"
)

// Outside the clone, an operator command that would fall back to the dev
// stack refuses in one line that names what is unset and what to do, and
// creates neither a cluster nor a master key there.
func TestFallbackRefusedWithoutDevStack(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  config.Config
		run  func(cfg config.Config) error
		want string
	}{
		{"data, nothing set", config.Config{}, func(cfg config.Config) error {
			_, _, err := LocalDefaults(context.Background(), cfg, slog.Default())
			return err
		}, "DATABASE_URL and APP_MASTER_KEY are unset"},
		{"data, database set", config.Config{DatabaseURL: redact.Secret("postgres://127.0.0.1:1/x")}, func(cfg config.Config) error {
			_, _, err := LocalDefaults(context.Background(), cfg, slog.Default())
			return err
		}, "APP_MASTER_KEY is unset"},
		{"migrate up", config.Config{}, func(cfg config.Config) error {
			return MigrateSchema(context.Background(), cfg, slog.Default())
		}, "DATABASE_URL is unset"},
		{"migrate status", config.Config{}, func(cfg config.Config) error {
			return SchemaStatus(context.Background(), cfg, &bytes.Buffer{}, slog.Default())
		}, "DATABASE_URL is unset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			err := tc.run(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "run this from the clone where `make dev` runs, or set DATABASE_URL and APP_MASTER_KEY") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line saying %q and what to do", err, tc.want)
			}
			if _, err := os.Stat(devstack.DataDir); err == nil {
				t.Errorf("%s was created", devstack.DataDir)
			}
		})
	}
}

// The dev stack's chatter is logged at Debug; warnings stay as they are.
func TestQuietDemotesBelowWarn(t *testing.T) {
	var buf bytes.Buffer
	log := quiet(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	log.Info("PostgreSQL started", "port", 1)
	log.With("a", 1).Warn("a warning")
	if out := buf.String(); strings.Contains(out, "PostgreSQL started") || !strings.Contains(out, "level=WARN msg=\"a warning\" a=1") {
		t.Errorf("logged %q", out)
	}
	buf.Reset()
	log = quiet(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log.Info("PostgreSQL started")
	if out := buf.String(); !strings.Contains(out, "level=DEBUG msg=\"PostgreSQL started\"") {
		t.Errorf("with LOG_LEVEL=debug, logged %q", out)
	}
}

// A run whose failure this command cannot open says why in words, not the
// SDK's "Encoded failure".
func TestRunFailedSaysWhenTheFailureIsSealed(t *testing.T) {
	err := runFailed("migration", errors.New("workflow execution error (type: DataMigration, workflowID: data-migration/x): Encoded failure"))
	if strings.Contains(err.Error(), "Encoded failure") || !strings.Contains(err.Error(), "run it with the worker's APP_MASTER_KEY") {
		t.Errorf("sealed failure: %v", err)
	}
	if err := runFailed("migration", errors.New("batch 3: no such table")); err.Error() != "migration failed: batch 3: no such table" {
		t.Errorf("readable failure: %v", err)
	}
}
