package opcli

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devstack"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/migrations"
)

// MigrateSchema applies the embedded schema migrations (`tzurot migrate up`)
// to DATABASE_URL, or with none to the dev stack's local cluster.
func MigrateSchema(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	url, stop, err := schemaDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	return devstack.Migrate(ctx, url, log)
}

// SchemaStatus prints every schema migration and when it was applied
// (`tzurot migrate status`), from the same database as MigrateSchema.
func SchemaStatus(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) error {
	url, stop, err := schemaDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	states, err := migrations.Status(ctx, db)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tNAME\tSTATUS")
	pending := 0
	for _, s := range states {
		status := "pending"
		switch {
		case s.AppliedAt == nil && s.Guarded != "":
			status = "guarded: tzurot migrate data start " + s.Guarded
		case s.AppliedAt != nil && s.Adopted:
			status = "adopted " + s.AppliedAt.Local().Format("2006-01-02 15:04:05")
		case s.AppliedAt != nil:
			status = "applied " + s.AppliedAt.Local().Format("2006-01-02 15:04:05")
		default:
			pending++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", s.Version, s.Name, status)
	}
	w.Flush()
	fmt.Fprintf(out, "%d migrations, %d pending\n", len(states), pending)
	return nil
}

// schemaDatabase is DATABASE_URL, or the dev stack's local cluster on
// DEV_POSTGRES_PORT (started until stop when it was not running); refused
// where there is no dev stack (devstack.Existing).
func schemaDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (url string, stop func(), err error) {
	port, err := devstack.PostgresPort()
	if err != nil {
		return "", nil, err
	}
	if err := devstack.Existing(cfg, false); err != nil {
		return "", nil, err
	}
	return devstack.Database(ctx, cfg, port, quiet(log))
}

// LocalDefaults fills what a data migration command needs and the
// configuration leaves unset from the dev stack: its database (started until
// stop) and its development master key. Where the working directory has no
// dev stack it refuses (devstack.Existing) and creates nothing.
func LocalDefaults(ctx context.Context, cfg config.Config, log *slog.Logger) (_ config.Config, stop func(), err error) {
	if err := devstack.Existing(cfg, true); err != nil {
		return cfg, nil, err
	}
	stop = func() {}
	if cfg.MasterKey == "" {
		key, err := os.ReadFile(devstack.MasterKeyFile)
		if err != nil {
			return cfg, nil, fmt.Errorf("read the dev master key: %w", err)
		}
		cfg.MasterKey = redact.Secret(strings.TrimSpace(string(key)))
	}
	if cfg.DatabaseURL == "" {
		url, stopDB, err := devstack.Database(ctx, cfg, 0, quiet(log))
		if err != nil {
			return cfg, nil, err
		}
		stop = stopDB
		cfg.DatabaseURL = redact.Secret(url)
	}
	return cfg, stop, nil
}

// quiet is log with everything below Warn logged at Debug: the dev stack's
// chatter (PostgreSQL started, stopped, already running) is not an operator
// command's result, and shows only with LOG_LEVEL=debug.
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(demoted{log.Handler()})
}

// demoted is the slog.Handler of quiet.
type demoted struct{ h slog.Handler }

func (d demoted) Enabled(ctx context.Context, l slog.Level) bool {
	return d.h.Enabled(ctx, demote(l))
}

func (d demoted) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return d.h.Handle(ctx, r)
}

func (d demoted) WithAttrs(attrs []slog.Attr) slog.Handler { return demoted{d.h.WithAttrs(attrs)} }
func (d demoted) WithGroup(name string) slog.Handler       { return demoted{d.h.WithGroup(name)} }

func demote(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}
