package testwait_test

import (
	"sync/atomic"
	"testing"

	"github.com/tzurot/tzurot/internal/testwait"
)

// Until asks again until the condition holds, and returns then.
func TestUntilPollsUntilTheConditionHolds(t *testing.T) {
	var asked atomic.Int32
	testwait.Until(t, "the third ask", func() bool { return asked.Add(1) == 3 })
	if n := asked.Load(); n != 3 {
		t.Fatalf("asked %d times, want 3", n)
	}
}
