package discord_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/fakes/discord"
)

// Guilds on either shard of two, by (guild_id >> 22) % 2.
const (
	guildShard0 = "5500000000000000005"
	guildShard1 = "5500000000004194309"
	chanShard0  = "3300000000000000010"
	chanShard1  = "3300000000000000011"
	dmChan      = "3300000000000000012"
)

func TestShardOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		guild string
		count int
		want  int
	}{
		{guildShard0, 2, 0},
		{guildShard1, 2, 1},
		{guildShard1, 1, 0},
		// The example of serenity's shard_id docs, Discord's formula.
		{"81384788765712384", 17, 7},
		{"not-a-guild", 2, -1},
	} {
		if got := discord.ShardOf(tc.guild, tc.count); got != tc.want {
			t.Errorf("ShardOf(%s, %d) = %d, want %d", tc.guild, tc.count, got, tc.want)
		}
	}
}

// Two sessions identify as shards 0 and 1 of 2: each READY lists only its
// guilds, each receives the GUILD_CREATE and messages of its guilds only,
// and the DM goes to shard 0 alone, as Discord routes them.
func TestGatewayShardsRouteByGuild(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{})
	for _, g := range []discord.Guild{{ID: guildShard0, ChannelIDs: []string{chanShard0}}, {ID: guildShard1, ChannelIDs: []string{chanShard1}}} {
		if err := fake.AddGuild(g); err != nil {
			t.Fatal(err)
		}
	}
	shard := func(id int) func(*discordgo.Session) {
		return func(s *discordgo.Session) { s.ShardID, s.ShardCount = id, 2 }
	}
	_, ev0 := openGateway(t, fake, "t", botIntent, shard(0))
	_, ev1 := openGateway(t, fake, "t", botIntent, shard(1))
	for i, ev := range []*events{ev0, ev1} {
		r := decode[discordgo.Ready](t, ev.next(t))
		want := []string{guildShard0, guildShard1}[i]
		if len(r.Guilds) != 1 || r.Guilds[0].ID != want || r.Shard == nil || *r.Shard != [2]int{i, 2} {
			t.Errorf("shard %d READY guilds %+v shard %v, want only %s", i, r.Guilds, r.Shard, want)
		}
		if gc := ev.next(t); gc.Type != "GUILD_CREATE" || decode[discordgo.Guild](t, gc).ID != want {
			t.Errorf("shard %d got %s %s, want GUILD_CREATE of %s", i, gc.Type, gc.RawData, want)
		}
	}
	ids := fake.Identified()
	if len(ids) != 2 || ids[0].Shard == nil || *ids[0].Shard != [2]int{0, 2} || ids[1].Shard == nil || *ids[1].Shard != [2]int{1, 2} {
		t.Errorf("identified %+v, want shards [0 2] and [1 2]", ids)
	}

	post := func(guild, channel, text string) {
		if _, err := fake.PostUserMessage(discord.UserMessage{GuildID: guild, ChannelID: channel, Author: discord.User{ID: userID}, Content: text}); err != nil {
			t.Fatal(err)
		}
	}
	post(guildShard1, chanShard1, "to shard 1")
	post(guildShard0, chanShard0, "to shard 0")
	post("", dmChan, "a DM")
	for i, want := range [][]string{{"to shard 0", "a DM"}, {"to shard 1"}} {
		ev := []*events{ev0, ev1}[i]
		var got []string
		for range want {
			got = append(got, decode[discordgo.Message](t, ev.next(t)).Content)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("shard %d received %q, want %q", i, got, want)
		}
		select {
		case e := <-ev.ch:
			t.Errorf("shard %d also received %s %s", i, e.(*discordgo.Event).Type, e.(*discordgo.Event).RawData)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// GET /gateway/bot answers Discord's documented shape: url, the
// recommended shards and session_start_limit, whose remaining counts down
// with each session started.
func TestGatewayBotRecommendsShards(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{RecommendedShards: 3, MaxConcurrency: 16})
	got := gatewayBot(t, fake)
	limit, _ := got["session_start_limit"].(map[string]any)
	if !strings.HasSuffix(got["url"].(string), "/gateway-ws") || got["shards"] != float64(3) || limit == nil ||
		limit["total"] != float64(1000) || limit["remaining"] != float64(1000) || limit["max_concurrency"] != float64(16) ||
		limit["reset_after"].(float64) <= 0 {
		t.Errorf("GET /gateway/bot = %v", got)
	}
	openGateway(t, fake, "t", botIntent)
	if r := gatewayBot(t, fake)["session_start_limit"].(map[string]any)["remaining"]; r != float64(999) {
		t.Errorf("remaining after one session = %v, want 999", r)
	}
}

// A bot in more than 2,500 guilds must shard: GET /gateway/bot recommends
// one shard per 2,500 guilds, and a session holding more is refused with
// 4011, while each of two shards may identify.
func TestGatewayRequiresShardingPast2500Guilds(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{})
	if got := gatewayBot(t, fake)["shards"]; got != float64(1) {
		t.Errorf("shards with no guild = %v, want 1", got)
	}
	for i := range discord.MaxGuildsPerShard + 1 {
		// Consecutive ids differ in the bits the formula reads every 2^22.
		if err := fake.AddGuild(discord.Guild{ID: strconv.FormatUint(7100000000000000000+uint64(i)<<22, 10)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := gatewayBot(t, fake)["shards"]; got != float64(2) {
		t.Errorf("shards for 2,501 guilds = %v, want 2", got)
	}
	if _, _, err := gatewaySession(t, fake, "t", botIntent); err == nil {
		t.Error("an unsharded session of 2,501 guilds was accepted")
	}
	if ids := fake.Identified(); len(ids) != 1 || ids[0].Accepted {
		t.Errorf("identified %+v, want one refused", ids)
	}
	for id := range 2 {
		openGateway(t, fake, "t", discordgo.IntentsGuildMessages, func(s *discordgo.Session) { s.ShardID, s.ShardCount = id, 2 })
	}
}

// gatewayBot is the fake's answer to GET /gateway/bot.
func gatewayBot(t *testing.T, fake *discord.Server) map[string]any {
	t.Helper()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v10/gateway/bot", nil)
	req.Header.Set("Authorization", "Bot t")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	if res.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("GET /gateway/bot: %d %s", res.StatusCode, b)
	}
	return out
}
