package workflows

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/internal/searchattr"
)

// DataMigrationName is the registered type of DataMigration.
const DataMigrationName = "DataMigration"

// Signals and query of DataMigration.
const (
	SignalPause   = "pause"
	SignalResume  = "resume"
	SignalCancel  = "cancel"
	QueryProgress = "progress"
)

// Search attributes of migrations (internal/searchattr declares them all).
var (
	MigrationNameAttr = searchattr.Migration
	RowsDoneAttr      = searchattr.RowsDone
)

// DataMigrationID is the workflow id for a migration.
func DataMigrationID(name string) string { return "data-migration/" + name }

// DataMigrationInput starts (or, with State, continues) a run.
type DataMigrationInput struct {
	Name      string            `json:"name"`
	DryRun    bool              `json:"dry_run,omitempty"`
	BatchSize int               `json:"batch_size,omitempty"`
	Force     bool              `json:"force,omitempty"`
	Args      map[string]string `json:"args,omitempty"`
	// SearchAttributes is set by starters that registered them on the server.
	SearchAttributes bool            `json:"search_attributes,omitempty"`
	State            *MigrationState `json:"state,omitempty"`
}

// MigrationState is the progress carried across continue-as-new.
type MigrationState struct {
	RunID  uuid.UUID                `json:"run_id"`
	Phase  string                   `json:"phase"` // begin, backup, copy, verify, done
	Cursor string                   `json:"cursor"`
	Counts operator.MigrationCounts `json:"counts"`
	// Report is a preview while the run goes on (at most 200 lines); when
	// it ends, the most severe lines of the whole report, then a line saying
	// how many more there are and where the whole report is (ReportPath).
	Report []string `json:"report,omitempty"`
	// ReportPath is the run's whole report, every line, most severe first;
	// ReportTotal counts its lines. Set when the run ends.
	ReportPath  string `json:"report_path,omitempty"`
	ReportTotal int64  `json:"report_total,omitempty"`
	BackupPath  string `json:"backup_path,omitempty"`
	Paused      bool   `json:"paused"`
	Outcome     string `json:"outcome,omitempty"`
}

// wholeReportChange versions taking MigrationFinish's report summary into
// the state (issue 12, item 9).
const (
	wholeReportChange  = "migration-whole-report"
	wholeReportVersion = 1
)

// batchesPerRun bounds one run's history; then it continues as new.
const batchesPerRun = 200

