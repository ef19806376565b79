//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/deliverykey"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// batchReply is one GenerateReply of a batch: who asks, where, and whether
// their key is refused (401).
type batchReply struct {
	requestID, user, channel string
	refused                  bool
}

// scaleBatch seeds Kerach and six users with keys — four that work, two
// the stand-in refuses with 401 — and returns 24 replies: three per good
// user spread over two channels, six per refused user in a third channel,
// where every answer is the same error text. steps are scripted on each
// good key's first calls.
func scaleBatch(t *testing.T, s *itest.Stack, steps ...fakeopenrouter.Step) []batchReply {
	t.Helper()
	seedPersonality(t, s, "anthropic/claude-sonnet-4")
	var batch []batchReply
	for u := range 6 {
		id := fmt.Sprintf("2%017d", u+1)
		key := fmt.Sprintf("sk-or-v1-%064x", u+0xabc)
		storeUserKey(t, s, id, key)
		s.OpenRouter.AddKey(key, fakeopenrouter.Key{})
		refused := u >= 4
		n := 3
		if refused {
			s.OpenRouter.Revoke(key)
			n = 6
		} else {
			s.OpenRouter.Script(key, steps...)
		}
		for r := range n {
			channel := fmt.Sprintf("91000000000000000%d", r%2+1)
			if refused {
				channel = "910000000000000003"
			}
			batch = append(batch, batchReply{requestID: fmt.Sprintf("81%02d%015d", u, r), user: id, channel: channel, refused: refused})
		}
	}
	return batch
}

// storeUserKey stores key, active, as the OpenRouter key of the Discord user id.
func storeUserKey(t *testing.T, s *itest.Stack, id, key string) {
	t.Helper()
	ctx := context.Background()
	u := s.DB.User.Create().SetDiscordID(id).SetUsername("user" + id).SaveX(ctx)
	sealed, err := s.Keys.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	s.DB.UserAPIKey.Create().SetUserID(u.ID).SetIv(sealed.IV).SetContent(sealed.Content).SetTag(sealed.Tag).ExecX(ctx)
}

// startBatch starts every reply of the batch at once.
func startBatch(t *testing.T, s *itest.Stack, batch []batchReply) []client.WorkflowRun {
	t.Helper()
	runs := make([]client.WorkflowRun, len(batch))
	for i, b := range batch {
		run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
			ID: workflows.GenerateReplyID(b.requestID), TaskQueue: s.TaskQueue,
		}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
			RequestID: b.requestID, DiscordUserID: b.user, Username: "user" + b.user, Personality: "kerach",
			ChannelID: b.channel, MessageID: b.requestID, Content: "question " + b.requestID,
		})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = run
	}
	return runs
}

// batchResults waits for every run, all at once.
func batchResults(t *testing.T, runs []client.WorkflowRun) []workflows.GenerateReplyResult {
	t.Helper()
	out := make([]workflows.GenerateReplyResult, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			errs[i] = run.Get(ctx, &out[i])
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("reply %s: %v", runs[i].GetID(), err)
		}
	}
	return out
}

