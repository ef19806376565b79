package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/metrics"
)

var replyIn = GenerateReplyInput{
	RequestID: "800000000000000001", DiscordUserID: "111111111111111111", Username: "alice",
	Personality: "Kerach", ChannelID: "900000000000000001", MessageID: "800000000000000001", Content: "hello",
	Mentions: &MentionNames{Users: map[string]string{"222222222222222222": "bob"}},
}

var kerach = activities.PersonalityRef{ID: uuid.MustParse("10000000-0000-0000-0000-000000000001"),
	Name: "cold-kerach", DisplayName: "Kerach", ErrorMessage: "*static crackles*"}

// replyRecorder mocks every activity and records what the workflow did.
type replyRecorder struct {
	generateCalls int
	posts         []string
	dms           []string
	deactivated   int
	saved         []activities.SaveTurnsInput
}

func runReply(t *testing.T, genErr error, resolveErr error) (GenerateReplyResult, *replyRecorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	rec := &replyRecorder{}
	env.OnActivity(a.ResolvePersonality, mock.Anything,
		activities.ResolvePersonalityInput{Ref: "Kerach", DiscordUserID: "111111111111111111"}).Return(kerach, resolveErr)
	generate := func(_ context.Context, in activities.GenerateInput) (activities.GenerateOutput, error) {
		rec.generateCalls++
		if in.PersonalityID != kerach.ID || in.Content != "hello" || in.Now.IsZero() ||
			in.Mentions == nil || in.Mentions.Users["222222222222222222"] != "bob" {
			t.Errorf("Generate input %+v", in)
		}
		if genErr != nil {
			return activities.GenerateOutput{}, genErr
		}
		return activities.GenerateOutput{Text: "brr", Reasoning: "thinking", Model: "m", KeySource: activities.KeyFromUser}, nil
	}
	env.OnActivity(a.GenerateWithinLimits, mock.Anything, mock.Anything).Return(generate).Maybe()
	env.OnActivity(a.Generate, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.GenerateInput) (activities.GenerateOutput, error) {
			t.Error("new runs must go through GenerateWithinLimits")
			return activities.GenerateOutput{}, nil
		}).Maybe()
	env.OnActivity(a.PostReply, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PostReplyInput) (string, error) {
			if in.DeliveryKey != "reply/800000000000000001/reply" || in.Username != "Kerach" {
				t.Errorf("PostReply input %+v", in)
			}
			rec.posts = append(rec.posts, in.Content)
			return "700000000000000001", nil
		}).Maybe()
	onSaveTurns(env, &rec.saved)
	onDeactivateKey(env, replyIn.DiscordUserID, &rec.deactivated)
	onSendDM(t, env, "reply/800000000000000001/dm", replyIn.DiscordUserID, &rec.dms)
	return execute[GenerateReplyResult](t, env, GenerateReply, replyIn), rec
}

func final(typ, msg string) error { return temporal.NewNonRetryableApplicationError(msg, typ, nil) }

