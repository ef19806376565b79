//go:build integration

package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/testwait"
)

// The bot sharded as deployed: two RunBot processes' worth, shards 0 and 1
// of 2, against the gateway stand-in, which routes as Discord does. Each
// shard answers the messages of its own guilds only, shard 0 the DMs too;
// every message is answered exactly once, and the slash commands are
// registered once, by shard 0.
func TestShardedBotsAnswerEachMessageOnce(t *testing.T) {
	const (
		operatorKey = "sk-or-v1-5a4d5a4d5a4d5a4d5a4d5a4d5a4d5a4d5a4d5a4d5a4d5a4d5a4d5a4d5a4d"
		alice       = "100000000000000001"
	)
	// (guild_id >> 22) % 2 puts the first guild on shard 0, the second on 1.
	guilds := []fakediscord.Guild{
		{ID: "1300000000000000001", ChannelIDs: []string{"900000000000000101", "900000000000000102"}},
		{ID: "1300000000004194305", ChannelIDs: []string{"900000000000000201", "900000000000000202"}},
	}
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	bg := context.Background()
	p := s.DB.Personality.Create().SetName("cold-kerach").SetDisplayName("Kerach").SaveX(bg)
	s.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("anthropic/claude-sonnet-4").ExecX(bg)
	for i, g := range guilds {
		if fakediscord.ShardOf(g.ID, 2) != i {
			t.Fatalf("guild %s is not on shard %d of 2", g.ID, i)
		}
		if err := s.Discord.AddGuild(g); err != nil {
			t.Fatal(err)
		}
	}

	logs := make([]*itest.SyncBuffer, 2)
	for i := range logs {
		logs[i] = &itest.SyncBuffer{}
		cfg := s.Config
		cfg.Set = maps.Clone(s.Config.Set)
		cfg.BotShardID, cfg.BotShardCount = i, 2
		cfg.Set["BOT_SHARD_ID"], cfg.Set["BOT_SHARD_COUNT"] = true, true
		runBot(t, cfg, slog.New(redact.NewHandler(slog.NewJSONHandler(logs[i], nil))))
	}
	for i := range logs {
		testwait.Until(t, fmt.Sprintf("shard %d to connect", i), func() bool { return strings.Contains(logs[i].String(), `"msg":"bot connected"`) })
	}
	var shards []string
	for _, id := range s.Discord.Identified() {
		if id.Accepted && id.Shard != nil {
			shards = append(shards, fmt.Sprint(*id.Shard))
		}
	}
	if strings.Join(shards, " ") != "[0 2] [1 2]" && strings.Join(shards, " ") != "[1 2] [0 2]" {
		t.Fatalf("identified shards %v, want [0 2] and [1 2]", shards)
	}
	overwrites := bulkOverwrites(s.Discord)
	if overwrites != 1 || !strings.Contains(logs[0].String(), `"registers_commands":true`) || !strings.Contains(logs[1].String(), `"registers_commands":false`) {
		t.Errorf("%d bulk overwrites, want 1, by shard 0", overwrites)
	}

	// Two mentions in each channel of both guilds, and a DM.
	type asked struct {
		channel, id string
		shard       int
	}
	var all []asked
	for i, g := range guilds {
		for _, ch := range g.ChannelIDs {
			for n := range 2 {
				m, err := s.Discord.PostUserMessage(fakediscord.UserMessage{
					ChannelID: ch, GuildID: g.ID, Author: fakediscord.User{ID: alice, Username: "alice"},
					Content: fmt.Sprintf("@kerach question %d in %s", n, ch),
				})
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, asked{ch, m.ID, i})
			}
		}
	}
	const dmChannel = "900000000000000301"
	dm, err := s.Discord.PostUserMessage(fakediscord.UserMessage{ChannelID: dmChannel, Author: fakediscord.User{ID: alice, Username: "alice"}, Content: "@kerach a DM"})
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, asked{dmChannel, dm.ID, 0})

	for _, a := range all {
		// The bot logs "replied" once the reply's workflow has ended.
		want := fmt.Sprintf(`"request_id":"%s"`, a.id)
		testwait.Until(t, "the answer to "+a.id, func() bool {
			return strings.Contains(logs[0].String()+logs[1].String(), want)
		})
		if !strings.Contains(logs[a.shard].String(), want) || strings.Contains(logs[1-a.shard].String(), want) {
			t.Errorf("message %s in %s: started by the wrong shard (want shard %d only)", a.id, a.channel, a.shard)
		}
	}
	for _, ch := range []string{guilds[0].ChannelIDs[0], guilds[0].ChannelIDs[1], guilds[1].ChannelIDs[0], guilds[1].ChannelIDs[1], dmChannel} {
		answers := 0
		for _, m := range s.Discord.Messages(ch) {
			if m.Author.ID != alice {
				answers++
			}
		}
		want := 2
		if ch == dmChannel {
			want = 1
		}
		if answers != want {
			t.Errorf("channel %s: %d answers, want %d", ch, answers, want)
		}
	}

	// A slash command is answered once, by the shard of its guild; in a
	// DM, by shard 0.
	for _, guild := range []string{guilds[1].ID, ""} {
		channel := guilds[1].ChannelIDs[0]
		if guild == "" {
			channel = dmChannel
		}
		in := runUsage(t, s.Discord, channel, guild, alice)
		time.Sleep(500 * time.Millisecond) // a second shard's answer would come within it
		if r := s.Discord.InteractionResponses(in.ID); len(r) != 1 || r[0].Status != 204 {
			t.Errorf("/usage in guild %q: responses %+v, want one", guild, r)
		}
	}
}

// runBot runs app.RunBot with cfg until the test ends, and fails the test
// if it returns early.
func runBot(t *testing.T, cfg config.Config, log *slog.Logger) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.RunBot(ctx, cfg, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("RunBot: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("RunBot still running 10 s after its context ended")
		}
	})
}

// bulkOverwrites counts the global slash-command registrations (one bulk
// overwrite each) the Discord stand-in accepted.
func bulkOverwrites(d *fakediscord.Server) int {
	n := 0
	for _, r := range d.Requests() {
		if r.Route == "PUT /applications/{application_id}/commands" && r.Status == 200 {
			n++
		}
	}
	return n
}

// runUsage has the user run /usage in the channel of guild ("" for a DM)
// over the gateway, and waits for the first response to it.
func runUsage(t *testing.T, d *fakediscord.Server, channel, guild, userID string) fakediscord.Interaction {
	t.Helper()
	in, err := d.StartInteraction(fakediscord.UserInteraction{
		ChannelID: channel, GuildID: guild, User: fakediscord.User{ID: userID, Username: "alice"},
		Data: discordgo.ApplicationCommandInteractionData{ID: "1400000000000000001", Name: "usage", CommandType: discordgo.ChatApplicationCommand},
	})
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the /usage response", func() bool { return len(d.InteractionResponses(in.ID)) > 0 })
	return in
}
