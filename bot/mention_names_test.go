//go:build integration

package bot_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/testwait"
)

// Routing takes each personality's own max_mentions_per_message: Lilith,
// limited to 1, answers only when she is the first personality mentioned;
// Kerach keeps the default.
func TestRoutingTakesEachPersonalitysMentionLimit(t *testing.T) {
	w := guestWorld(t)
	ctx := context.Background()
	p := w.DB.Personality.Create().SetName("lilith").SetDisplayName("Lilith").SaveX(ctx)
	w.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").SetMaxMentionsPerMessage(1).ExecX(ctx)
	w.say(alice, general, guildID, "@kerach and @lilith, hello")
	testwait.Until(t, "Kerach's reply", func() bool { return len(w.posts(general)) >= 1 })
	w.say(alice, general, guildID, "@lilith and @kerach, hello again")
	testwait.Until(t, "two more replies", func() bool { return len(w.posts(general)) >= 3 })
	authors := map[string]int{}
	for _, m := range w.posts(general) {
		authors[m.Author.Username]++
	}
	if authors["Kerach"] != 2 || authors["Lilith"] != 1 {
		t.Fatalf("replies by %v, want Kerach twice and Lilith once (only where she came first)", authors)
	}
}

// The bot names the message's mentions from the gateway event and its state
// cache, and the author by their nickname: the model reads names.
func TestMentionsReachTheModelAsNames(t *testing.T) {
	w := guestWorld(t)
	st := w.Bot.Session.State
	if err := st.GuildAdd(&discordgo.Guild{
		ID:       guildID,
		Roles:    []*discordgo.Role{{ID: "1400000000000000001", Name: "mods"}},
		Channels: []*discordgo.Channel{{ID: "1400000000000000002", GuildID: guildID, Name: "random"}},
	}); err != nil {
		t.Fatal(err)
	}
	m := &discordgo.MessageCreate{Message: &discordgo.Message{
		ID: nextID(), ChannelID: general, GuildID: guildID,
		Content: "@kerach ask <@" + bob + "> in <#1400000000000000002> about <@&1400000000000000001>",
		Author:  &discordgo.User{ID: alice, Username: "alice_1", GlobalName: "Alice"},
		Member:  &discordgo.Member{Nick: "Ally"},
		Mentions: []*discordgo.User{
			{ID: bob, Username: "bob_2", GlobalName: "Bobby"},
		},
		MentionRoles: []string{"1400000000000000001"},
	}}
	w.Bot.HandleMessage(context.Background(), m)
	if res := w.replyResult(t, m.ID); res.Outcome != "replied" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	calls := w.OpenRouter.Calls()
	var body struct {
		Messages []struct{ Role, Content string }
	}
	if err := json.Unmarshal(calls[len(calls)-1].Body, &body); err != nil {
		t.Fatal(err)
	}
	want := "Ally: @kerach ask @Bobby in #random about @mods"
	if got := body.Messages[len(body.Messages)-1].Content; got != want {
		t.Errorf("the model read %q, want %q", got, want)
	}
}
