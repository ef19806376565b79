// Package worker builds tzurot's Temporal worker: it registers every workflow
// and activity on the task queue, with the one interceptor that keeps a
// wrapped activity error's type (KeepErrorTypes).
package worker

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/workflows"
)

// New registers everything on taskQueue: the workflows, the reply path's
// activities (acts) and the operator's (ops). Each activity is registered
// under its method's name, which recorded histories name.
func New(c client.Client, taskQueue string, acts *activities.Activities, ops *operator.Activities) worker.Worker {
	w := worker.New(c, taskQueue, worker.Options{
		// Let in-flight activities finish their step on SIGTERM before exiting.
		WorkerStopTimeout: 10 * time.Second,
		// An activity's wrapped ApplicationError keeps its type (KeepErrorTypes).
		Interceptors: []interceptor.WorkerInterceptor{KeepErrorTypes()},
	})
	w.RegisterWorkflowWithOptions(workflows.ValidateAPIKey, workflow.RegisterOptions{Name: workflows.ValidateAPIKeyName})
	w.RegisterWorkflowWithOptions(workflows.GenerateReply, workflow.RegisterOptions{Name: workflows.GenerateReplyName})
	w.RegisterWorkflowWithOptions(workflows.DataMigration, workflow.RegisterOptions{Name: workflows.DataMigrationName})
	w.RegisterWorkflowWithOptions(workflows.RotateMasterKey, workflow.RegisterOptions{Name: workflows.RotateMasterKeyName})
	w.RegisterWorkflowWithOptions(workflows.ImagineImage, workflow.RegisterOptions{Name: workflows.ImagineImageName})
	w.RegisterWorkflowWithOptions(workflows.DeleteUserData, workflow.RegisterOptions{Name: workflows.DeleteUserDataName})
	w.RegisterWorkflowWithOptions(workflows.RememberExchange, workflow.RegisterOptions{Name: workflows.RememberExchangeName})
	w.RegisterWorkflowWithOptions(workflows.PurgeRetention, workflow.RegisterOptions{Name: workflows.PurgeRetentionName})
	w.RegisterActivity(acts)
	w.RegisterActivity(ops)
	return w
}

// Run runs the worker until ctx ends (SIGTERM, Ctrl-C), then stops it gracefully.
func Run(ctx context.Context, c client.Client, taskQueue string, acts *activities.Activities, ops *operator.Activities) error {
	w := New(c, taskQueue, acts, ops)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on task queue %s: %w", taskQueue, err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
