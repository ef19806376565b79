//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testdb"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

func startReply(t *testing.T, s *itest.Stack, requestID string) client.WorkflowRun {
	t.Helper()
	return startReplyAsking(t, s, requestID, channelID, "hello there")
}

func result(t *testing.T, run client.WorkflowRun) workflows.GenerateReplyResult {
	t.Helper()
	return runResult[workflows.GenerateReplyResult](t, run, 3*time.Minute)
}

// PostgreSQL restarts while the provider answers: the usage write fails
// after the paid call returned. The call is never repeated for it, and the
// usage row is written exactly once — by the activity when PostgreSQL is
// back within its budget, by the workflow when it is not.
func TestDatabaseOutageNeverRepeatsAPaidCall(t *testing.T) {
	for _, tc := range []struct {
		name    string
		outage  time.Duration
		step    fakeopenrouter.Step
		outcome string
	}{
		{"back within the activity's budget", 5 * time.Second, fakeopenrouter.Delay(3 * time.Second), workflows.ReplyReplied},
		{"back after it", 27 * time.Second, fakeopenrouter.Delay(3 * time.Second), workflows.ReplyReplied},
		// A completion with no text is billed and final: its row rides on
		// the failure to the workflow.
		{"back after it, empty completion", 27 * time.Second, fakeopenrouter.Finish("length", "").After(3 * time.Second), workflows.ReplyFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := deliveryStack(t)
			s.OpenRouter.Script(userKey, tc.step)
			run := startReply(t, s, "800000000000006001")
			testwait.Until(t, "the provider call to arrive", func() bool { return s.OpenRouter.Arrived(userKey) > 0 })
			end := testdb.Outage(t, s.DatabaseURL)
			time.Sleep(tc.outage)
			end()
			res := result(t, run)
			if res.Outcome != tc.outcome {
				t.Fatalf("result %+v, want %s", res, tc.outcome)
			}
			ctx := context.Background()
			if n := len(s.OpenRouter.CallsFor(userKey)); n != 1 {
				t.Errorf("%d provider calls on the user's key, want 1", n)
			}
			if n := s.DB.UsageLog.Query().CountX(ctx); n != 1 {
				t.Errorf("%d usage rows, want 1", n)
			}
			if n := s.DB.ConversationHistory.Query().CountX(ctx); tc.outcome == workflows.ReplyReplied && n != 2 {
				t.Errorf("%d history rows, want 2", n)
			}
			if n := len(s.Discord.Messages(channelID)); n != 1 {
				t.Errorf("%d channel messages, want 1", n)
			}
		})
	}
}

// A key stored by /wallet set after the provider refused the old one (402)
// and before the workflow switched it off stays on, and the user is not
// told their new key was rejected; without a new key the old one goes off.
func TestOnlyTheKeyThatFailedIsSwitchedOff(t *testing.T) {
	const newKey = "sk-or-v1-cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	s := deliveryStack(t)
	s.OpenRouter.AddKey(newKey, fakeopenrouter.Key{})
	s.OpenRouter.Script(userKey, fakeopenrouter.Fail(402).After(3*time.Second))
	run := startReply(t, s, "800000000000007001")
	testwait.Until(t, "the provider call to arrive", func() bool { return s.OpenRouter.Arrived(userKey) > 0 })
	sealed, err := s.Keys.Seal(newKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Activities.StoreKey(ctx, activities.StoreKeyInput{
		DiscordUserID: aliceID, Provider: activities.ProviderOpenRouter, SealedKey: sealed,
	}); err != nil {
		t.Fatal(err)
	}
	if res := result(t, run); res.Outcome != workflows.ReplyKeyRejected {
		t.Fatalf("result %+v, want key_rejected", res)
	}
	k := s.DB.UserAPIKey.Query().Where(userapikey.Provider(activities.ProviderOpenRouter)).OnlyX(ctx)
	if !k.IsActive {
		t.Error("the key stored after the failure was switched off")
	}
	if dms := s.Discord.DMs(aliceID); len(dms) != 0 {
		t.Errorf("DMs %+v: the user was told a key was rejected, but theirs is the new one", dms)
	}

	// The same failure with no new key: the failed key goes off, one DM.
	s.OpenRouter.Script(newKey, fakeopenrouter.Fail(402))
	if res := result(t, startReply(t, s, "800000000000007002")); res.Outcome != workflows.ReplyKeyRejected {
		t.Fatalf("result %+v, want key_rejected", res)
	}
	if k := s.DB.UserAPIKey.Query().Where(userapikey.Provider(activities.ProviderOpenRouter)).OnlyX(ctx); k.IsActive {
		t.Error("the key that failed is still on")
	}
	if dms := s.Discord.DMs(aliceID); len(dms) != 1 {
		t.Errorf("%d DMs, want 1", len(dms))
	}
}

// Two replies of one user refused with the same key at the same moment
// (402): both end key_rejected, the key goes off once, recorded as switched
// off by one of the two workflows, and only that one DMs the user.
func TestTwoRepliesRefusedTogetherDMOnce(t *testing.T) {
	s := deliveryStack(t)
	s.OpenRouter.Script(userKey, fakeopenrouter.Fail(402).After(2*time.Second), fakeopenrouter.Fail(402).After(2*time.Second))
	ids := []string{"800000000000008001", "800000000000008002"}
	runs := []client.WorkflowRun{startReply(t, s, ids[0]), startReply(t, s, ids[1])}
	for _, run := range runs {
		if res := result(t, run); res.Outcome != workflows.ReplyKeyRejected {
			t.Fatalf("result %+v, want key_rejected", res)
		}
	}
	if n := len(s.OpenRouter.CallsFor(userKey)); n != 2 {
		t.Fatalf("%d provider calls on the key, want 2: both replies must be refused by the provider", n)
	}
	k := s.DB.UserAPIKey.Query().Where(userapikey.Provider(activities.ProviderOpenRouter)).OnlyX(context.Background())
	if k.IsActive || k.DeactivatedBy == nil ||
		(*k.DeactivatedBy != workflows.GenerateReplyID(ids[0]) && *k.DeactivatedBy != workflows.GenerateReplyID(ids[1])) {
		t.Errorf("the key after: active %v, deactivated_by %v; want off by one of the two replies", k.IsActive, k.DeactivatedBy)
	}
	if dms := s.Discord.DMs(aliceID); len(dms) != 1 {
		t.Errorf("%d DMs, want 1: only the workflow that switched the key off tells the user", len(dms))
	}
}

var _ = config.GuestOff
