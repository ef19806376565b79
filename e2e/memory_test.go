//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/workflows"
)

const (
	otherChannel = "900000000000000002"
	bobsChannel  = "900000000000000003"
	// bobsOtherChannel is one with no conversation yet.
	bobsOtherChannel = "900000000000000004"
	memorySection    = "Things you remember about"
)

// talk has user (alice or bob, by Discord id) tell Kerach content in channel
// and waits for the reply and then for the exchange's memory workflow, when
// one was started; it returns the reply's outcome and the memory's.
func talk(t *testing.T, s *itest.Stack, user, requestID, channel, content string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := map[string]string{aliceID: "alice", bobID: "bob"}[user]
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GenerateReplyID(requestID), TaskQueue: s.TaskQueue},
		workflows.GenerateReplyName, workflows.GenerateReplyInput{
			RequestID: requestID, DiscordUserID: user, Username: name, Personality: "kerach",
			ChannelID: channel, MessageID: requestID, Content: content,
		})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.GenerateReplyResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	return res.Outcome, memoryOutcome(t, s, requestID)
}

// memoryOutcome waits for the memory workflow of requestID and returns its
// outcome, "" when none was started.
func memoryOutcome(t *testing.T, s *itest.Stack, requestID string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out activities.RememberOutput
	err := s.Client.GetWorkflow(ctx, workflows.RememberExchangeID(requestID), "").Get(ctx, &out)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("memory of %s: %v", requestID, err)
	}
	return out.Outcome
}

