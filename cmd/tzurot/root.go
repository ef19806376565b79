package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/config"
)

// devShort is `tzurot dev`'s one line, with or without the dev stack built in.
const devShort = "the whole stack on this machine: PostgreSQL, Temporal + Web UI, migrations, worker, and the bot or the offline chat"

// newRoot is the command tree; its help goes to stdout, logs to stderr.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := group(&cobra.Command{
		Use:   "tzurot",
		Short: "tzurot — Discord AI personalities on Temporal",
		Long: "tzurot — Discord AI personalities on Temporal\n\n" +
			"Configuration is read from the environment and a .env file; see README.md.",
	})
	root.SilenceErrors, root.SilenceUsage = true, true
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see %s --help)", c.CommandPath(), err, c.CommandPath())
	})
	root.SetHelpCommand(helpCmd(root))
	root.AddCommand(devCmd(), workerCmd(), botCmd(), keysCmd(), codecServerCmd(), migrateCmd(), temporalCmd(), healthcheckCmd())
	return root
}

// group makes c a command that only holds others: with no arguments the root
// shows its help and the others say what they hold; an unknown subcommand is
// an error that names the known ones.
func group(c *cobra.Command) *cobra.Command {
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 && !c.HasParent() {
			return c.Help()
		}
		if len(args) == 0 {
			return fmt.Errorf("%s needs a command: %s (see %s --help)", c.CommandPath(), subcommands(c), c.CommandPath())
		}
		return unknownCommand(c, args[0])
	}
	return c
}

// unknownCommand is the error for name, which is none of c's subcommands.
func unknownCommand(c *cobra.Command, name string) error {
	return fmt.Errorf("unknown command %q for %s: it has %s (see %s --help)", name, c.CommandPath(), subcommands(c), c.CommandPath())
}

// subcommands lists the names of c's commands, help aside.
func subcommands(c *cobra.Command) string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return strings.Join(names, ", ")
}

// helpCmd is `tzurot help [COMMAND…]`: COMMAND's help, or for a command that
// does not exist the same error `tzurot COMMAND…` gives (cobra's own help
// command shows the root's help then, and exits 0).
func helpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND…]",
		Short: "the help of any command",
		RunE: func(_ *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil {
				return err
			}
			if len(rest) > 0 && target.HasSubCommands() {
				return unknownCommand(target, rest[0])
			}
			return target.Help()
		},
	}
}

// positional accepts min to max positional arguments (max < 0: any number);
// otherwise it shows the command's usage line.
func positional(min, max int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return fmt.Errorf("usage: %s%s (see %s --help)", c.CommandPath(), strings.TrimPrefix(c.Use, c.Name()), c.CommandPath())
		}
		return nil
	}
}

// leafCmd is a command without flags or arguments that runs do with the
// configuration and the command's output.
func leafCmd(use, short string, do func(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: positional(0, 0),
		RunE: runWith(func(c *cobra.Command, _ []string, cfg config.Config, log *slog.Logger) error {
			return do(c.Context(), cfg, c.OutOrStdout(), log)
		})}
}

// processCmd is a leafCmd for a process that writes only logs.
func processCmd(use, short string, run func(ctx context.Context, cfg config.Config, log *slog.Logger) error) *cobra.Command {
	return leafCmd(use, short, func(ctx context.Context, cfg config.Config, _ io.Writer, log *slog.Logger) error {
		return run(ctx, cfg, log)
	})
}

// runWith is a RunE that loads the configuration (setup) and then runs do.
func runWith(do func(c *cobra.Command, args []string, cfg config.Config, log *slog.Logger) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		cfg, log, err := setup()
		if err != nil {
			return err
		}
		return do(c, args, cfg, log)
	}
}

// setup loads the configuration (config.Load: the environment and .env) and
// makes its logger, on stderr, the default.
func setup() (config.Config, *slog.Logger, error) {
	cfg, err := config.Load()
	if err != nil {
		return config.Config{}, nil, err
	}
	log := cfg.NewLogger(os.Stderr)
	slog.SetDefault(log)
	return cfg, log, nil
}
