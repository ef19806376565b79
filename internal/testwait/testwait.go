// Package testwait polls a condition in tests that watch another goroutine
// or process (a gateway, a worker, a workflow) reach a state.
package testwait

import (
	"testing"
	"time"
)

// Limit is how long Until polls before it fails the test: long enough for a
// Temporal dev server or a restarted worker on a loaded CI machine.
const Limit = 60 * time.Second

// Until polls cond every 25 ms until it holds, and fails the test with
// "timed out waiting for <what>" when Limit passes first.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Limit)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