// lastPrompt is the system prompt of the last chat completion made with key.
func lastPrompt(t *testing.T, s *itest.Stack, key string) string {
	t.Helper()
	var last string
	for _, c := range s.OpenRouter.CallsFor(key) {
		if !strings.HasSuffix(c.Path, "/chat/completions") {
			continue
		}
		var body struct {
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(c.Body, &body); err != nil || len(body.Messages) == 0 {
			t.Fatalf("chat request %s: %v", c.Body, err)
		}
		last = string(c.Body)
		if body.Messages[0].Role == "system" {
			last = body.Messages[0].Content
		}
	}
	return last
}

// embeddings counts the /embeddings calls made with key, and checks they
// all name EMBEDDING_MODEL.
func embeddings(t *testing.T, s *itest.Stack, key string) int {
	t.Helper()
	n := 0
	for _, c := range s.OpenRouter.CallsFor(key) {
		if strings.HasSuffix(c.Path, "/embeddings") {
			n++
			if c.Model != s.Config.EmbeddingModel {
				t.Errorf("embeddings call with model %q, want EMBEDDING_MODEL %q", c.Model, s.Config.EmbeddingModel)
			}
		}
	}
	return n
}

// The "done when": alice tells Kerach her cat's name in one
// channel, talks of other things in another, then asks — and the request
// to the model carries that memory, dated, in its own section, paid with
// her key. Bob asking the same in his channel is never given it.
func TestLongTermMemoryRecallsAcrossChannelsForTheSpeakerOnly(t *testing.T) {
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey, LongTermMemory: true})
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "anthropic/claude-sonnet-4")
	storeKey(t, s, userKey)
	// Kerach answers alice "Noted." (scripted: in each exchange the recall's
	// embedding, the reply, the memory's embedding), so her memories differ
	// only by what she said. The threshold lies between what the
	// stand-in's vectors give a memory sharing only the reply with the
	// query (about 0.28: the cat, asked about trains) and one sharing a
	// subject (0.57: the cat, asked about the cat; 0.63: lunch, asked about
	// trains right after it).
	s.DB.LLMConfig.Update().SetMemoryScoreThreshold(0.45).ExecX(context.Background())
	noted := func() {
		s.OpenRouter.Script(userKey, fakeopenrouter.OK(), fakeopenrouter.Reply("Noted.", ""), fakeopenrouter.OK())
	}

	noted()
	if out, mem := talk(t, s, aliceID, "810000000000000001", channelID, "my cat is called Pixel"); out != workflows.ReplyReplied || mem != activities.Remembered {
		t.Fatalf("first exchange: reply %s, memory %q", out, mem)
	}
	for i, text := range []string{"the weather is lovely today", "I had pasta for lunch", "trains are my favourite way to travel"} {
		noted()
		if out, mem := talk(t, s, aliceID, "81000000000000001"+string(rune('0'+i)), otherChannel, text); out != workflows.ReplyReplied || mem != activities.Remembered {
			t.Fatalf("small talk %d: reply %s, memory %q", i, out, mem)
		}
	}
	// Asked about trains, the cat is below the threshold, and the small
	// talk's memories, though near, are of exchanges the request's
	// conversation carries already: nothing is recalled.
	if p := lastPrompt(t, s, userKey); strings.Contains(p, "Pixel") || strings.Contains(p, memorySection) {
		t.Fatalf("small talk about trains, want no memories (the cat is below memory_score_threshold, the rest in the conversation):\n%s", p)
	}
	talk(t, s, aliceID, "810000000000000020", otherChannel, "what is my cat called?")
	prompt := lastPrompt(t, s, userKey)
	today := time.Now().UTC().Format(time.DateOnly)
	if !strings.Contains(prompt, memorySection+" alice") || !strings.Contains(prompt, "- ("+today+`) alice: "my cat is called Pixel"; Kerach: "Noted."`) {
		t.Fatalf("the question's system prompt lacks the memory:\n%s", prompt)
	}
	ctx := context.Background()
	if n := s.DB.Memory.Query().CountX(ctx); n != 5 {
		t.Errorf("%d memories, want one per exchange (5)", n)
	}
	// Every exchange embeds its query and its memory, each on her key and
	// with its usage row.
	if n := embeddings(t, s, userKey); n != 10 {
		t.Errorf("%d embeddings calls on alice's key, want 10 (a query and a memory per exchange)", n)
	}
	if n := s.DB.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeEmbedding)).CountX(ctx); n != 10 {
		t.Errorf("%d embedding usage rows, want 10", n)
	}
	if n := len(s.OpenRouter.CallsFor(operatorKey)); n != 0 {
		t.Errorf("%d calls on the operator's key for a user with a key", n)
	}

	// Bob, a guest on the operator's key (GUEST_MODE=all), has memories of
	// his own with Kerach — his cat is Rex; asking the same question he
	// gets his, never hers, though hers is as near.
	if out, mem := talk(t, s, bobID, "820000000000000001", bobsChannel, "my cat is called Rex"); out != workflows.ReplyReplied || mem != activities.Remembered {
		t.Fatalf("bob: reply %s, memory %q", out, mem)
	}
	// Asked in another channel, where Rex is not in the conversation already.
	talk(t, s, bobID, "820000000000000002", bobsOtherChannel, "what is my cat called?")
	bobs := lastPrompt(t, s, operatorKey)
	if strings.Contains(bobs, "Pixel") || !strings.Contains(bobs, memorySection+" bob") || !strings.Contains(bobs, "Rex") {
		t.Fatalf("bob's system prompt, want his memory and never alice's:\n%s", bobs)
	}
	s.AssertNoSecrets(t, []string{workflows.GenerateReplyID("810000000000000001"), workflows.RememberExchangeID("810000000000000001")}, userKey, operatorKey)
}

// OpenRouter's embeddings endpoint fails (500, then 429) or hangs: the
// reply is posted without memories, held at most the recall's short
// timeout, and the exchange's memory is written in the background once the
// endpoint answers again.
func TestEmbeddingsOutageNeitherFailsNorHoldsTheReply(t *testing.T) {
	for _, tc := range []struct {
		name, requestID string
		recall          fakeopenrouter.Step
	}{
		{"500", "830000000000000001", fakeopenrouter.Fail(500)},
		{"hanging", "830000000000000002", fakeopenrouter.Delay(time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := itest.New(t, itest.Options{GuestMode: config.GuestOff, LongTermMemory: true})
			s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
			seedPersonality(t, s, "anthropic/claude-sonnet-4")
			storeKey(t, s, userKey)
			// In call order: the recall's query, the reply, two attempts at
			// the memory.
			s.OpenRouter.Script(userKey, tc.recall, fakeopenrouter.OK(), fakeopenrouter.Fail(500), fakeopenrouter.FailWithRetryAfter(429, 1))

			requestID := tc.requestID
			start := time.Now()
			res := replyAsking(t, s, requestID, channelID, "my cat is called Pixel")
			took := time.Since(start)
			ctx := context.Background()
			if res.Outcome != workflows.ReplyReplied || len(s.Discord.Messages(channelID)) != 1 {
				t.Fatalf("outcome %s, channel %+v", res.Outcome, s.Discord.Messages(channelID))
			}
			// A reply held by the hanging recall would take its whole minute;
			// half of it leaves a loaded machine room beyond the recall's 4 s.
			if n := s.DB.Memory.Query().CountX(ctx); n != 0 || took > 30*time.Second {
				t.Errorf("the reply took %s and %d memories were written before it returned: it waited for the memory", took, n)
			}
			if !strings.Contains(s.Logs.String(), "long-term memory not recalled") {
				t.Error("the failed recall was not logged")
			}
			if mem := memoryOutcome(t, s, requestID); mem != activities.Remembered {
				t.Fatalf("memory outcome %q after the endpoint recovered", mem)
			}
			if n := s.DB.Memory.Query().CountX(ctx); n != 1 {
				t.Errorf("%d memories once the endpoint recovered, want 1", n)
			}
			if n := embeddings(t, s, userKey); n != 4 {
				t.Errorf("%d embeddings calls, want 4 (the failed recall, two failed attempts, the one that passed)", n)
			}
		})
	}
}

