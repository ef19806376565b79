package devchat

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Scripted input (not a terminal) is read one line at a time, each once the
// workflows it started have finished, so a script runs in order: a
// `!revoke openrouter` cannot overtake the reply to the line before it.
const (
	// lineWait bounds the wait for one line's workflows; a script then goes
	// on rather than hang on a reply that never ends.
	lineWait = 2 * time.Minute
	// startGrace is how long a line may take to start its workflows: the bot
	// starts a reply on a goroutine of its own (bot.HandleMessage).
	startGrace = 300 * time.Millisecond
)

// startedRuns is the bot's Temporal client that also keeps the runs of the
// workflows it started, for waitForLine.
type startedRuns struct {
	client.Client
	mu   sync.Mutex
	runs []client.WorkflowRun
}

func (s *startedRuns) ExecuteWorkflow(ctx context.Context, opts client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error) {
	run, err := s.Client.ExecuteWorkflow(ctx, opts, workflow, args...)
	if err == nil {
		s.mu.Lock()
		s.runs = append(s.runs, run)
		s.mu.Unlock()
	}
	return run, err
}

// startedSince reports whether a workflow was started after the first
// mark, waiting up to startGrace for the bot's goroutine to start it.
func (s *startedRuns) startedSince(ctx context.Context, mark int) bool {
	deadline := time.Now().Add(startGrace)
	for s.count() == mark && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return s.count() > mark
}

// since are the runs started after the first n; n is how many there are now.
func (s *startedRuns) since(n int) ([]client.WorkflowRun, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]client.WorkflowRun(nil), s.runs[n:]...), len(s.runs)
}

// count is how many runs were started so far: a line's mark.
func (s *startedRuns) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.runs)
}

// waitForLine waits until the workflows started since mark (the count before
// the line) have finished, and those they were followed by, at most
// lineWait; their answers have been shown by then (Show runs as the fake
// Discord records each post). It does nothing on a terminal, where a person
// reads the answers before typing on.
func (c *Chat) waitForLine(ctx context.Context, mark int) {
	if c.opts.Terminal {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, lineWait)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(startGrace):
		}
		runs, n := c.started.since(mark)
		if len(runs) == 0 {
			return
		}
		for _, r := range runs {
			// A failed workflow shows as what it posted, or as the log.
			_ = r.Get(ctx, nil)
		}
		if ctx.Err() != nil {
			if ctx.Err() == context.DeadlineExceeded {
				c.println("(still no end to that line's answers after " + lineWait.String() + "; reading the next line)")
			}
			return
		}
		mark = n
	}
}
