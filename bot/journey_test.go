//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
)

const (
	alice    = "100000000000000001"
	aliceKey = "sk-or-v1-abababababababababababababababababababababababababababababababab"
)

func seedKerach(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	p := w.DB.Personality.Create().SetName("cold-kerach").SetDisplayName("Kerach").
		SetErrorMessage("*static crackles*").SaveX(ctx)
	w.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("anthropic/claude-sonnet-4").ExecX(ctx)
	w.DB.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias("Kerach").ExecX(ctx)
}

// The whole user journey: /wallet set through the modal, a mention, a reply
// paid with the user's key; then the key is revoked and the next mention ends
// in one DM, one deactivation and no call with any other key.
func TestUserJourney(t *testing.T) {
	w := newWorld(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: "sk-or-v1-0000000000000000000000000000000000000000000000000000000000000000"})
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	seedKerach(t, w)

	// /wallet set answers with a modal: the key is never a command option.
	ic := w.slash(alice, "wallet", "set")
	resp := w.responses(ic)
	if len(resp) != 1 || resp[0]["type"] != float64(9) {
		t.Fatalf("/wallet set responded %v, want one modal (type 9)", resp)
	}
	// Submitting the form defers privately, validates and stores the key.
	sub := w.submit(alice, resp[0]["data"].(map[string]any)["custom_id"].(string), map[string]string{"key": aliceKey})
	first := w.responses(sub)
	if len(first) != 1 || first[0]["type"] != float64(5) {
		t.Fatalf("modal submit responded %v, want a deferral (type 5) first", first)
	}
	if text := w.ephemeralText(t, sub); !strings.Contains(text, "works and is saved") {
		t.Fatalf("user was told %q", text)
	}
	if n := w.DB.UserAPIKey.Query().Where(userapikey.IsActive(true)).CountX(context.Background()); n != 1 {
		t.Fatalf("%d active keys stored", n)
	}

	// A mention starts GenerateReply; the reply comes through the webhook.
	w.say(alice, general, guildID, "@kerach how cold is it?")
	testwait.Until(t, "the reply", func() bool { return len(w.posts(general)) == 1 })
	w.awaitReplies(t) // a streamed reply is posted, then edited until whole
	msg := w.posts(general)[0]
	if msg.Author.Username != "Kerach" || !strings.Contains(msg.Content, "how cold is it?") {
		t.Fatalf("reply %+v", msg)
	}
	chats := 0
	for _, c := range w.OpenRouter.CallsFor(aliceKey) {
		if strings.HasSuffix(c.Path, "/chat/completions") {
			chats++
		}
	}
	if chats != 1 {
		t.Fatalf("alice's key paid for %d chat calls, want 1", chats)
	}

	// The key is revoked at OpenRouter: the next mention ends in one DM.
	w.OpenRouter.Revoke(aliceKey)
	before := len(w.OpenRouter.Calls())
	w.say(alice, general, guildID, "@Kerach again?")
	testwait.Until(t, "the DM", func() bool { return len(w.Discord.DMs(alice)) == 1 && len(w.posts(general)) == 2 })
	if dm := w.Discord.DMs(alice)[0].Content; !strings.Contains(dm, "/wallet set") {
		t.Errorf("DM %q does not say how to fix it", dm)
	}
	if got := w.posts(general)[1].Content; got != "*static crackles*" {
		t.Errorf("channel got %q, want the error message", got)
	}
	for _, c := range w.OpenRouter.Calls()[before:] {
		if c.Key != aliceKey {
			t.Errorf("a call after the failure used another key (%s %s)", c.Method, c.Path)
		}
	}
	if n := w.DB.UserAPIKey.Query().Where(userapikey.IsActive(true)).CountX(context.Background()); n != 0 {
		t.Error("key still active")
	}
	// No key in any log line of the run.
	if strings.Contains(w.Logs.String(), aliceKey) {
		t.Error("the key appears in the log")
	}
}

func TestRedeliveredMessageRepliesOnce(t *testing.T) {
	w := newWorld(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: "sk-or-v1-0000000000000000000000000000000000000000000000000000000000000001"})
	w.OpenRouter.AddKey("sk-or-v1-0000000000000000000000000000000000000000000000000000000000000001", fakeopenrouter.Key{})
	seedKerach(t, w)
	m := w.say(alice, general, guildID, "@kerach hi")
	w.Bot.HandleMessage(context.Background(), m) // the gateway delivers it again
	testwait.Until(t, "the reply", func() bool { return len(w.posts(general)) >= 1 })
	w.say(bob, general, guildID, "@kerach hello") // a later message to sync on
	testwait.Until(t, "the second reply", func() bool { return len(w.posts(general)) >= 2 })
	if n := len(w.posts(general)); n != 2 {
		t.Fatalf("%d replies, want 2 (one per distinct message)", n)
	}
}

const bob = "100000000000000002"

func TestIgnoredMessages(t *testing.T) {
	w := newWorld(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: "sk-or-v1-0000000000000000000000000000000000000000000000000000000000000002"})
	seedKerach(t, w)
	ctx := context.Background()
	for _, m := range []*discordMessage{
		{content: "@kerach hi", bot: true},
		{content: "@kerach hi", webhook: "1"},
		{content: "   "},
		{content: "no mention here"},
	} {
		w.Bot.HandleMessage(ctx, m.event())
	}
	w.say(bob, general, guildID, "@kerach sync")
	testwait.Until(t, "the sync reply", func() bool { return len(w.posts(general)) >= 1 })
	if n := len(w.posts(general)); n != 1 {
		t.Fatalf("%d replies, want only the one to the plain mention", n)
	}
}