// assertEachOnce checks the batch's effects happened exactly once: each
// reply posted once (its message in its channel, no other), each refused
// key switched off by one of its owner's replies, which alone DMed them,
// once; one usage row and two history rows per answered reply; and the
// operator's key never used.
func assertEachOnce(t *testing.T, s *itest.Stack, batch []batchReply, results []workflows.GenerateReplyResult) {
	t.Helper()
	ctx := context.Background()
	perChannel := map[string][]string{}
	answered := map[string]int{}
	for i, b := range batch {
		res := results[i]
		want := workflows.ReplyReplied
		if b.refused {
			want = workflows.ReplyKeyRejected
		} else {
			answered[b.user]++
		}
		if res.Outcome != want || res.DiscordMessageID == "" {
			t.Errorf("reply %s: %+v, want %s with its message", b.requestID, res, want)
		}
		perChannel[b.channel] = append(perChannel[b.channel], res.DiscordMessageID)
	}
	for channel, want := range perChannel {
		var got []string
		for _, m := range s.Discord.Messages(channel) {
			got = append(got, m.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("channel %s holds %d messages %v, want exactly the %d replies %v", channel, len(got), got, len(want), want)
		}
		hooks := map[string]bool{}
		for _, m := range s.Discord.Messages(channel) {
			hooks[m.WebhookID] = true
		}
		if len(hooks) != 1 {
			t.Errorf("channel %s: posts through webhooks %v, want the one all workers share", channel, hooks)
		}
	}
	users := map[string]bool{}
	for _, b := range batch {
		users[b.user] = b.refused
	}
	for id, refused := range users {
		dms := s.Discord.DMs(id)
		k := s.DB.UserAPIKey.Query().Where(userapikey.HasUserWith(user.DiscordID(id))).OnlyX(ctx)
		rows := s.DB.UsageLog.Query().Where(usagelog.HasUserWith(user.DiscordID(id)), usagelog.RequestTypeEQ(usagelog.RequestTypeText)).CountX(ctx)
		switch {
		case !refused && (len(dms) != 0 || !k.IsActive || rows != answered[id]):
			t.Errorf("user %s: %d DMs, key active %v, %d usage rows; want none, true, %d", id, len(dms), k.IsActive, rows, answered[id])
		case refused && (len(dms) != 1 || k.IsActive || k.DeactivatedBy == nil || rows != 0):
			t.Errorf("user %s: %d DMs, key active %v (by %v), %d usage rows; want one DM, the key off, no usage", id, len(dms), k.IsActive, k.DeactivatedBy, rows)
		case refused:
			// The workflow that switched the key off is the one that DMed.
			d, err := s.Activities.DB.Delivery.Query().All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var dmKeys []string
			for _, row := range d {
				if row.DiscordMessageID == dms[0].ID {
					dmKeys = append(dmKeys, row.Key)
				}
			}
			if want := deliverykey.New(*k.DeactivatedBy, deliverykey.DM); len(dmKeys) != 1 || dmKeys[0] != want {
				t.Errorf("user %s: the DM was recorded as %v, want only %s", id, dmKeys, want)
			}
		}
	}
	replied := 0
	for _, n := range answered {
		replied += n
	}
	if n := s.DB.ConversationHistory.Query().CountX(ctx); n != 2*replied {
		t.Errorf("%d history rows, want %d", n, 2*replied)
	}
	if n := len(s.OpenRouter.CallsFor(operatorKey)); n != 0 {
		t.Errorf("the operator's key was called %d times", n)
	}
}

// workersOf are the identities of the workers that started the runs'
// activities, from their histories, and how many activities needed more
// than one attempt (a history records only an activity's last attempt).
func workersOf(t *testing.T, s *itest.Stack, runs []client.WorkflowRun) (workers map[string]int, retried int) {
	t.Helper()
	out := map[string]int{}
	for _, run := range runs {
		it := s.Client.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
				out[a.GetIdentity()]++
				if a.GetAttempt() > 1 {
					retried++
				}
			}
		}
	}
	return out, retried
}

// processOf is the worker identity's process id (the SDK's default
// identity is pid@host@queue).
func processOf(identity string) string { pid, _, _ := strings.Cut(identity, "@"); return pid }

