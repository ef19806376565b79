package msglink

// Who may read a guild channel's messages, computed as Discord documents it
// (https://discord.com/developers/docs/topics/permissions#permission-overwrites,
// #inherited-permissions-threads, and
// https://discord.com/developers/docs/topics/threads#permissions).

import (
	"context"
	"errors"
	"net/http"

	"github.com/bwmarrin/discordgo"
)

// All is every permission, present and future: what the guild owner and an
// administrator have (discordgo's PermissionAll lacks the newer bits, such
// as MANAGE_THREADS).
const All = int64(^uint64(0) >> 1)

// BasePermissions are a member's guild-level permissions: every permission
// for the guild's owner; else the @everyone role's (the role whose id is the
// guild's) OR-ed with each of roles'; every permission when that holds
// ADMINISTRATOR. Roles the guild does not list add nothing.
func BasePermissions(g *discordgo.Guild, userID string, roles []string) int64 {
	if userID != "" && userID == g.OwnerID {
		return All
	}
	var perms int64
	has := make(map[string]bool, len(roles))
	for _, id := range roles {
		has[id] = true
	}
	for _, r := range g.Roles {
		if r != nil && (r.ID == g.ID || has[r.ID]) {
			perms |= r.Permissions
		}
	}
	if perms&discordgo.PermissionAdministrator != 0 {
		return All
	}
	return perms
}

// ChannelPermissions are a member's permissions in ch, a channel of g (for a
// thread, its parent: threads inherit it), in Discord's documented order:
// the base permissions; nothing more when they hold ADMINISTRATOR (no
// overwrite applies); else the @everyone overwrite (deny, then allow), the
// overwrites of all the member's roles combined (their denies, then their
// allows), then the member's own overwrite (deny, then allow). A timed-out
// member keeps VIEW_CHANNEL and READ_MESSAGE_HISTORY (Discord's
// "Permissions for Timed Out Members"), so reading needs no timeout check.
func ChannelPermissions(g *discordgo.Guild, ch *discordgo.Channel, userID string, roles []string) int64 {
	perms := BasePermissions(g, userID, roles)
	if perms&discordgo.PermissionAdministrator != 0 {
		return All
	}
	apply := func(deny, allow int64) { perms = perms&^deny | allow }
	has := make(map[string]bool, len(roles))
	for _, id := range roles {
		has[id] = true
	}
	var roleDeny, roleAllow int64
	var everyone, member *discordgo.PermissionOverwrite
	for _, o := range ch.PermissionOverwrites {
		switch {
		case o == nil:
		case o.Type == discordgo.PermissionOverwriteTypeRole && o.ID == g.ID:
			everyone = o
		case o.Type == discordgo.PermissionOverwriteTypeRole && has[o.ID]:
			roleDeny, roleAllow = roleDeny|o.Deny, roleAllow|o.Allow
		case o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == userID:
			member = o
		}
	}
	if everyone != nil {
		apply(everyone.Deny, everyone.Allow)
	}
	apply(roleDeny, roleAllow)
	if member != nil {
		apply(member.Deny, member.Allow)
	}
	return perms
}

// Fetcher is the part of discordgo's Session that CanReadChannel reads
// Discord through (REST: GET /channels/{id}, /guilds/{id},
// /guilds/{id}/members/{user}, /channels/{thread}/thread-members/{user}).
type Fetcher interface {
	Channel(channelID string, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	Guild(guildID string, options ...discordgo.RequestOption) (*discordgo.Guild, error)
	GuildMember(guildID, userID string, options ...discordgo.RequestOption) (*discordgo.Member, error)
	ThreadMember(threadID, memberID string, withMember bool, options ...discordgo.RequestOption) (*discordgo.ThreadMember, error)
}

var _ Fetcher = (*discordgo.Session)(nil)

// ErrOtherGuild is CanReadChannel's answer for a channel outside the guild
// asked about.
var ErrOtherGuild = errors.New("msglink: the channel is not in that guild")

// CanReadChannel reports whether each of userIDs may read the messages of
// channelID, a channel of guildID, fetching the channel, the guild (its
// roles), each member (their roles) and — for a thread — its parent channel
// through f. A thread's permissions are its parent's; a private thread
// (type 12) is read only by its thread members and by those with
// MANAGE_THREADS in the parent, and every thread needs VIEW_CHANNEL on the
// parent. Someone who is not a member of the guild (404 Unknown Member)
// cannot read; any other failure is returned, so the caller can say no.
func CanReadChannel(ctx context.Context, f Fetcher, guildID, channelID string, userIDs ...string) (bool, error) {
	opt := discordgo.WithContext(ctx)
	ch, err := f.Channel(channelID, opt)
	if err != nil {
		return false, err
	}
	if ch.GuildID != guildID {
		return false, ErrOtherGuild
	}
	perm := ch
	if ch.IsThread() {
		if perm, err = f.Channel(ch.ParentID, opt); err != nil {
			return false, err
		}
	}
	g, err := f.Guild(guildID, opt)
	if err != nil {
		return false, err
	}
	for _, id := range userIDs {
		m, err := f.GuildMember(guildID, id, opt)
		if notFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		perms := ChannelPermissions(g, perm, id, m.Roles)
		if !CanRead(perms) {
			return false, nil
		}
		if ch.Type == discordgo.ChannelTypeGuildPrivateThread && perms&discordgo.PermissionManageThreads == 0 {
			_, err := f.ThreadMember(ch.ID, id, false, opt)
			if notFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// notFound reports a 404 from Discord (Unknown Member, …).
func notFound(err error) bool {
	var re *discordgo.RESTError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusNotFound
}
