package bot

import "github.com/bwmarrin/discordgo"

// timezoneCommand is a placeholder until the command group is built.
func (b *Bot) timezoneCommand() *command {
	return &command{def: &discordgo.ApplicationCommand{Name: "timezone", Description: "Your time zone"}, run: notYet}
}
