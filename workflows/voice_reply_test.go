package workflows

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
)

type voiceRecorder struct {
	speaks, posts []string
	dms           []string
	deactivated   []string
}

// runVoiceReply runs GenerateReply for a personality with a voice of the
// given frequency, SpeakReply answering speakErr.
func runVoiceReply(t *testing.T, frequency float64, speakErr error, deactivateErr ...error) (GenerateReplyResult, *voiceRecorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	rec := &voiceRecorder{}
	voiced := kerach
	voiced.Voice = &activities.VoiceRef{Frequency: frequency}
	env.OnActivity(a.ResolvePersonality, mock.Anything,
		activities.ResolvePersonalityInput{Ref: "Kerach", DiscordUserID: "111111111111111111"}).Return(voiced, nil)
	env.OnActivity(a.GenerateWithinLimits, mock.Anything, mock.Anything).Return(
		activities.GenerateOutput{Text: "brr", Model: "m", KeySource: activities.KeyFromUser}, nil)
	env.OnActivity(a.SpeakReply, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SpeakReplyInput) (activities.SpeakReplyOutput, error) {
			if in.DeliveryKey != "reply/800000000000000001/reply" || in.PersonalityID != kerach.ID || in.DiscordUserID != replyIn.DiscordUserID {
				t.Errorf("SpeakReply input %+v", in)
			}
			rec.speaks = append(rec.speaks, in.Content)
			if speakErr != nil {
				return activities.SpeakReplyOutput{}, speakErr
			}
			return activities.SpeakReplyOutput{DiscordMessageID: "700000000000000009", Characters: 3}, nil
		}).Maybe()
	env.OnActivity(a.PostReply, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PostReplyInput) (string, error) {
			if in.DeliveryKey != "reply/800000000000000001/reply" || in.MayExist != (speakErr != nil) {
				t.Errorf("PostReply input %+v: a text post after a failed voice must look for the voiced one first", in)
			}
			rec.posts = append(rec.posts, in.Content)
			return "700000000000000001", nil
		}).Maybe()
	env.OnActivity(a.SaveTurns, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(a.DeactivateKey, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeactivateKeyInput) (bool, error) {
			if len(rec.posts) == 0 {
				t.Error("the key was switched off before the text was posted")
			}
			rec.deactivated = append(rec.deactivated, in.Provider)
			if len(deactivateErr) > 0 {
				return false, deactivateErr[0]
			}
			return true, nil
		}).Maybe()
	onSendDM(t, env, "reply/800000000000000001/voice-dm", "", &rec.dms)
	return execute[GenerateReplyResult](t, env, GenerateReply, replyIn), rec
}

