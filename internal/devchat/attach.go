package devchat

import (
	"context"
	"fmt"
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
// that URL. The file's type is sniffed from its bytes. Every outcome the
// bot stays silent on gets one line: a file past Discord's 10 MiB (not
// posted), one that is not an image (posted, seen by no personality), an
// image addressed to no personality.
func (c *Chat) attach(ctx context.Context, args string) int {
	path, text, ok := attachPath(args)
	if !ok {
		c.println("A quote around the path is not closed: /attach \"/tmp/my pic.png\" @demo what is this?")
		return 0
	}
	if path == "" {
		c.println("Give the file to attach: /attach ./cat.png what is this? (quote a path with spaces: /attach \"~/my pic.png\")")
		return 0
	}
	if why := tooLong(strings.TrimSpace(text)); why != "" {
		c.println(why)
		return 0
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxAttachBytes {
		c.println(fmt.Sprintf("(only you) %s is %.1f MiB and Discord takes files up to %d MiB: attach a smaller copy.", filepath.Base(path), float64(fi.Size())/(1<<20), maxAttachBytes>>20))
		return 0
	}
	data, err := os.ReadFile(path)
	if err != nil {
		hint := ""
		if strings.TrimSpace(text) != "" {
			hint = "; a path with spaces goes in quotes: /attach \"/tmp/my pic.png\" @demo hi"
		}
		c.println("Could not read " + path + ": " + err.Error() + hint)
		return 0
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
		return 0
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
	started := c.opts.Bot.HandleMessage(ctx, &discordgo.MessageCreate{Message: m})
	switch {
	case !strings.HasPrefix(file.ContentType, "image/"):
		// The bot passes image attachments only (bot.imagesOf).
		c.println("(only you) " + file.Name + " is " + file.ContentType + ", not an image: it is posted, but personalities see only images (PNG, JPEG, WebP, GIF).")
	case !dm && started == 0:
		// In a DM the bot itself says how to address a personality.
		c.println("(only you) " + file.Name + " is posted, but no personality was addressed, so none sees it: mention one, e.g. /attach " + path + " @demo what is this?")
	}
	return started
}

// attachPath splits /attach's arguments into the file's path and the
// message's text as a shell would the first word: a path in single or
// double quotes may hold spaces, and so may one with backslash-escaped
// spaces (my\ pic.png); a leading ~/ is the user's home folder. ok is
// false when a quote is not closed.
func attachPath(args string) (path, text string, ok bool) {
	args = strings.TrimSpace(args)
	var b strings.Builder
	i := 0
	if args != "" && (args[0] == '"' || args[0] == '\'') {
		end := strings.IndexByte(args[1:], args[0])
		if end < 0 {
			return "", "", false
		}
		b.WriteString(args[1 : end+1])
		i = end + 2
	} else {
		for ; i < len(args) && args[i] != ' ' && args[i] != '\t'; i++ {
			if args[i] == '\\' && i+1 < len(args) && args[i+1] == ' ' {
				i++
			}
			b.WriteByte(args[i])
		}
	}
	path = b.String()
	if strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, path[2:])
		}
	}
	return path, strings.TrimSpace(args[i:]), true
}

// maxAttachBytes is Discord's upload limit for a file in a server without
// boosts (10 MiB).
const maxAttachBytes = 10 << 20
