//go:build e2e

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/conversationhistory"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/internal/config"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/workflows"
)

// streamAsk is a message whose echo is a reply of about 240 tokens: long
// enough to be posted, then edited several times while it streams.
var streamAsk = strings.Repeat("tell me about the cold and the static between the stars. ", 16)

// streamRate streams it in about 5 s, after 0.2 s.
var streamRate = fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 50}

// savedReply is the reply the conversation history kept for the request:
// what PostReply would have posted.
func savedReply(t *testing.T, s *itest.Stack, requestID string) string {
	t.Helper()
	row, err := s.DB.ConversationHistory.Query().
		Where(conversationhistory.Role("assistant")).Only(context.Background())
	if err != nil {
		t.Fatalf("the reply's history row: %v", err)
	}
	return row.Content
}

// assertOneWholeReply checks the channel holds exactly one message, the
// whole reply, which grew through edits (its history: posted, then longer,
// each a prefix of the next... up to the whole), and that no edit came back
// before Discord's retry_after.
func assertOneWholeReply(t *testing.T, s *itest.Stack, res workflows.GenerateReplyResult, requestID string) fakediscord.Message {
	t.Helper()
	if res.Outcome != workflows.ReplyReplied {
		t.Fatalf("outcome %s, want replied", res.Outcome)
	}
	want := savedReply(t, s, requestID)
	msgs := shown(s.Discord.Messages(channelID))
	if len(msgs) != 1 {
		t.Fatalf("%d channel messages, want the one streamed reply: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.ID != res.DiscordMessageID || m.Content != want || m.WebhookID == "" || m.Author.Username != "Kerach" {
		t.Fatalf("message %s by %q (webhook %q) holds %q; want %s by Kerach holding the whole reply %q", m.ID, m.Author.Username, m.WebhookID, m.Content, res.DiscordMessageID, want)
	}
	if len(m.History) < 3 {
		t.Errorf("the message was written %d times, want posted and then edited as the text grew: %q", len(m.History), m.History)
	}
	if n := s.Discord.EarlyRetries(); n != 0 {
		t.Errorf("%d requests came back before Discord's retry_after", n)
	}
	return m
}

// A streamed reply is posted once there is a sentence, edited as the text
// arrives, and ends as exactly the whole reply, with one usage row.
func TestStreamedReplyEndsAsTheWholeText(t *testing.T) {
	s := deliveryStack(t)
	s.OpenRouter.Script(userKey, fakeopenrouter.OK().Paced(streamRate))
	res := replyAsking(t, s, "810000000000000001", channelID, streamAsk)
	m := assertOneWholeReply(t, s, res, "810000000000000001")
	for i := 1; i < len(m.History); i++ {
		if !strings.HasPrefix(m.History[i], strings.TrimSuffix(m.History[i-1], "…")) {
			t.Errorf("edit %d does not continue the text before it:\n%q\n%q", i, m.History[i-1], m.History[i])
		}
	}
	if n := s.DB.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeText)).CountX(context.Background()); n != 1 {
		t.Errorf("%d usage rows of the reply, want 1", n)
	}
}

// An error chunk with code 401 after the 200, for a key GET /key refuses by
// then, ends as a 401 before the stream does: the key switched off, one DM,
// the personality's error message — and no half reply left in the channel.
func TestMidStreamRejectedKeyEndsLikeARejectedKey(t *testing.T) {
	s := userKeyStack(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey}, "openrouter/free")
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	s.OpenRouter.Script(userKey, fakeopenrouter.FailMidStream(401, 150).Paced(streamRate))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Logs.String())
		}
	})
	deactivated := metrics.Sum("tzurot_key_deactivations_total", map[string]string{"provider": "openrouter"})
	run := startReplyAsking(t, s, "810000000000000002", channelID, streamAsk)
	waitForMessage(t, s)
	s.OpenRouter.Revoke(userKey) // the user revokes it while the reply streams
	if res := result(t, run); res.Outcome != workflows.ReplyKeyRejected {
		t.Fatalf("outcome %s, want key_rejected", res.Outcome)
	}
	assertRejected(t, s)
	if msgs := shown(s.Discord.Messages(channelID)); len(msgs) != 1 {
		t.Errorf("%d channel messages, want only the error message: %+v", len(msgs), msgs)
	}
	if d := metrics.Sum("tzurot_key_deactivations_total", map[string]string{"provider": "openrouter"}) - deactivated; d != 1 {
		t.Errorf("key switched off %v times, want once", d)
	}
}

// An error chunk with code 502 after the 200 is the upstream's: the
// activity is retried, and the retry continues the same message to the
// whole reply.
func TestMidStreamBadGatewayIsRetriedInTheSameMessage(t *testing.T) {
	s := deliveryStack(t)
	s.OpenRouter.Script(userKey, fakeopenrouter.FailMidStream(502, 120).Paced(streamRate), fakeopenrouter.OK().Paced(streamRate))
	run := startReplyAsking(t, s, "810000000000000003", channelID, streamAsk)
	first := waitForMessage(t, s)
	res := result(t, run)
	m := assertOneWholeReply(t, s, res, "810000000000000003")
	if m.ID != first.ID {
		t.Errorf("the reply ended in message %s, not in %s, the one the failed attempt began", m.ID, first.ID)
	}
	if n := len(s.OpenRouter.CallsFor(userKey)); n != 2 {
		t.Errorf("%d provider calls, want the failed one and its retry", n)
	}
}

