//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// A worker SIGKILLed just after its streamed reply went on into a second
// message (a post no heartbeat had reached the server with: the SDK sends
// them at most every 8 s here), then a retry whose answer fits in one
// message: the channel ends with that one message, the killed attempt's
// second message deleted.
func TestWorkerKilledAfterASecondPartThenAShorterRetry(t *testing.T) {
	bin := buildTzurot(t)
	s := userKeyStack(t, itest.Options{NoWorker: true, GuestMode: config.GuestOff}, "openrouter/free")
	long := strings.TrimSpace(strings.Repeat("The first attempt's long answer goes on and on. ", 60)) // ~2,900 characters
	short := "The retry's answer is short this time."
	s.OpenRouter.Script(userKey, fakeopenrouter.OK(),
		fakeopenrouter.Reply(long, "").Paced(fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 150}),
		fakeopenrouter.OK(), fakeopenrouter.Reply(short, "").Paced(streamRate))
	worker := startWorker(t, s, bin)
	const request = "810000000000000099"
	run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID(request), TaskQueue: s.TaskQueue,
	}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
		RequestID: request, DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: channelID, MessageID: request, Content: "hi",
	})
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the streamed reply's second message", func() bool { return len(shown(s.Discord.Messages(channelID))) >= 2 })
	killWorker(t, worker)
	startWorker(t, s, bin)
	res := runResult[workflows.GenerateReplyResult](t, run, 2*time.Minute)
	msgs := shown(s.Discord.Messages(channelID))
	if len(msgs) != 1 || msgs[0].Content != short || msgs[0].ID != res.DiscordMessageID {
		for _, m := range msgs {
			t.Logf("shown %s: %d chars: %.70q", m.ID, len(m.Content), m.Content)
		}
		t.Errorf("outcome %s in %s; the channel shows %d messages, want only the retry's whole answer", res.Outcome, res.DiscordMessageID, len(msgs))
	}
}
