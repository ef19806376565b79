// Package msglink finds Discord message links in a message's text and says
// whether computed channel permissions let a member read the messages they
// point at.
package msglink

import (
	"regexp"

	"github.com/bwmarrin/discordgo"
)

// Link is a Discord message link found in a message's text; GuildID is
// "@me" for a message in a DM.
type Link struct {
	GuildID, ChannelID, MessageID string
}

// linkRE matches Discord's message links
// (https://discord.com/channels/<guild>/<channel>/<message>), on
// discord.com, its ptb. and canary. clients and the older discordapp.com.
var linkRE = regexp.MustCompile(`https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/(@me|\d{15,20})/(\d{15,20})/(\d{15,20})\b`)

// Parse returns the distinct message links in content (by message id), in
// order of appearance.
func Parse(content string) []Link {
	var out []Link
	seen := map[string]bool{}
	for _, m := range linkRE.FindAllStringSubmatch(content, -1) {
		if seen[m[3]] {
			continue
		}
		seen[m[3]] = true
		out = append(out, Link{GuildID: m[1], ChannelID: m[2], MessageID: m[3]})
	}
	return out
}

// readPermissions are what reading a channel's messages takes: seeing the
// channel (VIEW_CHANNEL) and its history (READ_MESSAGE_HISTORY)
// (https://discord.com/developers/docs/topics/permissions).
const readPermissions = discordgo.PermissionViewChannel | discordgo.PermissionReadMessageHistory

// CanRead reports whether perms, a member's computed permissions in a
// channel (the guild's @everyone role, their roles, the channel's
// overwrites for @everyone, their roles, then them), let them read its
// messages: both read permissions, or ADMINISTRATOR, which bypasses the
// rest.
func CanRead(perms int64) bool {
	return perms&discordgo.PermissionAdministrator != 0 || perms&readPermissions == readPermissions
}
