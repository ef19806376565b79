//go:build e2e

package e2e

// "A worker killed mid-stream leaves exactly one complete reply", tried
// with a real worker process, SIGKILLed.

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/conversationhistory"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// In a channel without our webhook (no Manage Webhooks; a DM is the same)
// the reply streams as bot messages. The worker's first post reached
// Discord but its answer was lost (the stand-in drops it after handling),
// and the worker is SIGKILLed before it could finish; the retry's answer
// is short and arrives within a second, so it is posted whole at Finish.
// The channel must end with the retry's answer only.
func TestStreamWorkerKilledAfterAnUnrecordedBotPost(t *testing.T) {
	bin := buildTzurot(t)
	s := crashStack(t)
	s.Discord.DenyWebhooks(channelID)
	long := strings.TrimSpace(strings.Repeat("The first attempt's long answer goes on and on. ", 20))
	short := "The retry's answer is short this time."
	s.OpenRouter.Script(userKey, fakeopenrouter.OK(),
		fakeopenrouter.Reply(long, "").Paced(fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 20}),
		fakeopenrouter.OK(), fakeopenrouter.Reply(short, "").Paced(fakeopenrouter.StreamRate{FirstToken: 100 * time.Millisecond, TokensPerSecond: 200}))
	s.Discord.DropNextAfterHandling("POST /channels/{channel_id}/messages")
	worker := startWorker(t, s, bin)
	const request = "810000000000000097"
	run := startReplyAsking(t, s, request, channelID, "hi")
	testwait.Until(t, "the streamed reply's first bot message", func() bool { return len(shown(s.Discord.Messages(channelID))) >= 1 })
	killWorker(t, worker)
	startWorker(t, s, bin)
	res := runResult[workflows.GenerateReplyResult](t, run, 2*time.Minute)
	msgs := shown(s.Discord.Messages(channelID))
	want := "**Kerach:** " + short
	if len(msgs) != 1 || msgs[0].Content != want {
		for _, m := range msgs {
			t.Logf("shown %s: %d chars: %.90q", m.ID, len(m.Content), m.Content)
		}
		t.Errorf("outcome %s in %s; the channel shows %d messages, want only %q", res.Outcome, res.DiscordMessageID, len(msgs), want)
	}
}

// A server admin deletes the channel's webhooks while a reply streams
// (Discord keeps the messages a deleted webhook posted). The half reply can
// no longer be edited; the reply must still end as one complete reply, not
// the half one beside a whole one.
func TestStreamWebhookDeletedMidStream(t *testing.T) {
	bin := buildTzurot(t)
	s := crashStack(t)
	startWorker(t, s, bin)
	s.OpenRouter.Script(userKey, fakeopenrouter.OK(),
		fakeopenrouter.Reply(strings.TrimSpace(strings.Repeat("An answer that takes its time to arrive. ", 20)), "").
			Paced(fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 30}))
	const request = "810000000000000096"
	run := startReplyAsking(t, s, request, channelID, "hi")
	waitForMessage(t, s)
	s.Discord.DeleteWebhooks(channelID)
	res := runResult[workflows.GenerateReplyResult](t, run, 2*time.Minute)
	msgs := shown(s.Discord.Messages(channelID))
	for _, m := range s.Discord.Messages(channelID) {
		t.Logf("message %s (webhook %q, deleted %v, %d versions): %.70q", m.ID, m.WebhookID, m.Deleted, len(m.History), m.Content)
	}
	if len(msgs) != 1 || msgs[0].ID != res.DiscordMessageID {
		for _, m := range msgs {
			t.Logf("shown %s (webhook %q): %d chars: %.70q", m.ID, m.WebhookID, len(m.Content), m.Content)
		}
		t.Errorf("outcome %s in %s; the channel shows %d messages, want the one complete reply", res.Outcome, res.DiscordMessageID, len(msgs))
	}
}

// A model whose prompt template opened the reasoning streams it as if it
// were the reply, then closes it and writes nothing more: the text that was
// shown was reasoning, and the reply is empty. The channel must end with
// the empty reply's notice only, no reasoning left in it.
func TestStreamThatTurnsOutToBeReasoning(t *testing.T) {
	bin := buildTzurot(t)
	s := crashStack(t)
	startWorker(t, s, bin)
	thought := strings.TrimSpace(strings.Repeat("The user greets me and I should weigh how to answer them. ", 6)) + "\n</think>\n  "
	s.OpenRouter.Script(userKey, fakeopenrouter.OK(),
		fakeopenrouter.Reply(thought, "").Paced(fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 30}))
	const request = "810000000000000095"
	run := startReplyAsking(t, s, request, channelID, "hi")
	waitForMessage(t, s)
	res := runResult[workflows.GenerateReplyResult](t, run, 2*time.Minute)
	msgs := shown(s.Discord.Messages(channelID))
	for _, m := range msgs {
		if strings.Contains(m.Content, "weigh how to answer") {
			t.Errorf("message %s still shows the reasoning: %.80q", m.ID, m.Content)
		}
	}
	if len(msgs) != 1 {
		t.Errorf("outcome %s; the channel shows %d messages, want the one notice", res.Outcome, len(msgs))
	}
	t.Logf("outcome %s; shown %d", res.Outcome, len(msgs))
}

