package operator

import "go.temporal.io/sdk/temporal"

// Error types of the application errors the operator's activities return.
// The workflows' retry policies name the ones that are never retried.
const (
	ErrAlreadyApplied   = "AlreadyApplied"   // a run of this migration already succeeded
	ErrUnknownMigration = "UnknownMigration" // no migration has this name
	ErrVerifyFailed     = "VerificationFailed"
	// ErrBadInput is the workflow's input being unusable (a migration's
	// argument missing); the same type as activities.ErrBadInput.
	ErrBadInput = "BadInput"
)

func badInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrBadInput, nil)
}
