package workflows

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/internal/deliverykey"
)

var purgeStart = time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)

// purgeEnv mocks a database where each kind has full batches of rows
// before a short last one (n rows), and running posting workflows since
// horizon; batches records every PurgeBatch input.
func purgeEnv(t *testing.T, full map[string]int, horizon time.Time) (*testsuite.TestWorkflowEnvironment, *[]operator.PurgeBatchInput) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(purgeStart)
	var batches []operator.PurgeBatchInput
	seen := map[string]int{}
	env.OnActivity(op.PurgeBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in operator.PurgeBatchInput) (int, error) {
			batches = append(batches, in)
			seen[in.Kind]++
			if seen[in.Kind] <= full[in.Kind] {
				return in.Limit, nil
			}
			return 1, nil
		}).Maybe()
	env.OnActivity(op.PostingHorizon, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in operator.PostingHorizonInput) (time.Time, error) {
			if strings.Join(in.WorkflowTypes, ",") != GenerateReplyName+","+ImagineImageName {
				t.Errorf("PostingHorizon asks for %v, want the posting workflows", in.WorkflowTypes)
			}
			return earliest(in.Before, horizon), nil
		}).Maybe()
	return env, &batches
}

// Each kind gets its cutoff from the run's start: holds past HoldTTL and a
// minute, other delivery records past DeliveryKeep, history past the
// retention days; delivery cutoffs move back to the oldest running poster.
// Each kind is purged until a batch comes back short; the counts add up.
func TestPurgeRetentionPlansEachKindWithItsCutoff(t *testing.T) {
	horizon := purgeStart.Add(-48 * time.Hour) // a GenerateReply stuck for two days
	env, batches := purgeEnv(t, map[string]int{operator.PurgeLimitHolds: 2, operator.PurgeTurns: 1}, horizon)
	res := execute[PurgeRetentionResult](t, env, PurgeRetention, PurgeRetentionInput{Expired: true, RetentionDays: 30, BatchSize: 10})
	days30 := purgeStart.Add(-30 * 24 * time.Hour)
	want := []operator.PurgeBatchInput{
		{Kind: operator.PurgeLimitHolds, Before: purgeStart.Add(-activities.HoldTTL - time.Minute), Limit: 10},
		{Kind: operator.PurgeLimitHolds, Before: purgeStart.Add(-activities.HoldTTL - time.Minute), Limit: 10},
		{Kind: operator.PurgeLimitHolds, Before: purgeStart.Add(-activities.HoldTTL - time.Minute), Limit: 10},
		{Kind: operator.PurgeTurns, Before: days30, Limit: 10},
		{Kind: operator.PurgeTurns, Before: days30, Limit: 10},
		{Kind: operator.PurgeMemories, Before: days30, Limit: 10},
		{Kind: operator.PurgeDeliveries, Before: horizon, Limit: 10},
		{Kind: operator.PurgeReplyDeliveries, Before: days30, Limit: 10},
	}
	if len(*batches) != len(want) {
		t.Fatalf("batches %+v, want %+v", *batches, want)
	}
	for i, b := range *batches {
		if b.Kind != want[i].Kind || !b.Before.Equal(want[i].Before) || b.Limit != want[i].Limit {
			t.Errorf("batch %d: %+v, want %+v", i+1, b, want[i])
		}
	}
	if wantCounts := (PurgeCounts{LimitHolds: 21, DeliveryRecords: 2, Turns: 11, Memories: 1}); res.Counts != wantCounts {
		t.Errorf("counts %+v, want %+v", res.Counts, wantCounts)
	}
}

