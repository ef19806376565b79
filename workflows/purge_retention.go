package workflows

import (
	"fmt"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
)

// PurgeRetentionName is the registered type of PurgeRetention.
const PurgeRetentionName = "PurgeRetention"

// PurgeRetentionInput says what one run purges; internal/retention's
// schedules start it. Progress is the run's own, carried across
// continue-as-new; callers leave it nil.
type PurgeRetentionInput struct {
	// Expired purges what has stopped being of use: limit holds past
	// activities.HoldTTL, and the delivery records of workflows closed more
	// than DeliveryKeep ago (all but replies').
	Expired bool `json:"expired"`
	// RetentionDays, when above 0, purges conversation turns, memories and
	// replies' delivery records older than that many days; 0 purges none.
	RetentionDays int `json:"retention_days,omitempty"`
	// BatchSize is the rows per PurgeBatch call; 0: operator.DefaultPurgeBatch.
	BatchSize int            `json:"batch_size,omitempty"`
	Progress  *PurgeProgress `json:"progress,omitempty"`
}

// PurgeCounts are the rows a purge deleted, per kind.
type PurgeCounts struct {
	LimitHolds      int `json:"limit_holds"`
	DeliveryRecords int `json:"delivery_records"`
	Turns           int `json:"conversation_turns"`
	Memories        int `json:"memories"`
}

// String is the counts as the run's current details show them: "purged
// 1,204 limit holds, 310 delivery records, 0 turns, 0 memories".
func (c PurgeCounts) String() string {
	return message.NewPrinter(language.English).Sprintf("purged %d limit holds, %d delivery records, %d turns, %d memories",
		c.LimitHolds, c.DeliveryRecords, c.Turns, c.Memories)
}

func (c *PurgeCounts) add(kind string, n int) {
	switch kind {
	case operator.PurgeLimitHolds:
		c.LimitHolds += n
	case operator.PurgeDeliveries, operator.PurgeReplyDeliveries:
		c.DeliveryRecords += n
	case operator.PurgeTurns:
		c.Turns += n
	case operator.PurgeMemories:
		c.Memories += n
	}
}

// PurgeStep is one kind of row and its cutoff, fixed when the run began.
type PurgeStep struct {
	Kind   string    `json:"kind"`
	Before time.Time `json:"before"`
}

// PurgeProgress is a purge's plan, the step it is on and what it deleted.
type PurgeProgress struct {
	Plan   []PurgeStep `json:"plan"`
	Next   int         `json:"next"`
	Counts PurgeCounts `json:"counts"`
}

// PurgeRetentionResult is what a purge deleted.
type PurgeRetentionResult struct {
	Counts PurgeCounts `json:"counts"`
}

// Expiry of what PurgeRetentionInput.Expired purges.
const (
	// holdSlack is added to activities.HoldTTL: holds are stamped by the
	// workers' clocks, the cutoff by this workflow's.
	holdSlack = time.Minute
	// DeliveryKeep is how long after their workflow could last have run
	// delivery records are kept: a redelivered Discord event or a late look
	// at a post finds its row for a day.
	DeliveryKeep = 24 * time.Hour
)

// postingWorkflows are the workflows that post under delivery keys.
var postingWorkflows = []string{GenerateReplyName, ImagineImageName}

// purgeBatchesPerRun bounds one run's history; then it continues as new.
const purgeBatchesPerRun = 200

// PurgeRetention deletes expired rows in bounded batches and reports how many
// of each kind it deleted, in its current details as it goes and in its
// result. Each run is started by a schedule (internal/retention); the
// schedule's overlap policy (skip) keeps two from running at once.
//
// The story, step by step:
//  1. The plan: each kind with its cutoff, fixed now from the workflow's
//     clock (so a retried batch or a continued run never reaches newer rows).
//     Expired: limit holds stamped before now − HoldTTL − 1 min, and
//     delivery records other than replies' made before now − DeliveryKeep.
//     RetentionDays: conversation turns, memories and replies' delivery
//     records made before now − RetentionDays days. Every delivery cutoff is
//     moved back to the start of the oldest posting workflow still running
//     (PostingHorizon), whose retries may still need its rows.
//  2. For each step, PurgeBatch deletes up to BatchSize of the oldest rows
//     before the cutoff, one batch per call, until a batch comes back short.
//     Each batch commits on its own: a worker killed mid-run loses at most
//     the batch it was in, and the run (or the next) goes on from what is
//     left. Every purgeBatchesPerRun calls it continues as new with its progress.
//  3. The result: the counts per kind.
func PurgeRetention(ctx workflow.Context, in PurgeRetentionInput) (PurgeRetentionResult, error) {
	actx := workflow.WithActivityOptions(ctx, batchOptions(10, operator.ErrBadInput))
	p := in.Progress
	if p == nil {
		plan, err := purgePlan(actx, in)
		if err != nil {
			return PurgeRetentionResult{}, err
		}
		p = &PurgeProgress{Plan: plan}
	}
	workflow.SetCurrentDetails(ctx, p.Counts.String())
	limit := in.BatchSize
	if limit <= 0 {
		limit = operator.DefaultPurgeBatch
	}
	for batches := 0; p.Next < len(p.Plan); batches++ {
		if batches >= purgeBatchesPerRun {
			in.Progress = p
			return PurgeRetentionResult{}, workflow.NewContinueAsNewError(ctx, PurgeRetention, in)
		}
		step := p.Plan[p.Next]
		var n int
		if err := workflow.ExecuteActivity(actx, op.PurgeBatch, operator.PurgeBatchInput{
			Kind: step.Kind, Before: step.Before, Limit: limit,
		}).Get(ctx, &n); err != nil {
			return PurgeRetentionResult{Counts: p.Counts}, fmt.Errorf("purge %s: %w", step.Kind, err)
		}
		p.Counts.add(step.Kind, n)
		if n < limit {
			p.Next++
		}
		workflow.SetCurrentDetails(ctx, p.Counts.String())
	}
	workflow.GetLogger(ctx).Info("retention purge done", "counts", p.Counts)
	return PurgeRetentionResult{Counts: p.Counts}, nil
}

// purgePlan is step 1 of PurgeRetention.
func purgePlan(ctx workflow.Context, in PurgeRetentionInput) ([]PurgeStep, error) {
	now := workflow.Now(ctx)
	var plan []PurgeStep
	var deliveries, replies time.Time
	if in.Expired {
		plan = append(plan, PurgeStep{operator.PurgeLimitHolds, now.Add(-activities.HoldTTL - holdSlack)})
		deliveries = now.Add(-DeliveryKeep)
	}
	if in.RetentionDays > 0 {
		replies = now.Add(-time.Duration(in.RetentionDays) * 24 * time.Hour)
		plan = append(plan, PurgeStep{operator.PurgeTurns, replies}, PurgeStep{operator.PurgeMemories, replies})
	}
	latest := deliveries
	if replies.After(latest) {
		latest = replies
	}
	if latest.IsZero() {
		return plan, nil
	}
	var horizon time.Time
	if err := workflow.ExecuteActivity(ctx, op.PostingHorizon, operator.PostingHorizonInput{
		Before: latest, WorkflowTypes: postingWorkflows,
	}).Get(ctx, &horizon); err != nil {
		return nil, fmt.Errorf("find how far back delivery records may go: %w", err)
	}
	if !deliveries.IsZero() {
		plan = append(plan, PurgeStep{operator.PurgeDeliveries, earliest(deliveries, horizon)})
	}
	if !replies.IsZero() {
		plan = append(plan, PurgeStep{operator.PurgeReplyDeliveries, earliest(replies, horizon)})
	}
	return plan, nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
