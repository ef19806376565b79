package devchat

import (
	"context"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// Scripted input (not a terminal) is read one line at a time, each once the
// workflows it started have finished, with the child workflows they started
// (awaitChildren: a reply's RememberExchange, which the reply abandons), so
// a script runs in order however loaded the machine: a `!revoke openrouter`
// cannot overtake the reply to the line before it, nor a question in
// another channel the memory of the line before it. What a line started is known, not guessed: a message
// says how many replies it started (bot.HandleMessage's count, each started
// on a goroutine of its own, so the wait is for that many starts), and a
// slash command, a button or a form has started its workflows by the time
// bot.HandleInteraction returns.

// lineWait bounds the wait for one line's workflows; a script then goes on
// rather than hang on a reply that never ends.
const lineWait = 2 * time.Minute

// startedRuns is the bot's Temporal client (Bot.UseTemporal) that also
// keeps the workflows the bot started, by workflow id in order of their
// first start attempt — a start retried (searchattr.Known.Start) is one —
// with the run of each that started.
type startedRuns struct {
	client.Client
	mu      sync.Mutex
	ids     []string
	runs    map[string]client.WorkflowRun
	changed chan struct{} // closed and replaced on each new id
}

func newStartedRuns(c client.Client) *startedRuns {
	return &startedRuns{Client: c, runs: map[string]client.WorkflowRun{}, changed: make(chan struct{})}
}

func (s *startedRuns) ExecuteWorkflow(ctx context.Context, opts client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error) {
	run, err := s.Client.ExecuteWorkflow(ctx, opts, workflow, args...)
	s.mu.Lock()
	defer s.mu.Unlock()
	id := opts.ID
	if id == "" { // the SDK chose one: each such start is its own
		id = "#" + strconv.Itoa(len(s.ids))
	}
	if _, seen := s.runs[id]; !seen {
		s.ids = append(s.ids, id)
		s.runs[id] = nil
		close(s.changed)
		s.changed = make(chan struct{})
	}
	if err == nil {
		s.runs[id] = run
	}
	return run, err
}

// count is how many workflows the bot tried to start so far: a line's mark.
func (s *startedRuns) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// await waits until at least want workflows were tried since mark, and
// returns the runs of those since mark that started and the count after
// them; ok is false when ctx ended first.
func (s *startedRuns) await(ctx context.Context, mark, want int) (runs []client.WorkflowRun, n int, ok bool) {
	for {
		s.mu.Lock()
		if len(s.ids)-mark >= want {
			for _, id := range s.ids[mark:] {
				if r := s.runs[id]; r != nil {
					runs = append(runs, r)
				}
			}
			n = len(s.ids)
			s.mu.Unlock()
			return runs, n, true
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, 0, false
		}
	}
}

// waitForLine waits until the line has started the want workflows it
// said it would start since mark (the count before the line), and until
// they and any the bot started meanwhile have finished, at most lineWait;
// their answers have been shown by then (Show runs as the fake Discord
// records each post). It does nothing on a terminal, where a person reads
// the answers before typing on.
func (c *Chat) waitForLine(ctx context.Context, mark, want int) {
	if c.opts.Terminal {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, lineWait)
	defer cancel()
	for {
		runs, n, ok := c.started.await(ctx, mark, want)
		for _, r := range runs {
			// A failed workflow shows as what it posted, or as the log.
			_ = r.Get(ctx, nil)
			c.started.awaitChildren(ctx, r.GetID(), r.GetRunID())
		}
		if !ok || ctx.Err() != nil {
			if ctx.Err() == context.DeadlineExceeded {
				c.println("(still no end to that line's answers after " + lineWait.String() + "; reading the next line)")
			}
			return
		}
		if c.started.count() == n {
			return
		}
		mark, want = n, 0
	}
}

// childPoll is how often awaitChild looks whether a child is retrying.
const childPoll = 200 * time.Millisecond

// awaitChildren waits, in turn, for each child workflow the closed run
// id/runID started (read from its history), and for theirs. A history that
// cannot be read is not waited for.
func (s *startedRuns) awaitChildren(ctx context.Context, id, runID string) {
	it := s.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return
		}
		if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
			ex := a.GetWorkflowExecution()
			if s.awaitChild(ctx, ex.GetWorkflowId(), ex.GetRunId()) {
				s.awaitChildren(ctx, ex.GetWorkflowId(), ex.GetRunId())
			}
		}
	}
}

// awaitChild waits until the child id/runID closes, and reports whether
// it did; it stops waiting, false, once one of the child's activities is
// retrying after a failure (a memory whose embedding is retried in the
// background, for up to a day, while OpenRouter fails), or ctx ends.
func (s *startedRuns) awaitChild(ctx context.Context, id, runID string) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	closed := make(chan struct{})
	go func() {
		_ = s.GetWorkflow(ctx, id, runID).Get(ctx, nil)
		close(closed)
	}()
	tick := time.NewTicker(childPoll)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			return ctx.Err() == nil
		case <-ctx.Done():
			return false
		case <-tick.C:
			d, err := s.DescribeWorkflowExecution(ctx, id, runID)
			if err != nil {
				continue
			}
			for _, pa := range d.GetPendingActivities() {
				if pa.GetAttempt() > 1 {
					return false
				}
			}
		}
	}
}
