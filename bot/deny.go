package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent/denial"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/store"
)

// denyRefresh is how stale the in-memory deny list may grow before the next
// check reloads it: how long a change made by another bot process (another
// shard) takes to reach this one. The process that makes a change reloads
// at once.
const denyRefresh = 30 * time.Second

// Refusals of the deny list, each one line.
const (
	deniedUserLine  = "You are denied the use of this bot by its operators; it answers none of your messages or commands."
	deniedGuildLine = "This server is denied the use of this bot by its operators, so the bot is leaving it."
)

// denyList is the deny list (the denials table) held in memory, because it
// is asked on the hot path of every message and interaction: one map lookup
// per check, and one query per denyRefresh per process to reload it —
// never a query per message. The table is small (people and servers an
// operator named one by one).
type denyList struct {
	mu     sync.RWMutex
	users  map[string]bool
	guilds map[string]bool
	loaded time.Time // zero: never loaded

	reload sync.Mutex // one reload at a time
}

// denied says whether userID and guildID ("" for a DM) are denied, reloading
// the list first when it is older than denyRefresh. A reload that fails
// keeps the list it had (logged), and is tried again a denyRefresh later.
func (b *Bot) denied(ctx context.Context, userID, guildID string) (user, guild bool) {
	d := &b.deny
	d.mu.RLock()
	stale := b.Now().Sub(d.loaded) >= denyRefresh || d.loaded.IsZero()
	d.mu.RUnlock()
	if stale {
		if err := b.reloadDenials(ctx, false); err != nil {
			b.Log.Warn("deny list not reloaded; the last one stands", "err", redact.String(err.Error()))
		}
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.users[userID], guildID != "" && d.guilds[guildID]
}

// reloadDenials reads the deny list afresh; unless force, only when no other
// caller reloaded it meanwhile.
func (b *Bot) reloadDenials(ctx context.Context, force bool) error {
	d := &b.deny
	d.reload.Lock()
	defer d.reload.Unlock()
	now := b.Now()
	d.mu.RLock()
	fresh := !d.loaded.IsZero() && now.Sub(d.loaded) < denyRefresh
	d.mu.RUnlock()
	if fresh && !force {
		return nil
	}
	rows, err := b.store.Denials(ctx)
	users, guilds := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r.Kind == store.DenyUser {
			users[r.DiscordID] = true
		} else {
			guilds[r.DiscordID] = true
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.loaded = now
	if err != nil {
		return err
	}
	d.users, d.guilds = users, guilds
	return nil
}

// refuseDenied is the gate of every interaction. A denied user gets one
// line, which the caller answers ephemerally; so does everyone in a denied
// guild, and the guild is left again. The exemptions: superusers and the
// owner, whom the user list never stops, and — in a denied guild — their
// /admin alone (commands and its autocomplete), so the denial can be listed
// or undone from where it was made; their /usage or @mentions there are
// refused like anyone's (README "Moderation").
func (b *Bot) refuseDenied(ctx context.Context, in *Interaction) error {
	user, guild := b.denied(ctx, in.UserID, in.GuildID)
	if !user && !guild {
		return nil
	}
	if !guild || in.command() == "admin" {
		if super, err := b.superuser(ctx, in.UserID); err != nil || super {
			return err
		}
	}
	if guild {
		go b.leaveGuild(context.WithoutCancel(ctx), in.GuildID)
		return UserError("%s", deniedGuildLine)
	}
	return UserError("%s", deniedUserLine)
}

// HandleGuildCreate leaves a denied guild as soon as the gateway announces
// it (at start, or when the bot is added again).
func (b *Bot) HandleGuildCreate(ctx context.Context, g *discordgo.GuildCreate) {
	if g.Guild == nil {
		return
	}
	if _, denied := b.denied(ctx, "", g.ID); denied {
		b.leaveGuild(ctx, g.ID)
	}
}

// leaveGuild leaves a guild (Discord's Leave Guild,
// DELETE /users/@me/guilds/{guild.id}); a guild the bot is no longer in
// (404, Unknown Guild) counts as left.
func (b *Bot) leaveGuild(ctx context.Context, guildID string) bool {
	err := b.Session.GuildLeave(guildID, discordgo.WithContext(ctx))
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusNotFound {
		err = nil
	}
	if err != nil {
		b.Log.Error("could not leave a denied guild", "guild", guildID, "err", redact.String(err.Error()))
		return false
	}
	b.Log.Info("left a denied guild", "guild", guildID)
	return true
}

// adminDenyOptions are /admin's deny and allow groups. Discord's option
// types: USER for a user (a mention or a pick), STRING for a guild's id,
// since no option type names a guild the bot may not share.
func adminDenyOptions() []*discordgo.ApplicationCommandOption {
	userOpt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: "The user", Required: true}
	guildOpt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "guild", Description: "The server's id (Developer Mode: right-click the server, Copy Server ID)",
		Required: true, MinLength: new(5), MaxLength: 20}
	reason := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "reason", Description: "Why (shown in /admin deny list)", MaxLength: 200}
	group := func(name, description string, subs ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: name, Description: description, Options: subs}
	}
	return []*discordgo.ApplicationCommandOption{
		group("deny", "The deny list: users the bot ignores, servers it leaves",
			subcommand("user", "Deny a user: no replies, no commands", userOpt, reason),
			subcommand("guild", "Deny a server: the bot leaves it and does not stay", guildOpt, reason),
			subcommand("list", "Everyone and every server denied")),
		group("allow", "Take a user or server off the deny list",
			subcommand("user", "Allow a denied user again", userOpt),
			subcommand("guild", "Allow a denied server again (someone must add the bot back)", guildOpt)),
	}
}

