// Guild permissions as Discord serves them (route handlers run with s.mu held): the guild with its roles, a
// member's roles, and a channel with its permission overwrites.

package discord

import (
	"net/http"
	"slices"
	"time"
)

// Discord's error codes for unknown guilds, channels and members.
const (
	codeUnknownChannel = 10003
	codeUnknownGuild   = 10004
	codeUnknownMember  = 10007
)

// Role is a guild role (https://discord.com/developers/docs/topics/permissions#role-object);
// the @everyone role's id is the guild's.
type Role struct {
	ID, Name    string
	Permissions int64
	// Mentionable lets anyone mention the role (<@&id> then lands in a
	// message's mention_roles); otherwise only those with MENTION_EVERYONE.
	Mentionable bool
}

// Overwrite is a channel permission overwrite
// (https://discord.com/developers/docs/resources/channel#overwrite-object):
// Type 0 for a role, 1 for a member.
type Overwrite struct {
	ID          string
	Type        int
	Allow, Deny int64
}

// GuildAccess is what decides who may read which channel of a guild.
type GuildAccess struct {
	ID, OwnerID string
	// Name is the guild's name; "guild" when empty.
	Name string
	// Roles include @everyone (ID = the guild's id).
	Roles []Role
	// Members are the guild's members' role ids, by user id.
	Members map[string][]string
	// Channels are the guild's text channels' overwrites, by channel id.
	Channels map[string][]Overwrite
	// ChannelNames are the text channels' names, by channel id;
	// "channel-<id>" when missing.
	ChannelNames map[string]string
	// Users are the members' user objects, by user id (GET member, the
	// mentions of a message); a member missing here is "member".
	Users map[string]User
	// Threads are the guild's threads, by channel id; each reads as its
	// parent channel (one of Channels) does.
	Threads map[string]Thread
}

// Thread is a thread channel
// (https://discord.com/developers/docs/topics/threads): public (type 11)
// or private (type 12), which only its Members and those with
// MANAGE_THREADS in the parent may read.
type Thread struct {
	ParentID string
	Private  bool
	Members  []string
}

// Discord's permission bits the stand-in itself checks
// (https://discord.com/developers/docs/topics/permissions).
const (
	permAdministrator      = 1 << 3
	permViewChannel        = 1 << 10
	permReadMessageHistory = 1 << 16
	permManageThreads      = 1 << 34
)

// permissions are userID's in a channel of g, as Discord computes them:
// the owner and ADMINISTRATOR have all; else @everyone's and the member's
// roles' permissions, then the channel's overwrites for @everyone, for the
// member's roles together, and for the member. A thread has its parent's.
func (g *GuildAccess) permissions(channelID, userID string) int64 {
	if th, ok := g.Threads[channelID]; ok {
		channelID = th.ParentID
	}
	if userID == g.OwnerID {
		return -1
	}
	roles, member := g.Members[userID]
	if !member {
		return 0
	}
	var p int64
	for _, r := range g.Roles {
		if r.ID == g.ID || slices.Contains(roles, r.ID) {
			p |= r.Permissions
		}
	}
	if p&permAdministrator != 0 {
		return -1
	}
	ows := g.Channels[channelID]
	for _, o := range ows {
		if o.Type == 0 && o.ID == g.ID {
			p = p&^o.Deny | o.Allow
		}
	}
	var deny, allow int64
	for _, o := range ows {
		if o.Type == 0 && slices.Contains(roles, o.ID) {
			deny, allow = deny|o.Deny, allow|o.Allow
		}
	}
	p = p&^deny | allow
	for _, o := range ows {
		if o.Type == 1 && o.ID == userID {
			p = p&^o.Deny | o.Allow
		}
	}
	return p
}

// canSee reports whether userID sees channelID (VIEW_CHANNEL; for a
// private thread, also membership or MANAGE_THREADS).
func (g *GuildAccess) canSee(channelID, userID string) bool {
	p := g.permissions(channelID, userID)
	if p&permViewChannel == 0 {
		return false
	}
	th, ok := g.Threads[channelID]
	return !ok || !th.Private || p&permManageThreads != 0 || slices.Contains(th.Members, userID)
}

// channelGuildLocked is the guild whose access was set that holds
// channelID (a channel or thread), or nil.
func (s *Server) channelGuildLocked(channelID string) *GuildAccess {
	for _, g := range s.guildAccess {
		if _, ok := g.Channels[channelID]; ok {
			return g
		}
		if _, ok := g.Threads[channelID]; ok {
			return g
		}
	}
	return nil
}

// missingAccess is Discord's answer to the bot about a channel it cannot
// see: 403 with JSON code 50001.
func missingAccess() reply {
	return apiError(http.StatusForbidden, codeMissingAccess, "Missing Access")
}

// botReadsLocked is the refusal, if any, of reading channelID's messages
// as the bot: 403 Missing Access when the channel is in a guild set by
// SetGuildAccess and the bot lacks VIEW_CHANNEL or READ_MESSAGE_HISTORY
// there (or a private thread's membership).
func (s *Server) botReadsLocked(channelID string) *reply {
	g := s.channelGuildLocked(channelID)
	if g == nil {
		return nil
	}
	if !g.canSee(channelID, s.opts.BotUserID) || g.permissions(channelID, s.opts.BotUserID)&permReadMessageHistory == 0 {
		return missingAccess().ptr()
	}
	return nil
}

