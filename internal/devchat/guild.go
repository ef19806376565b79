package devchat

// The offline chat's server: the guild, roles, channels and members the
// Discord stand-in holds (GET /guilds/{id}, /guilds/{id}/roles,
// /guilds/{id}/channels, /guilds/{id}/members/{user}, /channels/{id}) and
// the bot's state cache has, as the gateway's GUILD_CREATE and
// CHANNEL_CREATE would fill it.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// The chat guild's other member, its owner, and its roles besides @everyone
// (whose id is the guild's).
const (
	ChatOwnerID       = "100000000000000002"
	ChatOwnerName     = "rosa"
	ChatGuildName     = "Tzurot Dev"
	ChatRegularsRole  = "1300000000000000002"
	ChatStaffRole     = "1300000000000000003"
	chatBotRole       = "1300000000000000004"
	chatStaffChannel  = "staff"
	chatStaffGreeting = "Staff only: the launch moves to Friday."
)

// Discord's permission bits the chat's roles use
// (https://discord.com/developers/docs/topics/permissions).
const (
	everyonePerms = discordgo.PermissionCreateInstantInvite | discordgo.PermissionAddReactions |
		discordgo.PermissionViewChannel | discordgo.PermissionSendMessages | discordgo.PermissionEmbedLinks |
		discordgo.PermissionAttachFiles | discordgo.PermissionReadMessageHistory | discordgo.PermissionUseExternalEmojis |
		discordgo.PermissionVoiceConnect | discordgo.PermissionVoiceSpeak | discordgo.PermissionChangeNickname |
		discordgo.PermissionUseApplicationCommands
	botPerms   = everyonePerms | discordgo.PermissionManageWebhooks
	staffPerms = everyonePerms | discordgo.PermissionManageMessages | discordgo.PermissionMentionEveryone
)

// guild is the chat's server as the stand-in holds it: ChatGuildID, owned
// by rosa, with the roles @everyone, regulars (yours, mentionable), staff
// (rosa's) and Tzurot (the bot's); #general, #staff (only staff and the bot
// read it) and each channel /channel creates.
type guild struct {
	mu     sync.Mutex
	access fakediscord.GuildAccess
}

func newGuild(botID, botName string) *guild {
	_, staffID := channelNamed(chatStaffChannel)
	return &guild{access: fakediscord.GuildAccess{
		ID: ChatGuildID, OwnerID: ChatOwnerID, Name: ChatGuildName,
		Roles: []fakediscord.Role{
			{ID: ChatGuildID, Name: "@everyone", Permissions: everyonePerms},
			{ID: ChatRegularsRole, Name: "regulars", Mentionable: true},
			{ID: ChatStaffRole, Name: "staff", Permissions: staffPerms},
			{ID: chatBotRole, Name: botName, Permissions: botPerms},
		},
		Members: map[string][]string{ChatUserID: {ChatRegularsRole}, ChatOwnerID: {ChatStaffRole}, botID: {chatBotRole}},
		Users: map[string]fakediscord.User{
			ChatUserID:  {Username: ChatUsername, GlobalName: ChatGlobalName, Discriminator: "0"},
			ChatOwnerID: {Username: ChatOwnerName, Discriminator: "0"},
			botID:       {Username: botName, Discriminator: "0", Bot: true},
		},
		Channels: map[string][]fakediscord.Overwrite{
			ChatChannelID: nil,
			staffID: {
				{ID: ChatGuildID, Type: 0, Deny: discordgo.PermissionViewChannel},
				{ID: ChatStaffRole, Type: 0, Allow: discordgo.PermissionViewChannel},
				{ID: chatBotRole, Type: 0, Allow: discordgo.PermissionViewChannel},
			},
		},
		ChannelNames: map[string]string{ChatChannelID: strings.TrimPrefix(ChatChannel, "#"), staffID: chatStaffChannel},
	}}
}

// snapshotLocked is a copy of the guild for the stand-in, which reads it
// on its own goroutines while addChannel changes the chat's.
func (g *guild) snapshotLocked() fakediscord.GuildAccess {
	a := g.access
	a.Roles = slices.Clone(a.Roles)
	a.Members = maps.Clone(a.Members)
	a.Users = maps.Clone(a.Users)
	a.Channels = maps.Clone(a.Channels)
	a.ChannelNames = maps.Clone(a.ChannelNames)
	return a
}

// openGuild gives the stand-in the chat's guild, posts rosa's message in
// #staff (so a link to it can be tried) and fills the bot's state cache as
// the gateway would.
func (c *Chat) openGuild(ctx context.Context) {
	c.guild.mu.Lock()
	c.opts.Discord.SetGuildAccess(c.guild.snapshotLocked())
	c.guild.mu.Unlock()
	_, staffID := channelNamed(chatStaffChannel)
	if _, err := c.opts.Discord.RecordUserMessage(fakediscord.UserMessage{
		ChannelID: staffID, GuildID: ChatGuildID, Author: fakediscord.User{ID: ChatOwnerID, Username: ChatOwnerName},
		Content: chatStaffGreeting,
	}); err != nil {
		c.println("The offline server's #staff is empty: " + err.Error())
	}
	s := c.opts.Bot.Session
	if s == nil || s.State == nil {
		return
	}
	opt := discordgo.WithContext(ctx)
	g, err := s.Guild(ChatGuildID, opt)
	if err == nil {
		g.Channels, err = s.GuildChannels(ChatGuildID, opt)
	}
	if err != nil {
		c.println("The bot does not know the offline server: " + err.Error())
		return
	}
	for _, id := range []string{ChatUserID, ChatOwnerID, c.opts.Discord.BotUserID()} {
		if m, err := s.GuildMember(ChatGuildID, id, opt); err == nil {
			m.GuildID = ChatGuildID
			g.Members = append(g.Members, m)
		}
	}
	g.MemberCount = len(g.Members)
	_ = s.State.GuildAdd(g)
}

