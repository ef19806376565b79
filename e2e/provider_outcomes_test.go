//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// outcomeWorld is a user with their own key talking to a reasoning model
// whose personality allows 256 output tokens, and a free-model personality.
func outcomeWorld(t *testing.T) *itest.Stack {
	t.Helper()
	s := itest.New(t, itest.Options{GuestMode: config.GuestFree, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	ctx := context.Background()
	for name, model := range map[string]string{"thinker": "deepseek/deepseek-r1", "freebie": "meta-llama/llama-3.3-70b-instruct:free"} {
		p := s.DB.Personality.Create().SetName(name).SetErrorMessage("*static crackles*").SaveX(ctx)
		s.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel(model).SetMaxTokens(256).ExecX(ctx)
	}
	return s
}

// answered is one finished GenerateReply: its result, the message it
// posted, how long it took, and what it cost at the provider.
type answered struct {
	res     workflows.GenerateReplyResult
	posted  string
	took    time.Duration
	calls   int
	usage   int
	runID   string
	channel string
}

// ask runs GenerateReply for userID in a channel of its own and measures it.
func ask(t *testing.T, s *itest.Stack, userID, personality, requestID string) answered {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	callsBefore, usageBefore := len(s.OpenRouter.Calls()), s.DB.UsageLog.Query().CountX(ctx)
	channel := "9100000000" + requestID[len(requestID)-8:]
	start := time.Now()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID(requestID), TaskQueue: s.TaskQueue,
	}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
		RequestID: requestID, DiscordUserID: userID, Username: "alice", Personality: personality,
		ChannelID: channel, MessageID: requestID, Content: "what is the meaning of life?",
	})
	if err != nil {
		t.Fatal(err)
	}
	a := answered{runID: run.GetRunID(), channel: channel}
	if err := run.Get(ctx, &a.res); err != nil {
		t.Fatal(err)
	}
	a.took = time.Since(start)
	defer func() {
		t.Logf("%s after %d calls in %s: %q", a.res.Outcome, a.calls, a.took.Round(time.Millisecond), a.posted)
	}()
	a.calls = len(s.OpenRouter.Calls()) - callsBefore
	a.usage = s.DB.UsageLog.Query().CountX(ctx) - usageBefore
	for _, m := range s.Discord.Messages(channel) {
		if m.ID == a.res.DiscordMessageID {
			a.posted = m.Content
		}
	}
	return a
}

// A completion that came back whole but with no text is billed, logged once,
// never sent again, and explained in one line; the upstream failing
// mid-answer, or a model warming up with no content, is retried.
func TestEmptyCompletions(t *testing.T) {
	s := outcomeWorld(t)
	storeKey(t, s, userKey)
	cases := []struct {
		name    string
		steps   []fakeopenrouter.Step
		outcome string
		calls   int
		says    []string
	}{
		{"reasoning spent max_tokens", []fakeopenrouter.Step{fakeopenrouter.Think(1000)}, workflows.ReplyFailed, 1,
			[]string{"<@" + aliceID + "> ", "deepseek/deepseek-r1 used its whole max_tokens budget (256) on reasoning", "raise max_tokens or lower the reasoning effort with /config"}},
		{"length without reasoning", []fakeopenrouter.Step{fakeopenrouter.Finish("length", "")}, workflows.ReplyFailed, 1,
			[]string{"reached its whole max_tokens budget (256) before writing a reply", "raise max_tokens with /config"}},
		{"content filter", []fakeopenrouter.Step{fakeopenrouter.Finish("content_filter", "")}, workflows.ReplyFailed, 1,
			[]string{"the provider's content filter withheld deepseek/deepseek-r1's reply", "/config"}},
		{"whitespace only", []fakeopenrouter.Step{fakeopenrouter.Finish("stop", " \n\t ")}, workflows.ReplyFailed, 1,
			[]string{"finished (finish_reason stop) without writing any text"}},
		{"only inline reasoning", []fakeopenrouter.Step{fakeopenrouter.Finish("stop", "<think>pondering</think>\n")}, workflows.ReplyFailed, 1,
			[]string{"finished (finish_reason stop) without writing any text"}},
		{"tool calls", []fakeopenrouter.Step{fakeopenrouter.Finish("tool_calls", "")}, workflows.ReplyFailed, 1,
			[]string{"finished (finish_reason tool_calls) without writing any text"}},
		{"failed mid-answer, then answers", []fakeopenrouter.Step{fakeopenrouter.Finish("error", ""), fakeopenrouter.OK()}, workflows.ReplyReplied, 2,
			[]string{"what is the meaning of life?"}},
		{"no content while warming up, then answers", []fakeopenrouter.Step{fakeopenrouter.Finish("", ""), fakeopenrouter.OK()}, workflows.ReplyReplied, 2,
			[]string{"what is the meaning of life?"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.OpenRouter.Script(userKey, tc.steps...)
			a := ask(t, s, aliceID, "thinker", fmt.Sprintf("81000000%08d", i))
			if a.res.Outcome != tc.outcome || a.res.DiscordMessageID == "" {
				t.Fatalf("result %+v, want %s with a message", a.res, tc.outcome)
			}
			if a.calls != tc.calls {
				t.Errorf("%d provider calls, want %d", a.calls, tc.calls)
			}
			// Every call was billed, so every call has its usage row.
			if a.usage != tc.calls {
				t.Errorf("%d usage rows, want %d", a.usage, tc.calls)
			}
			for _, want := range tc.says {
				if !strings.Contains(a.posted, want) {
					t.Errorf("posted %q, want it to say %q", a.posted, want)
				}
			}
			if strings.Contains(a.posted, "*static crackles*") || strings.Contains(a.posted, "\n") {
				t.Errorf("posted %q: want one plain line, not the generic error", a.posted)
			}
		})
	}
}