// SetGuildAccess makes g's guild, members, channels and threads answer
// GET /guilds/{id}, GET /guilds/{id}/members/{user.id}, GET /channels/{id}
// and GET /channels/{id}/thread-members/{user.id}, replacing what was set
// for that guild; the bot (Options.BotUserID) is then refused (403 Missing
// Access) the channels and messages it cannot read there.
func (s *Server) SetGuildAccess(g GuildAccess) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guildAccess == nil {
		s.guildAccess = map[string]*GuildAccess{}
	}
	s.guildAccess[g.ID] = &g
}

func (s *Server) getGuild(c *call) reply {
	g := s.guildAccess[c.params["guild_id"]]
	if g == nil {
		return apiError(http.StatusNotFound, codeUnknownGuild, "Unknown Guild")
	}
	return jsonReply(http.StatusOK, map[string]any{"id": g.ID, "name": g.name(), "owner_id": g.OwnerID, "roles": g.rolesWire()})
}

func (s *Server) getGuildMember(c *call) reply {
	g := s.guildAccess[c.params["guild_id"]]
	if g == nil {
		return apiError(http.StatusNotFound, codeUnknownGuild, "Unknown Guild")
	}
	roles, ok := g.Members[c.params["user_id"]]
	if !ok {
		return apiError(http.StatusNotFound, codeUnknownMember, "Unknown Member")
	}
	return jsonReply(http.StatusOK, map[string]any{
		"user": g.user(c.params["user_id"]).wire(), "roles": append([]string{}, roles...),
		"joined_at": time.Unix(0, 0).UTC().Format(timestampLayout), "deaf": false, "mute": false, "flags": 0,
	})
}

// getChannel answers GET /channels/{id} for a channel or thread of a guild
// set by SetGuildAccess; 403 Missing Access when the bot cannot see it.
func (s *Server) getChannel(c *call) reply {
	id := c.params["channel_id"]
	g := s.channelGuildLocked(id)
	if g == nil {
		return s.getDMChannel(id)
	}
	if !g.canSee(id, s.opts.BotUserID) {
		return missingAccess()
	}
	if th, ok := g.Threads[id]; ok {
		typ := 11
		if th.Private {
			typ = 12
		}
		// A thread carries no permission_overwrites: it has its parent's.
		return jsonReply(http.StatusOK, map[string]any{
			"id": id, "type": typ, "guild_id": g.ID, "parent_id": th.ParentID, "name": "thread-" + id,
			"member_count": len(th.Members), "message_count": len(s.channelMessages[id]),
			"thread_metadata": map[string]any{
				"archived": false, "auto_archive_duration": 1440, "locked": false, "invitable": !th.Private,
				"archive_timestamp": time.Unix(0, 0).UTC().Format(timestampLayout),
			},
		})
	}
	return jsonReply(http.StatusOK, g.channelWire(id))
}

// getThreadMember answers GET /channels/{id}/thread-members/{user.id}: a
// thread member object, or 404 when the user is not in the thread.
func (s *Server) getThreadMember(c *call) reply {
	id, user := c.params["channel_id"], c.params["user_id"]
	g := s.channelGuildLocked(id)
	if g == nil {
		return apiError(http.StatusNotFound, codeUnknownChannel, "Unknown Channel")
	}
	if !g.canSee(id, s.opts.BotUserID) {
		return missingAccess()
	}
	th, ok := g.Threads[id]
	if !ok || !slices.Contains(th.Members, user) {
		return apiError(http.StatusNotFound, codeUnknownMember, "Unknown Member")
	}
	return jsonReply(http.StatusOK, map[string]any{
		"id": id, "user_id": user, "join_timestamp": time.Unix(0, 0).UTC().Format(timestampLayout), "flags": 0,
	})
}

// BotUserID is the bot's user id (Options.BotUserID).
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// leaveGuild is Leave Guild (DELETE /users/@me/guilds/{guild.id},
// https://discord.com/developers/docs/resources/user#leave-guild): 204 No
// Content, and the bot is out of the guild — later READYs leave it out,
// running sessions with the GUILDS intent get its GUILD_DELETE (without
// "unavailable": the bot was removed, not an outage), and GET /guilds/{id}
// answers Unknown Guild. A guild the bot is not in (never added with
// AddGuild or SetGuildAccess, or left already) is 404 Unknown Guild (10004).
func (s *Server) leaveGuild(c *call) reply {
	id := c.params["guild_id"]
	_, withAccess := s.guildAccess[id]
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.initLocked()
	i := slices.IndexFunc(s.gw.guilds, func(g Guild) bool { return g.ID == id })
	if i < 0 && !withAccess {
		return apiError(http.StatusNotFound, codeUnknownGuild, "Unknown Guild")
	}
	delete(s.guildAccess, id)
	if i >= 0 {
		s.gw.guilds = slices.Delete(s.gw.guilds, i, i+1)
	}
	s.leftGuilds = append(s.leftGuilds, id)
	for _, sess := range s.gw.sortedSessionsLocked() {
		if sess.intents&intentGuilds != 0 {
			_ = s.gw.dispatchLocked(sess, "GUILD_DELETE", map[string]any{"id": id})
		}
	}
	return noContent()
}

// LeftGuilds are the ids of the guilds the bot left (Leave Guild), in order.
func (s *Server) LeftGuilds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.leftGuilds)
}
