package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/app"
)

func botCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "bot",
		Short: "the Discord bot: gateway connection, slash commands, message routing; starts workflows",
		Args:  positional(0, 0),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, log, err := setup(c)
			if err != nil {
				return err
			}
			return app.RunBot(c.Context(), cfg, log)
		},
	}
}
