// Guild objects as Discord serves them (route handlers run with s.mu held):
// the guild's roles and channels by name, its members' users, DM channels,
// and the mentions of a user's message in a guild set by SetGuildAccess.

package discord

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
)

// permMentionEveryone lets a member mention any role, mentionable or not
// (https://discord.com/developers/docs/topics/permissions).
const permMentionEveryone = 1 << 17

func (g *GuildAccess) name() string {
	if g.Name == "" {
		return "guild"
	}
	return g.Name
}

// user is member userID's user object: Users', else "member".
func (g *GuildAccess) user(userID string) User {
	if u, ok := g.Users[userID]; ok {
		u.ID = userID
		return u
	}
	return User{ID: userID, Username: "member"}
}

// rolesWire are g's role objects
// (https://discord.com/developers/docs/topics/permissions#role-object).
func (g *GuildAccess) rolesWire() []map[string]any {
	roles := make([]map[string]any, 0, len(g.Roles))
	for i, r := range g.Roles {
		roles = append(roles, map[string]any{
			"id": r.ID, "name": r.Name, "permissions": strconv.FormatInt(r.Permissions, 10),
			"color": 0, "hoist": false, "position": i, "managed": false, "mentionable": r.Mentionable, "flags": 0,
		})
	}
	return roles
}

// channelWire is text channel id of g: type 0 (GUILD_TEXT), no parent,
// its name and permission overwrites.
func (g *GuildAccess) channelWire(id string) map[string]any {
	ows := g.Channels[id]
	out := make([]map[string]any, 0, len(ows))
	for _, o := range ows {
		out = append(out, map[string]any{
			"id": o.ID, "type": o.Type, "allow": strconv.FormatInt(o.Allow, 10), "deny": strconv.FormatInt(o.Deny, 10),
		})
	}
	name := g.ChannelNames[id]
	if name == "" {
		name = "channel-" + id
	}
	return map[string]any{
		"id": id, "type": 0, "guild_id": g.ID, "name": name, "parent_id": nil, "position": 0, "nsfw": false,
		"permission_overwrites": out,
	}
}

// getGuildRoles is Get Guild Roles (GET /guilds/{guild.id}/roles).
func (s *Server) getGuildRoles(c *call) reply {
	g := s.guildAccess[c.params["guild_id"]]
	if g == nil {
		return apiError(http.StatusNotFound, codeUnknownGuild, "Unknown Guild")
	}
	return jsonReply(http.StatusOK, g.rolesWire())
}

// getGuildChannels is Get Guild Channels (GET /guilds/{guild.id}/channels):
// every channel, those the bot cannot see included, without threads, in id
// order.
func (s *Server) getGuildChannels(c *call) reply {
	g := s.guildAccess[c.params["guild_id"]]
	if g == nil {
		return apiError(http.StatusNotFound, codeUnknownGuild, "Unknown Guild")
	}
	ids := make([]string, 0, len(g.Channels))
	for id := range g.Channels {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if snowflakeLess(a, b) {
			return -1
		}
		return 1
	})
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, g.channelWire(id))
	}
	return jsonReply(http.StatusOK, out)
}

// getDMChannel answers GET /channels/{id} for a DM channel the bot opened
// (type 1, DM, with its recipient), else 404 Unknown Channel.
func (s *Server) getDMChannel(id string) reply {
	user, ok := s.dmUsers[id]
	if !ok {
		return apiError(http.StatusNotFound, codeUnknownChannel, "Unknown Channel")
	}
	var last any
	if ids := s.channelMessages[id]; len(ids) > 0 {
		last = ids[len(ids)-1]
	}
	return jsonReply(http.StatusOK, map[string]any{
		"id": id, "type": 1, "flags": 0, "last_message_id": last,
		"recipients": []map[string]any{User{ID: user, Username: "user" + user, Discriminator: "0"}.wire()},
	})
}

var roleMention = regexp.MustCompile(`<@&(\d{1,20})>`)

// guildMentionsLocked fills a user's message in guild g as Discord sends it:
// each mentioned user with its partial member, the author's member roles,
// and mention_roles, the guild's roles mentioned that are mentionable or
// that the author may mention (MENTION_EVERYONE).
func (s *Server) guildMentionsLocked(g *GuildAccess, authorID, content string, wire map[string]any) {
	mentions := wire["mentions"].([]map[string]any)
	for i, m := range mentions {
		id, _ := m["id"].(string)
		roles, member := g.Members[id]
		if !member {
			continue
		}
		u := g.user(id).wire()
		if id == s.opts.BotUserID {
			u = s.botUser().wire()
		}
		u["member"] = map[string]any{"roles": append([]string{}, roles...), "nick": nil, "deaf": false, "mute": false, "flags": 0}
		mentions[i] = u
	}
	if m, ok := wire["member"].(map[string]any); ok {
		m["roles"] = append([]string{}, g.Members[authorID]...)
	}
	everyone := g.permissions("", authorID)&permMentionEveryone != 0
	out := []string{}
	for _, sub := range roleMention.FindAllStringSubmatch(content, -1) {
		i := slices.IndexFunc(g.Roles, func(r Role) bool { return r.ID == sub[1] && r.ID != g.ID })
		if i >= 0 && (g.Roles[i].Mentionable || everyone) && !slices.Contains(out, sub[1]) {
			out = append(out, sub[1])
		}
	}
	wire["mention_roles"] = out
}
