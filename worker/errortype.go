package worker

import (
	"context"

	"go.temporal.io/sdk/interceptor"

	"github.com/tzurot/tzurot/activities"
)

// keepErrorTypes is the worker interceptor that lets an activity's
// *temporal.ApplicationError reach the workflow with its type even when
// the activity wrapped it (fmt.Errorf("...: %w", err)). The SDK turns a
// returned error into a failure by the error's own Go type, not by
// errors.As (internal/failure_converter.go, ErrorToFailure, SDK v1.50): a
// wrapped ApplicationError becomes a retryable failure of type
// "wrapError", so a non-retryable refusal would be retried until the
// policy gives up and the workflow's type checks would never match.
type keepErrorTypes struct {
	interceptor.WorkerInterceptorBase
}

// KeepErrorTypes returns the interceptor New adds to every worker (see
// keepErrorTypes); test environments add it through SetWorkerOptions.
func KeepErrorTypes() interceptor.WorkerInterceptor { return &keepErrorTypes{} }

func (*keepErrorTypes) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &keepErrorTypesActivity{}
	a.Next = next
	return a
}

type keepErrorTypesActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *keepErrorTypesActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	out, err := a.Next.ExecuteActivity(ctx, in)
	return out, activities.KeepType(err)
}
