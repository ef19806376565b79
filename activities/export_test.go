package activities

import "context"

// UseRowLockForLimits makes reserve lock the user's row instead of taking
// the advisory lock, for the test and benchmark that compare the two; the
// returned func restores the advisory lock.
func UseRowLockForLimits() (restore func()) {
	limitLockSQL = rowLockSQL
	return func() { limitLockSQL = advisoryLockSQL }
}

// AdoptEarlierPost exposes adoptEarlierPost as an activity for its test.
func (a *Activities) AdoptEarlierPost(ctx context.Context, in PostReplyInput) (bool, error) {
	return a.adoptEarlierPost(ctx, in)
}

// FinishKind exposes finishKind for its table test.
var FinishKind = finishKind
