package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// runRememberingReply runs GenerateReply with Generate saying whether to
// remember, Remember answering with rememberErr, and returns the order in
// which things happened ("post", "save", "child <id>", "remember").
func runRememberingReply(t *testing.T, remember bool, rememberErr error) (GenerateReplyResult, []string, []activities.RememberInput) {
	t.Helper()
	return runRememberingReplyTo(t, replyIn, remember, rememberErr)
}

// runRememberingReplyTo is runRememberingReply for the message in.
func runRememberingReplyTo(t *testing.T, in GenerateReplyInput, remember bool, rememberErr error) (GenerateReplyResult, []string, []activities.RememberInput) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(RememberExchange, workflow.RegisterOptions{Name: RememberExchangeName})
	var steps []string
	var remembered []activities.RememberInput
	env.OnActivity(a.ResolvePersonality, mock.Anything, mock.Anything).Return(kerach, nil)
	env.OnActivity(a.GenerateWithinLimits, mock.Anything, mock.Anything).Return(
		activities.GenerateOutput{Text: "brr", Model: "m", KeySource: activities.KeyFromUser, Remember: remember}, nil)
	env.OnActivity(a.PostReply, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.PostReplyInput) (string, error) {
			steps = append(steps, "post")
			return "700000000000000001", nil
		})
	env.OnActivity(a.SaveTurns, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.SaveTurnsInput) error { steps = append(steps, "save"); return nil })
	env.OnActivity(a.Remember, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RememberInput) (activities.RememberOutput, error) {
			steps = append(steps, "remember")
			remembered = append(remembered, in)
			return activities.RememberOutput{Outcome: activities.Remembered}, rememberErr
		}).Maybe()
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
		steps = append(steps, "child "+info.WorkflowExecution.ID)
	})
	return execute[GenerateReplyResult](t, env, GenerateReply, in), steps, remembered
}

// A message that is only an image is remembered as the history keeps it,
// by its image's name (Remember refuses an empty user side); a bare
// forward, with no text at all, starts no memory workflow that would fail.
func TestGenerateReplyRemembersAnImageAlone(t *testing.T) {
	in := replyIn
	in.Content, in.Attachments = "", []Attachment{{ID: "1", Filename: "red.png", ContentType: "image/png", Size: 73}}
	_, _, remembered := runRememberingReplyTo(t, in, true, nil)
	if len(remembered) != 1 || remembered[0].UserContent != "[image(s) attached: red.png]" {
		t.Errorf("remembered %+v, want the image's turn", remembered)
	}
	in.Content, in.Attachments, in.References = "", nil, &References{Forward: true}
	_, steps, remembered := runRememberingReplyTo(t, in, true, nil)
	if len(remembered) != 0 || len(steps) != 2 {
		t.Errorf("a bare forward: steps %q, remembered %+v", steps, remembered)
	}
}

// A reply Generate says to remember is posted and saved first; then the
// memory is written by RememberExchange, id reply/<request_id>/memory, with
// the exchange as input.
func TestGenerateReplyRemembersTheExchangeAfterThePost(t *testing.T) {
	res, steps, remembered := runRememberingReply(t, true, nil)
	if res.Outcome != ReplyReplied {
		t.Fatalf("outcome %s", res.Outcome)
	}
	want := []string{"post", "save", "child reply/800000000000000001/memory", "remember"}
	if len(steps) != len(want) {
		t.Fatalf("steps %q, want %q", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("steps %q, want %q", steps, want)
		}
	}
	in := remembered[0]
	if in.RequestID != replyIn.RequestID || in.DiscordUserID != replyIn.DiscordUserID || in.Username != "alice" ||
		in.PersonalityID != kerach.ID || in.UserContent != "hello" || in.ReplyContent != "brr" {
		t.Errorf("Remember input %+v", in)
	}
}

// Without Generate's word (memory off, no key for the embedding, the user
// incognito) no memory workflow starts.
func TestGenerateReplyRemembersNothingUnlessGenerateSaysSo(t *testing.T) {
	_, steps, remembered := runRememberingReply(t, false, nil)
	if len(remembered) != 0 || len(steps) != 2 {
		t.Fatalf("steps %q, remembered %+v", steps, remembered)
	}
}

// A memory that cannot be written is never the reply's failure.
func TestGenerateReplyRepliesWhenTheMemoryFails(t *testing.T) {
	res, _, remembered := runRememberingReply(t, true, temporal.NewNonRetryableApplicationError("401", activities.ErrInvalidKey, nil))
	if res.Outcome != ReplyReplied || res.DiscordMessageID != "700000000000000001" || len(remembered) != 1 {
		t.Fatalf("result %+v, remembered %d times", res, len(remembered))
	}
}

// RememberExchange retries an embeddings outage in the background until it
// passes, and writes the usage row Remember could not.
func TestRememberExchangeRetriesUntilTheEndpointRecovers(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	attempts, recorded := 0, 0
	pending := &activities.UsageRecord{DiscordUserID: replyIn.DiscordUserID, Model: "e", Kind: activities.UsageEmbedding}
	env.OnActivity(a.Remember, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.RememberInput) (activities.RememberOutput, error) {
			if attempts++; attempts <= 3 {
				return activities.RememberOutput{}, temporal.NewApplicationError("500", activities.ErrUnavailable)
			}
			return activities.RememberOutput{Outcome: activities.Remembered, PendingUsage: pending}, nil
		})
	env.OnActivity(a.RecordUsage, mock.Anything, *pending).Return(
		func(context.Context, activities.UsageRecord) error { recorded++; return nil })
	out := execute[activities.RememberOutput](t, env, RememberExchange, activities.RememberInput{RequestID: "1"})
	if out.Outcome != activities.Remembered || attempts != 4 || recorded != 1 {
		t.Fatalf("outcome %q after %d attempts, %d usage rows recorded", out.Outcome, attempts, recorded)
	}
}

// A refused key is final: the memory is not retried for a day.
func TestRememberExchangeStopsOnARefusedKey(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	attempts := 0
	env.OnActivity(a.Remember, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.RememberInput) (activities.RememberOutput, error) {
			attempts++
			return activities.RememberOutput{}, temporal.NewApplicationError("402", activities.ErrNoCredits)
		})
	env.ExecuteWorkflow(RememberExchange, activities.RememberInput{RequestID: "1"})
	if env.GetWorkflowError() == nil || attempts != 1 {
		t.Fatalf("error %v after %d attempts, want a failure after one", env.GetWorkflowError(), attempts)
	}
}

// TestRememberExchangeReplaysOldHistories replays RememberExchange as e2e's
// TestRecordLongTermMemoryHistory recorded it (a retried attempt included),
// so a change that breaks runs in flight fails here. GenerateReply's
// history of the same run, with the long-term-memory marker and the child,
// replays in TestGenerateReplyReplaysOldHistories.
func TestRememberExchangeReplaysOldHistories(t *testing.T) {
	replayRecorded(t, "remember_exchange_*.json", RememberExchange, RememberExchangeName)
}
