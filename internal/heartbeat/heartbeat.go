// Package heartbeat keeps a long activity step visibly alive: it records a
// Temporal heartbeat every two seconds while the step runs.
package heartbeat

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// Interval is how often While records a heartbeat; activities that use it
// set a heartbeat timeout of several intervals (10 s).
const Interval = 2 * time.Second

// While runs fn, recording a heartbeat with details every Interval, so that a
// worker killed during a long call, dump or scan is noticed within the
// heartbeat timeout instead of the activity's whole timeout. It returns fn's
// error.
func While(ctx context.Context, fn func() error, details ...any) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(Interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details...)
			}
		}
	}()
	return fn()
}
