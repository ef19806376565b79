//go:build integration

package bot_test

import "github.com/bwmarrin/discordgo"

type discordMessage struct {
	content, webhook string
	bot              bool
}

func (m *discordMessage) event() *discordgo.MessageCreate {
	return &discordgo.MessageCreate{Message: &discordgo.Message{
		ID: nextID(), ChannelID: general, GuildID: guildID, Content: m.content, WebhookID: m.webhook,
		Author: &discordgo.User{ID: "100000000000000099", Username: "x", Bot: m.bot},
	}}
}
