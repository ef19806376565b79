package bot

import (
	"regexp"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/limits"
	"github.com/tzurot/tzurot/workflows"
)

// channelMentionRE is a channel mention, <#id>
// (https://discord.com/developers/docs/reference#message-formatting).
var channelMentionRE = regexp.MustCompile(`<#(\d+)>`)

// mentionNames names the user, channel and role mentions of m from what the
// gateway event and the session's state cache hold — never a Discord API
// call: users from m.Mentions (their nickname when the state knows their
// membership, else their display name), roles from the guild's roles and
// channels from the state's channels. At most limits.Ceilings() of each
// kind, the most any personality may use; the reply applies its own.
// Nil when nothing is named.
func (b *Bot) mentionNames(m *discordgo.Message) *workflows.MentionNames {
	c := limits.Ceilings()
	out := workflows.MentionNames{}
	for _, u := range m.Mentions {
		if u == nil || len(out.Users) >= c.MaxMentionsPerMessage {
			continue
		}
		name := u.DisplayName()
		if mem := b.stateMember(m.GuildID, u.ID); mem != nil && mem.Nick != "" {
			name = mem.Nick
		}
		out.Users = put(out.Users, u.ID, name)
	}
	if st := b.state(); st != nil && m.GuildID != "" {
		for _, id := range m.MentionRoles {
			if len(out.Roles) >= c.MaxRolesPerMessage {
				break
			}
			if r, err := st.Role(m.GuildID, id); err == nil {
				out.Roles = put(out.Roles, id, r.Name)
			}
		}
	}
	for _, ch := range m.MentionChannels { // crossposted messages name theirs
		if ch != nil && len(out.Channels) < c.MaxChannelsPerMessage {
			out.Channels = put(out.Channels, ch.ID, ch.Name)
		}
	}
	if st := b.state(); st != nil {
		for _, sub := range channelMentionRE.FindAllStringSubmatch(m.Content, -1) {
			if len(out.Channels) >= c.MaxChannelsPerMessage {
				break
			}
			if ch, err := st.Channel(sub[1]); err == nil && ch.Name != "" {
				out.Channels = put(out.Channels, sub[1], ch.Name)
			}
		}
	}
	if out.Users == nil && out.Channels == nil && out.Roles == nil {
		return nil
	}
	return &out
}

// mentionLimit is p's max_mentions_per_message: its own (p.Edges.LlmConfig,
// loaded with the mention index), else the default.
func mentionLimit(p *ent.Personality) int {
	var o limits.Overrides
	if cfg := p.Edges.LlmConfig; cfg != nil {
		o.MaxMentionsPerMessage = cfg.MaxMentionsPerMessage
	}
	l, _ := limits.Resolve(o) // an out-of-range value counts as unset
	return l.MaxMentionsPerMessage
}

// authorName is the name the author of m shows in Discord: their guild
// nickname, else their display name, else their username.
func authorName(m *discordgo.Message) string {
	if m.Author == nil {
		return ""
	}
	if m.Member != nil && m.Member.Nick != "" {
		return m.Member.Nick
	}
	return m.Author.DisplayName()
}

func (b *Bot) state() *discordgo.State {
	if b.Session == nil || !b.Session.StateEnabled {
		return nil
	}
	return b.Session.State
}

func (b *Bot) stateMember(guildID, userID string) *discordgo.Member {
	st := b.state()
	if st == nil || guildID == "" {
		return nil
	}
	mem, err := st.Member(guildID, userID)
	if err != nil {
		return nil
	}
	return mem
}

// put sets m[k] = v for a non-empty name, making the map when needed.
func put(m map[string]string, k, v string) map[string]string {
	if v == "" {
		return m
	}
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}