// The memory is paid by the reply's rules: never by the operator without
// GUEST_MODE allowing it for EMBEDDING_MODEL, never after the user's key
// failed.
func TestMemoryFollowsTheReplysKeyRules(t *testing.T) {
	t.Run("guest off, no key", func(t *testing.T) {
		s := itest.New(t, itest.Options{GuestMode: config.GuestOff, OperatorKey: operatorKey, LongTermMemory: true})
		s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
		seedPersonality(t, s, "openrouter/free")
		if out, mem := talk(t, s, aliceID, "840000000000000001", channelID, "my cat is called Pixel"); out != workflows.ReplyNoKey || mem != "" {
			t.Fatalf("reply %s, memory %q", out, mem)
		}
		if n := len(s.OpenRouter.Calls()); n != 0 {
			t.Errorf("%d provider calls", n)
		}
	})
	t.Run("guest free: a free chat model, but embeddings are not free", func(t *testing.T) {
		s := itest.New(t, itest.Options{GuestMode: config.GuestFree, OperatorKey: operatorKey, LongTermMemory: true})
		s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
		seedPersonality(t, s, "openrouter/free")
		for _, id := range []string{"840000000000000002", "840000000000000003"} {
			if out, mem := talk(t, s, aliceID, id, channelID, "my cat is called Pixel"); out != workflows.ReplyReplied || mem != "" {
				t.Fatalf("reply %s, memory %q", out, mem)
			}
		}
		if n := embeddings(t, s, operatorKey); n != 0 {
			t.Errorf("%d embeddings on the operator's key under GUEST_MODE=free", n)
		}
	})
	t.Run("the user's key refused", func(t *testing.T) {
		s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey, LongTermMemory: true})
		s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
		s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
		s.OpenRouter.Revoke(userKey)
		seedPersonality(t, s, "openrouter/free")
		storeKey(t, s, userKey)
		for _, id := range []string{"840000000000000004", "840000000000000005"} {
			if out, mem := talk(t, s, aliceID, id, channelID, "my cat is called Pixel"); out != workflows.ReplyKeyRejected || mem != "" {
				t.Fatalf("reply %s, memory %q", out, mem)
			}
		}
		if n := len(s.OpenRouter.CallsFor(operatorKey)); n != 0 || s.DB.Memory.Query().CountX(context.Background()) != 0 {
			t.Errorf("%d calls on the operator's key after the user's key failed", n)
		}
	})
}

// A user who is incognito gets no new memory: not when Generate finds them
// so at reply time (no memory workflow at all), nor when they turn it on
// before the memory is written (the workflow's activity checks again).
func TestIncognitoUserGetsNoNewMemory(t *testing.T) {
	s := itest.New(t, itest.Options{GuestMode: config.GuestOff, LongTermMemory: true})
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "anthropic/claude-sonnet-4")
	storeKey(t, s, userKey)
	var asked, incognitoFrom atomic.Int32
	incognitoFrom.Store(1) // from the first question, Generate's
	s.Activities.Incognito = func(_ context.Context, id string) (bool, error) {
		if id != aliceID {
			t.Errorf("incognito asked for %s", id)
		}
		return asked.Add(1) >= incognitoFrom.Load(), nil
	}
	if out, mem := talk(t, s, aliceID, "850000000000000001", channelID, "my cat is called Pixel"); out != workflows.ReplyReplied || mem != "" {
		t.Fatalf("incognito at reply time: reply %s, memory %q", out, mem)
	}
	asked.Store(0)
	incognitoFrom.Store(2) // from the second question, Remember's
	if out, mem := talk(t, s, aliceID, "850000000000000002", channelID, "my dog is called Rex"); out != workflows.ReplyReplied || mem != activities.NotRememberedIncognito {
		t.Fatalf("incognito by the time the memory is written: reply %s, memory %q", out, mem)
	}
	if n := s.DB.Memory.Query().CountX(context.Background()); n != 0 {
		t.Errorf("%d memories of an incognito user", n)
	}
}

