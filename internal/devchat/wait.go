package devchat

import (
	"context"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Scripted input (not a terminal) is read one line at a time, each once the
// workflows it started have finished, so a script runs in order however
// loaded the machine: a `!revoke openrouter` cannot overtake the reply to
// the line before it. What a line started is known, not guessed: a message
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
