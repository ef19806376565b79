//go:build integration

package activities_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/testdb"
)

type limitFixture struct {
	acts   *activities.Activities
	db     *ent.Client
	sql    *sql.DB
	or     *fakeopenrouter.Server
	kerach uuid.UUID
}

func newLimitFixture(t testing.TB, l activities.Limits) *limitFixture {
	t.Helper()
	db, sqlDB := testdb.Client(t)
	or := fakeopenrouter.New(fakeopenrouter.Options{})
	or.AddKey(userKey, fakeopenrouter.Key{})
	or.AddKey(operatorKey, fakeopenrouter.Key{})
	orSrv := httptest.NewServer(or)
	t.Cleanup(orSrv.Close)
	keys, err := keycrypt.NewKeyring(strings.Repeat("ab", 32), "")
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{
		DB: db, SQL: sqlDB, Keys: keys, Log: slog.New(slog.DiscardHandler),
		OpenRouter: openrouter.New(openrouter.Options{BaseURL: orSrv.URL + "/api/v1"}),
		GuestMode:  config.GuestAll, OperatorKey: operatorKey,
	}
	acts.Limits = l
	ctx := context.Background()
	p := db.Personality.Create().SetName("cold-kerach").SetSystemPrompt("You are cold.").SaveX(ctx)
	db.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").ExecX(ctx)
	return &limitFixture{acts: acts, db: db, sql: sqlDB, or: or, kerach: p.ID}
}

// use records usage of discordID at the given age.
func (f *limitFixture) use(t testing.TB, discordID, kind string, tokens int, age time.Duration) {
	t.Helper()
	id := f.user(t, discordID)
	f.db.UsageLog.Create().SetUserID(id).SetProvider("openrouter").SetModel("m").
		SetTokensTotal(tokens).SetRequestType(usagelog.RequestType(kind)).
		SetTimestamp(time.Now().Add(-age)).ExecX(context.Background())
}

func (f *limitFixture) user(t testing.TB, discordID string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	if u, err := f.db.User.Query().Where(user.DiscordID(discordID)).Only(ctx); err == nil {
		return u.ID
	}
	return f.db.User.Create().SetDiscordID(discordID).SaveX(ctx).ID
}

func (f *limitFixture) generate(discordID string) error {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	_, err := env.ExecuteActivity(f.acts.GenerateWithinLimits, activities.GenerateInput{
		RequestID: "1", DiscordUserID: discordID, Username: "alice", PersonalityID: f.kerach,
		ChannelID: channelID, Content: "hello", Now: time.Now(),
	})
	return err
}

// tryReply runs GenerateWithinLimits for alice, with userKey stored as her
// own key first when ownKey, and counts the provider calls it made.
func (f *limitFixture) tryReply(t *testing.T, ownKey bool) (calls int, err error) {
	t.Helper()
	if ownKey {
		sealed, _ := f.acts.Keys.Seal(userKey)
		f.db.UserAPIKey.Create().SetUserID(f.user(t, aliceID)).SetIv(sealed.IV).SetContent(sealed.Content).SetTag(sealed.Tag).ExecX(context.Background())
	}
	before := len(f.or.Calls())
	err = f.generate(aliceID)
	return len(f.or.Calls()) - before, err
}

// assertReplied checks a tryReply that passed: one call, no hold left.
func (f *limitFixture) assertReplied(t *testing.T, err error, calls int) {
	t.Helper()
	if err != nil || calls != 1 {
		t.Fatalf("err = %v, %d provider calls, want a reply", err, calls)
	}
	if holds := f.db.UsageLog.Query().Where(usagelog.Provider("hold")).CountX(context.Background()); holds != 0 {
		t.Errorf("%d holds left after the reply", holds)
	}
}

