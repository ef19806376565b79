package devrun

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/opcli"
)

// devFixtures is the shapes.inc backup a fresh dev database imports once, so
// a newcomer has the fixtures' personalities to talk to (DEV_FIXTURES_DIR, or
// the shared fixtures beside the clone; skipped when neither exists).
func devFixtures() string {
	if d := os.Getenv("DEV_FIXTURES_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "fixtures", "shapes-backup")
}

// importFixtures starts the shapes-import migration, as an operator would,
// the first time the dev database sees the fixtures; the worker runs it and
// the Web UI shows it.
func importFixtures(ctx context.Context, cfg config.Config, log *slog.Logger) {
	dir := devFixtures()
	if _, err := os.Stat(filepath.Join(dir, "personalities.json")); err != nil {
		return
	}
	db, err := sql.Open("postgres", cfg.DatabaseURL.Reveal())
	if err != nil {
		return
	}
	defer db.Close()
	var done bool
	if db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM migration_runs WHERE name = 'shapes-import')`).Scan(&done); done {
		return
	}
	var out strings.Builder
	err = opcli.StartDataMigration(ctx, cfg, "shapes-import", opcli.DataMigrationOptions{Dir: dir, BatchSize: 20, Detach: true}, &out, log)
	if err != nil {
		log.Warn("could not import the fixtures", "dir", dir, "err", err)
		return
	}
	log.Info("importing the fixtures' personalities (data migration shapes-import)", "dir", dir)
}
