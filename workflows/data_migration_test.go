package workflows

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities/operator"
)

// finishSummary is what the mocked MigrationFinish returns.
var finishSummary operator.ReportSummary

func migrationEnv(t *testing.T, pages int, verifyErr error) (*testsuite.TestWorkflowEnvironment, *int, *operator.MigrationFinishInput, *bool) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	run := uuid.New()
	calls := 0
	var finished operator.MigrationFinishInput
	backedUp := false
	env.OnActivity(op.MigrationBegin, mock.Anything, mock.Anything).Return(run, nil)
	env.OnActivity(op.MigrationBackup, mock.Anything, mock.Anything).Return(
		func(context.Context, operator.MigrationBackupInput) (string, error) {
			backedUp = true
			return "/backups/x.dump", nil
		}).Maybe()
	env.OnActivity(op.MigrationBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in operator.MigrationBatchInput) (operator.MigrationBatchResult, error) {
			calls++
			return operator.MigrationBatchResult{
				Cursor: uuid.NewString(), Done: calls >= pages,
				Counts: operator.MigrationCounts{Read: 10, Changed: 7, Unchanged: 3},
			}, nil
		}).Maybe()
	env.OnActivity(op.MigrationVerify, mock.Anything, mock.Anything).Return(nil, verifyErr).Maybe()
	env.OnActivity(op.MigrationFinish, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in operator.MigrationFinishInput) (operator.ReportSummary, error) {
			finished = in
			return finishSummary, nil
		}).Maybe()
	return env, &calls, &finished, &backedUp
}

func TestDataMigrationRunsItsSteps(t *testing.T) {
	env, calls, finished, backedUp := migrationEnv(t, 3, nil)
	st := execute[MigrationState](t, env, DataMigration, DataMigrationInput{Name: "llm-config-jsonb", BatchSize: 10})
	if *calls != 3 || !*backedUp || st.Counts.Read != 30 || st.Outcome != "succeeded" || !finished.Verified || finished.Counts.Changed != 21 {
		t.Fatalf("calls %d backup %v state %+v finished %+v", *calls, *backedUp, st, finished)
	}
}

func TestDataMigrationDryRunSkipsBackupAndVerification(t *testing.T) {
	env, _, finished, backedUp := migrationEnv(t, 2, errors.New("must not verify"))
	st := execute[MigrationState](t, env, DataMigration, DataMigrationInput{Name: "llm-config-jsonb", DryRun: true})
	if *backedUp || finished.Verified || st.Outcome != "succeeded" {
		t.Fatalf("dry run: backup %v verified %v outcome %s", *backedUp, finished.Verified, st.Outcome)
	}
}

func TestDataMigrationVerificationFailureFailsLoudly(t *testing.T) {
	env, _, finished, _ := migrationEnv(t, 1, temporal.NewNonRetryableApplicationError("3 rows lost", operator.ErrVerifyFailed, nil))
	env.ExecuteWorkflow(DataMigration, DataMigrationInput{Name: "llm-config-jsonb"})
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("workflow succeeded although verification failed")
	}
	if finished.Outcome != "failed" || finished.Verified {
		t.Fatalf("recorded %+v", finished)
	}
}

func TestDataMigrationContinuesAsNewBeforeHistoryGrowsLarge(t *testing.T) {
	env, calls, _, _ := migrationEnv(t, batchesPerRun+50, nil)
	env.ExecuteWorkflow(DataMigration, DataMigrationInput{Name: "llm-config-jsonb"})
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("err = %v, want continue-as-new", err)
	}
	if *calls != batchesPerRun {
		t.Fatalf("%d batches before continuing as new, want %d", *calls, batchesPerRun)
	}
}

// The state a run ends with carries MigrationFinish's summary of the whole
// report (most severe lines, the remainder line, the file), not the
// preview the batches returned.
func TestDataMigrationEndsWithTheWholeReportsSummary(t *testing.T) {
	finishSummary = operator.ReportSummary{Path: "/b/x.report.txt", Total: 250,
		Lines: []string{"[unreadable files] a.json: truncated", "… and 249 more not shown (250 in all: ...); the whole report is /b/x.report.txt"}}
	defer func() { finishSummary = operator.ReportSummary{} }()
	env, _, _, _ := migrationEnv(t, 2, nil)
	st := execute[MigrationState](t, env, DataMigration, DataMigrationInput{Name: "shapes-import"})
	if st.ReportPath != "/b/x.report.txt" || st.ReportTotal != 250 || len(st.Report) != 2 || st.Report[0] != finishSummary.Lines[0] {
		t.Fatalf("state %+v", st)
	}
}

// TestDataMigrationReplaysOldHistories replays runs recorded on a dev server
// by the workflow as it was before the whole-report version (e2e's
// TestRecordDataMigrationHistory), so a change that breaks migrations in
// flight fails here.
func TestDataMigrationReplaysOldHistories(t *testing.T) {
	replayRecorded(t, "data_migration_*.json", DataMigration, DataMigrationName)
}
