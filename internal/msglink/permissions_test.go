package msglink

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"
)

const (
	guild    = "100000000000000001"
	channel  = "100000000000000002"
	user     = "100000000000000003"
	roleA    = "100000000000000004"
	roleB    = "100000000000000005"
	adminR   = "100000000000000006"
	owner    = "100000000000000009"
	thread   = "100000000000000010"
	private  = "100000000000000011"
	stranger = "100000000000000012"
	modR     = "100000000000000013"
)

const (
	view    = discordgo.PermissionViewChannel
	history = discordgo.PermissionReadMessageHistory
	read    = view | history | discordgo.PermissionSendMessages
)

func testGuild(everyone int64) *discordgo.Guild {
	return &discordgo.Guild{ID: guild, OwnerID: owner, Roles: []*discordgo.Role{
		{ID: guild, Name: "@everyone", Permissions: everyone},
		{ID: roleA, Name: "a"},
		{ID: roleB, Name: "b", Permissions: view | history},
		{ID: adminR, Name: "admins", Permissions: discordgo.PermissionAdministrator},
		{ID: modR, Name: "mods", Permissions: discordgo.PermissionManageThreads},
	}}
}

func ow(id string, typ discordgo.PermissionOverwriteType, allow, deny int64) *discordgo.PermissionOverwrite {
	return &discordgo.PermissionOverwrite{ID: id, Type: typ, Allow: allow, Deny: deny}
}

func role(id string, allow, deny int64) *discordgo.PermissionOverwrite {
	return ow(id, discordgo.PermissionOverwriteTypeRole, allow, deny)
}

func member(id string, allow, deny int64) *discordgo.PermissionOverwrite {
	return ow(id, discordgo.PermissionOverwriteTypeMember, allow, deny)
}

// Each case of Discord's documented computation: base permissions from
// @everyone and the member's roles, the owner and ADMINISTRATOR (which no
// overwrite touches), then the overwrites of @everyone, of the member's
// roles combined, and of the member, in that order; reading needs both
// VIEW_CHANNEL and READ_MESSAGE_HISTORY.
func TestChannelPermissionsCanRead(t *testing.T) {
	for _, tc := range []struct {
		name       string
		userID     string
		everyone   int64
		roles      []string
		overwrites []*discordgo.PermissionOverwrite
		want       bool
	}{
		{"@everyone reads, no overwrites", user, read, nil, nil, true},
		{"@everyone cannot view", user, history, nil, nil, false},
		{"a role grants what @everyone lacks", user, 0, []string{roleB}, nil, true},
		{"a role the guild does not list adds nothing", user, 0, []string{"100000000000000099"}, nil, false},
		{"the owner reads through every deny", owner, 0, nil, []*discordgo.PermissionOverwrite{role(guild, 0, view), member(owner, 0, view|history)}, true},
		{"ADMINISTRATOR ignores overwrites", user, 0, []string{adminR}, []*discordgo.PermissionOverwrite{role(guild, 0, view), role(adminR, 0, view), member(user, 0, view|history)}, true},
		{"@everyone overwrite denies", user, read, nil, []*discordgo.PermissionOverwrite{role(guild, 0, view)}, false},
		{"@everyone overwrite allows", user, 0, nil, []*discordgo.PermissionOverwrite{role(guild, view|history, 0)}, true},
		{"@everyone denied, a role allowed", user, read, []string{roleA}, []*discordgo.PermissionOverwrite{role(guild, 0, view), role(roleA, view, 0)}, true},
		{"@everyone allowed, a role denied", user, 0, []string{roleA}, []*discordgo.PermissionOverwrite{role(guild, view|history, 0), role(roleA, 0, view)}, false},
		{"roles combined: one denies, another allows, allow wins", user, read, []string{roleA, roleB}, []*discordgo.PermissionOverwrite{role(roleA, 0, view), role(roleB, view, 0)}, true},
		{"a role overwrite of a role the member lacks", user, read, []string{roleA}, []*discordgo.PermissionOverwrite{role(roleB, 0, view)}, true},
		{"a role allowed, the member denied", user, read, []string{roleA}, []*discordgo.PermissionOverwrite{role(guild, 0, view), role(roleA, view, 0), member(user, 0, view)}, false},
		{"a role denied, the member allowed", user, read, []string{roleA}, []*discordgo.PermissionOverwrite{role(roleA, 0, view), member(user, view, 0)}, true},
		{"another member's overwrite", user, read, nil, []*discordgo.PermissionOverwrite{member(stranger, 0, view)}, true},
		{"a member overwrite with the guild's id is not @everyone's", user, read, nil, []*discordgo.PermissionOverwrite{member(guild, 0, view)}, true},
		{"no READ_MESSAGE_HISTORY", user, view, nil, nil, false},
		{"READ_MESSAGE_HISTORY denied in the channel", user, read, nil, []*discordgo.PermissionOverwrite{role(guild, 0, history)}, false},
	} {
		perms := ChannelPermissions(testGuild(tc.everyone), &discordgo.Channel{ID: channel, GuildID: guild, PermissionOverwrites: tc.overwrites}, tc.userID, tc.roles)
		if got := CanRead(perms); got != tc.want {
			t.Errorf("%s: CanRead(%b) = %v, want %v", tc.name, perms, got, tc.want)
		}
	}
}

