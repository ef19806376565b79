package heartbeat_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/internal/heartbeat"
)

var errStep = errors.New("step failed")

// longStep runs a step longer than one heartbeat interval, which fails.
func longStep(ctx context.Context) error {
	return heartbeat.While(ctx, func() error {
		time.Sleep(heartbeat.Interval + 500*time.Millisecond)
		return errStep
	}, "dumping")
}

// A step longer than an Interval heartbeats while it runs, with the given
// details, and While returns the step's own error.
func TestWhileHeartbeatsDuringALongStep(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	var beats atomic.Int32
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var note string
		if details != nil && details.Get(&note) == nil && note == "dumping" {
			beats.Add(1)
		}
	})
	env.RegisterActivity(longStep)
	_, err := env.ExecuteActivity(longStep)
	if err == nil || !strings.Contains(err.Error(), errStep.Error()) {
		t.Fatalf("error %v, want the step's own", err)
	}
	if beats.Load() == 0 {
		t.Error("no heartbeat with the details during a step longer than the interval")
	}
}
