package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
)

// streamRecorder records a streamed GenerateReply's steps.
type streamRecorder struct {
	target    *activities.StreamTarget
	posts     []string
	discarded int
	saved     []activities.SaveTurnsInput
}

// runStreamedReply runs GenerateReply for a streaming personality whose
// generate activity returns out or err.
func runStreamedReply(t *testing.T, out activities.GenerateOutput, err error) (GenerateReplyResult, *streamRecorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	rec := &streamRecorder{}
	streaming := kerach
	streaming.Stream = true
	env.OnActivity(a.ResolvePersonality, mock.Anything, mock.Anything).Return(streaming, nil)
	env.OnActivity(a.GenerateWithinLimits, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.GenerateInput) (activities.GenerateOutput, error) {
			rec.target = in.Stream
			return out, err
		})
	env.OnActivity(a.PostReply, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PostReplyInput) (string, error) {
			rec.posts = append(rec.posts, in.Content)
			return "700000000000000009", nil
		}).Maybe()
	env.OnActivity(a.DiscardStream, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DiscardStreamInput) error {
			if in.Target.DeliveryKey != "reply/800000000000000001/stream" {
				t.Errorf("DiscardStream input %+v", in)
			}
			rec.discarded++
			return nil
		}).Maybe()
	onSaveTurns(env, &rec.saved)
	onDeactivateKey(env, replyIn.DiscordUserID, new(int))
	onSendDM(t, env, "reply/800000000000000001/dm", replyIn.DiscordUserID, new([]string))
	return execute[GenerateReplyResult](t, env, GenerateReply, replyIn), rec
}

// A streamed reply is posted by the generate activity: the workflow asks it
// to stream under its own delivery key, posts nothing more, and keeps the
// streamed message's id in the history.
func TestStreamedReplyIsNotPostedAgain(t *testing.T) {
	res, rec := runStreamedReply(t, activities.GenerateOutput{Text: "brr", Model: "m", KeySource: activities.KeyFromUser,
		DiscordMessageID: "700000000000000005"}, nil)
	if rec.target == nil || rec.target.DeliveryKey != "reply/800000000000000001/stream" || rec.target.Username != "Kerach" ||
		rec.target.ChannelID != replyIn.ChannelID {
		t.Fatalf("stream target %+v", rec.target)
	}
	if res.Outcome != ReplyReplied || res.DiscordMessageID != "700000000000000005" || len(rec.posts) != 0 || rec.discarded != 0 {
		t.Errorf("result %+v, posts %q, discards %d; want the streamed message and nothing posted", res, rec.posts, rec.discarded)
	}
	if len(rec.saved) != 1 || rec.saved[0].ReplyMessageID != "700000000000000005" || rec.saved[0].ReplyContent != "brr" {
		t.Errorf("saved %+v", rec.saved)
	}
}

// A reply whose streamed messages could not be finished, and a reply that
// failed, leave no half message: the workflow discards the stream before it
// posts the reply whole, or the notice.
func TestStreamedReplyWithoutItsMessagesIsDiscarded(t *testing.T) {
	res, rec := runStreamedReply(t, activities.GenerateOutput{Text: "brr", Model: "m", KeySource: activities.KeyFromUser}, nil)
	if res.Outcome != ReplyReplied || rec.discarded != 1 || len(rec.posts) != 1 || rec.posts[0] != "brr" {
		t.Errorf("unfinished stream: result %+v, discards %d, posts %q", res, rec.discarded, rec.posts)
	}
	res, rec = runStreamedReply(t, activities.GenerateOutput{}, final(activities.ErrInvalidKey, "401"))
	if res.Outcome != ReplyKeyRejected || rec.discarded != 1 || len(rec.posts) != 1 || rec.posts[0] != kerach.ErrorMessage {
		t.Errorf("rejected key: result %+v, discards %d, posts %q", res, rec.discarded, rec.posts)
	}
}
