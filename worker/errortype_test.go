package worker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/worker"
)

type detail struct{ N int }

// runFailing runs an activity failing with err in a test environment with
// the worker's interceptor (keep) or without, and returns the error the
// caller sees, converted to a failure and back as a workflow would see it.
func runFailing(t *testing.T, err error, keep bool) error {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	if keep {
		env.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{worker.KeepErrorTypes()}})
	}
	env.RegisterActivityWithOptions(func(context.Context) error { return err }, activity.RegisterOptions{Name: "Failing"})
	_, got := env.ExecuteActivity("Failing")
	if got == nil {
		t.Fatal("the failing activity succeeded")
	}
	return got
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		t.Fatalf("%v is no ApplicationError", err)
	}
	return ae
}

// A wrapped non-retryable ApplicationError reaches the caller with its
// type, retryability, retry delay and details, its message keeping the
// wrapping's context; without the interceptor the SDK makes it a
// retryable "wrapError" (the fault this guards against).
func TestKeepErrorTypesUnwrapsAWrappedApplicationError(t *testing.T) {
	inner := temporal.NewApplicationErrorWithOptions("the webhook is gone", "DiscordRefused", temporal.ApplicationErrorOptions{
		NonRetryable: true, NextRetryDelay: 3 * time.Second, Details: []any{detail{N: 7}},
	})
	wrapped := fmt.Errorf("discard the streamed reply: %w", inner)

	if ae := appError(t, runFailing(t, wrapped, false)); ae.Type() == "DiscordRefused" || ae.NonRetryable() {
		t.Fatalf("without the interceptor the SDK kept the type %q (non-retryable %v): the test no longer shows the fault", ae.Type(), ae.NonRetryable())
	}

	ae := appError(t, runFailing(t, wrapped, true))
	if ae.Type() != "DiscordRefused" || !ae.NonRetryable() {
		t.Errorf("got type %q non-retryable %v, want DiscordRefused, non-retryable", ae.Type(), ae.NonRetryable())
	}
	if want := "discard the streamed reply: the webhook is gone"; ae.Message() != want {
		t.Errorf("message %q, want %q", ae.Message(), want)
	}
	if ae.NextRetryDelay() != 3*time.Second {
		t.Errorf("next retry delay %v, want 3s", ae.NextRetryDelay())
	}
	var d detail
	if err := ae.Details(&d); err != nil || d.N != 7 {
		t.Errorf("details %+v (%v), want {N:7}", d, err)
	}
	var cause *temporal.ApplicationError
	if !errors.As(errors.Unwrap(ae), &cause) || cause.Message() != "the webhook is gone" {
		t.Errorf("the cause %v is not the wrapped error", errors.Unwrap(ae))
	}
}

// A plain error and an ApplicationError returned as is pass untouched.
func TestKeepErrorTypesLeavesOtherErrors(t *testing.T) {
	plain := fmt.Errorf("read the row: %w", errors.New("connection reset"))
	if ae := appError(t, runFailing(t, plain, true)); ae.NonRetryable() || ae.Message() != plain.Error() {
		t.Errorf("a plain error came back as %q non-retryable %v, want %q retryable", ae.Message(), ae.NonRetryable(), plain.Error())
	}
	direct := temporal.NewNonRetryableApplicationError("bad input", "BadInput", nil)
	if got := activities.KeepType(direct); got != direct {
		t.Errorf("a direct ApplicationError became %v", got)
	}
	if got := activities.KeepType(plain); got != plain {
		t.Errorf("a plain error became %v", got)
	}
	ae := appError(t, runFailing(t, direct, true))
	if ae.Type() != "BadInput" || !ae.NonRetryable() || ae.Message() != "bad input" || errors.Unwrap(ae) != nil {
		t.Errorf("a direct ApplicationError came back as %q %q non-retryable %v cause %v", ae.Type(), ae.Message(), ae.NonRetryable(), errors.Unwrap(ae))
	}
}

// A wrapped ApplicationError with a nil detail (the shape withPendingUsage
// makes) cannot have its details read back; it is returned unwrapped so
// its type and details survive.
func TestKeepErrorTypesWithANilDetail(t *testing.T) {
	inner := temporal.NewNonRetryableApplicationError("quota", "QuotaExhausted", nil, nil, detail{N: 2})
	got := activities.KeepType(fmt.Errorf("generate: %w", inner))
	if got != inner {
		t.Errorf("got %v, want the wrapped ApplicationError itself", got)
	}
}
