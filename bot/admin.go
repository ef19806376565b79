package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/store"
)

// adminCommand is visible to everyone: Discord's permission gate
// (DefaultMemberPermissions) knows guild roles, not the bot's owner or its
// superusers, so the handler checks instead.
func (b *Bot) adminCommand() *command {
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "admin", Description: "Operator tools (the bot's owner and superusers only)",
			Options: append([]*discordgo.ApplicationCommandOption{
				subcommand("usage", "Everyone's usage: totals, top users, models and cost", periodOption()),
			}, adminDenyOptions()...),
		},
		run: b.admin,
	}
}

func (b *Bot) admin(ctx context.Context, in *Interaction) error {
	u, err := b.store.User(ctx, in.UserID)
	if err != nil {
		return err
	}
	owner := in.UserID != "" && in.UserID == b.Config.BotOwnerDiscordID
	if !owner && (u == nil || !u.IsSuperuser) {
		return UserError("/admin is only for the bot's owner and superusers; /usage shows your own usage.")
	}
	switch sub := in.Subcommand(); sub {
	case "usage":
		return b.adminUsage(ctx, in, u)
	case "deny user", "deny guild", "deny list", "allow user", "allow guild":
		return b.adminDeny(ctx, in, sub)
	}
	return UserError("Unknown /admin subcommand; Discord may still be updating its list, so try again in a minute.")
}

// superuser says whether discordID is the bot's owner (BOT_OWNER_DISCORD_ID)
// or a superuser (users.is_superuser): who may use /admin, and whom the deny
// list never stops.
func (b *Bot) superuser(ctx context.Context, discordID string) (bool, error) {
	if discordID != "" && discordID == b.Config.BotOwnerDiscordID {
		return true, nil
	}
	u, err := b.store.User(ctx, discordID)
	return u != nil && u.IsSuperuser, err
}

func (b *Bot) adminUsage(ctx context.Context, in *Interaction, invoker *ent.User) error {
	start, phrase, err := periodStart(in.String("period"), b.Now(), zoneOf(invoker))
	if err != nil {
		return err
	}
	since := store.UsageFilter{Since: start}
	models, err := b.store.UsageByModel(ctx, since)
	if err != nil {
		return err
	}
	total := store.Sum(models)
	if total.Requests == 0 {
		return in.Reply(fmt.Sprintf("No usage recorded %s.", phrase))
	}
	top, err := b.store.TopUsers(ctx, since, 10)
	if err != nil {
		return err
	}
	users, err := b.store.DistinctUsers(ctx, since)
	if err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "All usage %s: %s, %s tokens (%s in, %s out), cost %s, from %s.\n",
		phrase, plural(total.Requests, "request"), thousands(total.Total), thousands(total.In), thousands(total.Out), costPhrase(total.Cost), plural(users, "user"))
	sb.WriteString("Top users by tokens:\n")
	for i, r := range top {
		fmt.Fprintf(&sb, "%d. <@%s>: %s tokens in %s, cost %s\n", i+1, r.Key, thousands(r.Total), plural(r.Requests, "request"), costPhrase(r.Cost))
	}
	sb.WriteString("By model:\n" + usageTable("Model", models, 10))
	// Reply sends no allowed mentions, so listing users pings nobody.
	return in.Reply(strings.TrimRight(sb.String(), "\n"))
}

// plural is "1 request", "2 requests".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// costPhrase is a summed cost in a sentence: "not reported" when no row had one.
func costPhrase(v *float64) string {
	if v == nil {
		return "not reported"
	}
	return usd(v)
}