// TestRecordLongTermMemoryHistory records, on request, the histories of a
// reply that is remembered (GenerateReply at long-term-memory 1) and of its
// RememberExchange, for the replay tests in workflows/.
func TestRecordLongTermMemoryHistory(t *testing.T) {
	const replyFile, memoryFile = "generate_reply_v4_long_term_memory.json", "remember_exchange_v0.json"
	if f := os.Getenv("TZUROT_RECORD_HISTORY"); f != replyFile && f != memoryFile && f != "all" {
		t.Skip("set TZUROT_RECORD_HISTORY to " + replyFile + ", " + memoryFile + " or all to record them")
	}
	s := itest.New(t, itest.Options{GuestMode: config.GuestOff, LongTermMemory: true})
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "anthropic/claude-sonnet-4")
	storeKey(t, s, userKey)
	// The memory's first attempt fails, so its history holds a retry.
	s.OpenRouter.Script(userKey, fakeopenrouter.OK(), fakeopenrouter.OK(), fakeopenrouter.Fail(500))
	const requestID = "800000000000000042"
	if out, mem := talk(t, s, aliceID, requestID, channelID, "my cat is called Pixel"); out != workflows.ReplyReplied || mem != activities.Remembered {
		t.Fatalf("reply %s, memory %q", out, mem)
	}
	recordHistory(t, s, workflows.GenerateReplyID(requestID), replyFile)
	recordHistory(t, s, workflows.RememberExchangeID(requestID), memoryFile)
}

// Without a hook, the flag /memory incognito stores (users.incognito) is
// what the reply path reads.
func TestStoredIncognitoFlagIsHonoured(t *testing.T) {
	s := itest.New(t, itest.Options{GuestMode: config.GuestOff, LongTermMemory: true})
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "anthropic/claude-sonnet-4")
	storeKey(t, s, userKey)
	if s.Activities.Incognito != nil {
		t.Fatal("the harness set an Incognito hook: this test is about the stored flag")
	}
	if err := store.New(s.DB).SetIncognito(context.Background(), aliceID, "alice", true); err != nil {
		t.Fatal(err)
	}
	if out, mem := talk(t, s, aliceID, "850000000000000011", channelID, "my cat is called Pixel"); out != workflows.ReplyReplied || mem != "" {
		t.Fatalf("incognito user: reply %s, memory %q", out, mem)
	}
	if n := s.DB.Memory.Query().CountX(context.Background()); n != 0 {
		t.Errorf("%d memories of an incognito user", n)
	}
}

// A message that is only an image is remembered, as the history keeps it
// (its image's name): the memory's user side is never empty. With
// TZUROT_RECORD_HISTORY set to its file, it also records the reply's
// history (GenerateReply at remember-user-turn 1) for the replay tests.
func TestImageAloneIsRemembered(t *testing.T) {
	const replyFile = "generate_reply_v6_remember_user_turn.json"
	s := itest.New(t, itest.Options{GuestMode: config.GuestOff, LongTermMemory: true})
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "anthropic/claude-sonnet-4")
	storeKey(t, s, userKey)
	_, id := askWithImage(t, s, 1, "red.png", "")
	if mem := memoryOutcome(t, s, id); mem != activities.Remembered {
		t.Fatalf("memory of an image alone: %q, want %q", mem, activities.Remembered)
	}
	m := s.DB.Memory.Query().OnlyX(context.Background())
	if !strings.HasPrefix(m.Content, `alice: "[image(s) attached: red.png]"; Kerach: "`) {
		t.Errorf("memory %q, want the image's turn and Kerach's answer", m.Content)
	}
	if f := os.Getenv("TZUROT_RECORD_HISTORY"); f == replyFile || f == "all" {
		recordHistory(t, s, workflows.GenerateReplyID(id), replyFile)
	}
}
