package workflows

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
)

// streamVoiceRecorder records a voiced streamed GenerateReply's steps.
type streamVoiceRecorder struct {
	target    *activities.StreamTarget
	speaks    []activities.SpeakReplyInput
	rewrites  []string
	posts     []string
	discarded int
	dms       []string
	deact     []string
}

// runStreamedVoiceReply runs GenerateReply for a streaming personality that
// speaks every reply; the generate activity streams unless finished is
// false, and SpeakReply answers speakErr.
func runStreamedVoiceReply(t *testing.T, finished bool, speakErr error) (GenerateReplyResult, *streamVoiceRecorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	rec := &streamVoiceRecorder{}
	p := kerach
	p.Stream, p.Voice = true, &activities.VoiceRef{Frequency: 1}
	env.OnActivity(a.ResolvePersonality, mock.Anything, mock.Anything).Return(p, nil)
	env.OnActivity(a.GenerateWithinLimits, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.GenerateInput) (activities.GenerateOutput, error) {
			rec.target = in.Stream
			out := activities.GenerateOutput{Text: "brr", Model: "m", KeySource: activities.KeyFromUser}
			if finished && in.Stream != nil {
				out.DiscordMessageID = "700000000000000005"
			}
			return out, nil
		})
	env.OnActivity(a.SpeakReply, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SpeakReplyInput) (activities.SpeakReplyOutput, error) {
			rec.speaks = append(rec.speaks, in)
			if speakErr != nil {
				return activities.SpeakReplyOutput{}, speakErr
			}
			return activities.SpeakReplyOutput{DiscordMessageID: "700000000000000009", Spoken: true}, nil
		}).Maybe()
	env.OnActivity(a.RewriteStream, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RewriteStreamInput) (string, error) {
			if in.Target.DeliveryKey != "reply/800000000000000001/stream" {
				t.Errorf("RewriteStream input %+v", in)
			}
			rec.rewrites = append(rec.rewrites, in.Content)
			return "700000000000000005", nil
		}).Maybe()
	env.OnActivity(a.PostReply, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PostReplyInput) (string, error) {
			rec.posts = append(rec.posts, in.Content)
			return "700000000000000001", nil
		}).Maybe()
	env.OnActivity(a.DiscardStream, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.DiscardStreamInput) error { rec.discarded++; return nil }).Maybe()
	env.OnActivity(a.DeactivateKey, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeactivateKeyInput) (bool, error) {
			rec.deact = append(rec.deact, in.Provider)
			return true, nil
		}).Maybe()
	env.OnActivity(a.SaveTurns, mock.Anything, mock.Anything).Return(nil).Maybe()
	onSendDM(t, env, "reply/800000000000000001/voice-dm", replyIn.DiscordUserID, &rec.dms)
	return execute[GenerateReplyResult](t, env, GenerateReply, replyIn), rec
}

// A voiced reply of a streaming personality streams like any other, then
// SpeakReply attaches the audio to the streamed reply: nothing is posted,
// and the reply is the streamed message.
func TestVoicedReplyStreamsThenSpeaks(t *testing.T) {
	res, rec := runStreamedVoiceReply(t, true, nil)
	if rec.target == nil || rec.target.DeliveryKey != "reply/800000000000000001/stream" {
		t.Fatalf("stream target %+v, want the reply streamed", rec.target)
	}
	if len(rec.speaks) != 1 || rec.speaks[0].Streamed == nil || rec.speaks[0].Streamed.DeliveryKey != rec.target.DeliveryKey ||
		rec.speaks[0].Content != "brr" || rec.speaks[0].PersonalityID != kerach.ID || rec.speaks[0].DiscordUserID != replyIn.DiscordUserID {
		t.Fatalf("SpeakReply inputs %+v, want one for the streamed reply", rec.speaks)
	}
	if res.Outcome != ReplyReplied || res.DiscordMessageID != "700000000000000005" || len(rec.posts) != 0 || rec.discarded != 0 || len(rec.rewrites) != 0 {
		t.Errorf("result %+v, posts %q, discards %d, rewrites %q; want the streamed message alone", res, rec.posts, rec.discarded, rec.rewrites)
	}
}

// A voice failure after the text streamed keeps the text: a refusal adds
// its note under it, a rejected key is switched off with one DM, anything
// else changes nothing; none posts the reply again.
func TestStreamedVoiceFailureKeepsTheText(t *testing.T) {
	const note = "No voice this time: this personality's voice needs a paid ElevenLabs plan (paid_plan_required)."
	for _, c := range []struct {
		name     string
		err      error
		rewrites []string
		dm       string
	}{
		{"refused: the note under the streamed text", final(activities.ErrVoiceRefused, note), []string{"brr\n-# " + note}, ""},
		{"user's key rejected: switched off, one DM", final(activities.ErrInvalidKey, "elevenlabs: 401 invalid_api_key"), nil, "ElevenLabs rejected your API key"},
		{"out of characters: switched off, one DM", final(activities.ErrNoCredits, "elevenlabs: quota_exceeded"), nil, "no characters left"},
		{"audio paid, attach failed: text stays", final(activities.ErrVoicePostFailed, "discord 500"), nil, ""},
		{"operator's key refused: text stays", final(activities.ErrOperatorKeyFails, "refused"), nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, rec := runStreamedVoiceReply(t, true, c.err)
			if res.Outcome != ReplyReplied || res.DiscordMessageID != "700000000000000005" || len(rec.posts) != 0 || rec.discarded != 0 {
				t.Errorf("result %+v, posts %q, discards %d; want the streamed message kept", res, rec.posts, rec.discarded)
			}
			if strings.Join(rec.rewrites, "|") != strings.Join(c.rewrites, "|") {
				t.Errorf("rewrites %q, want %q", rec.rewrites, c.rewrites)
			}
			if c.dm == "" && (len(rec.dms) != 0 || len(rec.deact) != 0) || c.dm != "" && (len(rec.dms) != 1 || !strings.Contains(rec.dms[0], c.dm) || len(rec.deact) != 1) {
				t.Errorf("DMs %q, deactivations %v; want a DM containing %q", rec.dms, rec.deact, c.dm)
			}
		})
	}
}

// A voiced stream that could not be finished is discarded, and the reply is
// spoken and posted whole, as for a personality that does not stream.
func TestUnfinishedVoicedStreamIsPostedWholeWithItsVoice(t *testing.T) {
	res, rec := runStreamedVoiceReply(t, false, nil)
	if rec.discarded != 1 || len(rec.speaks) != 1 || rec.speaks[0].Streamed != nil || rec.speaks[0].DeliveryKey != "reply/800000000000000001/reply" {
		t.Fatalf("discards %d, SpeakReply inputs %+v; want the stream discarded and the reply spoken whole", rec.discarded, rec.speaks)
	}
	if res.DiscordMessageID != "700000000000000009" {
		t.Errorf("result %+v, want the voiced post", res)
	}
}
