//go:build integration

package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/llmconfig"
	"github.com/tzurot/tzurot/ent/usagelog"
)

// useCost records a usage row of discordID of the given kind, cost (USD,
// nil for none reported) and age.
func (f *limitFixture) useCost(t testing.TB, discordID, kind string, cost *float64, age time.Duration) {
	t.Helper()
	f.db.UsageLog.Create().SetUserID(f.user(t, discordID)).SetProvider("openrouter").SetModel("m").
		SetTokensTotal(10).SetRequestType(usagelog.RequestType(kind)).SetNillableCostUsd(cost).
		SetTimestamp(time.Now().Add(-age)).ExecX(context.Background())
}

// TestGuestUSDLimit: LIMIT_GUEST_USD_PER_DAY refuses a guest's reply, before
// any provider call, once the cost of their calls in the rolling 24 hours
// reaches it, and says when it frees up; calls of every kind count, calls
// that reported no cost count nothing, and a user's own key is never capped.
func TestGuestUSDLimit(t *testing.T) {
	const capUSD = 0.01
	type row struct {
		kind string
		cost *float64
		age  time.Duration
	}
	cases := []struct {
		name    string
		rows    []row
		ownKey  bool
		refused bool
		retryIn time.Duration
	}{
		{"nothing spent passes", nil, false, false, 0},
		{"under the cap passes", []row{{"text", new(0.004), time.Hour}, {"text", new(0.004), 2 * time.Hour}}, false, false, 0},
		{"at the cap refused until the oldest call rolls out",
			[]row{{"text", new(0.004), 23 * time.Hour}, {"text", new(0.004), 2 * time.Hour}, {"embedding", new(0.002), time.Minute}}, false, true, time.Hour},
		{"an image's cost counts", []row{{"image", new(0.01), time.Hour}}, false, true, 23 * time.Hour},
		{"calls older than 24 hours no longer count", []row{{"text", new(0.02), 25 * time.Hour}}, false, false, 0},
		{"calls that reported no cost count nothing", []row{{"text", nil, time.Hour}, {"voice", nil, time.Hour}}, false, false, 0},
		{"own-key users are never capped", []row{{"text", new(0.05), time.Hour}}, true, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newLimitFixture(t, activities.Limits{GuestUSDPerDay: capUSD})
			for _, r := range tc.rows {
				f.useCost(t, aliceID, r.kind, r.cost, r.age)
			}
			calls, err := f.tryReply(t, tc.ownKey)
			if !tc.refused {
				f.assertReplied(t, err, calls)
				return
			}
			d := assertRefused(t, err, calls, tc.retryIn)
			if d.Kind != activities.KindUSD || d.Limit != 10_000_000 {
				t.Errorf("details %+v, want kind usd, limit 10,000,000 nano-dollars", d)
			}
			if !strings.Contains(err.Error(), "$0.01") || !strings.Contains(err.Error(), "/wallet set") {
				t.Errorf("refusal %q names neither the cap nor /wallet set", err)
			}
		})
	}
}

// TestGuestUSDLimitUnderConcurrency: a reply's cost is known only after its
// call, so an admitted reply's hold stands for the user's dearest text call
// in the window; 50 replies at once with a cent left under the cap let one
// through, not 50.
func TestGuestUSDLimitUnderConcurrency(t *testing.T) {
	f := newLimitFixture(t, activities.Limits{GuestUSDPerDay: 0.01})
	// A paid model, so the reply that passes costs something too.
	f.db.LLMConfig.Update().Where(llmconfig.PersonalityID(f.kerach)).SetModel("anthropic/claude-sonnet-4").ExecX(context.Background())
	f.useCost(t, aliceID, "text", new(0.004), time.Minute)
	f.useCost(t, aliceID, "text", new(0.0059), 2*time.Minute)
	passed := race(50, func() error { return f.generate(aliceID) })
	t.Logf("advisory lock: %d of 50 concurrent guest replies passed with $0.0001 left; %d provider calls", passed, len(f.or.Calls()))
	if passed != 1 || len(f.or.Calls()) != 1 {
		t.Errorf("%d passed, %d provider calls, want exactly 1", passed, len(f.or.Calls()))
	}
	// The reply's own row carries the stand-in's cost.
	var cost float64
	if err := f.sql.QueryRow(`SELECT cost_usd FROM usage_logs WHERE provider = 'openrouter' AND model = 'anthropic/claude-sonnet-4'`).Scan(&cost); err != nil || cost <= 0 {
		t.Errorf("the reply's usage row: cost %v, %v; want the stand-in's cost", cost, err)
	}
}

// TestUsageInQueryUsesTheIndex: the statement of every limit check is served
// by the index on usage_logs (user_id, timestamp), on the reply's hot path.
func TestUsageInQueryUsesTheIndex(t *testing.T) {
	f := newLimitFixture(t, activities.Limits{})
	for i := range 50 {
		f.useCost(t, aliceID, "text", new(0.001), time.Duration(i)*time.Hour)
		f.useCost(t, "222222222222222222", "text", new(0.001), time.Duration(i)*time.Hour)
	}
	ctx := context.Background()
	conn, err := f.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ANALYZE usage_logs`); err != nil {
		t.Fatal(err)
	}
	// A table this small is cheaper to scan; forbid that to see whether the
	// index can serve the statement at all.
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rows, err := conn.QueryContext(ctx, `EXPLAIN `+activities.UsageInQuery, f.user(t, aliceID), now.Add(-24*time.Hour), now.Add(-5*time.Minute), "hold")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if !strings.Contains(plan.String(), "usagelog_user_id_timestamp") {
		t.Errorf("the limit check is not served by usagelog_user_id_timestamp:\n%s", plan.String())
	}
	t.Logf("plan:\n%s", plan.String())
}
