package msglink

import (
	"reflect"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestParse(t *testing.T) {
	const g, c, m = "111111111111111111", "222222222222222222", "333333333333333333"
	for _, tc := range []struct {
		name, text string
		want       []Link
	}{
		{"discord.com", "see https://discord.com/channels/" + g + "/" + c + "/" + m + " there", []Link{{g, c, m}}},
		{"ptb", "https://ptb.discord.com/channels/" + g + "/" + c + "/" + m, []Link{{g, c, m}}},
		{"canary", "https://canary.discord.com/channels/" + g + "/" + c + "/" + m, []Link{{g, c, m}}},
		{"discordapp.com", "<https://discordapp.com/channels/" + g + "/" + c + "/" + m + ">", []Link{{g, c, m}}},
		{"DM", "https://discord.com/channels/@me/" + c + "/" + m, []Link{{"@me", c, m}}},
		{"twice, once kept", "https://discord.com/channels/" + g + "/" + c + "/" + m + " https://ptb.discord.com/channels/" + g + "/" + c + "/" + m, []Link{{g, c, m}}},
		{"channel link only", "https://discord.com/channels/" + g + "/" + c, nil},
		{"other host", "https://evil.example/channels/" + g + "/" + c + "/" + m, nil},
		{"http", "http://discord.com/channels/" + g + "/" + c + "/" + m, nil},
		{"lookalike host", "https://notdiscord.com/channels/" + g + "/" + c + "/" + m, nil},
	} {
		if got := Parse(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Parse = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The permissions of a member in a channel as the bot computes them from
// its gateway state (discordgo's State.UserChannelPermissions, Discord's
// documented order: @everyone, roles, overwrites for @everyone, roles, the
// member; administrator bypasses), then CanRead.
func TestCanReadFromState(t *testing.T) {
	const guild, channel, user, role, admin = "100000000000000001", "100000000000000002", "100000000000000003", "100000000000000004", "100000000000000005"
	read := int64(discordgo.PermissionViewChannel | discordgo.PermissionReadMessageHistory | discordgo.PermissionSendMessages)
	everyoneDeny := &discordgo.PermissionOverwrite{ID: guild, Type: discordgo.PermissionOverwriteTypeRole, Deny: discordgo.PermissionViewChannel}
	roleAllow := &discordgo.PermissionOverwrite{ID: role, Type: discordgo.PermissionOverwriteTypeRole, Allow: discordgo.PermissionViewChannel}
	memberDeny := &discordgo.PermissionOverwrite{ID: user, Type: discordgo.PermissionOverwriteTypeMember, Deny: discordgo.PermissionViewChannel}
	for _, tc := range []struct {
		name       string
		everyone   int64
		roles      []string
		overwrites []*discordgo.PermissionOverwrite
		want       bool
	}{
		{"no overwrites", read, nil, nil, true},
		{"@everyone denied", read, []string{role}, []*discordgo.PermissionOverwrite{everyoneDeny}, false},
		{"@everyone denied, role allowed", read, []string{role}, []*discordgo.PermissionOverwrite{everyoneDeny, roleAllow}, true},
		{"role allowed, member denied", read, []string{role}, []*discordgo.PermissionOverwrite{everyoneDeny, roleAllow, memberDeny}, false},
		{"administrator bypasses denies", read, []string{admin}, []*discordgo.PermissionOverwrite{everyoneDeny, memberDeny}, true},
		{"no READ_MESSAGE_HISTORY", discordgo.PermissionViewChannel, nil, nil, false},
	} {
		st := discordgo.NewState()
		g := &discordgo.Guild{ID: guild, OwnerID: "100000000000000009", Roles: []*discordgo.Role{
			{ID: guild, Name: "@everyone", Permissions: tc.everyone},
			{ID: role, Name: "members"},
			{ID: admin, Name: "admins", Permissions: discordgo.PermissionAdministrator},
		}}
		if err := st.GuildAdd(g); err != nil {
			t.Fatal(err)
		}
		if err := st.ChannelAdd(&discordgo.Channel{ID: channel, GuildID: guild, PermissionOverwrites: tc.overwrites}); err != nil {
			t.Fatal(err)
		}
		if err := st.MemberAdd(&discordgo.Member{GuildID: guild, User: &discordgo.User{ID: user}, Roles: tc.roles}); err != nil {
			t.Fatal(err)
		}
		perms, err := st.UserChannelPermissions(user, channel)
		if err != nil {
			t.Fatal(err)
		}
		if got := CanRead(perms); got != tc.want {
			t.Errorf("%s: CanRead(%b) = %v, want %v", tc.name, perms, got, tc.want)
		}
	}
}