// The owner and administrators have every permission, MANAGE_THREADS
// (1<<34) included, which discordgo's PermissionAll lacks.
func TestOwnerHasEveryPermission(t *testing.T) {
	g := testGuild(0)
	for _, who := range []struct {
		id    string
		roles []string
	}{{owner, nil}, {user, []string{adminR}}} {
		if p := ChannelPermissions(g, &discordgo.Channel{ID: channel, GuildID: guild}, who.id, who.roles); p&discordgo.PermissionManageThreads == 0 {
			t.Errorf("%s: %b lacks MANAGE_THREADS", who.id, p)
		}
	}
}

// fetcher serves a guild's channels, members and thread members from maps,
// answering 404 as Discord does for what it lacks.
type fetcher struct {
	guild    *discordgo.Guild
	channels map[string]*discordgo.Channel
	members  map[string][]string
	threads  map[string][]string
}

func notFoundErr() error {
	return &discordgo.RESTError{Response: &http.Response{StatusCode: http.StatusNotFound}}
}

func (f fetcher) Channel(id string, _ ...discordgo.RequestOption) (*discordgo.Channel, error) {
	if c, ok := f.channels[id]; ok {
		return c, nil
	}
	return nil, notFoundErr()
}

func (f fetcher) Guild(id string, _ ...discordgo.RequestOption) (*discordgo.Guild, error) {
	if id == f.guild.ID {
		return f.guild, nil
	}
	return nil, notFoundErr()
}

func (f fetcher) GuildMember(_, id string, _ ...discordgo.RequestOption) (*discordgo.Member, error) {
	if roles, ok := f.members[id]; ok {
		return &discordgo.Member{User: &discordgo.User{ID: id}, Roles: roles}, nil
	}
	return nil, notFoundErr()
}

func (f fetcher) ThreadMember(threadID, id string, _ bool, _ ...discordgo.RequestOption) (*discordgo.ThreadMember, error) {
	for _, m := range f.threads[threadID] {
		if m == id {
			return &discordgo.ThreadMember{ID: threadID, UserID: id}, nil
		}
	}
	return nil, notFoundErr()
}

// Threads read as their parent channel does (its overwrites, never their
// own); a private thread also needs membership or MANAGE_THREADS, and
// VIEW_CHANNEL on the parent in any case; someone outside the guild reads
// nothing.
func TestCanReadChannelThreadsAndMembers(t *testing.T) {
	const otherGuildChan = "100000000000000020"
	for _, tc := range []struct {
		name      string
		parentOws []*discordgo.PermissionOverwrite
		channelID string
		roles     []string
		threadMem bool
		userID    string
		want      bool
	}{
		{"a public thread of a readable channel", nil, thread, nil, false, user, true},
		{"a public thread of a channel denied to @everyone", []*discordgo.PermissionOverwrite{role(guild, 0, view)}, thread, nil, false, user, false},
		{"a public thread of a channel a role allows", []*discordgo.PermissionOverwrite{role(guild, 0, view), role(roleA, view, 0)}, thread, []string{roleA}, false, user, true},
		{"a private thread, not a member", nil, private, nil, false, user, false},
		{"a private thread, a member", nil, private, nil, true, user, true},
		{"a private thread, MANAGE_THREADS", nil, private, []string{modR}, false, user, true},
		{"a private thread, a member without VIEW_CHANNEL on the parent", []*discordgo.PermissionOverwrite{member(user, 0, view)}, private, nil, true, user, false},
		{"a private thread, the owner", nil, private, nil, false, owner, true},
		{"not a member of the guild", nil, channel, nil, false, stranger, false},
	} {
		f := fetcher{
			guild: testGuild(read),
			channels: map[string]*discordgo.Channel{
				channel: {ID: channel, GuildID: guild, Type: discordgo.ChannelTypeGuildText, PermissionOverwrites: tc.parentOws},
				// A thread's own overwrites are never used: Discord sends none.
				thread:         {ID: thread, GuildID: guild, ParentID: channel, Type: discordgo.ChannelTypeGuildPublicThread, PermissionOverwrites: []*discordgo.PermissionOverwrite{role(guild, view|history, 0)}},
				private:        {ID: private, GuildID: guild, ParentID: channel, Type: discordgo.ChannelTypeGuildPrivateThread},
				otherGuildChan: {ID: otherGuildChan, GuildID: "100000000000000021"},
			},
			members: map[string][]string{user: tc.roles, owner: nil},
			threads: map[string][]string{},
		}
		if tc.threadMem {
			f.threads[private] = []string{tc.userID}
		}
		got, err := CanReadChannel(context.Background(), f, guild, tc.channelID, tc.userID)
		if err != nil || got != tc.want {
			t.Errorf("%s: CanReadChannel = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	f := fetcher{guild: testGuild(read), channels: map[string]*discordgo.Channel{
		channel:        {ID: channel, GuildID: guild},
		otherGuildChan: {ID: otherGuildChan, GuildID: "100000000000000021"},
	}, members: map[string][]string{user: nil}}
	if ok, err := CanReadChannel(context.Background(), f, guild, otherGuildChan, user); ok || !errors.Is(err, ErrOtherGuild) {
		t.Errorf("a channel of another guild: %v, %v; want false, ErrOtherGuild", ok, err)
	}
	if ok, err := CanReadChannel(context.Background(), f, guild, channel, user, stranger); ok || err != nil {
		t.Errorf("two users, one outside the guild: %v, %v; want false, nil", ok, err)
	}
	if ok, err := CanReadChannel(context.Background(), f, guild, "100000000000000030", user); ok || err == nil {
		t.Errorf("an unknown channel: %v, %v; want false and the error", ok, err)
	}
}
