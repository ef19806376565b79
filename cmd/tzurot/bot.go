package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/app"
)

func botCmd() *cobra.Command {
	return processCmd("bot", "the Discord bot: gateway connection, slash commands, message routing; starts workflows", app.RunBot)
}
