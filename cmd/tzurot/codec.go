package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
)

func codecServerCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "codec-server",
		Short: "the payload codec for the Temporal Web UI and CLI (CORS for CODEC_CORS_ORIGINS; CODEC_AUTH_TOKEN beyond loopback)",
		Args:  positional(0, 0),
	}
	addr := c.Flags().String("addr", app.CodecAddress, "listen address; point the Web UI at it with --ui-codec-endpoint")
	c.RunE = runWith(func(c *cobra.Command, _ []string, cfg config.Config, log *slog.Logger) error {
		return app.RunCodecServer(c.Context(), cfg, *addr, log)
	})
	return c
}
