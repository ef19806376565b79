package bot

import "github.com/bwmarrin/discordgo"

// adminCommand is a placeholder until the command group is built.
func (b *Bot) adminCommand() *command {
	return &command{def: &discordgo.ApplicationCommand{Name: "admin", Description: "Operator tools"}, run: notYet}
}