// Without retention days no turn, memory or reply's record is asked for,
// and without Expired no hold or other record; with neither, nothing runs.
func TestPurgeRetentionPurgesOnlyWhatItIsAskedFor(t *testing.T) {
	for _, tc := range []struct {
		in    PurgeRetentionInput
		kinds string
	}{
		{PurgeRetentionInput{Expired: true}, "limit_holds deliveries"},
		{PurgeRetentionInput{RetentionDays: 7}, "conversation_turns memories reply_deliveries"},
		{PurgeRetentionInput{}, ""},
	} {
		env, batches := purgeEnv(t, nil, purgeStart)
		res := execute[PurgeRetentionResult](t, env, PurgeRetention, tc.in)
		var kinds []string
		for _, b := range *batches {
			kinds = append(kinds, b.Kind)
			if b.Limit != operator.DefaultPurgeBatch {
				t.Errorf("%+v: batch limit %d, want the default %d", tc.in, b.Limit, operator.DefaultPurgeBatch)
			}
		}
		if strings.Join(kinds, " ") != tc.kinds {
			t.Errorf("%+v purges %v, want %s", tc.in, kinds, tc.kinds)
		}
		if tc.kinds == "" && res.Counts != (PurgeCounts{}) {
			t.Errorf("an empty purge counts %+v", res.Counts)
		}
	}
}

// A long purge continues as new every purgeBatchesPerRun batches, carrying
// its plan, its place and its counts; the next run adds to them.
func TestPurgeRetentionContinuesAsNewCarryingCounts(t *testing.T) {
	env, batches := purgeEnv(t, map[string]int{operator.PurgeTurns: purgeBatchesPerRun + 5}, purgeStart)
	in := PurgeRetentionInput{RetentionDays: 30, BatchSize: 10}
	env.ExecuteWorkflow(PurgeRetention, in)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("err = %v, want continue-as-new", err)
	}
	if len(*batches) != purgeBatchesPerRun {
		t.Fatalf("%d batches before continuing as new, want %d", len(*batches), purgeBatchesPerRun)
	}
	var next PurgeRetentionInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	p := next.Progress
	if p == nil || p.Next != 0 || p.Counts.Turns != 10*purgeBatchesPerRun || len(p.Plan) != 3 || next.RetentionDays != 30 {
		t.Fatalf("next input %+v, progress %+v", next, p)
	}

	env2, batches2 := purgeEnv(t, map[string]int{operator.PurgeTurns: 5}, purgeStart)
	res := execute[PurgeRetentionResult](t, env2, PurgeRetention, next)
	if (*batches2)[0].Kind != operator.PurgeTurns || !(*batches2)[0].Before.Equal(p.Plan[0].Before) {
		t.Errorf("the next run starts with %+v, want the carried plan's %+v", (*batches2)[0], p.Plan[0])
	}
	if want := 10*(purgeBatchesPerRun+5) + 1; res.Counts.Turns != want || res.Counts.Memories != 1 {
		t.Errorf("counts %+v, want %d turns and 1 memory", res.Counts, want)
	}
}

func TestPurgeCountsAsDetails(t *testing.T) {
	got := PurgeCounts{LimitHolds: 1204, DeliveryRecords: 310, Turns: 1234567}.String()
	if want := "purged 1,204 limit holds, 310 delivery records, 1,234,567 turns, 0 memories"; got != want {
		t.Errorf("details %q, want %q", got, want)
	}
}

// operator.ReplyKeys, the LIKE pattern of the partial indexes, matches every
// key deliverykey builds for a reply's parts and no other key.
func TestReplyKeysPatternMatchesRepliesOnly(t *testing.T) {
	if strings.ContainsAny(operator.ReplyKeys, `_\`) {
		t.Fatalf("%q: this test reads only %% wildcards", operator.ReplyKeys)
	}
	like := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(operator.ReplyKeys), "%", ".*") + "$")
	reply := deliverykey.New(GenerateReplyID("1234567890123-0a1b2c3d"), deliverykey.Reply)
	for key, want := range map[string]bool{
		deliverykey.Part(reply, 0):                                                    true,
		deliverykey.Part(reply, 12):                                                   true,
		deliverykey.New(GenerateReplyID("123"), deliverykey.DM):                       false,
		deliverykey.New(GenerateReplyID("123"), deliverykey.VoiceDM):                  false,
		deliverykey.New(ImagineImageID("456"), deliverykey.Post):                      false,
		deliverykey.Part(deliverykey.New(ImagineImageID("456"), deliverykey.Post), 0): false,
		deliverykey.New(ImagineImageID("456"), deliverykey.DM):                        false,
	} {
		if like.MatchString(key) != want {
			t.Errorf("%q LIKE %q = %v, want %v", key, operator.ReplyKeys, !want, want)
		}
	}
}
