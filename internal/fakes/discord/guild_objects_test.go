package discord_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/fakes/discord"
)

// namedGuild is guildFake's guild with names: the guild's, #open's and
// #hidden's, and userID's user; staff is mentionable.
func namedGuild(t *testing.T) (*discord.Server, *discordgo.Session) {
	t.Helper()
	fake, _, s := setup(t, discord.Options{Token: "test-token", BotUserID: botID})
	read := int64(discordgo.PermissionViewChannel | discordgo.PermissionReadMessageHistory)
	fake.SetGuildAccess(discord.GuildAccess{
		ID: gGuild, OwnerID: "7700000000000000009", Name: "Test Server",
		Roles: []discord.Role{
			{ID: gGuild, Name: "@everyone", Permissions: read},
			{ID: gStaff, Name: "staff", Mentionable: true},
			{ID: "7700000000000000008", Name: "quiet"},
		},
		Members:      map[string][]string{userID: {gStaff}, botID: nil},
		Users:        map[string]discord.User{userID: {Username: "alice"}},
		Channels:     map[string][]discord.Overwrite{gOpen: nil, gHidden: {{ID: gGuild, Deny: discordgo.PermissionViewChannel}}},
		ChannelNames: map[string]string{gOpen: "open", gHidden: "hidden"},
	})
	return fake, s
}

// The guild, its roles, its channels and a member come with the names
// given, as Get Guild, Get Guild Roles, Get Guild Channels, Get Channel and
// Get Guild Member answer.
func TestGuildObjectsHaveTheirNames(t *testing.T) {
	_, s := namedGuild(t)
	g, err := s.Guild(gGuild)
	if err != nil || g.Name != "Test Server" || len(g.Roles) != 3 {
		t.Fatalf("guild = %+v, %v", g, err)
	}
	roles, err := s.GuildRoles(gGuild)
	if err != nil || len(roles) != 3 || roles[1].Name != "staff" || !roles[1].Mentionable || roles[2].Mentionable {
		t.Fatalf("roles = %+v, %v", roles, err)
	}
	chans, err := s.GuildChannels(gGuild)
	if err != nil || len(chans) != 2 || chans[0].Name != "open" || chans[1].Name != "hidden" || chans[0].Type != discordgo.ChannelTypeGuildText {
		t.Fatalf("channels = %+v, %v", chans, err)
	}
	if ch, err := s.Channel(gOpen); err != nil || ch.Name != "open" || ch.ParentID != "" {
		t.Errorf("#open = %+v, %v", ch, err)
	}
	if m, err := s.GuildMember(gGuild, userID); err != nil || m.User.Username != "alice" || !slices.Equal(m.Roles, []string{gStaff}) {
		t.Errorf("member = %+v, %v", m, err)
	}
	if _, err := s.GuildRoles("7700000000000000077"); restError(t, err).Response.StatusCode != http.StatusNotFound {
		t.Errorf("roles of an unknown guild: %v, want 404", err)
	}
}

// A DM channel the bot opened answers Get Channel as type 1 with its
// recipient; one never opened is 404 Unknown Channel.
func TestGetDMChannel(t *testing.T) {
	_, s := namedGuild(t)
	dm, err := s.UserChannelCreate(userID)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Channel(dm.ID)
	if err != nil || ch.Type != discordgo.ChannelTypeDM || len(ch.Recipients) != 1 || ch.Recipients[0].ID != userID {
		t.Fatalf("DM channel = %+v, %v", ch, err)
	}
	if _, err := s.Channel("7700000000000000066"); restError(t, err).Message.Code != discordgo.ErrCodeUnknownChannel {
		t.Errorf("an unknown channel: %v, want Unknown Channel", err)
	}
}

// A user's message in a guild with access names its mentioned members with
// their users and partial members, carries its author's roles, and lists
// in mention_roles the roles mentioned that are mentionable (staff), not
// the others (quiet) nor @everyone's id.
func TestUserMessageMentionsAsDiscord(t *testing.T) {
	fake, _ := namedGuild(t)
	_, data, err := fake.RecordUserMessageEvent(discord.UserMessage{
		ChannelID: gOpen, GuildID: gGuild, Author: discord.User{ID: userID, Username: "alice"},
		Content: "hi <@" + userID + "> <@&" + gStaff + "> <@&7700000000000000008> <@&" + gGuild + "> <@&" + gStaff + ">",
	})
	if err != nil {
		t.Fatal(err)
	}
	var m discordgo.Message
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Mentions) != 1 || m.Mentions[0].Username != "alice" {
		t.Errorf("mentions = %+v", m.Mentions)
	}
	if !slices.Equal(m.MentionRoles, []string{gStaff}) {
		t.Errorf("mention_roles = %v, want only the mentionable staff", m.MentionRoles)
	}
	if m.Member == nil || !slices.Equal(m.Member.Roles, []string{gStaff}) || m.GuildID != gGuild {
		t.Errorf("member = %+v, guild %q", m.Member, m.GuildID)
	}
	// The owner may mention any role (MENTION_EVERYONE).
	_, data, err = fake.RecordUserMessageEvent(discord.UserMessage{
		ChannelID: gOpen, GuildID: gGuild, Author: discord.User{ID: "7700000000000000009"}, Content: "<@&7700000000000000008>",
	})
	var byOwner discordgo.Message
	if err != nil || json.Unmarshal(data, &byOwner) != nil || !slices.Equal(byOwner.MentionRoles, []string{"7700000000000000008"}) {
		t.Errorf("the owner's mention_roles = %v, %v; want quiet", byOwner.MentionRoles, err)
	}
}
