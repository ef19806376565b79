package workflows

// What the operator workflows (DataMigration, RotateMasterKey) share.

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// batchOptions are for an operator workflow's batch activities: up to 10
// minutes a batch, a heartbeat that notices a dead worker in seconds, and
// retries from 1 s to 30 s apart, maxAttempts of them (0: no limit), never
// on the nonRetryable error types.
func batchOptions(maxAttempts int32, nonRetryable ...string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        maxAttempts,
			NonRetryableErrorTypes: nonRetryable,
		},
	}
}
