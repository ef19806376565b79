//go:build dev

package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devrun"
)

// devCmd runs the dev stack; it and its stand-ins are linked only with
// -tags dev (`make dev`), never into the production binary.
func devCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: devShort,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("tzurot dev takes no arguments, got %q: configure it with environment variables", args)
			}
			return nil
		},
		RunE: runWith(func(c *cobra.Command, _ []string, cfg config.Config, log *slog.Logger) error {
			return devrun.Run(c.Context(), cfg, log)
		}),
	}
}
