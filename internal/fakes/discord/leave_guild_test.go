package discord_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/tzurot/tzurot/internal/fakes/discord"
)

// TestLeaveGuild: DELETE /users/@me/guilds/{guild.id} as Discord documents
// it (https://discord.com/developers/docs/resources/user#leave-guild): 204
// No Content, GUILD_DELETE to the session, the guild gone from the next
// READY; leaving again, or a guild the bot was never in, is 404 Unknown
// Guild (10004).
func TestLeaveGuild(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{Token: "test-token"})
	if err := fake.AddGuild(discord.Guild{ID: guildID, Name: "Tzurot HQ", ChannelIDs: []string{chanID}}); err != nil {
		t.Fatal(err)
	}
	s, ev := openGateway(t, fake, "test-token", botIntent)
	for _, want := range []string{"READY", "GUILD_CREATE"} {
		if e := ev.next(t); e.Type != want {
			t.Fatalf("dispatch %s, want %s", e.Type, want)
		}
	}
	if err := s.GuildLeave(guildID); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if e := ev.next(t); e.Type != "GUILD_DELETE" {
		t.Errorf("dispatch %s after leaving, want GUILD_DELETE", e.Type)
	} else if g := decode[struct {
		ID          string `json:"id"`
		Unavailable *bool  `json:"unavailable"`
	}](t, e); g.ID != guildID || g.Unavailable != nil {
		t.Errorf("GUILD_DELETE %s, want the guild's id and no unavailable", e.RawData)
	}
	reqs := fake.Requests()
	if last := reqs[len(reqs)-1]; last.Route != "DELETE /users/@me/guilds/{guild_id}" || last.Status != http.StatusNoContent {
		t.Errorf("request %s answered %d, want the Leave Guild route and 204", last.Route, last.Status)
	}
	if got := fake.LeftGuilds(); !slices.Equal(got, []string{guildID}) {
		t.Errorf("left guilds %v", got)
	}
	for _, id := range []string{guildID, "5500000000000000099"} {
		err := s.GuildLeave(id)
		if re := restError(t, err); re.Response.StatusCode != http.StatusNotFound || re.Message == nil || re.Message.Code != 10004 {
			t.Errorf("leaving %s: %v, want 404 Unknown Guild (10004)", id, err)
		}
	}
}
