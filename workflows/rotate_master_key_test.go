package workflows

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities/operator"
)

// rotationEnv mocks a table the rotation sees as pages calls of 10 rows: 7
// re-sealed, 2 already current and 1 failed each, and a final check that
// finds notCurrent rows.
func rotationEnv(pages int, notCurrent []string) (*testsuite.TestWorkflowEnvironment, *[]operator.RotateKeysInput) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var inputs []operator.RotateKeysInput
	env.OnActivity(op.RotateKeysPage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in operator.RotateKeysInput) (operator.RotateKeysResult, error) {
			inputs = append(inputs, in)
			n := len(inputs)
			return operator.RotateKeysResult{
				Cursor: fmt.Sprintf("cursor-%d", n), Done: n >= pages, PreviousKey: true,
				Resealed: 7, AlreadyCurrent: 2, Failed: 1, FailedIDs: []string{fmt.Sprintf("failed-%d", n)},
			}, nil
		}).Maybe()
	env.OnActivity(op.VerifyKeys, mock.Anything, mock.Anything).Return(operator.VerifyKeysResult{
		Total: 10 * pages, OpenWithCurrent: 10*pages - len(notCurrent), NotCurrent: len(notCurrent), NotCurrentIDs: notCurrent,
	}, nil).Maybe()
	return env, &inputs
}

func TestRotateMasterKeyPagesThenVerifies(t *testing.T) {
	env, inputs := rotationEnv(3, nil)
	res := execute[RotateMasterKeyResult](t, env, RotateMasterKey, RotateMasterKeyInput{BatchSize: 10})
	if len(*inputs) != 3 || res.Resealed != 21 || res.AlreadyCurrent != 6 || res.Failed != 3 || len(res.FailedIDs) != 3 || !res.Verified || res.Total != 30 {
		t.Fatalf("%d pages, result %+v", len(*inputs), res)
	}
	// Each call resumes where the last stopped.
	for i, in := range *inputs {
		want := ""
		if i > 0 {
			want = fmt.Sprintf("cursor-%d", i)
		}
		if in.Cursor != want || in.BatchSize != 10 {
			t.Errorf("call %d: %+v, want cursor %q", i+1, in, want)
		}
	}
}

func TestRotateMasterKeyFailedRowsAreNotVerified(t *testing.T) {
	env, _ := rotationEnv(2, []string{"failed-1", "failed-2"})
	res := execute[RotateMasterKeyResult](t, env, RotateMasterKey, RotateMasterKeyInput{})
	if res.Verified || res.NotCurrent != 2 || len(res.FailedIDs) != 2 || res.FailedIDs[0] != "failed-1" {
		t.Fatalf("result %+v, want unverified with both failed ids", res)
	}
}

func TestRotateMasterKeyEmptyResultListsNoFailures(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.OnActivity(op.RotateKeysPage, mock.Anything, mock.Anything).Return(operator.RotateKeysResult{Done: true, PreviousKey: true}, nil)
	env.OnActivity(op.VerifyKeys, mock.Anything, mock.Anything).Return(operator.VerifyKeysResult{}, nil)
	env.ExecuteWorkflow(RotateMasterKey, RotateMasterKeyInput{})
	var raw map[string]any
	if err := env.GetWorkflowResult(&raw); err != nil {
		t.Fatal(err)
	}
	// Scripts read failed_ids as a list; null would break `jq length`.
	if ids, ok := raw["failed_ids"].([]any); !ok || len(ids) != 0 || raw["verified"] != true {
		t.Fatalf("result %v", raw)
	}
}

func TestRotateMasterKeyContinuesAsNewCarryingTotals(t *testing.T) {
	env, inputs := rotationEnv(rotateBatchesPerRun+50, nil)
	env.ExecuteWorkflow(RotateMasterKey, RotateMasterKeyInput{BatchSize: 10})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("err = %v, want continue-as-new", err)
	}
	if len(*inputs) != rotateBatchesPerRun {
		t.Fatalf("%d calls before continuing as new, want %d", len(*inputs), rotateBatchesPerRun)
	}
	var next RotateMasterKeyInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	st := next.State
	if next.BatchSize != 10 || st == nil || st.Phase != "reseal" || st.Resealed != 7*rotateBatchesPerRun ||
		st.Cursor != fmt.Sprintf("cursor-%d", rotateBatchesPerRun) || len(st.FailedIDs) != rotateBatchesPerRun {
		t.Fatalf("next input %+v state %+v", next, st)
	}

	// The next run starts from the carried state and adds to its totals.
	env2, inputs2 := rotationEnv(1, nil)
	res := execute[RotateMasterKeyResult](t, env2, RotateMasterKey, next)
	if (*inputs2)[0].Cursor != st.Cursor || res.Resealed != 7*(rotateBatchesPerRun+1) || res.Failed != rotateBatchesPerRun+1 {
		t.Fatalf("first input %+v, result %+v", (*inputs2)[0], res)
	}
}

func TestRotateMasterKeyReportsProgress(t *testing.T) {
	env, _ := rotationEnv(3, nil)
	env.ExecuteWorkflow(RotateMasterKey, RotateMasterKeyInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	v, err := env.QueryWorkflow(QueryProgress)
	if err != nil {
		t.Fatal(err)
	}
	var st RotationState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	if st.Phase != "done" || st.Resealed != 21 || st.Verify.Total != 30 || !st.PreviousKey {
		t.Fatalf("progress %+v", st)
	}
}

func TestRotateMasterKeyActivityFailureFailsTheRun(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.OnActivity(op.RotateKeysPage, mock.Anything, mock.Anything).Return(operator.RotateKeysResult{},
		temporal.NewNonRetryableApplicationError("bad", operator.ErrBadInput, nil))
	env.ExecuteWorkflow(RotateMasterKey, RotateMasterKeyInput{})
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("workflow succeeded although the activity failed")
	}
}