// adminDeny runs /admin deny … and /admin allow … for a superuser.
func (b *Bot) adminDeny(ctx context.Context, in *Interaction, sub string) error {
	if sub == "deny list" {
		return b.denyList(ctx, in)
	}
	verb, what, _ := strings.Cut(sub, " ")
	kind, id := store.DenyUser, in.String("user")
	if what == "guild" {
		kind, id = store.DenyGuild, strings.TrimSpace(in.String("guild"))
	}
	if !config.IsSnowflake(id) {
		return UserError("“%s” is not a Discord id (5 to 20 digits); copy it with Developer Mode on.", truncateRunes(id, 25))
	}
	label := userLabel(id)
	if kind == store.DenyGuild {
		label = "server " + id
	}
	if verb == "allow" {
		removed, err := b.store.Allow(ctx, kind, id)
		if err != nil {
			return err
		}
		if err := b.reloadDenials(ctx, true); err != nil {
			return err
		}
		if !removed {
			return in.Reply(fmt.Sprintf("%s was not denied.", label))
		}
		return in.Reply(fmt.Sprintf("Allowed %s again.", label))
	}
	if kind == store.DenyUser {
		if id == in.UserID {
			return UserError("You cannot deny yourself.")
		}
		if super, err := b.superuser(ctx, id); err != nil || super {
			return errors.Join(err, UserError("%s is a superuser or the bot's owner, whom the deny list never stops.", label))
		}
	}
	added, err := b.store.Deny(ctx, kind, id, in.UserID, strings.TrimSpace(in.String("reason")))
	if err != nil {
		return err
	}
	if err := b.reloadDenials(ctx, true); err != nil {
		return err
	}
	msg := fmt.Sprintf("Denied %s.", label)
	if !added {
		msg = fmt.Sprintf("%s was denied already.", label)
	}
	if kind == store.DenyGuild {
		if b.leaveGuild(ctx, id) {
			msg += " The bot has left it, and leaves it again whenever it is added back."
		} else {
			msg += " Leaving it failed (see the log); the bot leaves it when Discord next announces it."
		}
	}
	return in.Reply(msg)
}

// userLabel names a user by mention and by raw id, "<@123> (id 123)": a
// mention Discord cannot resolve (a user who left, or whom the viewer's
// client never met) shows as "@unknown-user", and the id still says who.
func userLabel(id string) string {
	return "<@" + id + "> (id " + id + ")"
}

// denyList shows the deny list, privately.
func (b *Bot) denyList(ctx context.Context, in *Interaction) error {
	rows, err := b.store.Denials(ctx)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return in.Reply("No one and no server is denied.")
	}
	var users, guilds strings.Builder
	for _, r := range rows {
		who := userLabel(r.DiscordID)
		if r.Kind == denial.KindGuild {
			who = "server " + r.DiscordID
		}
		line := fmt.Sprintf("• %s — by %s, %s", who, userLabel(r.DeniedBy), r.CreatedAt.UTC().Format("2006-01-02"))
		if r.Reason != nil {
			line += ": " + *r.Reason
		}
		if r.Kind == denial.KindGuild {
			guilds.WriteString(line + "\n")
		} else {
			users.WriteString(line + "\n")
		}
	}
	var sb strings.Builder
	if users.Len() > 0 {
		sb.WriteString("Denied users:\n" + users.String())
	}
	if guilds.Len() > 0 {
		sb.WriteString("Denied servers:\n" + guilds.String())
	}
	// Reply sends no allowed mentions, so listing users pings nobody.
	return in.Reply(strings.TrimRight(sb.String(), "\n"))
}
