//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
)

const operator = "sk-or-v1-7777777777777777777777777777777777777777777777777777777777777777"

func guestWorld(t *testing.T) *world {
	w := newWorld(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operator})
	w.OpenRouter.AddKey(operator, fakeopenrouter.Key{})
	seedKerach(t, w)
	return w
}

// A reply to one of a personality's messages continues with it, quoting it.
func TestReplyToAPersonalitysMessage(t *testing.T) {
	w := guestWorld(t)
	w.say(alice, general, guildID, "@kerach first")
	testwait.Until(t, "the first reply", func() bool { return len(w.posts(general)) == 1 })
	w.awaitReplies(t) // a streamed reply is posted, then edited until whole
	first := w.posts(general)[0]
	testwait.Until(t, "the turns saved", func() bool { return w.DB.ConversationHistory.Query().CountX(context.Background()) == 2 })
	m := &discordgo.MessageCreate{Message: &discordgo.Message{
		ID: nextID(), ChannelID: general, GuildID: guildID, Content: "and then?",
		Author:            &discordgo.User{ID: alice, Username: "alice"},
		MessageReference:  &discordgo.MessageReference{MessageID: first.ID, ChannelID: general},
		ReferencedMessage: &discordgo.Message{ID: first.ID, Content: first.Content, Author: &discordgo.User{Username: "Kerach"}},
	}}
	w.Bot.HandleMessage(context.Background(), m)
	testwait.Until(t, "the second reply", func() bool { return len(w.posts(general)) == 2 })
	w.awaitReplies(t)
	if got := w.posts(general)[1].Content; !strings.Contains(got, "and then?") || !strings.Contains(got, "Replying to Kerach") {
		t.Errorf("second reply %q: want the message with the quoted reference", got)
	}
}

// In a DM the bot continues with the personality last talked to there, and
// otherwise says how to start.
func TestDirectMessages(t *testing.T) {
	w := guestWorld(t)
	const dm = "950000000000000001"
	w.say(alice, dm, "", "hello?")
	testwait.Until(t, "the hint", func() bool { return len(w.Discord.Messages(dm)) == 1 })
	if got := w.Discord.Messages(dm)[0].Content; !strings.Contains(got, "Mention a personality") {
		t.Fatalf("hint %q", got)
	}
	w.say(alice, dm, "", "@kerach hi in private")
	testwait.Until(t, "the DM reply", func() bool { return len(w.Discord.Messages(dm)) == 2 })
	testwait.Until(t, "the turns saved", func() bool { return w.DB.ConversationHistory.Query().CountX(context.Background()) == 2 })
	w.say(alice, dm, "", "still there?")
	testwait.Until(t, "the follow-up reply", func() bool { return len(w.Discord.Messages(dm)) == 3 })
	w.awaitReplies(t) // a streamed reply is posted, then edited until whole
	if got := w.Discord.Messages(dm)[2].Content; !strings.Contains(got, "still there?") {
		t.Fatalf("follow-up %q", got)
	}
	// Typing was shown while the replies were generated — not for a reply
	// already posted when the typing loop first looks (showTyping: a typing
	// sent after a webhook's post would linger), which a fast stand-in
	// makes possible: at least one of the two replies shows it.
	typing := 0
	for _, r := range w.Discord.Requests() {
		if strings.HasSuffix(r.Path, "/channels/"+dm+"/typing") {
			typing++
		}
	}
	if typing < 1 {
		t.Errorf("typing shown %d times, want it shown while replies were made", typing)
	}
}

func TestSeveralPersonalitiesInOneMessage(t *testing.T) {
	w := guestWorld(t)
	ctx := context.Background()
	p := w.DB.Personality.Create().SetName("lilith").SetDisplayName("Lilith").SaveX(ctx)
	w.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").ExecX(ctx)
	w.say(alice, general, guildID, "@kerach and @lilith, hello")
	testwait.Until(t, "two replies", func() bool { return len(w.posts(general)) == 2 })
	authors := map[string]bool{}
	for _, m := range w.posts(general) {
		authors[m.Author.Username] = true
	}
	if !authors["Kerach"] || !authors["Lilith"] {
		t.Fatalf("replies from %v", authors)
	}
}
