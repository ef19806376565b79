//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/redact"
)

const (
	usageAmy   = "100000000000000031"
	usageBen   = "100000000000000032"
	usageCleo  = "100000000000000033" // no usage at all
	usageOwner = "100000000000000034"
)

// seedUsage gives Amy rows at known ages and Ben one large row that Amy must
// never see. The world's clock is Monday 23 November 2026, 12:00 UTC.
func seedUsage(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	amy := w.DB.User.Create().SetDiscordID(usageAmy).SaveX(ctx)
	ben := w.DB.User.Create().SetDiscordID(usageBen).SaveX(ctx)
	rows := []struct {
		ben     bool
		model   string
		kind    usagelog.RequestType
		in, out int
		age     time.Duration
		cost    *float64 // USD; nil: the provider reported none
	}{
		{false, "anthropic/claude-sonnet-4", usagelog.RequestTypeText, 100, 50, time.Hour, new(0.0012)},
		{false, "anthropic/claude-sonnet-4", usagelog.RequestTypeText, 200, 100, 3 * time.Hour, new(0.003)},
		{false, "openai/gpt-image-1", usagelog.RequestTypeImage, 10, 0, 30 * time.Minute, new(0.04)},
		// 16:00 UTC yesterday: not today in UTC, but today in Tokyo (UTC+9).
		{false, "x/late-evening", usagelog.RequestTypeText, 5, 5, 20 * time.Hour, nil},
		{false, "deepseek/deepseek-r1", usagelog.RequestTypeText, 1000, 500, 48 * time.Hour, new(0.0021)},
		// Either side of the 7-day boundary.
		{false, "deepseek/deepseek-r1", usagelog.RequestTypeText, 7, 3, 7*24*time.Hour - time.Minute, nil},
		{false, "google/gemini-old", usagelog.RequestTypeText, 40, 40, 7*24*time.Hour + time.Minute, nil},
		{false, "ancient/model", usagelog.RequestTypeText, 1, 1, 31 * 24 * time.Hour, new(9.0)},
		{true, "ben/secret-model", usagelog.RequestTypeText, 90000, 9999, time.Hour, new(0.5)},
	}
	for _, r := range rows {
		uid := amy.ID
		if r.ben {
			uid = ben.ID
		}
		w.DB.UsageLog.Create().SetUserID(uid).SetProvider("openrouter").SetModel(r.model).SetRequestType(r.kind).
			SetTokensIn(r.in).SetTokensOut(r.out).SetTokensTotal(r.in + r.out).SetTimestamp(w.now.Add(-r.age)).
			SetNillableCostUsd(r.cost).ExecX(ctx)
	}
}

// tableLine is the line of a usage table for key, "" when absent.
func tableLine(text, key string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, key+" ") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return ""
}

func period(p string) []*discordgo.ApplicationCommandInteractionDataOption {
	if p == "" {
		return nil
	}
	return []*discordgo.ApplicationCommandInteractionDataOption{str("period", p)}
}

