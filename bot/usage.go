package bot

import "github.com/bwmarrin/discordgo"

// usageCommand is a placeholder until the command group is built.
func (b *Bot) usageCommand() *command {
	return &command{def: &discordgo.ApplicationCommand{Name: "usage", Description: "Your usage"}, run: notYet}
}