func TestGenerateReplyBranches(t *testing.T) {
	cases := []struct {
		name        string
		genErr      error
		wantOutcome string
		wantCalls   int
		wantPost    string // substring of the one channel post
		wantDM      string // substring of the one DM, "" for none
		wantDeact   int
		wantSaved   int
	}{
		{"reply posted and both turns saved", nil, ReplyReplied, 1, "brr", "", 0, 1},
		{"confirmed 401 deactivates, DMs once, answers with the error message",
			final(activities.ErrInvalidKey, "401"), ReplyKeyRejected, 1, "*static crackles*", "rejected your API key", 1, 0},
		{"402 deactivates and DMs about credits",
			final(activities.ErrNoCredits, "402"), ReplyKeyRejected, 1, "*static crackles*", "out of credits", 1, 0},
		{"inactive key: no provider call retried, told how to fix it, no DM",
			final(activities.ErrKeyInactive, "your OpenRouter key was switched off: run /wallet test"), ReplyKeyRejected, 1, "/wallet test", "", 0, 0},
		{"no key and guests not allowed",
			final(activities.ErrNoKey, "you need your own OpenRouter key: run /wallet set"), ReplyNoKey, 1, "/wallet set", "", 0, 0},
		{"transient failures retried, then the error message",
			temporal.NewApplicationError("503", activities.ErrUnavailable), ReplyFailed, 5, "*static crackles*", "", 0, 0},
		{"rate limited after retries",
			temporal.NewApplicationError("429", activities.ErrRateLimited), ReplyRateLimited, 5, "*static crackles*", "", 0, 0},
		{"guest over the shared allowance: told when to come back, no retry",
			temporal.NewNonRetryableApplicationError("used up", activities.ErrLimitReached, nil,
				activities.LimitDetails{Kind: "text", Limit: 50000, RetryAt: time.Unix(1767225600, 0)}),
			ReplyRateLimited, 1, "<@111111111111111111> you have used today's shared allowance; try again <t:1767225600:R> or add your own key with /wallet set", "", 0, 0},
		{"daily quota: told when it comes back at once, no retry",
			final(activities.ErrQuotaExhausted, "your OpenRouter account has used all 50 free-model requests for today; they come back <t:1767225600:R>"),
			ReplyRateLimited, 1, "<@111111111111111111> your OpenRouter account has used all 50 free-model requests for today; they come back <t:1767225600:R>", "", 0, 0},
		{"provider asks for a long wait: told at once, no retry",
			final(activities.ErrUnavailableUntil, "asks to wait until <t:1767225600:R>"), ReplyFailed, 1, "<@111111111111111111> asks to wait until", "", 0, 0},
		{"reasoning spent max_tokens: said plainly, no retry",
			final(activities.ErrOutOfTokens, "I couldn't answer: m used its whole max_tokens budget (256) on reasoning"), ReplyFailed, 1,
			"<@111111111111111111> I couldn't answer: m used its whole max_tokens budget (256)", "", 0, 0},
		{"filtered answer: said plainly, no retry",
			final(activities.ErrReplyFiltered, "content filter"), ReplyFailed, 1, "<@111111111111111111> content filter", "", 0, 0},
		{"blank answer: said plainly, no retry",
			final(activities.ErrEmptyReply, "without writing any text"), ReplyFailed, 1, "<@111111111111111111> without writing any text", "", 0, 0},
		{"moderation is final and not retried",
			final(activities.ErrModeration, "403"), ReplyFailed, 1, "*static crackles*", "", 0, 0},
		{"the operator's key failing never deactivates the user's",
			final(activities.ErrOperatorKeyFails, "operator"), ReplyFailed, 1, "*static crackles*", "", 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, rec := runReply(t, tc.genErr, nil)
			if res.Outcome != tc.wantOutcome {
				t.Errorf("outcome %q, want %q", res.Outcome, tc.wantOutcome)
			}
			if rec.generateCalls != tc.wantCalls {
				t.Errorf("Generate ran %d times, want %d", rec.generateCalls, tc.wantCalls)
			}
			if len(rec.posts) != 1 || !strings.Contains(rec.posts[0], tc.wantPost) {
				t.Errorf("channel posts %q, want one containing %q", rec.posts, tc.wantPost)
			}
			if res.DiscordMessageID != "700000000000000001" {
				t.Errorf("discord_message_id %q", res.DiscordMessageID)
			}
			if tc.wantDM == "" && len(rec.dms) != 0 || tc.wantDM != "" && (len(rec.dms) != 1 || !strings.Contains(rec.dms[0], tc.wantDM)) {
				t.Errorf("DMs %q, want one containing %q", rec.dms, tc.wantDM)
			}
			if rec.deactivated != tc.wantDeact || len(rec.saved) != tc.wantSaved {
				t.Errorf("deactivated %d saved %d, want %d and %d", rec.deactivated, len(rec.saved), tc.wantDeact, tc.wantSaved)
			}
		})
	}
}

func TestGenerateReplySavesReasoningApart(t *testing.T) {
	_, rec := runReply(t, nil, nil)
	s := rec.saved[0]
	if s.ReplyContent != "brr" || s.ReplyReasoning != "thinking" || s.UserMessageID != replyIn.MessageID || s.ReplyMessageID != "700000000000000001" {
		t.Fatalf("saved %+v", s)
	}
}

func TestGenerateReplyUnknownPersonalityPostsNothing(t *testing.T) {
	res, rec := runReply(t, nil, final(activities.ErrNotFound, "no personality is called Kerach"))
	if res.Outcome != ReplyFailed || len(rec.posts) != 0 || rec.generateCalls != 0 {
		t.Fatalf("outcome %s posts %v generate %d", res.Outcome, rec.posts, rec.generateCalls)
	}
}

// TestGenerateReplyReplaysOldHistories replays histories recorded on a dev
// server by the workflow as it was before the guest-token-limit version
// (e2e's TestRecordGenerateReplyHistory), so a change that breaks runs
// already in flight fails here rather than in production.
func TestGenerateReplyReplaysOldHistories(t *testing.T) {
	before := metrics.Sum("tzurot_replies_total", nil)
	replayRecorded(t, "generate_reply_*.json", GenerateReply, GenerateReplyName)
	// A replay (a retried workflow task's, a new worker's) counts no reply
	// again: the count is CountReply's recorded result, not re-run.
	if n := metrics.Sum("tzurot_replies_total", nil) - before; n != 0 {
		t.Errorf("replaying finished replies counted %v more", n)
	}
}
