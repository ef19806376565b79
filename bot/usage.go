package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/store"
)

// periodOption is the period choice shared by /usage and /admin usage.
func periodOption() *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{
		Type: discordgo.ApplicationCommandOptionString, Name: "period", Description: "Which period to count (default: the last 7 days)",
		Choices: []*discordgo.ApplicationCommandOptionChoice{
			{Name: "Today", Value: "today"},
			{Name: "Last 7 days", Value: "7d"},
			{Name: "Last 30 days", Value: "30d"},
		},
	}
}

// periodStart is where a period begins and how to say it. "Today" starts at
// midnight in loc, the invoking user's zone, because that is the day they see.
func periodStart(period string, now time.Time, loc *time.Location) (time.Time, string, error) {
	switch period {
	case "today":
		y, m, d := now.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), "today (since midnight " + loc.String() + ")", nil
	case "", "7d":
		return now.Add(-7 * 24 * time.Hour), "in the last 7 days", nil
	case "30d":
		return now.Add(-30 * 24 * time.Hour), "in the last 30 days", nil
	}
	return time.Time{}, "", UserError("“%s” is not a period; pick today, 7d or 30d from the list.", truncateRunes(period, 20))
}

func (b *Bot) usageCommand() *command {
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "usage", Description: "Your requests, tokens and cost by model, and what is left of your limits",
			Options: []*discordgo.ApplicationCommandOption{periodOption()},
		},
		run: b.usage,
	}
}

func (b *Bot) usage(ctx context.Context, in *Interaction) error {
	u, err := b.store.User(ctx, in.UserID)
	if err != nil {
		return err
	}
	now := b.Now()
	start, phrase, err := periodStart(in.String("period"), now, zoneOf(u))
	if err != nil {
		return err
	}
	var sb strings.Builder
	// Without a row there is no usage to query; the limits still apply.
	var used, text24h, all24h, images1h store.UsageRow
	if u != nil {
		rows, err := b.store.UsageByModel(ctx, store.UsageFilter{UserID: u.ID, Since: start})
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			fmt.Fprintf(&sb, "Your usage %s:\n%s", phrase, usageTable("Model", rows, 12))
			for _, r := range rows {
				if strings.HasPrefix(r.Key, "eleven_") {
					sb.WriteString("(ElevenLabs voice models count characters spoken, not tokens.)\n")
					break
				}
			}
		}
		if text24h, err = b.store.UsageTotal(ctx, store.UsageFilter{UserID: u.ID, Kind: store.UsageText, Since: now.Add(-24 * time.Hour)}); err != nil {
			return err
		}
		if all24h, err = b.store.UsageTotal(ctx, store.UsageFilter{UserID: u.ID, Since: now.Add(-24 * time.Hour)}); err != nil {
			return err
		}
		if images1h, err = b.store.UsageTotal(ctx, store.UsageFilter{UserID: u.ID, Kind: store.UsageImage, Since: now.Add(-time.Hour)}); err != nil {
			return err
		}
		used = store.Sum(rows)
	}
	if used.Requests == 0 {
		fmt.Fprintf(&sb, "You have no recorded usage %s.\n", phrase)
	}
	sb.WriteString("What is left of your limits:\n")
	text, err := b.guestTokensLine(ctx, u, text24h.Total, all24h.Cost)
	if err != nil {
		return err
	}
	sb.WriteString(text + "\n")
	sb.WriteString(limitLine("Images", images1h.Requests, b.Config.LimitImagesPerHour, "", "in the last hour") + "\n")
	if n := b.Config.LimitWalletWritesPer15Min; n > 0 {
		fmt.Fprintf(&sb, "• Key changes (/wallet set, test, remove): up to %d in any 15 minutes.", n)
	} else {
		sb.WriteString("• Key changes (/wallet set, test, remove): no limit.")
	}
	return in.Reply(sb.String())
}

