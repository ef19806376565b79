//go:build integration

package retention_test

import (
	"context"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/retention"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// scheduleOf describes a schedule and decodes its workflow's input.
func scheduleOf(t *testing.T, s *itest.Stack, id string) (*client.ScheduleDescription, workflows.PurgeRetentionInput) {
	t.Helper()
	// Described without the payload codec, as `temporal schedule describe`
	// without --codec-endpoint does.
	plain, err := client.NewClientFromExisting(s.Client, client.Options{Namespace: s.Config.TemporalNamespace})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	desc, err := plain.ScheduleClient().GetHandle(context.Background(), id).Describe(context.Background())
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	act, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || len(act.Args) != 1 {
		t.Fatalf("%s starts %#v, want one workflow with one input", id, desc.Schedule.Action)
	}
	codec, err := temporalclient.Codec(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	var in workflows.PurgeRetentionInput
	p := act.Args[0].(*commonpb.Payload)
	if err := codec.DataConverter().FromPayload(p, &in); err != nil {
		t.Fatal(err)
	}
	// Plain, not sealed: it must outlive a master-key rotation.
	if enc := string(p.GetMetadata()["encoding"]); enc != "json/plain" {
		t.Errorf("%s input encoded %q, want json/plain", id, enc)
	}
	// The started workflows' summary is plain too: `temporal schedule
	// describe` shows it without the codec endpoint.
	if sum := act.StaticSummary; !strings.HasPrefix(sum, "retention: ") {
		t.Errorf("%s summary %q, want it readable without the codec", id, sum)
	}
	if act.Workflow != workflows.PurgeRetentionName || act.TaskQueue != s.TaskQueue {
		t.Errorf("%s starts %v on %s, want %s on %s", id, act.Workflow, act.TaskQueue, workflows.PurgeRetentionName, s.TaskQueue)
	}
	if desc.Schedule.Policy.Overlap != enums.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Errorf("%s overlap policy %v, want skip", id, desc.Schedule.Policy.Overlap)
	}
	return desc, in
}

// every is a schedule's one interval.
func every(t *testing.T, desc *client.ScheduleDescription) time.Duration {
	t.Helper()
	if len(desc.Schedule.Spec.Intervals) != 1 {
		t.Fatalf("spec %+v, want one interval", desc.Schedule.Spec)
	}
	return desc.Schedule.Spec.Intervals[0].Every
}

// countSchedules is how many schedules the namespace lists under id.
func countSchedules(t *testing.T, s *itest.Stack, id string) int {
	t.Helper()
	it, err := s.Client.ScheduleClient().List(context.Background(), client.ScheduleListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == id {
			n++
		}
	}
	return n
}

func cleanSchedules(t *testing.T, s *itest.Stack) {
	t.Cleanup(func() {
		for _, id := range []string{retention.ExpiredScheduleID, retention.HistoryScheduleID} {
			_ = s.Client.ScheduleClient().GetHandle(context.Background(), id).Delete(context.Background())
		}
	})
}

// EnsureSchedules makes one schedule per id, hourly for the expired rows and
// daily for RETENTION_DAYS; run again it brings a stale schedule up to the
// current spec and input without making a second, keeps a schedule paused
// in the Web UI paused, and removes the history schedule once
// RETENTION_DAYS is unset.
func TestEnsureSchedulesIsIdempotentAndKeepsPause(t *testing.T) {
	s := itest.New(t, itest.Options{})
	cleanSchedules(t, s)
	ctx := context.Background()
	sc := s.Client.ScheduleClient()
	// A schedule left by an older setup: another interval, another input.
	if _, err := sc.Create(ctx, client.ScheduleOptions{
		ID:   retention.ExpiredScheduleID,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 5 * time.Minute}}},
		Action: &client.ScheduleWorkflowAction{ID: "old", Workflow: workflows.PurgeRetentionName, TaskQueue: s.TaskQueue,
			Args: []any{workflows.PurgeRetentionInput{Expired: true, BatchSize: 7}}},
	}); err != nil {
		t.Fatal(err)
	}

	cfg := s.Config
	cfg.RetentionDays = 30
	for i := range 2 {
		report, err := retention.EnsureSchedules(ctx, s.Client, cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Says what it did to each: the stale one updated, the new one created,
		// then both updated.
		want := []string{"updated schedule " + retention.ExpiredScheduleID, "created schedule " + retention.HistoryScheduleID}
		if i == 1 {
			want[1] = "updated schedule " + retention.HistoryScheduleID
		}
		if len(report) != 2 || !strings.HasPrefix(report[0], want[0]) || !strings.HasPrefix(report[1], want[1]) {
			t.Errorf("run %d reported %q, want lines starting %q", i+1, report, want)
		}
	}
	desc, in := scheduleOf(t, s, retention.ExpiredScheduleID)
	if every(t, desc) != time.Hour || in != (workflows.PurgeRetentionInput{Expired: true}) {
		t.Errorf("expired schedule every %s with %+v, want hourly with {Expired: true}", every(t, desc), in)
	}
	desc, in = scheduleOf(t, s, retention.HistoryScheduleID)
	if every(t, desc) != 24*time.Hour || in != (workflows.PurgeRetentionInput{RetentionDays: 30}) {
		t.Errorf("history schedule every %s with %+v, want daily with 30 days", every(t, desc), in)
	}
	for _, id := range []string{retention.ExpiredScheduleID, retention.HistoryScheduleID} {
		testwait.Until(t, "the schedule list to show "+id, func() bool { return countSchedules(t, s, id) > 0 })
		if n := countSchedules(t, s, id); n != 1 {
			t.Errorf("%d schedules %s, want 1", n, id)
		}
	}

	// Paused from the Web UI, then set up again with a new RETENTION_DAYS.
	if err := sc.GetHandle(ctx, retention.HistoryScheduleID).Pause(ctx, client.SchedulePauseOptions{Note: "operator"}); err != nil {
		t.Fatal(err)
	}
	cfg.RetentionDays = 7
	if report, err := retention.EnsureSchedules(ctx, s.Client, cfg); err != nil || !strings.Contains(strings.Join(report, "\n"), "left paused as it was") {
		t.Fatalf("report %q, err %v; want the paused schedule said to stay paused", report, err)
	}
	desc, in = scheduleOf(t, s, retention.HistoryScheduleID)
	if !desc.Schedule.State.Paused || desc.Schedule.State.Note != "operator" {
		t.Errorf("history schedule state %+v after setup, want still paused with the operator's note", desc.Schedule.State)
	}
	if in.RetentionDays != 7 {
		t.Errorf("history schedule purges after %d days, want the new 7", in.RetentionDays)
	}
	if desc, _ = scheduleOf(t, s, retention.ExpiredScheduleID); desc.Schedule.State.Paused {
		t.Error("the expired schedule was paused by setup")
	}

	// RETENTION_DAYS unset: a paused history schedule is left, and said so;
	// a running one is deleted, and said why; then there is none to delete.
	cfg.RetentionDays = 0
	for _, c := range []struct {
		unpause bool
		want    string
		there   bool
	}{
		{false, "left schedule " + retention.HistoryScheduleID + " paused: RETENTION_DAYS is unset", true},
		{true, "deleted schedule " + retention.HistoryScheduleID + ": RETENTION_DAYS is unset", false},
		{false, "no schedule " + retention.HistoryScheduleID + ": RETENTION_DAYS is unset", false},
	} {
		if c.unpause {
			if err := sc.GetHandle(ctx, retention.HistoryScheduleID).Unpause(ctx, client.ScheduleUnpauseOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		report, err := retention.EnsureSchedules(ctx, s.Client, cfg)
		if err != nil || len(report) != 2 || !strings.HasPrefix(report[1], c.want) {
			t.Errorf("report %q, err %v; want its second line to start %q", report, err, c.want)
		}
		if _, err := sc.GetHandle(ctx, retention.HistoryScheduleID).Describe(ctx); (err == nil) != c.there {
			t.Errorf("after %q: the history schedule is there: %v", c.want, err == nil)
		}
	}
	scheduleOf(t, s, retention.ExpiredScheduleID)
}

// Triggering the schedule (the Web UI's "Trigger" button) runs
// PurgeRetention end to end on the worker: the expired hold is gone and
// the run's result counts it.
func TestScheduleTriggerRunsThePurge(t *testing.T) {
	s := itest.New(t, itest.Options{})
	cleanSchedules(t, s)
	ctx := context.Background()
	d := seed(t, s)
	d.hold(t, time.Hour)
	d.hold(t, time.Minute)
	if _, err := retention.EnsureSchedules(ctx, s.Client, s.Config); err != nil {
		t.Fatal(err)
	}
	h := s.Client.ScheduleClient().GetHandle(ctx, retention.ExpiredScheduleID)
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var started *client.ScheduleWorkflowExecution
	testwait.Until(t, "the triggered run to start", func() bool {
		desc, err := h.Describe(ctx)
		if err != nil || len(desc.Info.RecentActions) == 0 {
			return false
		}
		started = desc.Info.RecentActions[len(desc.Info.RecentActions)-1].StartWorkflowResult
		return started != nil
	})
	var res workflows.PurgeRetentionResult
	if err := s.Client.GetWorkflow(ctx, started.WorkflowID, started.FirstExecutionRunID).Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Counts.LimitHolds != 1 {
		t.Errorf("triggered run %s purged %+v, want the 1 expired hold", started.WorkflowID, res.Counts)
	}
	d.want(t, "provider", "usage_logs", "true", store.HoldProvider) // the live one
	if det := details(t, s, started.WorkflowID, started.FirstExecutionRunID); det != res.Counts.String() {
		t.Errorf("details %q, want %q", det, res.Counts.String())
	}
}