// assertRefused checks a tryReply refused before any call, free again
// about retryIn from now, and returns the refusal's details.
func assertRefused(t *testing.T, err error, calls int, retryIn time.Duration) activities.LimitDetails {
	t.Helper()
	d := limitDetails(t, err)
	if calls != 0 {
		t.Errorf("%d provider calls for a refused request", calls)
	}
	if want := time.Now().Add(retryIn); d.RetryAt.Sub(want).Abs() > 5*time.Second {
		t.Errorf("retry at %s, want about %s", d.RetryAt, want)
	}
	return d
}

func limitDetails(t *testing.T, err error) activities.LimitDetails {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrLimitReached || !appErr.NonRetryable() {
		t.Fatalf("err = %v, want a non-retryable %s", err, activities.ErrLimitReached)
	}
	var d activities.LimitDetails
	if err := appErr.Details(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGuestTokenLimit(t *testing.T) {
	const limit = 10000
	cases := []struct {
		name    string
		usage   []time.Duration // ages of 2,500-token rows
		ownKey  bool
		refused bool
		retryIn time.Duration // from now, when refused
	}{
		{"nothing used passes", nil, false, false, 0},
		{"under the limit passes", []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour}, false, false, 0},
		{"at the limit refused until the oldest row rolls out",
			[]time.Duration{23 * time.Hour, 2 * time.Hour, time.Hour, time.Minute}, false, true, time.Hour},
		{"the window rolls: usage older than 24 h no longer counts",
			[]time.Duration{25 * time.Hour, 2 * time.Hour, time.Hour, time.Minute}, false, false, 0},
		{"own-key users are never limited",
			[]time.Duration{4 * time.Hour, 3 * time.Hour, 2 * time.Hour, time.Hour, time.Minute}, true, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newLimitFixture(t, activities.Limits{GuestTokensPerDay: limit})
			for _, age := range tc.usage {
				f.use(t, aliceID, "text", 2500, age)
			}
			calls, err := f.tryReply(t, tc.ownKey)
			if !tc.refused {
				f.assertReplied(t, err, calls)
				return
			}
			d := assertRefused(t, err, calls, tc.retryIn)
			if d.Limit != limit || d.Kind != "text" {
				t.Errorf("details %+v", d)
			}
		})
	}
}

func TestImageLimit(t *testing.T) {
	f := newLimitFixture(t, activities.Limits{ImagesPerHour: 2})
	ctx := context.Background()
	f.use(t, aliceID, "image", 1000, 61*time.Minute) // rolled out of the window
	f.use(t, aliceID, "image", 1000, 50*time.Minute)
	f.use(t, aliceID, "text", 1000, time.Minute) // text never counts against images
	res, err := activities.CheckImageLimit(ctx, f.acts, aliceID)
	if err != nil || res.Remaining != 0 || res.HoldID == uuid.Nil {
		t.Fatalf("first: %+v %v", res, err)
	}
	// The image activity writes its row, then releases the hold.
	f.use(t, aliceID, "image", 1000, 0)
	if err := activities.ReleaseHold(ctx, f.acts, res.HoldID); err != nil {
		t.Fatal(err)
	}
	_, err = activities.CheckImageLimit(ctx, f.acts, aliceID)
	d := limitDetails(t, err)
	if want := time.Now().Add(10 * time.Minute); d.RetryAt.Sub(want).Abs() > 5*time.Second {
		t.Errorf("retry at %s, want about %s", d.RetryAt, want)
	}
	// Another user has an allowance of their own.
	if _, err := activities.CheckImageLimit(ctx, f.acts, "222222222222222222"); err != nil {
		t.Fatal(err)
	}
}