// guestTokensLine describes the text allowance that applies to the user.
// The shared key's daily allowance (LIMIT_GUEST_TOKENS_PER_DAY) is shown only
// when that key would pay for them, by the rule of activities.onOperatorKey:
// the bot has a shared key (OPENROUTER_API_KEY), GUEST_MODE lets users
// without a key use it, and the user has no OpenRouter key of their own
// (a switched-off key counts: it is never replaced by the shared one). Usage
// rows do not record which key paid, so all text usage counts against it;
// likewise the daily spend cap (LIMIT_GUEST_USD_PER_DAY, on its own line)
// counts the cost of every call for the user, spentUSD.
func (b *Bot) guestTokensLine(ctx context.Context, u *ent.User, usedTokens int, spentUSD *float64) (string, error) {
	if u != nil {
		k, err := b.store.Key(ctx, u.DiscordID, provider.OpenRouter)
		if err != nil && !ent.IsNotFound(err) {
			return "", fmt.Errorf("look up key: %w", err)
		}
		if err == nil && !k.IsActive {
			return "• Text: your OpenRouter key is switched off (OpenRouter refused it), so replies to you fail until /wallet test finds it works again or /wallet set stores another; the shared key does not stand in for it.", nil
		}
		if err == nil {
			return "• Text: replies to you are paid with your own OpenRouter key, so no shared-key limit applies (/wallet list shows its state).", nil
		}
	}
	if b.Config.GuestMode == config.GuestOff || b.Config.OpenRouterAPIKey.Reveal() == "" {
		return "• Text: this bot has no shared key, so replies need your own OpenRouter key (add one with /wallet set).", nil
	}
	label := "Text when using the shared key"
	if b.Config.GuestMode == config.GuestFree {
		label += " (free models only)"
	}
	line := limitLine(label, usedTokens, b.Config.LimitGuestTokensPerDay, "tokens", "in the last 24 hours")
	if b.Config.LimitGuestTokensPerDay > 0 {
		line = strings.TrimSuffix(line, ".") + " (this counts all your text replies; your own key, added with /wallet set, has no such limit)."
	}
	if capUSD := float64(b.Config.LimitGuestUSDPerDay); capUSD > 0 {
		left := max(0, capUSD-value(spentUSD))
		line += fmt.Sprintf("\n• Spending on the shared key: %s of %s left in the last 24 hours (the cost of all your calls; your own key, added with /wallet set, has no such limit).",
			usd(&left), usd(&capUSD))
	}
	return line, nil
}

// limitLine is one "what is left" line for a rolling-window limit; 0 means
// the operator set no limit.
func limitLine(label string, used, limit int, unit, window string) string {
	if limit <= 0 {
		return fmt.Sprintf("• %s: no limit.", label)
	}
	if unit != "" {
		unit = " " + unit
	}
	return fmt.Sprintf("• %s: %s of %s%s left %s.", label, thousands(max(0, limit-used)), thousands(limit), unit, window)
}

// zoneOf is a user's location, UTC when unset or no longer valid.
func zoneOf(u *ent.User) *time.Location {
	if u == nil {
		return time.UTC
	}
	loc, err := time.LoadLocation(u.Timezone)
	if err != nil || u.Timezone == "" {
		return time.UTC
	}
	return loc
}

// usageTable renders rows as a monospace table with a total line; past
// maxRows the rest are folded into one line so the reply stays under
// Discord's 2000 characters.
func usageTable(keyHeader string, rows []store.UsageRow, maxRows int) string {
	shown := rows
	if len(rows) > maxRows {
		rest := store.Sum(rows[maxRows-1:])
		rest.Key = fmt.Sprintf("(%d others)", len(rows)-maxRows+1)
		shown = append(append([]store.UsageRow{}, rows[:maxRows-1]...), rest)
	}
	cells := [][]string{{keyHeader, "Requests", "In", "Out", "Total", "Cost"}}
	for _, r := range append(shown, store.Sum(rows)) {
		// A backtick would end the code block early.
		key := truncateRunes(strings.ReplaceAll(r.Key, "`", "'"), 32)
		cells = append(cells, []string{key, thousands(r.Requests), thousands(r.In), thousands(r.Out), thousands(r.Total), usd(r.Cost)})
	}
	widths := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var sb strings.Builder
	sb.WriteString("```\n")
	for _, row := range cells {
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			switch i {
			case 0:
				sb.WriteString(c + pad)
			default:
				sb.WriteString("  " + pad + c)
			}
		}
		sb.WriteString("\n")
	}
	sb.WriteString("```\n")
	for _, r := range rows {
		if r.Cost == nil {
			sb.WriteString("(Cost — : the provider reported none.)\n")
			break
		}
	}
	return sb.String()
}

// usd formats a cost in US dollars for people: "—" when none was reported,
// cents from a dollar up, up to four decimals below it (a reply often costs
// a fraction of a cent: $0.0042, but $0.50 rather than $0.5000), "<$0.0001"
// for less.
func usd(v *float64) string {
	switch {
	case v == nil:
		return "—"
	case *v == 0:
		return "$0"
	case *v < 0.0001:
		return "<$0.0001"
	case *v < 1:
		s := fmt.Sprintf("%.4f", *v)
		for len(s) > len("0.00") && strings.HasSuffix(s, "0") {
			s = s[:len(s)-1]
		}
		return "$" + s
	}
	return fmt.Sprintf("$%.2f", *v)
}

// thousands formats n with comma separators: 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var sb strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	if neg {
		return "-" + sb.String()
	}
	return sb.String()
}

// value is *p, or 0 for nil.
func value(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
