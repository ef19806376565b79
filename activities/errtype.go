package activities

import (
	"errors"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// An activity that wraps an ApplicationError (fmt.Errorf("...: %w", err))
// loses its type: the SDK turns a returned error into a failure by the
// error's own Go type, not by errors.As (internal/failure_converter.go,
// ErrorToFailure, SDK v1.50), so a wrapped ApplicationError becomes a
// retryable failure of type "wrapError". KeepType undoes that; the worker
// applies it to every activity (worker.KeepErrorTypes).

// KeepType returns err as the SDK should see it: err itself when it is
// nil, an error the SDK converts by its own type (*temporal.ApplicationError,
// *temporal.CanceledError, *temporal.TimeoutError, *temporal.PanicError) or
// wraps no ApplicationError; otherwise a new ApplicationError with the
// wrapped one's type, retryability, retry delay, category and details, its
// message the whole wrapped text (the added context, then the wrapped
// error's own message), and the wrapped ApplicationError as its cause. When
// the details cannot be read back (a nil detail) the wrapped
// ApplicationError itself is returned: its type and details matter more
// than the added context.
func KeepType(err error) error {
	switch err.(type) {
	case nil, *temporal.ApplicationError, *temporal.CanceledError, *temporal.TimeoutError, *temporal.PanicError:
		return err
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		return err
	}
	details, ok := detailsOf(ae)
	if !ok {
		return ae
	}
	msg := err.Error()
	if prefix, found := strings.CutSuffix(msg, ae.Error()); found {
		msg = prefix + ae.Message()
	}
	return temporal.NewApplicationErrorWithOptions(msg, ae.Type(), temporal.ApplicationErrorOptions{
		NonRetryable:   ae.NonRetryable(),
		Cause:          ae,
		Details:        details,
		NextRetryDelay: ae.NextRetryDelay(),
		Category:       ae.Category(),
	})
}

// maxDetails bounds the details detailsOf reads back; tzurot's errors carry
// at most two.
const maxDetails = 16

// detailsOf reads back ae's details as they were given (an activity's own
// error holds them unencoded). ok is false when they cannot be read: the
// SDK's reader panics on a nil detail, or there are more than maxDetails.
func detailsOf(ae *temporal.ApplicationError) (details []any, ok bool) {
	if !ae.HasDetails() {
		return nil, true
	}
	defer func() {
		if recover() != nil {
			details, ok = nil, false
		}
	}()
	for n := 1; n <= maxDetails; n++ {
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := ae.Details(ptrs...); err != nil {
			return details, n > 1
		}
		details = vals
	}
	return nil, false
}
