package bot

import (
	"context"
	"fmt"
	"github.com/tzurot/tzurot/activities"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"
	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/predicate"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/config"
)

const defaultUsagePeriod = "7d"

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
			Name: "usage", Description: "Your requests and tokens by model, and what is left of your limits",
			Options: []*discordgo.ApplicationCommandOption{periodOption()},
		},
		run: b.usage,
	}
}

func (b *Bot) usage(ctx context.Context, in *Interaction) error {
	u, err := b.DB.User.Query().Where(user.DiscordID(in.UserID)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	now := b.Now()
	start, phrase, err := periodStart(in.String("period"), now, zoneOf(u))
	if err != nil {
		return err
	}
	var sb strings.Builder
	// Without a row there is no usage to query; the limits still apply.
	var used, text24h, images1h usageRow
	if u != nil {
		mine := usagelog.UserID(u.ID)
		rows, err := b.usageGrouped(ctx, byModel, 0, mine, usagelog.TimestampGTE(start))
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
		if text24h, err = b.usageTotal(ctx, mine, usagelog.RequestTypeEQ(usagelog.RequestTypeText), usagelog.TimestampGTE(now.Add(-24*time.Hour))); err != nil {
			return err
		}
		if images1h, err = b.usageTotal(ctx, mine, usagelog.RequestTypeEQ(usagelog.RequestTypeImage), usagelog.TimestampGTE(now.Add(-time.Hour))); err != nil {
			return err
		}
		used = sumRows(rows)
	}
	if used.Requests == 0 {
		fmt.Fprintf(&sb, "You have no recorded usage %s.\n", phrase)
	}
	sb.WriteString("What is left of your limits:\n")
	sb.WriteString(b.guestTokensLine(text24h.Total) + "\n")
	sb.WriteString(limitLine("Images", images1h.Requests, b.Config.LimitImagesPerHour, "", "in the last hour") + "\n")
	if n := b.Config.LimitWalletWritesPer15Min; n > 0 {
		fmt.Fprintf(&sb, "• Key changes (/wallet set, test, remove): up to %d in any 15 minutes.", n)
	} else {
		sb.WriteString("• Key changes (/wallet set, test, remove): no limit.")
	}
	return in.Reply(sb.String())
}

// guestTokensLine describes the shared key's daily token allowance. Usage
// rows do not record which key paid, so all text usage counts against it.
func (b *Bot) guestTokensLine(usedTokens int) string {
	if b.Config.GuestMode == config.GuestOff {
		return "• Text: this bot has no shared key, so replies use your own key (add one with /wallet set)."
	}
	line := limitLine("Text when using the shared key", usedTokens, b.Config.LimitGuestTokensPerDay, "tokens", "in the last 24 hours")
	if b.Config.LimitGuestTokensPerDay > 0 {
		line = strings.TrimSuffix(line, ".") + " (this counts all your text replies; your own key, added with /wallet set, has no such limit)."
	}
	return line
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

// usageRow is usage summed over one group (a model, a user).
type usageRow struct {
	Key      string `sql:"key"`
	Requests int    `sql:"requests"`
	In       int    `sql:"sum_in"`
	Out      int    `sql:"sum_out"`
	Total    int    `sql:"sum_total"`
}

// byModel and byUser are the grouping keys of usageGrouped.
func byModel(s *sql.Selector) string { return s.C(usagelog.FieldModel) }

func byUser(s *sql.Selector) string {
	u := sql.Table(user.Table)
	s.Join(u).On(s.C(usagelog.FieldUserID), u.C(user.FieldID))
	return u.C(user.FieldDiscordID)
}

// usageGrouped sums the matching usage rows per key, most tokens first; the
// database does the summing so that a busy month is one small result.
func (b *Bot) usageGrouped(ctx context.Context, key func(*sql.Selector) string, limit int, preds ...predicate.UsageLog) ([]usageRow, error) {
	q := b.DB.UsageLog.Query().Where(append(preds, realUsage)...)
	if limit > 0 {
		q.Limit(limit)
	}
	var rows []usageRow
	err := q.Modify(func(s *sql.Selector) {
		k := key(s)
		s.Select(
			sql.As(k, "key"),
			sql.As(sql.Count("*"), "requests"),
			sql.As(sql.Sum(s.C(usagelog.FieldTokensIn)), "sum_in"),
			sql.As(sql.Sum(s.C(usagelog.FieldTokensOut)), "sum_out"),
			sql.As(sql.Sum(s.C(usagelog.FieldTokensTotal)), "sum_total"),
		).GroupBy(k).OrderBy(sql.Desc("sum_total"), sql.Asc("key"))
	}).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("sum usage: %w", err)
	}
	return rows, nil
}

// usageTotal sums all matching rows.
func (b *Bot) usageTotal(ctx context.Context, preds ...predicate.UsageLog) (usageRow, error) {
	rows, err := b.usageGrouped(ctx, byModel, 0, preds...)
	return sumRows(rows), err
}

func sumRows(rows []usageRow) usageRow {
	t := usageRow{Key: "Total"}
	for _, r := range rows {
		t.Requests += r.Requests
		t.In += r.In
		t.Out += r.Out
		t.Total += r.Total
	}
	return t
}

// usageTable renders rows as a monospace table with a total line; past
// maxRows the rest are folded into one line so the reply stays under
// Discord's 2000 characters.
func usageTable(keyHeader string, rows []usageRow, maxRows int) string {
	shown := rows
	if len(rows) > maxRows {
		rest := sumRows(rows[maxRows-1:])
		rest.Key = fmt.Sprintf("(%d others)", len(rows)-maxRows+1)
		shown = append(append([]usageRow{}, rows[:maxRows-1]...), rest)
	}
	cells := [][]string{{keyHeader, "Requests", "In", "Out", "Total"}}
	for _, r := range append(shown, sumRows(rows)) {
		// A backtick would end the code block early.
		key := truncateRunes(strings.ReplaceAll(r.Key, "`", "'"), 32)
		cells = append(cells, []string{key, thousands(r.Requests), thousands(r.In), thousands(r.Out), thousands(r.Total)})
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
	return sb.String()
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

// realUsage leaves out the reservations the limit checks write while a call
// is in flight (provider "hold"): they are not usage.
var realUsage = usagelog.ProviderNEQ(activities.HoldProvider)
