package operator_test

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities/operator"
)

// A batch that names no known kind, no cutoff or a limit out of range is
// BadInput, refused before any statement runs (the activities have no
// database here), so the workflow does not retry it.
func TestPurgeBatchRefusesBadInput(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	acts := &operator.Activities{}
	env.RegisterActivity(acts)
	now := time.Now()
	for _, in := range []operator.PurgeBatchInput{
		{Kind: "personalities", Before: now},
		{Kind: operator.PurgeTurns},
		{Kind: operator.PurgeTurns, Before: now, Limit: -1},
		{Kind: operator.PurgeTurns, Before: now, Limit: operator.MaxPurgeBatch + 1},
	} {
		_, err := env.ExecuteActivity(acts.PurgeBatch, in)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != operator.ErrBadInput || !app.NonRetryable() {
			t.Errorf("PurgeBatch(%+v) = %v, want a non-retryable %s", in, err, operator.ErrBadInput)
		}
	}
	for _, kind := range []string{operator.PurgeLimitHolds, operator.PurgeDeliveries, operator.PurgeReplyDeliveries, operator.PurgeTurns, operator.PurgeMemories} {
		if operator.PurgeStatement(kind) == "" {
			t.Errorf("kind %s has no statement", kind)
		}
	}
}