func TestVoiceReplyBranches(t *testing.T) {
	cases := []struct {
		name      string
		frequency float64
		speakErr  error
		wantID    string
		speaks    int
		posts     int // text-only posts
		dm        string
		deact     []string
	}{
		{"frequency 1: spoken, the voiced message is the reply", 1, nil, "700000000000000009", 1, 0, "", nil},
		{"frequency 0: text only, no voice call", 0, nil, "700000000000000001", 0, 1, "", nil},
		{"user's ElevenLabs key rejected: switched off, one DM, text still posted", 1,
			final(activities.ErrInvalidKey, "elevenlabs: 401 invalid_api_key: Invalid API key"), "700000000000000001", 1, 1, "ElevenLabs rejected your API key", []string{"elevenlabs"}},
		{"quota exceeded: switched off, DM about characters, text posted", 1,
			final(activities.ErrNoCredits, "elevenlabs: 401 quota_exceeded: over"), "700000000000000001", 1, 1, "no characters left", []string{"elevenlabs"}},
		{"no key may pay: text only, nobody told", 1, final(activities.ErrNoKey, "no ElevenLabs key"), "700000000000000001", 1, 1, "", nil},
		{"operator's key refused: text only, no user key touched", 1, final(activities.ErrOperatorKeyFails, "refused"), "700000000000000001", 1, 1, "", nil},
		{"ElevenLabs down through every retry: text only", 1, temporal.NewApplicationError("503", activities.ErrUnavailable), "700000000000000001", 3, 1, "", nil},
		{"voice_not_found: not retried, text only", 1, final(activities.ErrBadRequest, "voice_not_found"), "700000000000000001", 1, 1, "", nil},
		{"audio made but the post failed: not paid again, text only", 1, final(activities.ErrVoicePostFailed, "discord 500"), "700000000000000001", 1, 1, "", nil},
		{"account blocked (detected_unusual_activity): the key stays on, the text goes with the note", 1,
			final(activities.ErrVoiceRefused, "No voice this time: ElevenLabs has paused free-tier use"), "700000000000000001", 1, 1, "", nil},
		{"plan restricted (paid_plan_required): the key stays on, the text goes with the note", 1,
			final(activities.ErrVoiceRefused, "No voice this time: this personality's voice needs a paid ElevenLabs plan"), "700000000000000001", 1, 1, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, rec := runVoiceReply(t, c.frequency, c.speakErr)
			if res.Outcome != ReplyReplied || res.DiscordMessageID != c.wantID {
				t.Errorf("result = %+v, want replied with %s", res, c.wantID)
			}
			if len(rec.speaks) != c.speaks || len(rec.posts) != c.posts {
				t.Errorf("speak calls = %d, text posts = %d; want %d, %d", len(rec.speaks), len(rec.posts), c.speaks, c.posts)
			}
			want := "brr"
			if errorType(c.speakErr) == activities.ErrVoiceRefused {
				// The refusal's own message, as a subtext line under the reply.
				want = "brr\n-# " + appMessage(c.speakErr)
			}
			for _, p := range rec.posts {
				if p != want {
					t.Errorf("text post %q, want %q", p, want)
				}
			}
			if fmt.Sprint(rec.deactivated) != fmt.Sprint(c.deact) {
				t.Errorf("deactivated = %v, want %v", rec.deactivated, c.deact)
			}
			switch {
			case c.dm == "" && len(rec.dms) != 0:
				t.Errorf("unexpected DM %q", rec.dms)
			case c.dm != "" && (len(rec.dms) != 1 || !strings.Contains(rec.dms[0], c.dm)):
				t.Errorf("DMs = %q, want one containing %q", rec.dms, c.dm)
			}
		})
	}
}

// The database failing while the rejected key is switched off costs
// nothing the user sees: the text is already posted.
func TestVoiceKeyBookkeepingFailureKeepsTheReply(t *testing.T) {
	res, rec := runVoiceReply(t, 1, final(activities.ErrInvalidKey, "401"), final(activities.ErrBadInput, "database gone"))
	if res.Outcome != ReplyReplied || len(rec.posts) != 1 || len(rec.deactivated) != 1 {
		t.Fatalf("result %+v, posts %d, deactivations tried %d", res, len(rec.posts), len(rec.deactivated))
	}
}

func TestSpeaksIsDeterministicAndFollowsFrequency(t *testing.T) {
	const n = 20000
	for _, f := range []float64{0, 0.1, 0.5, 0.9, 1} {
		spoken := 0
		for i := range n {
			id := fmt.Sprintf("13%016d", i)
			s := activities.Speaks(id, f)
			if s != activities.Speaks(id, f) {
				t.Fatalf("Speaks(%s, %v) changed between calls", id, f)
			}
			if s {
				spoken++
			}
		}
		share := float64(spoken) / n
		if share < f-0.02 || share > f+0.02 {
			t.Errorf("frequency %v: %.3f of replies spoken", f, share)
		}
		if (f == 0 && spoken != 0) || (f == 1 && spoken != n) {
			t.Errorf("frequency %v must be exact at the ends: %d of %d", f, spoken, n)
		}
	}
}