// Two `tzurot worker` processes on one task queue share a batch of 24
// replies — some refused with 401, some whose provider call fails once
// (500) or whose webhook post Discord made but whose answer was lost, so
// their activities are retried, perhaps on the other worker — and every
// effect happens once: one post per reply, one deactivation and one DM per
// refused key, one usage row per answer.
func TestTwoWorkersDeliverEachReplyOnce(t *testing.T) {
	bin := buildTzurot(t)
	s := itest.New(t, itest.Options{NoWorker: true, GuestMode: config.GuestAll, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	// Six 500s per good key: its three replies' first calls fail (with the
	// worker's long-term memory on, their recall embeddings draw from the
	// same script), so each reply's generate activity runs again.
	fail := fakeopenrouter.Fail(500)
	batch := scaleBatch(t, s, fail, fail, fail, fail, fail, fail)
	for range 3 {
		s.Discord.DropNextAfterHandling("POST /webhooks/{webhook_id}/{webhook_token}")
	}
	s.Discord.DropNextAfterHandling("POST /channels/{channel_id}/messages")
	s.Discord.DropNext("POST /users/@me/channels")
	waitForPollers(t, s, startWorker(t, s, bin), startWorker(t, s, bin))
	runs := startBatch(t, s, batch)
	results := batchResults(t, runs)
	assertEachOnce(t, s, batch, results)
	// Only an activity's last attempt is in its history: at least the 12
	// generate activities of the good keys needed a second one.
	if w, retried := workersOf(t, s, runs); len(w) != 2 || retried < 12 {
		t.Errorf("activities ran on %v, %d of them retried; want both workers and at least 12 retried", w, retried)
	}
}

// The same batch with one of the two workers killed (SIGKILL) while its
// provider calls are in flight: the other finishes every reply, each
// effect once.
func TestWorkerKilledMidBatch(t *testing.T) {
	bin := buildTzurot(t)
	s := itest.New(t, itest.Options{NoWorker: true, GuestMode: config.GuestAll, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	slow := fakeopenrouter.Delay(8 * time.Second)
	batch := scaleBatch(t, s, slow, slow, slow)
	s.Discord.DropNextAfterHandling("POST /webhooks/{webhook_id}/{webhook_token}")
	first := startWorker(t, s, bin)
	waitForPollers(t, s, first, startWorker(t, s, bin))
	runs := startBatch(t, s, batch)
	victim := fmt.Sprint(first.Process.Pid)
	waitForWorkerActivity(t, s, runs, victim, "GenerateWithinLimits")
	killWorker(t, first)
	results := batchResults(t, runs)
	assertEachOnce(t, s, batch, results)
	// At least the killed worker's provider call ran again on the other.
	if w, retried := workersOf(t, s, runs); len(w) != 2 || retried < 1 {
		t.Errorf("activities ran on %v, %d of them retried; want both workers and the killed one's work retried", w, retried)
	}
}

// waitForPollers waits until every worker process polls the stack's task
// queue for workflow and activity tasks, so that a batch started next is
// shared between them.
func waitForPollers(t *testing.T, s *itest.Stack, workers ...*exec.Cmd) {
	t.Helper()
	want := map[string]bool{}
	for _, w := range workers {
		want[fmt.Sprint(w.Process.Pid)] = true
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		polling := 0
		for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			d, err := s.Client.DescribeTaskQueue(context.Background(), s.TaskQueue, kind)
			if err != nil {
				continue
			}
			seen := map[string]bool{}
			for _, p := range d.GetPollers() {
				if pid := processOf(p.GetIdentity()); want[pid] {
					seen[pid] = true
				}
			}
			if len(seen) == len(want) {
				polling++
			}
		}
		if polling == 2 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("workers %v never all polled %s", want, s.TaskQueue)
}

// waitForWorkerActivity waits until the worker process pid is running the
// named activity of one of the runs.
func waitForWorkerActivity(t *testing.T, s *itest.Stack, runs []client.WorkflowRun, pid, activityType string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, run := range runs {
			d, err := s.Client.DescribeWorkflowExecution(context.Background(), run.GetID(), run.GetRunID())
			if err != nil {
				continue
			}
			for _, a := range d.PendingActivities {
				if a.ActivityType.GetName() == activityType && a.State == enumspb.PENDING_ACTIVITY_STATE_STARTED && processOf(a.GetLastWorkerIdentity()) == pid {
					time.Sleep(time.Second) // let the provider calls get under way
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("worker %s never ran %s", pid, activityType)
}
