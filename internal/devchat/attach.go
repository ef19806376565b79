package devchat

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// attach posts a local file as an attachment of a message in the current
// channel ("/attach PATH [text]"): the Discord stand-in stores it and serves
// it at a signed CDN URL, as Discord does, and the bot gets the event with
// that URL. The file's type is sniffed from its bytes.
func (c *Chat) attach(ctx context.Context, args string) {
	path, text, _ := strings.Cut(strings.TrimSpace(args), " ")
	if path == "" {
		c.println("Give the file to attach: /attach ./cat.png what is this?")
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.println("Could not read " + path + ": " + err.Error())
		return
	}
	c.mu.Lock()
	ch, dm := c.channel, c.channel == c.dm && c.dm != ""
	ref := c.lastPost[ch]
	c.mu.Unlock()
	guild := ChatGuildID
	if dm {
		guild = ""
	}
	file := fakediscord.File{Name: filepath.Base(path), ContentType: http.DetectContentType(data), Data: data}
	stored, err := c.opts.Discord.RecordUserMessage(fakediscord.UserMessage{
		ChannelID: ch, GuildID: guild, Author: fakediscord.User{ID: ChatUserID, Username: ChatUsername},
		Content: strings.TrimSpace(text), Files: []fakediscord.File{file},
	})
	if err != nil {
		c.println("Could not attach " + path + ": " + err.Error())
		return
	}
	m := &discordgo.Message{
		ID: stored.ID, ChannelID: ch, GuildID: guild, Content: stored.Content, Timestamp: time.Now(),
		Author: c.user(), Type: discordgo.MessageTypeDefault,
	}
	for _, a := range stored.Attachments {
		m.Attachments = append(m.Attachments, &discordgo.MessageAttachment{
			ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, URL: fakediscord.SignedURL(a),
		})
	}
	if ref != nil && !dm && !strings.Contains(m.Content, "@") {
		// Without a mention, in a channel, the image goes to the
		// personality that spoke last here, as a reply to it.
		m.Type = discordgo.MessageTypeReply
		m.MessageReference = &discordgo.MessageReference{MessageID: ref.ID, ChannelID: ch, GuildID: guild}
		m.ReferencedMessage = ref
	}
	c.opts.Bot.HandleMessage(ctx, &discordgo.MessageCreate{Message: m})
}