// The worker is a real process killed with SIGKILL while the reply streams:
// the retry on a new worker continues the same message, which ends as the
// whole reply, with no stray half message and one usage row.
func TestWorkerKilledMidStream(t *testing.T) {
	bin := buildTzurot(t)
	s := userKeyStack(t, itest.Options{NoWorker: true, GuestMode: config.GuestOff}, "openrouter/free")
	slow := fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 20}
	s.OpenRouter.Script(userKey, fakeopenrouter.OK().Paced(slow), fakeopenrouter.OK().Paced(streamRate))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Logs.String())
		}
	})
	worker := startWorker(t, s, bin)
	run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID("810000000000000004"), TaskQueue: s.TaskQueue,
	}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
		RequestID: "810000000000000004", DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: channelID, MessageID: "810000000000000004", Content: streamAsk,
	})
	if err != nil {
		t.Fatal(err)
	}
	first := waitForMessage(t, s)
	time.Sleep(1500 * time.Millisecond) // an edit or two in
	killWorker(t, worker)
	startWorker(t, s, bin)
	res := runResult[workflows.GenerateReplyResult](t, run, 2*time.Minute)
	m := assertOneWholeReply(t, s, res, "810000000000000004")
	if m.ID != first.ID {
		t.Errorf("the reply ended in message %s, not in %s, the one the killed worker began", m.ID, first.ID)
	}
	// Each attempt's memory recall embeds the message (a row each); the
	// reply itself has one row: the killed attempt never received its usage.
	if n := s.DB.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeText)).CountX(context.Background()); n != 1 {
		t.Errorf("%d usage rows of the reply, want 1", n)
	}
	s.AssertNoSecrets(t, []string{workflows.GenerateReplyID("810000000000000004")}, userKey)
}

// waitForMessage waits for the first message in the channel: the streamed
// reply's first text.
func waitForMessage(t *testing.T, s *itest.Stack) fakediscord.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if msgs := shown(s.Discord.Messages(channelID)); len(msgs) > 0 {
			return msgs[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no message in the channel after 30 s")
	return fakediscord.Message{}
}

// shown are the messages a channel shows: not deleted.
func shown(msgs []fakediscord.Message) []fakediscord.Message {
	var out []fakediscord.Message
	for _, m := range msgs {
		if !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// TestRecordStreamedReplyHistories records, on request, a streamed reply
// (GenerateReply at stream-reply 1) and one whose key was refused
// mid-stream (DiscardStream, then the notice), for the replay tests in
// workflows/.
func TestRecordStreamedReplyHistories(t *testing.T) {
	const replied, rejected = "generate_reply_v6_stream.json", "generate_reply_v6_stream_key_rejected.json"
	if f := os.Getenv("TZUROT_RECORD_HISTORY"); f != replied && f != "all" {
		t.Skip("set TZUROT_RECORD_HISTORY to " + replied + " or all to record it and " + rejected)
	}
	s := deliveryStack(t)
	s.OpenRouter.Script(userKey, fakeopenrouter.OK().Paced(streamRate), fakeopenrouter.FailMidStream(401, 100).Paced(streamRate))
	if res := replyAsking(t, s, "810000000000000061", channelID, streamAsk); res.Outcome != workflows.ReplyReplied {
		t.Fatalf("outcome %s", res.Outcome)
	}
	recordHistory(t, s, workflows.GenerateReplyID("810000000000000061"), replied)
	run := startReplyAsking(t, s, "810000000000000062", channelID, streamAsk)
	time.Sleep(1500 * time.Millisecond)
	s.OpenRouter.Revoke(userKey)
	if res := result(t, run); res.Outcome != workflows.ReplyKeyRejected {
		t.Fatalf("outcome %s", res.Outcome)
	}
	recordHistory(t, s, workflows.GenerateReplyID("810000000000000062"), rejected)
}

// A personality switched off with `/config personality streaming:false`
// (personalities.streaming) posts its reply whole: one write of the
// message, no edits, under PostReply's key, though the model streamed it.
func TestStreamingSwitchedOffPostsWhole(t *testing.T) {
	s := deliveryStack(t)
	ctx := context.Background()
	s.DB.Personality.Update().SetStreaming(false).ExecX(ctx)
	s.OpenRouter.Script(userKey, fakeopenrouter.OK().Paced(streamRate))
	res := replyAsking(t, s, "810000000000000009", channelID, streamAsk)
	m := oneReply(t, s, channelID, res)
	if want := savedReply(t, s, "810000000000000009"); !strings.HasPrefix(want, m.Content) {
		t.Errorf("message holds %q, want the start of the reply %q", m.Content, want)
	}
	if len(m.History) != 1 {
		t.Errorf("the message was written %d times, want once, whole: %q", len(m.History), m.History)
	}
}
