package activities

// UseRowLockForLimits makes reserve lock the user's row instead of taking
// the advisory lock, for the test and benchmark that compare the two; the
// returned func restores the advisory lock.
func UseRowLockForLimits() (restore func()) {
	limitLockSQL = rowLockSQL
	return func() { limitLockSQL = advisoryLockSQL }
}
