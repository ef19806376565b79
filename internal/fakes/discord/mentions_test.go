package discord_test

import (
	"fmt"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/fakes/discord"
)

// An edit that changes content is parsed under its own allowed_mentions,
// nil (Discord's default allowances) when it sends none, whatever the post
// sent; an edit that leaves content alone keeps the mentions as they were
// (Edit Message, Edit Webhook Message).
func TestEditParsesMentionsUnderItsOwnAllowedMentions(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	users := &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}}
	parse := func(name string) string {
		t.Helper()
		got := fake.Messages(chanID)
		if len(got) != 1 {
			t.Fatalf("%s: %d messages, want 1", name, len(got))
		}
		if got[0].AllowedMentions == nil {
			return "default"
		}
		return fmt.Sprint(got[0].AllowedMentions["parse"])
	}
	msg, err := s.ChannelMessageSendComplex(chanID, &discordgo.MessageSend{Content: "hi <@1>", AllowedMentions: users})
	if err != nil {
		t.Fatal(err)
	}
	if got := parse("post"); got != "[users]" {
		t.Errorf("after a post with parse [users]: %s", got)
	}
	if _, err := s.ChannelMessageEdit(chanID, msg.ID, "hi @everyone"); err != nil {
		t.Fatal(err)
	}
	if got := parse("bare edit"); got != "default" {
		t.Errorf("after an edit without allowed_mentions: %s, want default", got)
	}
	content := "hi again @everyone"
	if _, err := s.ChannelMessageEditComplex(&discordgo.MessageEdit{ID: msg.ID, Channel: chanID, Content: &content, AllowedMentions: users}); err != nil {
		t.Fatal(err)
	}
	if got := parse("edit with allowed_mentions"); got != "[users]" {
		t.Errorf("after an edit with parse [users]: %s", got)
	}
	if _, err := s.ChannelMessageEditComplex(&discordgo.MessageEdit{ID: msg.ID, Channel: chanID, Flags: discordgo.MessageFlagsSuppressEmbeds}); err != nil {
		t.Fatal(err)
	}
	if got := parse("flags edit"); got != "[users]" {
		t.Errorf("after an edit of flags only: %s, want [users] kept", got)
	}

	hook := newWebhook(t, s, "hook")
	wm, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "as a webhook", AllowedMentions: users})
	if err != nil {
		t.Fatal(err)
	}
	text := "edited by the webhook"
	if _, err := s.WebhookMessageEdit(hook.ID, hook.Token, wm.ID, &discordgo.WebhookEdit{Content: &text}); err != nil {
		t.Fatal(err)
	}
	for _, m := range fake.Messages(chanID) {
		if m.ID == wm.ID && m.AllowedMentions != nil {
			t.Errorf("webhook message after a bare edit: %v, want default", m.AllowedMentions)
		}
	}
}
