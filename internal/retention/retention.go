// Package retention keeps the retention schedules: the Temporal Schedules
// that start workflows.PurgeRetention, created or brought up to date by
// EnsureSchedules (`tzurot temporal setup`, `tzurot dev`).
//
// Two schedules, both with overlap policy skip, both pausable from the Web
// UI's Schedules page:
//   - ExpiredScheduleID, hourly: limit holds past their lapse and delivery
//     records no workflow can use any more;
//   - HistoryScheduleID, daily at 03:00 UTC, only while RETENTION_DAYS is
//     set: conversation turns, memories and replies' delivery records older
//     than that many days. With RETENTION_DAYS unset a running one is
//     deleted, so nothing is purged and nothing in Temporal suggests
//     otherwise; a paused one is left paused (it purges nothing), as the
//     operator who paused it left it, and setup says so.
//
// The schedules' input, and the started workflows' summary, are plain JSON,
// past the payload codec: `temporal schedule describe` and the Web UI show
// them without the codec endpoint, and they outlive a master-key rotation.
package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/workflows"
)

// Schedule ids, stable: EnsureSchedules finds its schedules by them.
const (
	ExpiredScheduleID = "tzurot-retention-expired"
	HistoryScheduleID = "tzurot-retention-history"
)

// Schedule is one retention schedule as EnsureSchedules wants it.
type Schedule struct {
	ID string
	// WorkflowID is the started runs' id, to which the server appends the
	// scheduled time: retention/expired-2026-11-30T13:00:00Z.
	WorkflowID string
	Spec       client.ScheduleSpec
	Input      workflows.PurgeRetentionInput
	Summary    string // the started workflows' static summary in the Web UI
	// CatchupWindow is as long as one interval: after an outage one missed
	// run is made up, not a backlog of them.
	CatchupWindow time.Duration
}

// Schedules are the retention schedules cfg asks for: ExpiredScheduleID
// always, HistoryScheduleID when RETENTION_DAYS is set.
func Schedules(cfg config.Config) []Schedule {
	out := []Schedule{{
		ID:            ExpiredScheduleID,
		WorkflowID:    "retention/expired",
		Spec:          client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Input:         workflows.PurgeRetentionInput{Expired: true},
		Summary:       "retention: expired limit holds and delivery records",
		CatchupWindow: time.Hour,
	}}
	if days := int(cfg.RetentionDays); days > 0 {
		out = append(out, Schedule{
			ID:            HistoryScheduleID,
			WorkflowID:    "retention/history",
			Spec:          client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour, Offset: 3 * time.Hour}}},
			Input:         workflows.PurgeRetentionInput{RetentionDays: days},
			Summary:       fmt.Sprintf("retention: conversation turns, memories and replies' delivery records older than %d days", days),
			CatchupWindow: 24 * time.Hour,
		})
	}
	return out
}

// EnsureSchedules creates the retention schedules of cfg (Schedules) on c's
// namespace, for workers on cfg.TemporalTaskQueue, or updates the ones that
// exist to the current spec, input and policies, keeping their state: a
// schedule paused in the Web UI stays paused. With RETENTION_DAYS unset it
// deletes a running HistoryScheduleID and leaves a paused one. It returns
// one line per schedule saying what it did and why ("created schedule …",
// "updated schedule … (paused: …)", "deleted schedule …: RETENTION_DAYS is
// unset"). Safe to run again: each id names one schedule. Errors are
// Temporal's, one per schedule, wrapped with its id.
func EnsureSchedules(ctx context.Context, c client.Client, cfg config.Config) ([]string, error) {
	// A client on c's connection without the payload codec, so the
	// schedules' summaries are plain like their input.
	conn, err := temporalclient.Connection(cfg)
	if err != nil {
		return nil, err
	}
	plain, err := client.NewClientFromExistingWithContext(ctx, c, client.Options{Namespace: conn.Namespace, Logger: discard{}})
	if err != nil {
		return nil, fmt.Errorf("a client for the schedules: %w", err)
	}
	defer plain.Close()
	sc := plain.ScheduleClient()
	want := Schedules(cfg)
	var errs []error
	var report []string
	for _, s := range want {
		line, err := ensure(ctx, sc, s, cfg.TemporalTaskQueue)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", s.ID, err))
			continue
		}
		report = append(report, line)
	}
	if len(want) == 1 {
		line, err := removeHistory(ctx, sc)
		if err != nil {
			errs = append(errs, err)
		} else {
			report = append(report, line)
		}
	}
	return report, errors.Join(errs...)
}

