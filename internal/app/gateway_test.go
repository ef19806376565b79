//go:build integration

package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent/denial"
	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
)

// The bot as deployed: RunBot opens the gateway of the Discord fake, and a
// user's mention and slash command arrive as gateway dispatches, not as
// direct handler calls. The reply travels gateway → bot → GenerateReply on
// the worker → webhook post.
func TestGatewayRunBot(t *testing.T) {
	const (
		operatorKey = "sk-or-v1-9a7e9a7e9a7e9a7e9a7e9a7e9a7e9a7e9a7e9a7e9a7e9a7e9a7e9a7e9a7e"
		guild       = "1300000000000000001"
		general     = "900000000000000001"
		alice       = "100000000000000001"
	)
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	bg := context.Background()
	p := s.DB.Personality.Create().SetName("cold-kerach").SetDisplayName("Kerach").SaveX(bg)
	s.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("anthropic/claude-sonnet-4").ExecX(bg)
	// A guild on the deny list, which the bot must leave when Discord announces it.
	const deniedGuild = "1300000000000000066"
	s.DB.Denial.Create().SetKind(denial.KindGuild).SetDiscordID(deniedGuild).SetDeniedBy(alice).ExecX(bg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Logs.String())
		}
	})

	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	done := make(chan error, 1)
	cfg := s.Config
	cfg.MetricsAddr = freeAddr(t)
	go func() { done <- app.RunBot(ctx, cfg, s.Activities.Log) }()
	// Whatever happens below, the bot must be gone before the fake closes.
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			if err := <-done; err != nil {
				t.Logf("bot stopped: %v", err)
			}
		}
	})

	// The bot identifies with the intents its handlers depend on.
	idctx, idcancel := context.WithTimeout(ctx, 30*time.Second)
	defer idcancel()
	identified := make(chan fakediscord.Identify, 1)
	go func() {
		id, _ := s.Discord.WaitIdentified(idctx)
		identified <- id
	}()
	var id fakediscord.Identify
	select {
	case id = <-identified:
	case err := <-done:
		stopped = true
		t.Fatalf("RunBot returned before identifying: %v", err)
	}
	if !id.Accepted {
		t.Fatal("the bot did not identify within 30 s")
	}
	// Like the worker and the codec server, the bot logs its configuration.
	if logs := s.Logs.String(); !strings.Contains(logs, "bot started") || !strings.Contains(logs, "discord_token") {
		t.Errorf("the bot did not log that it started, with its configuration")
	}
	want := discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages | discordgo.IntentMessageContent
	if discordgo.Intent(id.Intents)&want != want {
		t.Errorf("intents %b lack some of %b (GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT)", id.Intents, want)
	}

	// After READY the slash commands are registered in one bulk overwrite,
	// globally (no DISCORD_DEV_GUILD_ID in the test config).
	testwait.Until(t, "the slash commands", func() bool { return len(s.Discord.Commands("")) > 0 })
	names := map[string]bool{}
	for _, c := range s.Discord.Commands("") {
		names[c["name"].(string)] = true
	}
	if !names["usage"] || !names["wallet"] {
		t.Errorf("registered commands %v lack usage or wallet", names)
	}
	overwrites := bulkOverwrites(s.Discord)
	if overwrites != 1 {
		t.Errorf("%d bulk overwrites, want 1", overwrites)
	}

	// A mention typed in #general is answered there by the personality.
	asked, err := s.Discord.PostUserMessage(fakediscord.UserMessage{
		ChannelID: general, GuildID: guild, Author: fakediscord.User{ID: alice, Username: "alice"},
		Content: "@kerach how cold is it?",
	})
	if err != nil {
		t.Fatal(err)
	}
	var reply fakediscord.Message
	// A streamed reply is posted, then edited until it is whole.
	testwait.Until(t, "Kerach's whole reply", func() bool {
		for _, m := range s.Discord.Messages(general) {
			if m.ID != asked.ID && m.WebhookID != "" && !m.Ephemeral() && strings.Contains(m.Content, "how cold is it?") {
				reply = m
				return true
			}
		}
		return false
	})
	if reply.Author.Username != "Kerach" || !strings.Contains(reply.Content, "how cold is it?") {
		t.Errorf("reply %+v", reply)
	}
	// The bot serves its health and, as the worker in this process does
	// (one registry), the metrics of the reply: the SDK's and the product's.
	testwait.Until(t, "/readyz to say ready", func() bool { code, _ := fetch(t, cfg.MetricsAddr, "/readyz"); return code == 200 })
	if code, _ := fetch(t, cfg.MetricsAddr, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d, want 200", code)
	}
	assertReplyMetrics(t, cfg.MetricsAddr, "anthropic/claude-sonnet-4")

	// /usage over the gateway is answered privately, about alice: the
	// handler found her in the interaction's member.
	testwait.Until(t, "the reply's usage row", func() bool { return s.DB.UsageLog.Query().CountX(bg) > 0 })
	in := runUsage(t, s.Discord, general, guild, alice)
	if r := s.Discord.InteractionResponses(in.ID); len(r) != 1 || r[0].Status != 204 || r[0].JSON["type"] != float64(4) {
		t.Fatalf("/usage responses %+v, want one message response", r)
	}
	answer, ok := s.Discord.Original(in.Token)
	if !ok || !answer.Ephemeral() || !strings.Contains(answer.Content, "anthropic/claude-sonnet-4") {
		t.Errorf("/usage answered %q (ephemeral %v), want alice's usage, privately", answer.Content, answer.Ephemeral())
	}

	// Added to the denied guild, the bot leaves it as its GUILD_CREATE arrives.
	if err := s.Discord.AddGuild(fakediscord.Guild{ID: deniedGuild, Name: "Denied"}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the bot to leave the denied guild", func() bool { return slices.Contains(s.Discord.LeftGuilds(), deniedGuild) })

	// Cancelling stops the bot: RunBot returns, and the gateway connection
	// closes without a reconnect.
	cancel()
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Fatalf("RunBot: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunBot still running 10 s after its context ended")
	}
	testwait.Until(t, "the gateway connection to close", func() bool { return len(s.Discord.GatewayConnections()) == 0 })
	time.Sleep(1500 * time.Millisecond) // discordgo's first reconnect would come within a second
	if c, n := s.Discord.GatewayConnections(), len(s.Discord.Identified()); len(c) != 0 || n != 1 {
		t.Errorf("after RunBot returned: connections %+v, %d identifies", c, n)
	}
}
