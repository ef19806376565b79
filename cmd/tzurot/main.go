// Command tzurot is the one binary of the system: the Temporal worker, the
// Discord bot, the schema migrations and the local dev stack.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devrun"
	"github.com/tzurot/tzurot/internal/devstack"
	"github.com/tzurot/tzurot/internal/opcli"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/migrations"
)

const usage = `tzurot — Discord AI personalities on Temporal

Usage:
  tzurot dev                 the whole stack on this machine (PostgreSQL, Temporal + Web UI, migrations, worker, bot)
  tzurot worker              the Temporal worker
  tzurot bot                 the Discord bot
  tzurot keys rotate         re-seal stored API keys from APP_MASTER_KEY_PREVIOUS to APP_MASTER_KEY
  tzurot codec-server        the payload codec for the Temporal Web UI (-addr, default 127.0.0.1:8234)
  tzurot migrate up          apply the embedded schema migrations
  tzurot migrate status      list the migrations and when each was applied
  tzurot migrate data start NAME [DIR] [--dry-run] [--batch-size N] [--force] [--detach]
                             run a data migration as a workflow (shapes-import DIR, llm-config-jsonb,
                             error-messages, custom-fields, assign-ownership, then contract-llm-configs)
  tzurot migrate data status [NAME] | pause NAME | resume NAME | cancel NAME
  tzurot migrate data rollback NAME [--discard-newer]
                             restore NAME's last backup, all or nothing; refused while rows written
                             since the backup would be lost, unless --discard-newer

Configuration is read from the environment and a .env file; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tzurot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := cfg.NewLogger(os.Stderr)
	slog.SetDefault(log)

	switch args[0] {
	case "migrate":
		return runMigrate(ctx, cfg, args[1:], stdout, log)
	case "dev":
		return runDev(ctx, cfg, args[1:], log)
	case "worker":
		return runWorker(ctx, cfg, log)
	case "bot":
		return runBot(ctx, cfg, log)
	case "codec-server":
		return runCodecServer(ctx, cfg, args[1:], log)
	case "keys":
		if len(args) != 2 || args[1] != "rotate" {
			return errors.New("usage: tzurot keys rotate")
		}
		return opcli.RotateMasterKey(ctx, cfg, stdout, log)
	default:
		return fmt.Errorf("unknown command %q: run `tzurot help` for the list", args[0])
	}
}

func runMigrate(ctx context.Context, cfg config.Config, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) > 0 && args[0] == "data" {
		return runDataMigrate(ctx, cfg, args[1:], stdout, log)
	}
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "up" && fs.Arg(0) != "status") {
		return errors.New("usage: tzurot migrate up|status")
	}
	port, err := devstack.PostgresPort()
	if err != nil {
		return err
	}
	// With no DATABASE_URL, the migrations act on the dev stack's local cluster.
	url, stopDB, err := devstack.Database(ctx, cfg, port, log)
	if err != nil {
		return err
	}
	defer stopDB()
	if fs.Arg(0) == "up" {
		return devstack.Migrate(ctx, url, log)
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	states, err := migrations.Status(ctx, db)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
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
	fmt.Fprintf(stdout, "%d migrations, %d pending\n", len(states), pending)
	return nil
}

func runDev(ctx context.Context, cfg config.Config, args []string, log *slog.Logger) error {
	if len(args) > 0 {
		return fmt.Errorf("tzurot dev takes no arguments, got %q: configure it with environment variables", args)
	}
	return devrun.Run(ctx, cfg, log)
}

func runWorker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return app.RunWorker(ctx, cfg, log)
}

func runBot(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return app.RunBot(ctx, cfg, log)
}

func runCodecServer(ctx context.Context, cfg config.Config, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("codec-server", flag.ContinueOnError)
	addr := fs.String("addr", app.CodecAddress, "listen address; point the Web UI at it with --ui-codec-endpoint")
	if err := fs.Parse(args); err != nil {
		return err
	}
	codec, err := temporalclient.Codec(cfg)
	if err != nil {
		return err
	}
	stop, err := app.ServeCodec(ctx, *addr, codec, app.CodecServerOptions(cfg, log), log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	stop()
	return nil
}

func runDataMigrate(ctx context.Context, cfg config.Config, args []string, stdout io.Writer, log *slog.Logger) error {
	const usage = "usage: tzurot migrate data start|status|pause|resume|cancel|rollback NAME (see tzurot help)"
	if len(args) == 0 {
		return errors.New(usage)
	}
	verb, rest := args[0], args[1:]
	fs := flag.NewFlagSet("migrate data "+verb, flag.ContinueOnError)
	var opts opcli.DataMigrationOptions
	fs.BoolVar(&opts.DryRun, "dry-run", false, "report what would change and change nothing")
	fs.IntVar(&opts.BatchSize, "batch-size", 1000, "rows per page")
	fs.BoolVar(&opts.Force, "force", false, "run a migration that already succeeded again")
	fs.BoolVar(&opts.Detach, "detach", false, "start and return instead of following progress")
	discardNewer := fs.Bool("discard-newer", false, "rollback: delete rows written since the backup (refused without it)")
	// Flags may come before or after the positional arguments.
	var pos []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	name := ""
	if len(pos) > 0 {
		name = pos[0]
	}
	if opts.BatchSize < 1 || opts.BatchSize > 100000 {
		return fmt.Errorf("--batch-size must be between 1 and 100000, got %d", opts.BatchSize)
	}
	if *discardNewer && verb != "rollback" {
		return errors.New("--discard-newer applies to rollback only: tzurot migrate data rollback NAME --discard-newer")
	}
	if name == "" && verb != "status" {
		return errors.New(usage)
	}
	// With nothing configured, act on the dev stack's database and key.
	if cfg.DatabaseURL == "" {
		url, stop, err := devstack.Database(ctx, cfg, 0, log)
		if err != nil {
			return err
		}
		defer stop()
		cfg.DatabaseURL = redact.Secret(url)
	}
	if cfg.MasterKey == "" {
		if key, err := devstack.DevMasterKey(filepath.Join(devstack.DataDir, "dev-master-key")); err == nil {
			cfg.MasterKey = redact.Secret(key)
		}
	}
	switch verb {
	case "start":
		if len(pos) > 1 {
			opts.Dir = pos[1]
		}
		return opcli.StartDataMigration(ctx, cfg, name, opts, stdout, log)
	case "status":
		return opcli.DataMigrationStatus(ctx, cfg, name, stdout, log)
	case "pause", "resume", "cancel":
		if err := opcli.SignalDataMigration(ctx, cfg, name, verb, log); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sent %s to %s\n", verb, name)
		return nil
	case "rollback":
		return opcli.RollbackDataMigration(ctx, cfg, name, *discardNewer, stdout, log)
	}
	return errors.New(usage)
}
