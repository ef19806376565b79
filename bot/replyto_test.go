//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// A Discord reply to a personality's refusal (no key yet: no conversation
// turn records it) reaches that personality, routed by the delivery the
// refusal was posted under.
func TestReplyToARefusalReachesThePersonality(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedKerach(t, w)
	m := w.say(alice, general, guildID, "@kerach hello")
	res := w.replyResult(t, m.ID)
	if res.Outcome != workflows.ReplyNoKey || res.DiscordMessageID == "" {
		t.Fatalf("without a key: %+v", res)
	}
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	if told := w.setKey(t, alice, aliceKey); !strings.Contains(told, "works and is saved") {
		t.Fatalf("/wallet set: %q", told)
	}
	replyTo := func(messageID, text string) (*discordgo.MessageCreate, int) {
		r := &discordgo.MessageCreate{Message: &discordgo.Message{
			ID: nextID(), ChannelID: general, GuildID: guildID, Content: text, Type: discordgo.MessageTypeReply,
			Author:           &discordgo.User{ID: alice, Username: "alice"},
			MessageReference: &discordgo.MessageReference{MessageID: messageID, ChannelID: general, GuildID: guildID},
		}}
		return r, w.Bot.HandleMessage(context.Background(), r)
	}
	r, started := replyTo(res.DiscordMessageID, "there, I stored my key")
	if started != 1 {
		t.Fatalf("a reply to Kerach's refusal started %d replies, want 1", started)
	}
	if got := w.replyResult(t, r.ID); got.Outcome != workflows.ReplyReplied {
		t.Errorf("the reply to the refusal ended %q", got.Outcome)
	}
}
