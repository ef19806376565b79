//go:build integration

package bot_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/testwait"
)

// sayImage sends alice's message with one PNG and no text: the file stored
// by the Discord stand-in, the event carrying its signed URL as Discord's does.
func (w *world) sayImage(t *testing.T, channelID, guild string, ref *discordgo.MessageReference) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 3, 3))
	img.Pix[0] = byte(len(nextID()))
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	stored, _ := w.Discord.PostUserMessage(fakediscord.UserMessage{
		ChannelID: channelID, Author: fakediscord.User{ID: alice},
		Files: []fakediscord.File{{Name: "pic.png", ContentType: "image/png", Data: b.Bytes()}},
	})
	a := stored.Attachments[0]
	w.Bot.HandleMessage(context.Background(), &discordgo.MessageCreate{Message: &discordgo.Message{
		ID: stored.ID, ChannelID: channelID, GuildID: guild, MessageReference: ref,
		Author: &discordgo.User{ID: alice, Username: "alice"},
		Attachments: []*discordgo.MessageAttachment{{
			ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, URL: fakediscord.SignedURL(a),
		}},
	}})
	return b.Bytes()
}

// A message with an image and no text is answered when it is addressed to
// a personality — in a DM, or as a reply to its message — and the model
// sees the image; in a channel, unaddressed, it is not.
func TestImageOnlyMessages(t *testing.T) {
	w := guestWorld(t)
	const dm = "950000000000000002"
	w.say(alice, dm, "", "@kerach hi")
	testwait.Until(t, "the DM reply", func() bool { return len(replies(w.posts(dm))) == 1 })
	testwait.Until(t, "the turns saved", func() bool { return w.DB.ConversationHistory.Query().CountX(context.Background()) == 2 })
	pic := w.sayImage(t, dm, "", nil)
	// A streamed reply is posted, then edited until it is whole: wait for
	// the whole text before reading it.
	testwait.Until(t, "the reply to the image, whole", func() bool {
		r := replies(w.posts(dm))
		return len(r) == 2 && strings.Contains(r[1].Content, fakeopenrouter.ImageDigest(pic))
	})

	w.say(alice, general, guildID, "@kerach first")
	testwait.Until(t, "the first reply", func() bool { return len(replies(w.posts(general))) == 1 })
	first := replies(w.posts(general))[0]
	// Known as Kerach's once its turns are saved (DM: 4, this one: 2 more).
	testwait.Until(t, "the turns saved", func() bool { return w.DB.ConversationHistory.Query().CountX(context.Background()) == 6 })
	w.sayImage(t, general, guildID, nil) // addressed to no one
	pic = w.sayImage(t, general, guildID, &discordgo.MessageReference{MessageID: first.ID, ChannelID: general})
	testwait.Until(t, "the reply to the image, whole", func() bool {
		r := replies(w.posts(general))
		return len(r) >= 2 && strings.Contains(r[len(r)-1].Content, fakeopenrouter.ImageDigest(pic))
	})
	got := replies(w.posts(general))
	if len(got) != 2 || !strings.Contains(got[1].Content, fakeopenrouter.ImageDigest(pic)) {
		t.Errorf("replies %+v: want one more, to the reply with the image", got)
	}
}

// replies are the bot's and personalities' posts among msgs: all but
// alice's own messages.
func replies(msgs []fakediscord.Message) []fakediscord.Message {
	var out []fakediscord.Message
	for _, m := range msgs {
		if m.Author.ID != alice {
			out = append(out, m)
		}
	}
	return out
}