// removeHistory deletes HistoryScheduleID, RETENTION_DAYS being unset,
// unless it is paused, and says what it did.
func removeHistory(ctx context.Context, sc client.ScheduleClient) (string, error) {
	h := sc.GetHandle(ctx, HistoryScheduleID)
	desc, err := h.Describe(ctx)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return "no schedule " + HistoryScheduleID + ": RETENTION_DAYS is unset, so conversation turns and memories are kept", nil
	case err != nil:
		return "", fmt.Errorf("describe schedule %s: %w", HistoryScheduleID, err)
	case desc.Schedule.State.Paused:
		return fmt.Sprintf("left schedule %s paused: RETENTION_DAYS is unset and it purges nothing while paused; delete it (Web UI, or `temporal schedule delete --schedule-id %s`) to drop it for good, or set RETENTION_DAYS and unpause it",
			HistoryScheduleID, HistoryScheduleID), nil
	}
	if err := h.Delete(ctx); err != nil && !errors.As(err, &notFound) {
		return "", fmt.Errorf("delete schedule %s (RETENTION_DAYS is unset): %w", HistoryScheduleID, err)
	}
	return "deleted schedule " + HistoryScheduleID + ": RETENTION_DAYS is unset, so conversation turns and memories are kept", nil
}

// discard is a Temporal logger that drops everything: the schedules'
// client logs nothing the caller's does not.
type discard struct{}

func (discard) Debug(string, ...any) {}
func (discard) Info(string, ...any)  {}
func (discard) Warn(string, ...any)  {}
func (discard) Error(string, ...any) {}

// ensure creates s, or, when its id is taken, replaces its spec, action and
// policies and keeps its state (paused, note); it says which.
func ensure(ctx context.Context, sc client.ScheduleClient, s Schedule, taskQueue string) (string, error) {
	// The input goes in as plain JSON, past the payload codec (which passes
	// plain payloads through): it holds no secret, the Web UI shows it as it
	// is, and it outlives a master-key rotation, which a sealed input kept in
	// the schedule for good would not.
	input, err := converter.GetDefaultDataConverter().ToPayload(s.Input)
	if err != nil {
		return "", fmt.Errorf("encode the input: %w", err)
	}
	action := &client.ScheduleWorkflowAction{
		ID:            s.WorkflowID,
		Workflow:      workflows.PurgeRetentionName,
		Args:          []any{input},
		TaskQueue:     taskQueue,
		StaticSummary: s.Summary,
	}
	policy := &client.SchedulePolicies{
		Overlap:       enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: s.CatchupWindow,
	}
	_, err = sc.Create(ctx, client.ScheduleOptions{
		ID: s.ID, Spec: s.Spec, Action: action, Overlap: policy.Overlap, CatchupWindow: policy.CatchupWindow,
		Note: "made by tzurot temporal setup; pause it here to stop the purges",
	})
	if err == nil {
		return "created schedule " + s.ID + " (" + s.Summary + ")", nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return "", err
	}
	state := ""
	err = sc.GetHandle(ctx, s.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			if sched.State != nil && sched.State.Paused {
				state = ", left paused as it was"
			}
			spec := s.Spec
			sched.Spec, sched.Action, sched.Policy = &spec, action, policy
			// sched.State is the schedule's own: the server replaces the
			// state with what an update sends, so it is sent back as it is.
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return "", err
	}
	return "updated schedule " + s.ID + " (" + s.Summary + state + ")", nil
}
