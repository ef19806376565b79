package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/opcli"
)

func migrateCmd() *cobra.Command {
	m := group(&cobra.Command{Use: "migrate", Short: "schema migrations (up, status) and data migrations (data …)"})
	m.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "apply the embedded schema migrations (to the dev cluster when DATABASE_URL is unset)",
		Args:  positional(0, 0),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, log, err := setup(c)
			if err != nil {
				return err
			}
			return opcli.MigrateSchema(c.Context(), cfg, log)
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "list the schema migrations and when each was applied",
		Args:  positional(0, 0),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, log, err := setup(c)
			if err != nil {
				return err
			}
			return opcli.SchemaStatus(c.Context(), cfg, c.OutOrStdout(), log)
		},
	}, migrateDataCmd())
	return m
}
