// Guild permissions as Discord serves them (route handlers run with s.mu held): the guild with its roles, a
// member's roles, and a channel with its permission overwrites.

package discord

import (
	"net/http"
	"slices"
	"strconv"
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
	// Roles include @everyone (ID = the guild's id).
	Roles []Role
	// Members are the guild's members' role ids, by user id.
	Members map[string][]string
	// Channels are the guild's text channels' overwrites, by channel id.
	Channels map[string][]Overwrite
}

// SetGuildAccess makes g's guild, members and channels answer
// GET /guilds/{id}, GET /guilds/{id}/members/{user.id} and
// GET /channels/{id}, replacing what was set for that guild.
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
	roles := make([]map[string]any, 0, len(g.Roles))
	for i, r := range g.Roles {
		roles = append(roles, map[string]any{
			"id": r.ID, "name": r.Name, "permissions": strconv.FormatInt(r.Permissions, 10),
			"color": 0, "hoist": false, "position": i, "managed": false, "mentionable": false,
		})
	}
	return jsonReply(http.StatusOK, map[string]any{"id": g.ID, "name": "guild", "owner_id": g.OwnerID, "roles": roles})
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
		"user": User{ID: c.params["user_id"], Username: "member"}.wire(), "roles": append([]string{}, roles...),
		"joined_at": time.Unix(0, 0).UTC().Format(timestampLayout), "deaf": false, "mute": false, "flags": 0,
	})
}

func (s *Server) getChannel(c *call) reply {
	id := c.params["channel_id"]
	for _, g := range s.guildAccess {
		ows, ok := g.Channels[id]
		if !ok {
			continue
		}
		out := make([]map[string]any, 0, len(ows))
		for _, o := range ows {
			out = append(out, map[string]any{
				"id": o.ID, "type": o.Type, "allow": strconv.FormatInt(o.Allow, 10), "deny": strconv.FormatInt(o.Deny, 10),
			})
		}
		return jsonReply(http.StatusOK, map[string]any{"id": id, "type": 0, "guild_id": g.ID, "name": "channel-" + id, "permission_overwrites": out})
	}
	return apiError(http.StatusNotFound, codeUnknownChannel, "Unknown Channel")
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
