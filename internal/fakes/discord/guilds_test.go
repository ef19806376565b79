package discord_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/msglink"
)

const (
	gGuild   = "7700000000000000001"
	gOpen    = "7700000000000000002"
	gHidden  = "7700000000000000003"
	gPublic  = "7700000000000000004"
	gPrivate = "7700000000000000005"
	gInside  = "7700000000000000006"
	gStaff   = "7700000000000000007"
)

// guildFake has a guild where the bot and userID read #open; #hidden is
// denied to @everyone and allowed to staff, which only userID has; a
// public thread of #open; a private thread of #open with the bot as its
// only member; and a private thread of #hidden with both as members.
func guildFake(t *testing.T) (*discord.Server, *discordgo.Session) {
	t.Helper()
	fake, _, s := setup(t, discord.Options{Token: "test-token", BotUserID: botID})
	read := int64(discordgo.PermissionViewChannel | discordgo.PermissionReadMessageHistory)
	fake.SetGuildAccess(discord.GuildAccess{
		ID: gGuild, OwnerID: "7700000000000000009",
		Roles:   []discord.Role{{ID: gGuild, Name: "@everyone", Permissions: read}, {ID: gStaff, Name: "staff"}},
		Members: map[string][]string{userID: {gStaff}, botID: nil},
		Channels: map[string][]discord.Overwrite{
			gOpen:   nil,
			gHidden: {{ID: gGuild, Type: 0, Deny: discordgo.PermissionViewChannel}, {ID: gStaff, Type: 0, Allow: discordgo.PermissionViewChannel}},
		},
		Threads: map[string]discord.Thread{
			gPublic:  {ParentID: gOpen},
			gPrivate: {ParentID: gOpen, Private: true, Members: []string{botID}},
			gInside:  {ParentID: gHidden, Private: true, Members: []string{userID, botID}},
		},
	})
	return fake, s
}

// A message that does not exist is 404 Unknown Message (10008); one in a
// channel the bot cannot see is 403 Missing Access (50001), as is the
// channel itself, whether or not the message exists.
func TestMessageFetchErrorsAsDiscord(t *testing.T) {
	fake, s := guildFake(t)
	hidden, err := fake.RecordUserMessage(discord.UserMessage{ChannelID: gHidden, GuildID: gGuild, Author: discord.User{ID: userID, Username: "u"}, Content: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	open, err := fake.RecordUserMessage(discord.UserMessage{ChannelID: gOpen, GuildID: gGuild, Author: discord.User{ID: userID, Username: "u"}, Content: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.ChannelMessage(gOpen, open.ID); err != nil || m.Content != "hello" {
		t.Errorf("a readable message: %+v, %v", m, err)
	}
	for _, tc := range []struct {
		name             string
		channel, message string
		status, code     int
	}{
		{"unknown message", gOpen, "7700000000000000099", http.StatusNotFound, discordgo.ErrCodeUnknownMessage},
		{"message in a channel of another id", gPublic, open.ID, http.StatusNotFound, discordgo.ErrCodeUnknownMessage},
		{"hidden channel", gHidden, hidden.ID, http.StatusForbidden, discordgo.ErrCodeMissingAccess},
		{"hidden channel, unknown message", gHidden, "7700000000000000099", http.StatusForbidden, discordgo.ErrCodeMissingAccess},
		{"private thread of a channel the bot cannot see", gInside, "7700000000000000099", http.StatusForbidden, discordgo.ErrCodeMissingAccess},
	} {
		_, err := s.ChannelMessage(tc.channel, tc.message)
		re := restError(t, err)
		if re.Response.StatusCode != tc.status || re.Message == nil || re.Message.Code != tc.code {
			t.Errorf("%s: %d %+v, want %d code %d", tc.name, re.Response.StatusCode, re.Message, tc.status, tc.code)
		}
	}
	if _, err := s.Channel(gHidden); restError(t, err).Message.Code != discordgo.ErrCodeMissingAccess {
		t.Errorf("GET a hidden channel: %v, want Missing Access", err)
	}
}

// Threads come as Discord sends them (type 11 or 12, parent_id, no
// overwrites), thread members answer 404 for non-members, and
// msglink.CanReadChannel over the stand-in's REST gives Discord's answers.
func TestThreadsAndCanReadChannel(t *testing.T) {
	_, s := guildFake(t)
	th, err := s.Channel(gPublic)
	if err != nil || th.Type != discordgo.ChannelTypeGuildPublicThread || th.ParentID != gOpen || th.GuildID != gGuild || !th.IsThread() {
		t.Fatalf("public thread = %+v, %v", th, err)
	}
	if th, err := s.Channel(gPrivate); err != nil || th.Type != discordgo.ChannelTypeGuildPrivateThread {
		t.Fatalf("private thread = %+v, %v", th, err)
	}
	if _, err := s.ThreadMember(gPrivate, botID, false); err != nil {
		t.Errorf("a thread member: %v", err)
	}
	if _, err := s.ThreadMember(gPublic, userID, false); restError(t, err).Response.StatusCode != http.StatusNotFound {
		t.Errorf("not a thread member: %v, want 404", err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		channel string
		users   []string
		want    bool
	}{
		{"#open, both", gOpen, []string{userID, botID}, true},
		{"#hidden: the bot fetching it is refused, whoever asks", gHidden, []string{userID}, false},
		{"#hidden, the bot", gHidden, []string{botID}, false},
		{"public thread of #open, both", gPublic, []string{userID, botID}, true},
		{"private thread of #open, its member", gPrivate, []string{botID}, true},
		{"private thread of #open, not its member", gPrivate, []string{userID, botID}, false},
		{"private thread of #hidden, both members, the bot blind to its parent", gInside, []string{userID, botID}, false},
		{"someone outside the guild", gOpen, []string{"7700000000000000050"}, false},
	} {
		got, _ := msglink.CanReadChannel(ctx, s, gGuild, tc.channel, tc.users...)
		if got != tc.want {
			t.Errorf("%s: CanReadChannel = %v, want %v", tc.name, got, tc.want)
		}
	}
}