// TestLimitsUnderConcurrency is the measurement: N requests at the same
// instant for the last slots. Under the advisory lock exactly the remaining
// slots pass; the same check-then-insert without the lock is shown beside it.
func TestLimitsUnderConcurrency(t *testing.T) {
	const n = 50
	t.Run("images: 3 slots left, 50 requests", func(t *testing.T) {
		f := newLimitFixture(t, activities.Limits{ImagesPerHour: 10})
		for range 7 {
			f.use(t, aliceID, "image", 1000, time.Minute)
		}
		passed := race(n, func() error { _, err := activities.CheckImageLimit(context.Background(), f.acts, aliceID); return err })
		t.Logf("advisory lock: %d of %d concurrent image requests passed with 3 slots left", passed, n)
		if passed != 3 {
			t.Errorf("%d passed, want exactly 3", passed)
		}
	})
	t.Run("images under the row-lock alternative: 3 slots left, 50 requests", func(t *testing.T) {
		f := newLimitFixture(t, activities.Limits{ImagesPerHour: 10, Lock: activities.RowLock})
		for range 7 {
			f.use(t, aliceID, "image", 1000, time.Minute)
		}
		passed := race(n, func() error { _, err := activities.CheckImageLimit(context.Background(), f.acts, aliceID); return err })
		if passed != 3 {
			t.Errorf("row lock: %d passed, want exactly 3", passed)
		}
	})
	t.Run("guest tokens: 1 token left, 50 requests", func(t *testing.T) {
		f := newLimitFixture(t, activities.Limits{GuestTokensPerDay: 10000})
		f.use(t, aliceID, "text", 9999, time.Minute)
		passed := race(n, func() error { return f.generate(aliceID) })
		t.Logf("advisory lock: %d of %d concurrent guest requests passed with 1 token left; %d provider calls", passed, n, len(f.or.Calls()))
		if passed != 1 || len(f.or.Calls()) != 1 {
			t.Errorf("%d passed, %d provider calls, want exactly 1", passed, len(f.or.Calls()))
		}
	})
	t.Run("without the lock, for comparison", func(t *testing.T) {
		f := newLimitFixture(t, activities.Limits{})
		for range 9 {
			f.use(t, aliceID, "image", 1000, time.Minute)
		}
		uid := f.user(t, aliceID)
		passed := race(n, func() error {
			var count int
			if err := f.sql.QueryRow(`SELECT count(*) FROM usage_logs WHERE user_id = $1 AND request_type = 'image'`, uid).Scan(&count); err != nil {
				return err
			}
			if count >= 10 {
				return errors.New("limit")
			}
			// The gap a real check-then-write has (the provider call, or just
			// the next statement on a loaded database), made visible.
			time.Sleep(20 * time.Millisecond)
			_, err := f.sql.Exec(`INSERT INTO usage_logs (user_id, provider, model, request_type) VALUES ($1, 'hold', '', 'image')`, uid)
			return err
		})
		t.Logf("no lock: %d of %d concurrent requests passed with 1 slot left", passed, n)
		if passed <= 1 {
			t.Log("the race did not show this time; the lock is what guarantees it, not luck")
		}
	})
}

// race starts n calls at once and counts those that succeed.
func race(n int, call func() error) int {
	var passed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if call() == nil {
				passed.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	return int(passed.Load())
}

// BenchmarkLimitCheck measures one admission (check, hold, release) under
// the advisory lock and under the row-lock alternative, with every request
// for one user (all queue on one lock) and for many users (no contention).
// Run: go test ./activities -run '^$' -bench LimitCheck -benchtime 2000x
func BenchmarkLimitCheck(b *testing.B) {
	for _, lock := range []string{"advisory", "row"} {
		for _, users := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/users=%d", lock, users), func(b *testing.B) {
				lim := activities.Limits{ImagesPerHour: 1 << 30}
				if lock == "row" {
					lim.Lock = activities.RowLock
				}
				f := newLimitFixture(b, lim)
				ids := make([]string, users)
				for i := range ids {
					ids[i] = fmt.Sprintf("%d", 200000000000000000+i)
					f.user(b, ids[i])
				}
				var next atomic.Int64
				b.SetParallelism(8) // 16 concurrent requests on 2 cores
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						id := ids[int(next.Add(1))%users]
						res, err := activities.CheckImageLimit(ctx, f.acts, id)
						if err != nil {
							b.Error(err)
							return
						}
						if err := activities.ReleaseHold(ctx, f.acts, res.HoldID); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