func TestUsageShowsOnlyYourOwn(t *testing.T) {
	w := newWorld(t, itest.Options{OperatorKey: "sk-or-v1-operator-usage"})
	seedUsage(t, w)
	cases := []struct {
		name    string
		period  string
		zone    string // Amy's zone for the case
		lines   map[string]string
		absent  []string
		heading string
	}{
		{"today in UTC", "today", "UTC", map[string]string{
			"anthropic/claude-sonnet-4": "2 300 150 450 $0.0042",
			"openai/gpt-image-1":        "1 10 0 10 $0.04",
			"Total":                     "3 310 150 460 $0.0442",
		}, []string{"x/late-evening", "deepseek"}, "Your usage today (since midnight UTC):"},
		{"today starts at midnight in the user's zone", "today", "Asia/Tokyo", map[string]string{
			"x/late-evening": "1 5 5 10 —",
			"Total":          "4 315 155 470 $0.0442",
		}, []string{"deepseek"}, "Your usage today (since midnight Asia/Tokyo):"},
		{"7 days is the default and includes the 2-day-old row", "", "UTC", map[string]string{
			"deepseek/deepseek-r1": "2 1,007 503 1,510 $0.0021",
			"Total":                "6 1,322 658 1,980 $0.0463",
		}, []string{"google/gemini-old", "ancient/model"}, "Your usage in the last 7 days:"},
		{"30 days", "30d", "UTC", map[string]string{
			"google/gemini-old": "1 40 40 80 —",
			"Total":             "7 1,362 698 2,060 $0.0463",
		}, []string{"ancient/model"}, "Your usage in the last 30 days:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.DB.User.Update().Where(user.DiscordID(usageAmy)).SetTimezone(tc.zone).ExecX(context.Background())
			text := w.ephemeralText(t, w.slash(usageAmy, "usage", "", period(tc.period)...))
			if !strings.Contains(text, tc.heading) {
				t.Errorf("told %q, want the heading %q", text, tc.heading)
			}
			for key, want := range tc.lines {
				if got := tableLine(text, key); got != key+" "+want {
					t.Errorf("row %q, want %q in\n%s", got, key+" "+want, text)
				}
			}
			for _, s := range append(tc.absent, "ben/secret-model", "99,999", usageBen) {
				if strings.Contains(text, s) {
					t.Errorf("told %q, which contains %q", text, s)
				}
			}
			// Limits are rolling windows from now, whatever the period: 460
			// text tokens in the last 24 hours, one image in the last hour.
			for _, want := range []string{
				"Text when using the shared key (free models only): 49,540 of 50,000 tokens left in the last 24 hours",
				"Images: 9 of 10 left in the last hour.",
				"Key changes (/wallet set, test, remove): up to 10 in any 15 minutes.",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("told %q, want %q", text, want)
				}
			}
		})
	}

	t.Run("no usage yet", func(t *testing.T) {
		text := w.ephemeralText(t, w.slash(usageCleo, "usage", "", period("30d")...))
		for _, want := range []string{"You have no recorded usage in the last 30 days.", "50,000 of 50,000 tokens left", "10 of 10 left"} {
			if !strings.Contains(text, want) {
				t.Errorf("told %q, want %q", text, want)
			}
		}
		if strings.Contains(text, "ben/secret-model") {
			t.Errorf("told %q", text)
		}
	})
}

// The shared key's daily token allowance is shown only to a user it would
// pay for: none when the bot has no shared key or GUEST_MODE=off, and none to
// a user with an OpenRouter key of their own (even a switched-off one, which
// the shared key never replaces: they are told their replies fail until the
// key is tested again or replaced). Images are limited for everyone.
func TestUsageShowsTheSharedKeyOnlyWhenItPays(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedUsage(t, w) // Amy: 460 text tokens in the last 24 hours
	ctx := context.Background()
	amy := w.DB.User.Query().Where(user.DiscordID(usageAmy)).OnlyX(ctx)
	s, err := w.Keys.Seal("sk-or-v1-amys-own-key-0000000000")
	if err != nil {
		t.Fatal(err)
	}
	const (
		shared  = "Text when using the shared key"
		ownKey  = "• Text: replies to you are paid with your own OpenRouter key, so no shared-key limit applies"
		noGuest = "• Text: this bot has no shared key, so replies need your own OpenRouter key (add one with /wallet set)."
		keyOff  = "• Text: your OpenRouter key is switched off (OpenRouter refused it), so replies to you fail until /wallet test finds it works again or /wallet set stores another"
	)
	cases := []struct {
		name        string
		mode        config.GuestMode
		operatorKey string
		amysKey     string // "", "active" or "off"
		want        string
	}{
		{"free mode, no key of her own", config.GuestFree, "sk-or-v1-op", "", shared + " (free models only): 49,540 of 50,000 tokens left"},
		{"all mode, no key of her own", config.GuestAll, "sk-or-v1-op", "", shared + ": 49,540 of 50,000 tokens left"},
		{"her own key pays", config.GuestFree, "sk-or-v1-op", "active", ownKey},
		{"her own key is switched off", config.GuestAll, "sk-or-v1-op", "off", keyOff},
		{"guest mode off", config.GuestOff, "sk-or-v1-op", "", noGuest},
		{"no shared key configured", config.GuestAll, "", "", noGuest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.Bot.Config.GuestMode, w.Bot.Config.OpenRouterAPIKey = tc.mode, redact.Secret(tc.operatorKey)
			w.DB.UserAPIKey.Delete().ExecX(ctx)
			if tc.amysKey != "" {
				w.DB.UserAPIKey.Create().SetUserID(amy.ID).SetIv(s.IV).SetContent(s.Content).SetTag(s.Tag).
					SetIsActive(tc.amysKey == "active").ExecX(ctx)
			}
			text := w.ephemeralText(t, w.slash(usageAmy, "usage", ""))
			if !strings.Contains(text, tc.want) {
				t.Errorf("told %q, want %q", text, tc.want)
			}
			if !strings.HasPrefix(tc.want, shared) && strings.Contains(text, shared) || strings.Count(text, "• Text") != 1 {
				t.Errorf("told %q: one text line, and the shared allowance only when it applies", text)
			}
			if !strings.Contains(text, "Images: 9 of 10 left in the last hour.") {
				t.Errorf("told %q, want the image limit, which applies to everyone", text)
			}
		})
	}
}

