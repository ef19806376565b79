package bot

import "github.com/bwmarrin/discordgo"

// personalityCommand is a placeholder until the command group is built.
func (b *Bot) personalityCommand() *command {
	return &command{def: &discordgo.ApplicationCommand{Name: "personality", Description: "Personalities"}, run: notYet}
}