// addChannel makes name (#name) a channel of the guild, readable by all,
// unless it is one already: the stand-in then answers for it and the bot's
// state has it, as after CHANNEL_CREATE.
func (c *Chat) addChannel(ctx context.Context, name, id string) {
	c.guild.mu.Lock()
	if _, ok := c.guild.access.Channels[id]; ok {
		c.guild.mu.Unlock()
		return
	}
	c.guild.access.Channels[id] = nil
	c.guild.access.ChannelNames[id] = strings.TrimPrefix(name, "#")
	c.opts.Discord.SetGuildAccess(c.guild.snapshotLocked())
	c.guild.mu.Unlock()
	if s := c.opts.Bot.Session; s != nil && s.State != nil {
		if ch, err := s.Channel(id, discordgo.WithContext(ctx)); err == nil {
			_ = s.State.ChannelAdd(ch)
		}
	}
}

// moveTo is /channel NAME: the channel, made if new; #staff is refused, as
// Discord does not show it to you.
func (c *Chat) moveTo(ctx context.Context, arg string) {
	name, id := channelNamed(arg)
	if !c.canRead(id) {
		c.println("You cannot see " + name + ": only the staff role and the bot read it. /link " + name + " gives a link to its message, which a personality will not follow for you.")
		return
	}
	c.addChannel(ctx, name, id)
	c.mu.Lock()
	c.channel = id
	c.channels[id] = name
	c.mu.Unlock()
	c.println("You are in " + name + ".")
}

// canRead reports whether you see channel id (every channel but #staff).
func (c *Chat) canRead(id string) bool {
	_, staffID := channelNamed(chatStaffChannel)
	return id != staffID
}

// guildChannel is the channel of the guild called name, with or without #.
func (c *Chat) guildChannel(name string) (id string, ok bool) {
	name = strings.ToLower(strings.TrimPrefix(name, "#"))
	c.guild.mu.Lock()
	defer c.guild.mu.Unlock()
	for id, n := range c.guild.access.ChannelNames {
		if n == name {
			return id, true
		}
	}
	return "", false
}

// mentionName is what a Discord client shows for a mention: kind "@" (a
// user), "#" (a channel) or "@&" (a role) with its id; "" when the guild
// has no such member, channel or role.
func (c *Chat) mentionName(kind, id string) string {
	c.guild.mu.Lock()
	defer c.guild.mu.Unlock()
	a := &c.guild.access
	switch kind {
	case "#":
		if n, ok := a.ChannelNames[id]; ok {
			return "#" + n
		}
	case "@&":
		for _, r := range a.Roles {
			if r.ID == id {
				return "@" + strings.TrimPrefix(r.Name, "@")
			}
		}
	default:
		if u, ok := a.Users[id]; ok {
			return "@" + u.Username
		}
	}
	return ""
}

// typedMention finds what `@name`, `@&role` or `#channel` typed in the chat
// names: Discord's <@id>, <@&id> or <#id> form, as a client's autocomplete
// writes it; "" when nothing of the guild has that name (a personality's
// @alias stays text).
func (c *Chat) typedMention(sigil, name string) string {
	name = strings.ToLower(name)
	c.guild.mu.Lock()
	defer c.guild.mu.Unlock()
	a := &c.guild.access
	switch sigil {
	case "#":
		for id, n := range a.ChannelNames {
			if n == name && c.canRead(id) {
				return "<#" + id + ">"
			}
		}
	case "@&":
		for _, r := range a.Roles {
			if strings.ToLower(r.Name) == name && r.ID != a.ID {
				return "<@&" + r.ID + ">"
			}
		}
	default:
		if name == "you" || name == "me" {
			return "<@" + ChatUserID + ">" // the chat calls you "you"
		}
		for id, u := range a.Users {
			if strings.ToLower(u.Username) == name {
				return "<@" + id + ">"
			}
		}
	}
	return ""
}

// channelNames are the guild's channels you see, "#name", sorted.
func (c *Chat) channelNames() []string {
	c.guild.mu.Lock()
	defer c.guild.mu.Unlock()
	var out []string
	for id, n := range c.guild.access.ChannelNames {
		if c.canRead(id) {
			out = append(out, "#"+n)
		}
	}
	sort.Strings(out)
	return out
}

// post records text as your message in the current channel (a reply to ref
// when set) and hands the bot the MESSAGE_CREATE Discord would send: the
// message exists for GET /channels/{id}/messages/{id} (links, reply
// chains), and its mentions, member and mention_roles are the guild's.
func (c *Chat) post(ctx context.Context, ch, guildID, text string, ref *discordgo.Message) int {
	um := fakediscord.UserMessage{ChannelID: ch, GuildID: guildID, Content: text,
		Author: fakediscord.User{ID: ChatUserID, Username: ChatUsername, GlobalName: ChatGlobalName}}
	if ref != nil {
		um.ReferencedMessageID = ref.ID
	}
	_, data, err := c.opts.Discord.RecordUserMessageEvent(um)
	var m discordgo.Message
	if err == nil {
		err = m.UnmarshalJSON(data)
	}
	if err != nil {
		c.println(fmt.Sprintf("Could not post your message: %v", err))
		return 0
	}
	if m.Timestamp.IsZero() {
		m.Timestamp = time.Now()
	}
	if m.ReferencedMessage == nil && ref != nil {
		m.ReferencedMessage = ref
	}
	return c.opts.Bot.HandleMessage(ctx, &discordgo.MessageCreate{Message: &m})
}
