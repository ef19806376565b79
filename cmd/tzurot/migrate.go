package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/opcli"
)

func migrateCmd() *cobra.Command {
	m := group(&cobra.Command{Use: "migrate", Short: "schema migrations (up, status) and data migrations (data …)"})
	m.AddCommand(
		leafCmd("up", "apply the embedded schema migrations (to the dev cluster when DATABASE_URL is unset)",
			func(ctx context.Context, cfg config.Config, _ io.Writer, log *slog.Logger) error {
				return opcli.MigrateSchema(ctx, cfg, log)
			}),
		leafCmd("status", "list the schema migrations and when each was applied", opcli.SchemaStatus),
		migrateDataCmd())
	return m
}
