//go:build integration

package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/llmconfig"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
)

// Every way a provider call can end, as the workflow sees it: which error
// type, whether Temporal may retry it and after how long, and how many
// usage rows (one per billed completion) it leaves.
func TestGenerateProviderOutcomes(t *testing.T) {
	f := newFixture(t, config.GuestFree, "deepseek/deepseek-r1")
	f.storeKey(t, userKey, true)
	ctx := context.Background()
	f.db.LLMConfig.Update().Where(llmconfig.PersonalityID(f.kerach)).SetMaxTokens(256).ExecX(ctx)
	reset := fakeopenrouter.FreeDailyReset(time.Now())
	cases := []struct {
		name      string
		step      fakeopenrouter.Step
		errType   string
		retryable bool
		delay     time.Duration // NextRetryDelay
		usage     int
	}{
		{"reasoning spent max_tokens", fakeopenrouter.Think(1000), activities.ErrOutOfTokens, false, 0, 1},
		{"length, no text", fakeopenrouter.Finish("length", ""), activities.ErrOutOfTokens, false, 0, 1},
		{"content filter", fakeopenrouter.Finish("content_filter", ""), activities.ErrReplyFiltered, false, 0, 1},
		{"blank stop", fakeopenrouter.Finish("stop", "\n \t"), activities.ErrEmptyReply, false, 0, 1},
		{"tool calls, no text", fakeopenrouter.Finish("tool_calls", ""), activities.ErrEmptyReply, false, 0, 1},
		{"finish_reason error", fakeopenrouter.Finish("error", ""), activities.ErrUnavailable, true, 0, 1},
		// The fixture asks for reasoning, so output tokens were billed: a
		// whole answer. e2e's TestEmptyCompletions has the warming-up
		// case with no output tokens, which is retried.
		{"reasoning only, no finish reason", fakeopenrouter.Finish("", ""), activities.ErrEmptyReply, false, 0, 1},
		{"error in the choice", fakeopenrouter.FailInChoice(502), activities.ErrUnavailable, true, 0, 0},
		{"429 in the body", fakeopenrouter.FailInBody(429), activities.ErrRateLimited, true, 0, 0},
		{"400 in the body", fakeopenrouter.FailInBody(400), activities.ErrBadRequest, false, 0, 0},
		{"429, short Retry-After", fakeopenrouter.FailWithRetryAfter(429, 30), activities.ErrRateLimited, true, 30 * time.Second, 0},
		{"429, Retry-After at the bound", fakeopenrouter.FailWithRetryAfter(429, 60), activities.ErrRateLimited, true, time.Minute, 0},
		{"429, Retry-After past the bound", fakeopenrouter.FailWithRetryAfter(429, 61), activities.ErrQuotaExhausted, false, 0, 0},
		{"free-models-per-day", fakeopenrouter.FreeModelsPerDay(50), activities.ErrQuotaExhausted, false, 0, 0},
		{"503, long Retry-After", fakeopenrouter.FailWithRetryAfter(503, 3600), activities.ErrUnavailableUntil, false, 0, 0},
		{"503, short Retry-After", fakeopenrouter.FailWithRetryAfter(503, 5), activities.ErrUnavailable, true, 5 * time.Second, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.db.UsageLog.Query().CountX(ctx)
			f.or.Script(userKey, tc.step)
			_, err := f.generate(t)
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != tc.errType {
				t.Fatalf("err = %v, want %s", err, tc.errType)
			}
			if appErr.NonRetryable() == tc.retryable {
				t.Errorf("non-retryable = %v, want %v", appErr.NonRetryable(), !tc.retryable)
			}
			if appErr.NextRetryDelay() != tc.delay {
				t.Errorf("next retry delay %s, want %s", appErr.NextRetryDelay(), tc.delay)
			}
			if n := f.db.UsageLog.Query().CountX(ctx) - before; n != tc.usage {
				t.Errorf("%d usage rows, want %d", n, tc.usage)
			}
			switch tc.errType {
			case activities.ErrOutOfTokens, activities.ErrReplyFiltered, activities.ErrEmptyReply:
				var d activities.EmptyReplyDetails
				if err := appErr.Details(&d); err != nil || d.Model != "deepseek/deepseek-r1" || d.MaxTokens != 256 {
					t.Errorf("details %+v (%v)", d, err)
				}
				if tc.name == "reasoning spent max_tokens" && (d.ReasoningTokens != 256 || d.CompletionTokens != 256 || d.FinishReason != "length") {
					t.Errorf("details %+v, want 256 reasoning tokens billed", d)
				}
			case activities.ErrQuotaExhausted:
				var d activities.WaitDetails
				if err := appErr.Details(&d); err != nil || d.Status != 429 || d.RetryAt.IsZero() {
					t.Errorf("details %+v (%v)", d, err)
				}
				if tc.name == "free-models-per-day" && (!d.RetryAt.Equal(reset) || d.Limit != "free-models-per-day" || d.LimitValue != 50) {
					t.Errorf("details %+v, want the daily cap resetting at %s", d, reset)
				}
			}
		})
	}
}