func TestAdminUsage(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedUsage(t, w)
	ctx := context.Background()

	t.Run("refused for a normal user", func(t *testing.T) {
		text := w.ephemeralText(t, w.slash(usageAmy, "admin", "usage"))
		if strings.TrimSpace(text) != "/admin is only for the bot's owner and superusers; /usage shows your own usage." {
			t.Errorf("told %q", text)
		}
	})

	// The owner needs no users row; a superuser is known only by theirs.
	w.Bot.Config.BotOwnerDiscordID = usageOwner
	w.DB.User.Create().SetDiscordID(usageCleo).SetIsSuperuser(true).ExecX(ctx)
	cases := []struct {
		name    string
		userID  string
		period  string
		want    []string
		absent  []string
		byModel map[string]string
	}{
		{"the owner, 7 days", usageOwner, "", []string{
			"All usage in the last 7 days: 7 requests, 101,979 tokens (91,322 in, 10,657 out), cost $0.5463, from 2 users.",
			"1. <@" + usageBen + ">: 99,999 tokens in 1 request, cost $0.50\n",
			"2. <@" + usageAmy + ">: 1,980 tokens in 6 requests, cost $0.0463\n",
		}, []string{"google/gemini-old", "3. <@"}, map[string]string{
			"ben/secret-model": "1 90,000 9,999 99,999 $0.50",
			"Total":            "7 91,322 10,657 101,979 $0.5463",
		}},
		{"a superuser, today", usageCleo, "today", []string{
			"All usage today (since midnight UTC): 4 requests",
			"from 2 users.",
		}, []string{"deepseek"}, map[string]string{
			"anthropic/claude-sonnet-4": "2 300 150 450 $0.0042",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ic := w.slash(tc.userID, "admin", "usage", period(tc.period)...)
			text := w.ephemeralText(t, ic)
			for _, s := range tc.want {
				if !strings.Contains(text, s) {
					t.Errorf("told %q, want %q", text, s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(text, s) {
					t.Errorf("told %q, which contains %q", text, s)
				}
			}
			for key, want := range tc.byModel {
				if got := tableLine(text, key); got != key+" "+want {
					t.Errorf("row %q, want %q in\n%s", got, key+" "+want, text)
				}
			}
			// The mentions must not ping anyone.
			resp := w.responses(ic)
			data, _ := resp[0]["data"].(map[string]any)
			am, ok := data["allowed_mentions"].(map[string]any)
			parse, _ := am["parse"].([]any)
			if !ok || len(parse) != 0 || am["users"] != nil || am["roles"] != nil {
				t.Errorf("allowed_mentions %v, want none", data["allowed_mentions"])
			}
		})
	}
}
