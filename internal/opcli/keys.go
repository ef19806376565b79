package opcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devstack"
	"github.com/tzurot/tzurot/workflows"
)

// RotateMasterKey starts the RotateMasterKey workflow (`tzurot keys rotate`)
// and follows it to the end, then says what the operator does next. The keys
// are the worker's, not this process's: this one only needs APP_MASTER_KEY to
// talk to Temporal. Ctrl-C stops following, not the rotation. A run that does
// not verify returns an error, so scripts see a non-zero exit.
func RotateMasterKey(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) error {
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	run, err := d.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.RotateMasterKeyID,
		TaskQueue:                                cfg.TemporalTaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            "master key rotation",
		StaticDetails:                            "Re-seals user_api_keys from APP_MASTER_KEY_PREVIOUS to APP_MASTER_KEY, then verifies. Query: progress.",
	}, workflows.RotateMasterKeyName, workflows.RotateMasterKeyInput{})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fmt.Errorf("a rotation is already running: watch it at %s", workflowURL(cfg, workflows.RotateMasterKeyID))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "started the master key rotation (workflow %s); watch it at %s\n", run.GetID(), workflowURL(cfg, run.GetID()))

	var res workflows.RotateMasterKeyResult
	done, err := followRun(ctx, d.Temporal, run, out, "rotation", &res, func(st workflows.RotationState) string {
		return fmt.Sprintf("%-7s re-sealed %d · already current %d · failed %d", st.Phase, st.Resealed, st.AlreadyCurrent, st.Failed)
	})
	if err != nil || !done {
		return err
	}
	return reportRotation(out, res)
}

func workflowURL(cfg config.Config, id string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/namespaces/%s/workflows/%s", devstack.UIPort, cfg.TemporalNamespace, id)
}

// reportRotation prints the counts and the next step, which depends on why a
// run did not verify: rows no key opens stay unverifiable whatever the
// operator does with the keys, rows still on the old key need another run.
func reportRotation(out io.Writer, r workflows.RotateMasterKeyResult) error {
	fmt.Fprintf(out, "\nre-sealed %d, already current %d, failed %d; %d keys checked\n", r.Resealed, r.AlreadyCurrent, r.Failed, r.Total)
	if r.Verified {
		fmt.Fprintln(out, "every key opens with APP_MASTER_KEY: remove APP_MASTER_KEY_PREVIOUS from the worker and the bot, then restart them")
		return nil
	}
	if !r.PreviousKey && r.Failed > 0 {
		// Listing the ids would suggest these keys are lost; most likely
		// they are simply on the old key.
		fmt.Fprintln(out, "the worker has no APP_MASTER_KEY_PREVIOUS, so keys sealed with the old key could not be opened (nothing was changed):\n"+
			"  set APP_MASTER_KEY_PREVIOUS to the old key on the worker, restart it and run `tzurot keys rotate` again")
		return fmt.Errorf("rotation not verified: %d of %d keys do not open with APP_MASTER_KEY", r.NotCurrent, r.Total)
	}
	failed := map[string]bool{}
	if len(r.FailedIDs) > 0 {
		fmt.Fprintln(out, "user_api_keys rows that neither key opens (left unchanged; if no key you have opens them, their users must run /wallet set again):")
		for _, id := range r.FailedIDs {
			failed[id] = true
			fmt.Fprintln(out, "  "+id)
		}
		if more := r.Failed - len(r.FailedIDs); more > 0 {
			fmt.Fprintf(out, "  … and %d more\n", more)
		}
	}
	var stale []string
	for _, id := range r.NotCurrentIDs {
		if !failed[id] {
			stale = append(stale, id)
		}
	}
	complete := r.NotCurrent == len(r.NotCurrentIDs)
	switch {
	case len(stale) > 0 || !complete:
		fmt.Fprintln(out, "rows that still need APP_MASTER_KEY_PREVIOUS (written during the run by a process still on the old key?):")
		for _, id := range stale {
			fmt.Fprintln(out, "  "+id)
		}
		if !complete {
			fmt.Fprintf(out, "  … and up to %d more\n", r.NotCurrent-len(r.NotCurrentIDs))
		}
		fmt.Fprintln(out, "keep APP_MASTER_KEY_PREVIOUS; once the worker and the bot both run with the new APP_MASTER_KEY, run `tzurot keys rotate` again")
	case r.PreviousKey:
		fmt.Fprintln(out, "every other key opens with APP_MASTER_KEY, and APP_MASTER_KEY_PREVIOUS opens none of the rows above: it can be removed from the worker and the bot")
	}
	return fmt.Errorf("rotation not verified: %d of %d keys do not open with APP_MASTER_KEY", r.NotCurrent, r.Total)
}
