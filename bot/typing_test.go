//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/worker"
	"github.com/tzurot/tzurot/workflows"
)

// typingCalls counts the typing indicators sent to a channel.
func (w *world) typingCalls(channelID string) int {
	n := 0
	for _, r := range w.Discord.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/channels/"+channelID+"/typing") {
			n++
		}
	}
	return n
}

// The typing indicator shows while the reply is made and is never sent
// again once the reply is posted, though the workflow is still running
// (here: saving the turns, held open by the test).
func TestTypingStopsWhenTheReplyIsPosted(t *testing.T) {
	w := newWorld(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operator, NoWorker: true})
	w.OpenRouter.AddKey(operator, fakeopenrouter.Key{})
	seedKerach(t, w)
	w.Bot.TypingInterval = 100 * time.Millisecond

	release := make(chan struct{})
	wk := worker.New(w.Client, w.TaskQueue, w.Activities, w.Operator)
	wk.RegisterActivityWithOptions(func(ctx context.Context, _ activities.SaveTurnsInput) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}, activity.RegisterOptions{Name: "SaveTurns", DisableAlreadyRegisteredCheck: true})
	if err := wk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wk.Stop)
	t.Cleanup(func() { close(release) })

	// The provider takes a second, during which "typing…" is kept up.
	w.OpenRouter.Script(operator, fakeopenrouter.Delay(time.Second))
	m := w.say(alice, general, guildID, "@kerach are you there?")
	testwait.Until(t, "the reply", func() bool { return len(w.posts(general)) == 1 })
	before := w.typingCalls(general)
	if before < 3 {
		t.Errorf("typing sent %d times while the reply was made, want it kept up every 100 ms", before)
	}
	time.Sleep(time.Second)
	if after := w.typingCalls(general); after > before+1 {
		t.Errorf("typing sent %d more times in the second after the reply was posted", after-before)
	}
	desc, err := w.Client.DescribeWorkflowExecution(context.Background(), workflows.GenerateReplyID(m.ID), "")
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("workflow %s: the test needs it still running after the post", st)
	}
}
