package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities/operator"
)

// RotateMasterKeyName is the registered type of RotateMasterKey.
const RotateMasterKeyName = "RotateMasterKey"

// RotateMasterKeyID is the workflow id; being fixed, it lets only one
// rotation run at a time.
const RotateMasterKeyID = "rotate-master-key"

// RotateMasterKeyInput is `{}` from operators; BatchSize tunes the page size
// and State carries progress across continue-as-new.
type RotateMasterKeyInput struct {
	BatchSize int            `json:"batch_size,omitempty"`
	State     *RotationState `json:"state,omitempty"`
}

// RotationState is a run's progress, as the "progress" query returns it.
type RotationState struct {
	Phase          string   `json:"phase"` // reseal, verify, done
	Cursor         string   `json:"cursor"`
	Resealed       int      `json:"resealed"`
	AlreadyCurrent int      `json:"already_current"`
	Failed         int      `json:"failed"`
	FailedIDs      []string `json:"failed_ids,omitempty"`
	// PreviousKey is false when the worker had no APP_MASTER_KEY_PREVIOUS,
	// so nothing could be re-sealed.
	PreviousKey bool                      `json:"previous_key"`
	Verify      operator.VerifyKeysResult `json:"verify"`
}

// RotateMasterKeyResult is the outcome. Verified means the current key
// alone opens every row, so APP_MASTER_KEY_PREVIOUS can be removed; failed
// rows, or rows a process still on the old key wrote meanwhile, make it false.
type RotateMasterKeyResult struct {
	Resealed       int      `json:"resealed"`
	AlreadyCurrent int      `json:"already_current"`
	Failed         int      `json:"failed"`
	FailedIDs      []string `json:"failed_ids"`
	Verified       bool     `json:"verified"`
	// Total, NotCurrent and NotCurrentIDs (the first 1000) are what the final
	// check found: failed rows, and rows still needing the previous key.
	Total         int      `json:"total"`
	NotCurrent    int      `json:"not_current"`
	NotCurrentIDs []string `json:"not_current_ids,omitempty"`
	PreviousKey   bool     `json:"previous_key"`
}

// rotateBatchesPerRun bounds one run's history; then it continues as new.
const rotateBatchesPerRun = 100

// RotateMasterKey re-seals every user_api_keys row that only
// APP_MASTER_KEY_PREVIOUS opens under APP_MASTER_KEY, then checks that the
// current key alone opens every row. The keys come from the worker's
// environment, never from history. Rows that neither key opens are reported
// by id and left alone: deleting a user's key is the user's decision, and the
// operator may still find the key that opens it. Progress: the "progress"
// query and the Web UI's current details.
//
// The story, step by step (RotationState.Phase names each):
//  1. reseal: RotateKeysPage re-seals a few seconds' worth of pages at a
//     time; the cursor lives here and in the activity's heartbeats, so a
//     killed worker costs at most a page. It continues as new every
//     rotateBatchesPerRun calls.
//  2. verify: VerifyKeys reads every row and counts those the current key
//     alone does not open.
//  3. done: the result says whether APP_MASTER_KEY_PREVIOUS can be removed
//     (Verified).
func RotateMasterKey(ctx workflow.Context, in RotateMasterKeyInput) (RotateMasterKeyResult, error) {
	st := RotationState{Phase: "reseal"}
	if in.State != nil {
		st = *in.State
	}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (RotationState, error) { return st, nil }); err != nil {
		return RotateMasterKeyResult{}, err
	}
	show := func() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**master key rotation** — %s\n\nre-sealed %d · already current %d · failed %d",
			st.Phase, st.Resealed, st.AlreadyCurrent, st.Failed))
	}
	show()
	pageCtx := withSummary(ctx, batchOptions(0, operator.ErrBadInput), "re-seal a page of stored keys")
	for batches := 0; st.Phase == "reseal"; batches++ {
		if batches >= rotateBatchesPerRun {
			in.State = &st
			return RotateMasterKeyResult{}, workflow.NewContinueAsNewError(ctx, RotateMasterKey, in)
		}
		var res operator.RotateKeysResult
		if err := workflow.ExecuteActivity(pageCtx, op.RotateKeysPage, operator.RotateKeysInput{
			Cursor: st.Cursor, BatchSize: in.BatchSize, Budget: 5 * time.Second,
		}).Get(ctx, &res); err != nil {
			return RotateMasterKeyResult{}, err
		}
		st.Cursor = res.Cursor
		st.Resealed += res.Resealed
		st.AlreadyCurrent += res.AlreadyCurrent
		st.Failed += res.Failed
		st.FailedIDs = appendCapped(st.FailedIDs, res.FailedIDs)
		st.PreviousKey = res.PreviousKey
		if res.Done {
			st.Phase = "verify"
		}
		show()
	}
	if st.Phase == "verify" {
		vctx := withSummary(ctx, batchOptions(0, operator.ErrBadInput), "check that the current key alone opens every stored key")
		if err := workflow.ExecuteActivity(vctx, op.VerifyKeys, operator.VerifyKeysInput{}).Get(ctx, &st.Verify); err != nil {
			return RotateMasterKeyResult{}, err
		}
		st.Phase = "done"
		show()
	}
	out := RotateMasterKeyResult{
		Resealed: st.Resealed, AlreadyCurrent: st.AlreadyCurrent, Failed: st.Failed, FailedIDs: st.FailedIDs,
		Verified: st.Verify.NotCurrent == 0, Total: st.Verify.Total, NotCurrent: st.Verify.NotCurrent, NotCurrentIDs: st.Verify.NotCurrentIDs,
		PreviousKey: st.PreviousKey,
	}
	if out.FailedIDs == nil {
		out.FailedIDs = []string{} // `[]`, not null, for scripts reading the result
	}
	return out, nil
}

// appendCapped keeps the id lists within what a payload may hold; the counts
// next to them stay exact.
func appendCapped(ids, more []string) []string {
	const maxIDs = 1000
	for _, id := range more {
		if len(ids) >= maxIDs {
			break
		}
		ids = append(ids, id)
	}
	return ids
}
