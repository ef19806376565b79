package bot

import "github.com/bwmarrin/discordgo"

// subcommand is a slash command's subcommand with its options, as Discord
// lists it under the command (a SUB_COMMAND option).
func subcommand(name, description string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand,
		Name: name, Description: description, Options: opts}
}