// OpenRouter's daily free-model cap answers 429 with a reset at the next
// 00:00 UTC: the workflow ends within seconds after one call, telling the
// user when the quota comes back and what would lift it.
func TestDailyFreeModelCapIsToldAtOnce(t *testing.T) {
	s := outcomeWorld(t)
	storeKey(t, s, userKey)
	const guestID = "222222222222222222" // no key of their own: the operator's key
	cases := []struct {
		name, user, key string
		step            fakeopenrouter.Step
		says            []string
	}{
		{"50 a day on the user's key", aliceID, userKey, fakeopenrouter.FreeModelsPerDay(50),
			[]string{"your OpenRouter account has used all 50 free-model requests for today", "free-models-per-day", "10 credits", "https://openrouter.ai/credits", "1000 a day"}},
		{"1000 a day on the user's key", aliceID, userKey, fakeopenrouter.FreeModelsPerDay(1000),
			[]string{"used all 1000 free-model requests for today", "free-models-per-day-high-balance", "paid model"}},
		{"the shared key", guestID, operatorKey, fakeopenrouter.FreeModelsPerDay(50),
			[]string{"the shared OpenRouter key has used all its free-model requests for today", "/wallet set"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.OpenRouter.Script(tc.key, tc.step)
			reset := fakeopenrouter.FreeDailyReset(time.Now())
			a := ask(t, s, tc.user, "freebie", fmt.Sprintf("82000000%08d", i))
			if a.res.Outcome != workflows.ReplyRateLimited || a.res.DiscordMessageID == "" {
				t.Fatalf("result %+v, want rate_limited with a message", a.res)
			}
			if a.took > 15*time.Second {
				t.Errorf("took %s: the workflow waited for the quota", a.took)
			}
			if a.calls != 1 {
				t.Errorf("%d provider calls, want 1", a.calls)
			}
			when := fmt.Sprintf("<t:%d:R> (<t:%d:F>)", reset.Unix(), reset.Unix())
			for _, want := range append([]string{"<@" + tc.user + "> ", when}, tc.says...) {
				if !strings.Contains(a.posted, want) {
					t.Errorf("posted %q, want it to say %q", a.posted, want)
				}
			}
		})
	}
}

// Waits within MaxRetryWait are waited out and retried; a provider asking
// for a longer pause than that is told to the user at once.
func TestRetryAfterBounds(t *testing.T) {
	s := outcomeWorld(t)
	storeKey(t, s, userKey)

	s.OpenRouter.Script(userKey, fakeopenrouter.FailWithRetryAfter(429, 1))
	a := ask(t, s, aliceID, "freebie", "8300000000000001")
	if a.res.Outcome != workflows.ReplyReplied || a.calls != 2 || !strings.Contains(a.posted, "what is the meaning of life?") {
		t.Errorf("short Retry-After: %+v after %d calls, posted %q; want replied after 2", a.res, a.calls, a.posted)
	}
	if a.took < time.Second {
		t.Errorf("took %s: the Retry-After of 1 s was not honoured", a.took)
	}

	s.OpenRouter.Script(userKey, fakeopenrouter.FailWithRetryAfter(503, 3600))
	a = ask(t, s, aliceID, "freebie", "8300000000000002")
	if a.res.Outcome != workflows.ReplyFailed || a.calls != 1 || a.took > 15*time.Second ||
		!strings.Contains(a.posted, "asks to wait until <t:") {
		t.Errorf("Retry-After of an hour: %+v after %d calls in %s, posted %q", a.res, a.calls, a.took, a.posted)
	}

	at := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	s.OpenRouter.Script(userKey, fakeopenrouter.RateLimitedUntil("requests-per-key", 100, at))
	a = ask(t, s, aliceID, "freebie", "8300000000000003")
	if a.res.Outcome != workflows.ReplyRateLimited || a.calls != 1 ||
		!strings.Contains(a.posted, fmt.Sprintf("rate limited (OpenRouter's requests-per-key limit) until <t:%d:R>", at.Unix())) {
		t.Errorf("other limit: %+v after %d calls, posted %q", a.res, a.calls, a.posted)
	}
}
