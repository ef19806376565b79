package bot

import "github.com/bwmarrin/discordgo"

// configCommand is a placeholder until the command group is built.
func (b *Bot) configCommand() *command {
	return &command{def: &discordgo.ApplicationCommand{Name: "config", Description: "Model settings"}, run: notYet}
}
