package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/opcli"
)

func migrateDataCmd() *cobra.Command {
	data := group(&cobra.Command{
		Use:   "data",
		Short: "data migrations as workflows: start, status, pause, resume, cancel, rollback",
	})
	data.AddCommand(dataStartCmd(), dataStatusCmd(), dataRollbackCmd())
	for _, verb := range []string{"pause", "resume", "cancel"} {
		data.AddCommand(dataSignalCmd(verb))
	}
	return data
}

// dataRunE runs do with the configuration, completed from the dev stack
// (its database and key) where nothing is configured, once the migration
// NAME (args[0], optional when nameOptional) is known to exist.
func dataRunE(do func(ctx context.Context, cfg config.Config, args []string, out io.Writer, log *slog.Logger) error, nameOptional bool) func(*cobra.Command, []string) error {
	run := runWith(func(c *cobra.Command, args []string, cfg config.Config, log *slog.Logger) error {
		cfg, stop, err := opcli.LocalDefaults(c.Context(), cfg, log)
		if err != nil {
			return err
		}
		defer stop()
		return do(c.Context(), cfg, args, c.OutOrStdout(), log)
	})
	return func(c *cobra.Command, args []string) error {
		if len(args) > 0 || !nameOptional {
			if err := opcli.CheckMigrationName(args[0]); err != nil {
				return err
			}
		}
		return run(c, args)
	}
}

func dataStartCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "start NAME [DIR]",
		Short: "run a data migration as a workflow and follow its progress (Ctrl-C stops following, not the migration)",
		Long: "run a data migration as a workflow and follow its progress (Ctrl-C stops following, not the migration)\n\n" +
			"NAME is one of " + strings.Join(opcli.MigrationNames(), ", ") +
			" (shapes-import takes the backup tree DIR; the contract-… ones are guarded schema changes).",
		Args: positional(1, 2),
	}
	var opts opcli.DataMigrationOptions
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "report what would change and change nothing")
	c.Flags().IntVar(&opts.BatchSize, "batch-size", 1000, "rows per page (1 to 100000)")
	c.Flags().BoolVar(&opts.Force, "force", false, "run a migration that already succeeded again")
	c.Flags().BoolVar(&opts.Detach, "detach", false, "start and return instead of following progress")
	c.RunE = func(c *cobra.Command, args []string) error {
		if opts.BatchSize < 1 || opts.BatchSize > 100000 {
			return fmt.Errorf("--batch-size must be between 1 and 100000, got %d", opts.BatchSize)
		}
		if err := opcli.CheckMigrationName(args[0]); err != nil {
			return err
		}
		if len(args) > 1 && args[0] != "shapes-import" {
			return fmt.Errorf("usage: %s NAME [DIR]: only shapes-import takes DIR, %s takes no argument (see %s --help)", c.CommandPath(), args[0], c.CommandPath())
		}
		return dataRunE(func(ctx context.Context, cfg config.Config, args []string, out io.Writer, log *slog.Logger) error {
			if len(args) > 1 {
				opts.Dir = args[1]
			}
			return opcli.StartDataMigration(ctx, cfg, args[0], opts, out, log)
		}, false)(c, args)
	}
	return c
}

func dataStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status [NAME]",
		Short: "every data migration's last run, and live progress of running ones; with NAME, its report too",
		Args:  positional(0, 1),
		RunE: dataRunE(func(ctx context.Context, cfg config.Config, args []string, out io.Writer, log *slog.Logger) error {
			name := ""
			if len(args) > 0 {
				name = args[0]
			}
			return opcli.DataMigrationStatus(ctx, cfg, name, out, log)
		}, true),
	}
}

func dataSignalCmd(verb string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: "send " + verb + " to the running data migration NAME",
		Args:  positional(1, 1),
		RunE: dataRunE(func(ctx context.Context, cfg config.Config, args []string, out io.Writer, log *slog.Logger) error {
			if err := opcli.SignalDataMigration(ctx, cfg, args[0], verb, log); err != nil {
				return err
			}
			fmt.Fprintf(out, "sent %s to %s\n", verb, args[0])
			return nil
		}, false),
	}
}

func dataRollbackCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "rollback NAME",
		Short: "restore NAME's last backup, all or nothing; refused while rows written since the backup would be lost, unless --discard-newer",
		Args:  positional(1, 1),
	}
	discardNewer := c.Flags().Bool("discard-newer", false, "delete rows written since the backup (refused without it)")
	c.RunE = dataRunE(func(ctx context.Context, cfg config.Config, args []string, out io.Writer, log *slog.Logger) error {
		return opcli.RollbackDataMigration(ctx, cfg, args[0], *discardNewer, out, log)
	}, false)
	return c
}
