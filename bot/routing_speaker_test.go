//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// Routing loads the speaker (a users read) only for a message addressed to
// a personality: a guild message that mentions none and replies to none
// costs no statement at all once the mention index is cached.
func TestRoutingLoadsTheSpeakerOnlyWhenAddressed(t *testing.T) {
	r := newReplyDB(t, loadSpec{})
	author := &discordgo.User{ID: rdGuest, Username: "guest"}
	r.route(t, &discordgo.Message{ID: r.nextID(), ChannelID: rdChannel, GuildID: rdGuild, Content: "@kerach hi", Author: author})

	usersReads := func(m *discordgo.Message) (reads, all int) {
		t.Helper()
		r.rec.Start()
		if _, err := r.bot.RouteTo(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		stmts := r.rec.Stop()
		for _, st := range stmts {
			if strings.Contains(st.SQL, `FROM "users"`) {
				reads++
			}
		}
		return reads, len(stmts)
	}
	for _, content := range []string{"just chatting", "mail me at someone@example.com", "@nobody-here hello"} {
		if reads, all := usersReads(&discordgo.Message{ID: r.nextID(), ChannelID: rdChannel, GuildID: rdGuild, Content: content, Author: author}); all != 0 {
			t.Errorf("%q, addressed to no personality: %d statements (%d reading users); want none", content, all, reads)
		}
	}
	if reads, _ := usersReads(&discordgo.Message{ID: r.nextID(), ChannelID: rdChannel, GuildID: rdGuild, Content: "hey @Kerach", Author: author}); reads != 1 {
		t.Errorf("a mention: %d reads of users; want 1", reads)
	}
	if reads, _ := usersReads(&discordgo.Message{ID: r.nextID(), ChannelID: rdChannel, GuildID: rdGuild, Content: "and then?", Author: author,
		MessageReference: &discordgo.MessageReference{MessageID: rdEarlierSecond, ChannelID: rdChannel}}); reads != 1 {
		t.Errorf("a reply to kerach: %d reads of users; want 1", reads)
	}
}
