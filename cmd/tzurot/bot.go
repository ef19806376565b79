package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/app"
)

// botCmd is `tzurot bot`. The bot's code is in bot/: bot.go (gateway,
// command registration), messages.go (which message a personality answers:
// mentions, replies, DMs; starts GenerateReply), one file per slash command
// (wallet.go, imagine.go, config.go, personality*.go, timezone.go, usage.go,
// admin.go). What it reads and writes goes through internal/store.
func botCmd() *cobra.Command {
	return processCmd("bot", "the Discord bot: gateway connection, slash commands, message routing; starts workflows", app.RunBot)
}