// Two replies of one personality stream at once in one channel and the
// worker is SIGKILLed in the middle of both: each retry must continue its
// own message, and the channel end with the two complete replies, no
// third message, no message holding the other reply's text.
func TestStreamTwoRepliesOfOnePersonalityKilledMidStream(t *testing.T) {
	bin := buildTzurot(t)
	s := crashStack(t)
	slow := fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 20}
	s.OpenRouter.Script(userKey, fakeopenrouter.OK().Paced(slow), fakeopenrouter.OK().Paced(slow),
		fakeopenrouter.OK().Paced(streamRate), fakeopenrouter.OK().Paced(streamRate))
	worker := startWorker(t, s, bin)
	var runs []client.WorkflowRun
	for i, ask := range []string{"first " + streamAsk, "second " + streamAsk} {
		request := []string{"810000000000000093", "810000000000000094"}[i]
		runs = append(runs, startReplyAsking(t, s, request, channelID, ask))
	}
	testwait.Until(t, "both replies' first text", func() bool { return len(shown(s.Discord.Messages(channelID))) >= 2 })
	time.Sleep(1500 * time.Millisecond)
	killWorker(t, worker)
	startWorker(t, s, bin)
	ids := map[string]bool{}
	for _, run := range runs {
		res := runResult[workflows.GenerateReplyResult](t, run, 2*time.Minute)
		ids[res.DiscordMessageID] = true
	}
	saved := map[string]bool{}
	for _, row := range s.DB.ConversationHistory.Query().Where(conversationhistory.Role("assistant")).AllX(context.Background()) {
		saved[row.Content] = true
	}
	msgs := shown(s.Discord.Messages(channelID))
	for _, m := range msgs {
		if !ids[m.ID] || !saved[m.Content] {
			t.Errorf("message %s (a reply's: %v) holds %.80q, not a saved reply", m.ID, ids[m.ID], m.Content)
		}
	}
	if len(msgs) != 2 || len(ids) != 2 {
		t.Errorf("the channel shows %d messages for %d replies, want 2 and 2", len(msgs), len(ids))
	}
}

// In a channel without our webhook, the streamed reply's first bot post
// reached Discord but its answer was lost; then the key is revoked and the
// stream fails with 401. The reply must end like a rejected key before the
// stream: the error message, and no half reply left in the channel.
func TestStreamMidStreamRejectedKeyAfterAnUnrecordedBotPost(t *testing.T) {
	bin := buildTzurot(t)
	s := crashStack(t)
	s.Discord.DenyWebhooks(channelID)
	s.OpenRouter.Script(userKey, fakeopenrouter.OK(),
		fakeopenrouter.FailMidStream(401, 150).Paced(fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 30}))
	s.Discord.DropNextAfterHandling("POST /channels/{channel_id}/messages")
	startWorker(t, s, bin)
	const request = "810000000000000092"
	run := startReplyAsking(t, s, request, channelID, streamAsk)
	half := waitForMessage(t, s)
	s.OpenRouter.Revoke(userKey)
	res := runResult[workflows.GenerateReplyResult](t, run, 2*time.Minute)
	msgs := shown(s.Discord.Messages(channelID))
	for _, m := range msgs {
		t.Logf("shown %s: %.90q", m.ID, m.Content)
		if m.ID == half.ID {
			t.Errorf("the half reply %s stays beside the outcome %s", m.ID, res.Outcome)
		}
	}
	if res.Outcome != workflows.ReplyKeyRejected || len(msgs) != 1 {
		t.Errorf("outcome %s with %d messages shown, want key_rejected and only the error message", res.Outcome, len(msgs))
	}
}

// crashStack is a stack whose worker is a process of its own (startWorker),
// its logs shown when the test fails.
func crashStack(t *testing.T) *itest.Stack {
	t.Helper()
	s := userKeyStack(t, itest.Options{NoWorker: true, GuestMode: config.GuestOff}, "openrouter/free")
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Logs.String())
		}
	})
	return s
}
