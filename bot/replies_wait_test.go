//go:build integration

package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"

	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// startedRuns is the bot's Temporal client in a world: it keeps the ids of
// the workflows the bot started, and how many starts are under way, so a
// test can wait for the replies to end (world.awaitReplies).
type startedRuns struct {
	client.Client
	mu       sync.Mutex
	starting int
	ids      []string
}

func (s *startedRuns) ExecuteWorkflow(ctx context.Context, opts client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	s.starting++
	s.mu.Unlock()
	run, err := s.Client.ExecuteWorkflow(ctx, opts, workflow, args...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starting--
	if err == nil {
		s.ids = append(s.ids, run.GetID())
	}
	return run, err
}

// replies are the ids of the GenerateReply runs started so far, once no
// start is under way.
func (s *startedRuns) replies() ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range s.ids {
		if strings.HasPrefix(id, workflows.GenerateReplyID("")) {
			out = append(out, id)
		}
	}
	return out, s.starting == 0
}

// awaitReplies waits until every GenerateReply the bot has started, or is
// starting, has closed: a streamed reply is posted first and edited until
// it is whole, so a test reads a reply's text only after this. Call it
// once the bot is known to have started the replies (a post of each seen,
// or replyResult): the bot starts them on goroutines of its own.
func (w *world) awaitReplies(t *testing.T) {
	t.Helper()
	var ids []string
	testwait.Until(t, "the replies' starts", func() bool {
		var idle bool
		ids, idle = w.runs.replies()
		return idle
	})
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	for _, id := range ids {
		// A failed reply is closed too: what it posted is what the test reads.
		_ = w.Client.GetWorkflow(ctx, id, "").Get(ctx, nil)
	}
	if ctx.Err() != nil {
		t.Fatalf("timed out waiting for the replies %v to close", ids)
	}
}

// awaitReplies waits for a streamed reply to be whole: the test that reads
// a reply as soon as it is posted sees its first words only.
func TestAwaitRepliesWaitsForTheWholeStreamedReply(t *testing.T) {
	w := guestWorld(t)
	// The first sentence is posted as soon as it ends (the streaming writer's sentence rule);
	// the rest takes a second more to arrive.
	const answer = "This is the first sentence of it. Then the rest comes slowly, word by word, until the end."
	w.OpenRouter.Script(operator, fakeopenrouter.Reply(answer, "").Paced(fakeopenrouter.StreamRate{TokensPerSecond: 15}))
	w.say(alice, general, guildID, "@kerach tell me slowly")
	testwait.Until(t, "the reply's first post", func() bool { return len(w.posts(general)) == 1 })
	first := w.posts(general)[0].Content
	w.awaitReplies(t)
	if got := w.posts(general)[0].Content; got != answer {
		t.Errorf("after awaitReplies the reply reads %q, want the whole %q (first posted as %q)", got, answer, first)
	}
	if first == answer {
		t.Log("the reply was whole when first seen: this run did not see it stream")
	}
}
