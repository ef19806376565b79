//go:build integration

package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// TestReplyCostRecordedShownAndCapped runs the real GenerateReply workflow
// against the OpenRouter stand-in: the chat request asks for usage
// accounting, the reply's usage row holds the cost the stand-in reported,
// /usage shows it, and LIMIT_GUEST_USD_PER_DAY refuses the next guest reply
// once the rolling 24 hours' spend reaches it — until that spend rolls out —
// while a user paying with their own key is never capped by it.
func TestReplyCostRecordedShownAndCapped(t *testing.T) {
	const operator = "sk-or-v1-3333333333333333333333333333333333333333333333333333333333333333"
	const guest = "100000000000000041"
	const capUSD = 0.01
	w := newWorld(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operator})
	w.now = time.Now() // the worker counts the cap on the real clock
	w.OpenRouter.AddKey(operator, fakeopenrouter.Key{})
	seedKerach(t, w) // anthropic/claude-sonnet-4, a paid model
	w.Activities.Limits.GuestUSDPerDay = capUSD
	w.Bot.Config.LimitGuestUSDPerDay = capUSD
	ctx := context.Background()

	reply := func(userID, text string) (workflows.GenerateReplyResult, int) {
		t.Helper()
		before := len(w.OpenRouter.Calls())
		res := w.replyResult(t, w.say(userID, general, guildID, text).ID)
		chats := 0
		for _, c := range w.OpenRouter.Calls()[before:] {
			if strings.HasSuffix(c.Path, "/chat/completions") {
				chats++
			}
		}
		return res, chats
	}

	res, chats := reply(guest, "@kerach how much does this cost?")
	if res.Outcome != workflows.ReplyReplied || chats != 1 {
		t.Fatalf("first reply: %+v with %d chat calls, want replied with one", res, chats)
	}
	var body struct {
		Usage map[string]any `json:"usage"`
	}
	calls := w.OpenRouter.CallsFor(operator)
	if err := json.Unmarshal(calls[len(calls)-1].Body, &body); err != nil || body.Usage["include"] != true {
		t.Errorf("the chat request's usage = %v (%v), want {\"include\": true}", body.Usage, err)
	}
	row := w.DB.UsageLog.Query().Where(usagelog.ProviderEQ("openrouter"), usagelog.RequestTypeEQ(usagelog.RequestTypeText)).OnlyX(ctx)
	// The stand-in prices claude-sonnet-4 at $3 and $15 per million tokens.
	want := float64(row.TokensIn)*0.000003 + float64(row.TokensOut)*0.000015
	if row.CostUsd == nil || math.Abs(*row.CostUsd-want) > 1e-10 || want == 0 {
		t.Fatalf("usage row cost %v, want the stand-in's %v", row.CostUsd, want)
	}

	text := w.ephemeralText(t, w.slash(guest, "usage", ""))
	shown := tableLine(text, "anthropic/claude-sonnet-4")
	if f := strings.Fields(shown); len(f) == 0 || f[len(f)-1] != dollars4(want) {
		t.Errorf("/usage row %q, want the cost %s last in\n%s", shown, dollars4(want), text)
	}
	if !strings.Contains(text, "Spending on the shared key: "+dollars4(capUSD-want)+" of $0.01 left in the last 24 hours") {
		t.Errorf("/usage does not show what is left of the spend cap:\n%s", text)
	}

	// Spend reaching the cap, 23 hours ago: the next guest reply is refused
	// before any call, and told to add their own key.
	uid := w.DB.User.Query().Where(user.DiscordID(guest)).OnlyX(ctx).ID
	old := w.DB.UsageLog.Create().SetUserID(uid).SetProvider("openrouter").SetModel("anthropic/claude-sonnet-4").
		SetRequestType(usagelog.RequestTypeText).SetTokensTotal(10).SetCostUsd(capUSD).
		SetTimestamp(time.Now().Add(-23 * time.Hour)).SaveX(ctx)
	res, chats = reply(guest, "@kerach and now?")
	if res.Outcome != workflows.ReplyRateLimited || chats != 0 {
		t.Fatalf("over the cap: %+v with %d chat calls, want rate_limited with none", res, chats)
	}
	posts := w.posts(general)
	if last := posts[len(posts)-1].Content; !strings.Contains(last, "/wallet set") || !strings.Contains(last, "<t:") {
		t.Errorf("the refusal %q names neither /wallet set nor when to try again", last)
	}

	// 25 hours ago it no longer counts: the guest is answered again.
	// (timestamp is immutable in ent: usage rows are append-only.)
	if _, err := w.Activities.SQL.ExecContext(ctx, `UPDATE usage_logs SET timestamp = $1 WHERE id = $2`, time.Now().Add(-25*time.Hour), old.ID); err != nil {
		t.Fatal(err)
	}
	if res, chats = reply(guest, "@kerach and after a day?"); res.Outcome != workflows.ReplyReplied || chats != 1 {
		t.Fatalf("after the spend rolled out: %+v with %d chat calls, want replied", res, chats)
	}

	// A user with their own key is never capped, whatever they spent.
	u := w.storeOwnKey(t, alice, aliceKey)
	w.DB.UsageLog.Create().SetUserID(u.ID).SetProvider("openrouter").SetModel("anthropic/claude-sonnet-4").
		SetRequestType(usagelog.RequestTypeText).SetTokensTotal(10).SetCostUsd(5).SetTimestamp(time.Now().Add(-time.Hour)).ExecX(ctx)
	if res, chats = reply(alice, "@kerach on my own key"); res.Outcome != workflows.ReplyReplied || chats != 1 {
		t.Fatalf("own key over the cap: %+v with %d chat calls, want replied", res, chats)
	}
}

// dollars4 is a cost below a dollar as /usage writes it: four decimals,
// trailing zeros dropped down to cents.
func dollars4(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	for len(s) > len("0.00") && strings.HasSuffix(s, "0") {
		s = s[:len(s)-1]
	}
	return "$" + s
}

// storeOwnKey makes discordID's users row with key stored as their own
// OpenRouter key, on, and known to the OpenRouter stand-in.
func (w *world) storeOwnKey(t *testing.T, discordID, key string) *ent.User {
	t.Helper()
	u := w.DB.User.Create().SetDiscordID(discordID).SaveX(context.Background())
	s, err := w.Keys.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	w.DB.UserAPIKey.Create().SetUserID(u.ID).SetIv(s.IV).SetContent(s.Content).SetTag(s.Tag).SetIsActive(true).ExecX(context.Background())
	w.OpenRouter.AddKey(key, fakeopenrouter.Key{})
	return u
}