// DataMigration runs one named data migration (operator.DataMigrationNames).
// Workflow id data-migration/<name>. Operators pause, resume and cancel it
// with signals, and see progress in the Web UI (summary, current details,
// search attributes) and through the "progress" query.
//
// The story, step by step (MigrationState.Phase names each):
//  1. begin: MigrationBegin records the run, refusing a migration that
//     already succeeded unless forced or a dry run.
//  2. backup: MigrationBackup takes a pg_dump of the tables the migration
//     writes (skipped in a dry run); `tzurot migrate data rollback` restores
//     it (operator.Rollback).
//  3. copy: MigrationBatch pages through the rows, a few seconds at a time;
//     the cursor lives here and in the activity's heartbeats, so a killed
//     worker resumes mid-batch. Between batches the workflow takes pause,
//     resume and cancel signals, and continues as new every batchesPerRun
//     batches.
//  4. verify: MigrationVerify compares source and target and fails the run
//     on any difference (not in a dry run).
//  5. done: MigrationFinish records the outcome (succeeded, failed,
//     cancelled — even when the workflow itself was cancelled) and writes
//     the whole report, whose summary the state keeps.
func DataMigration(ctx workflow.Context, in DataMigrationInput) (MigrationState, error) {
	st := MigrationState{Phase: "begin"}
	if in.State != nil {
		st = *in.State
	}
	cancelled := false
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (MigrationState, error) { return st, nil }); err != nil {
		return st, err
	}
	pause := workflow.GetSignalChannel(ctx, SignalPause)
	resume := workflow.GetSignalChannel(ctx, SignalResume)
	cancel := workflow.GetSignalChannel(ctx, SignalCancel)
	drain := func() {
		for {
			sel := workflow.NewSelector(ctx)
			got := false
			sel.AddReceive(pause, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); st.Paused, got = true, true })
			sel.AddReceive(resume, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); st.Paused, got = false, true })
			sel.AddReceive(cancel, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); cancelled, got = true, true })
			sel.AddDefault(func() {})
			sel.Select(ctx)
			if !got {
				return
			}
		}
	}
	ns := &asked{}
	show := func() {
		mode := ""
		if in.DryRun {
			mode = " (dry run: nothing is written)"
		}
		state := st.Phase
		if st.Paused {
			state = "paused"
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s**%s — %s\n\nread %d · changed %d · unchanged %d · reported %d",
			in.Name, mode, state, st.Counts.Read, st.Counts.Changed, st.Counts.Unchanged, st.Counts.Reported))
		if in.SearchAttributes {
			upsertMigration(ctx, ns, in.Name, st.Counts.Read)
		}
	}
	show()

	// Backup and verification heartbeat while they run, so a dead worker is
	// noticed in seconds however long a dump or a scan of a big table takes.
	quick := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: []string{operator.ErrAlreadyApplied, operator.ErrUnknownMigration, operator.ErrBadInput, operator.ErrVerifyFailed},
		},
	})
	finish := func(outcome string, verified bool) error {
		st.Outcome, st.Phase = outcome, "done"
		show()
		// Record the outcome even when the workflow itself was cancelled.
		dctx, _ := workflow.NewDisconnectedContext(quick)
		// Runs since wholeReportVersion take the whole report's summary from
		// MigrationFinish; older ones keep their preview.
		whole := workflow.GetVersion(dctx, wholeReportChange, workflow.DefaultVersion, wholeReportVersion)
		var sum operator.ReportSummary
		if err := workflow.ExecuteActivity(summarized(dctx, "record the run's outcome and write its whole report"), op.MigrationFinish, operator.MigrationFinishInput{
			RunID: st.RunID, Outcome: outcome, Verified: verified, Counts: st.Counts, Report: st.Report,
		}).Get(dctx, &sum); err != nil {
			return err
		}
		if whole == wholeReportVersion && sum.Total > 0 {
			st.Report, st.ReportPath, st.ReportTotal = sum.Lines, sum.Path, sum.Total
		}
		return nil
	}
	fail := func(err error) (MigrationState, error) {
		if temporal.IsCanceledError(err) || cancelled {
			return st, finish("cancelled", false)
		}
		if st.RunID != uuid.Nil {
			if ferr := finish("failed", false); ferr != nil {
				workflow.GetLogger(ctx).Error("could not record the failed run", "err", ferr)
			}
		}
		return st, err
	}

	if st.Phase == "begin" {
		wid := workflow.GetInfo(ctx).WorkflowExecution.ID
		if err := workflow.ExecuteActivity(summarized(quick, "record the run's start"), op.MigrationBegin, operator.MigrationBeginInput{
			Name: in.Name, WorkflowID: wid, DryRun: in.DryRun, Force: in.Force,
		}).Get(ctx, &st.RunID); err != nil {
			return st, err
		}
		st.Phase = "backup"
		if in.DryRun {
			st.Phase = "copy"
		}
		show()
	}
	if st.Phase == "backup" {
		if err := workflow.ExecuteActivity(summarized(quick, "back up the tables the migration writes (pg_dump)"), op.MigrationBackup, operator.MigrationBackupInput{RunID: st.RunID, Name: in.Name}).
			Get(ctx, &st.BackupPath); err != nil {
			return fail(err)
		}
		st.Phase = "copy"
		show()
	}
	// Enough attempts to ride out worker crashes and a database restart; a
	// bug that fails every time ends the run as failed, with the error.
	batchCtx := withSummary(ctx, batchOptions(20, operator.ErrUnknownMigration, operator.ErrBadInput), "migrate a batch of rows")
	for batches := 0; st.Phase == "copy"; batches++ {
		drain()
		if cancelled {
			return st, finish("cancelled", false)
		}
		if st.Paused {
			show()
			if err := workflow.Await(ctx, func() bool {
				drain()
				return !st.Paused || cancelled
			}); err != nil {
				return fail(err)
			}
			continue
		}
		if batches >= batchesPerRun {
			in.State = &st
			return st, workflow.NewContinueAsNewError(ctx, DataMigration, in)
		}
		var res operator.MigrationBatchResult
		if err := workflow.ExecuteActivity(batchCtx, op.MigrationBatch, operator.MigrationBatchInput{
			RunID: st.RunID, Name: in.Name, Cursor: st.Cursor, BatchSize: in.BatchSize,
			DryRun: in.DryRun, Args: in.Args, Budget: 5 * time.Second,
		}).Get(ctx, &res); err != nil {
			return fail(err)
		}
		st.Cursor, st.Counts = res.Cursor, st.Counts.Add(res.Counts)
		for _, line := range res.Report {
			if len(st.Report) < 200 {
				st.Report = append(st.Report, line)
			}
		}
		if res.Done {
			st.Phase = "verify"
		}
		show()
	}
	if st.Phase == "verify" {
		if in.DryRun {
			return st, finish("succeeded", false)
		}
		var problems []string
		if err := workflow.ExecuteActivity(summarized(quick, "compare source and target"), op.MigrationVerify, operator.MigrationVerifyInput{Name: in.Name, Args: in.Args, RunID: st.RunID}).
			Get(ctx, &problems); err != nil {
			st.Report = append(st.Report, "verification failed: "+appMessage(err))
			return fail(err)
		}
		return st, finish("succeeded", true)
	}
	return st, nil
}

// upsertMigration sets the migration's name and rows read: behind
// searchAttributesAskedChange only those the namespace has now (asked at
// most once per searchattr.RecheckAfter of workflow time), so an attribute
// removed mid-run never fails the workflow task; before it, both.
func upsertMigration(ctx workflow.Context, ns *asked, name string, read int64) {
	if workflow.GetVersion(ctx, searchAttributesAskedChange, workflow.DefaultVersion, searchAttributesAskedVersion) < searchAttributesAskedVersion {
		_ = workflow.UpsertTypedSearchAttributes(ctx, MigrationNameAttr.ValueSet(name), RowsDoneAttr.ValueSet(read))
		return
	}
	if u := ns.now(ctx).Updates(searchattr.Keyword(searchattr.Migration, name), searchattr.Int(searchattr.RowsDone, read)); len(u) > 0 {
		_ = workflow.UpsertTypedSearchAttributes(ctx, u...)
	}
}
