//go:build integration

package activities_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/internal/config"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
)

// streamed posts text as Kerach's streamed reply under reply/r1/stream, as
// the generate activity would, and returns its target.
func (f *fixture) streamed(t *testing.T, text string) activities.StreamTarget {
	t.Helper()
	to := activities.StreamTarget{DeliveryKey: "reply/r1/stream", ChannelID: channelID, Username: "Kerach", PersonalityID: &f.kerach}
	if _, err := activities.NewStreamWriter(f.acts, to, activities.Progress{}).Finish(context.Background(), text); err != nil {
		t.Fatal(err)
	}
	return to
}

// speakStreamed runs SpeakReply for the streamed reply to.
func (f *fixture) speakStreamed(to activities.StreamTarget, text string) (activities.SpeakReplyOutput, error) {
	v, err := f.env.ExecuteActivity(f.acts.SpeakReply, activities.SpeakReplyInput{
		PostReplyInput: activities.PostReplyInput{DeliveryKey: to.DeliveryKey, ChannelID: to.ChannelID, Username: to.Username, Content: text},
		DiscordUserID:  aliceID, PersonalityID: f.kerach, Streamed: &to,
	})
	if err != nil {
		return activities.SpeakReplyOutput{}, err
	}
	var out activities.SpeakReplyOutput
	return out, v.Get(&out)
}

// The voice of a streamed reply is attached to its first message, whose text
// stays as streamed, through the webhook that posted it or, where there is
// none, as the bot; a second run finds the audio there and pays nothing.
func TestSpeakStreamedAttachesTheVoiceOnce(t *testing.T) {
	for _, bot := range []bool{false, true} {
		t.Run(map[bool]string{false: "webhook message", true: "bot message"}[bot], func(t *testing.T) {
			f := newFixture(t, config.GuestOff, "m")
			el := f.withVoice(t)
			f.storeVoiceKey(t, voiceKey, true)
			if bot {
				f.discord.DenyWebhooks(channelID)
			}
			text := "Brr. " + strings.Repeat("The static between the stars is cold. ", 60) // two messages
			to := f.streamed(t, text)
			before := f.discord.Messages(channelID)
			out, err := f.speakStreamed(to, text)
			if err != nil {
				t.Fatal(err)
			}
			msgs := f.discord.Messages(channelID)
			if len(msgs) != 2 || (msgs[0].WebhookID == "") != bot || out.DiscordMessageID != msgs[0].ID || !out.Spoken {
				t.Fatalf("output %+v, messages %+v: want the two streamed messages, the first the reply", out, msgs)
			}
			for i := range msgs {
				if msgs[i].Content != before[i].Content {
					t.Errorf("message %d changed from %q to %q", i, before[i].Content, msgs[i].Content)
				}
			}
			spoken := activities.SpeakableText(text, activities.MaxSpokenCharacters)
			if len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].Filename != "cold-kerach.mp3" ||
				!bytes.Equal(msgs[0].Attachments[0].Data, fakeelevenlabs.MP3(spoken)) || len(msgs[1].Attachments) != 0 {
				t.Errorf("attachments %+v / %+v, want the MP3 on the first message alone", msgs[0].Attachments, msgs[1].Attachments)
			}
			if again, err := f.speakStreamed(to, text); err != nil || again.DiscordMessageID != out.DiscordMessageID || len(el.TTSCalls()) != 1 ||
				len(f.discord.Messages(channelID)[0].Attachments) != 1 {
				t.Errorf("second run: %+v, %v; %d TTS calls, want the audio found and not paid again", again, err, len(el.TTSCalls()))
			}
			if n := f.db.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeVoice)).CountX(context.Background()); n != 1 {
				t.Errorf("%d voice usage rows, want 1", n)
			}
		})
	}
}

// Without a key that may pay, the streamed reply stays as it is, unspoken,
// with no ElevenLabs call.
func TestSpeakStreamedWithoutAKeyLeavesTheText(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	el := f.withVoice(t)
	to := f.streamed(t, "Brr. It is cold.")
	out, err := f.speakStreamed(to, "Brr. It is cold.")
	msgs := f.discord.Messages(channelID)
	if err != nil || out.Spoken || out.DiscordMessageID != msgs[0].ID || len(msgs[0].Attachments) != 0 || len(el.TTSCalls()) != 0 {
		t.Errorf("output %+v, %v; attachments %+v; %d TTS calls", out, err, msgs[0].Attachments, len(el.TTSCalls()))
	}
}

// RewriteStream changes only what differs: the note added under a streamed
// reply edits its last message and leaves the first, with its history, be.
func TestRewriteStreamEditsOnlyTheChangedPart(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	text := strings.Repeat("The static between the stars is cold. ", 60)
	to := f.streamed(t, text)
	before := f.discord.Messages(channelID)
	v, err := f.env.ExecuteActivity(f.acts.RewriteStream, activities.RewriteStreamInput{Target: to, Content: text + "\n-# No voice this time."})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := v.Get(&id); err != nil {
		t.Fatal(err)
	}
	msgs := f.discord.Messages(channelID)
	if len(msgs) != 2 || id != msgs[0].ID || len(msgs[0].History) != len(before[0].History) ||
		!strings.HasSuffix(msgs[1].Content, "\n-# No voice this time.") || !strings.HasPrefix(msgs[1].Content, strings.TrimSpace(before[1].Content)) {
		t.Errorf("messages %+v, want the first untouched and the note under the second", msgs)
	}
}

// An attach whose answer is lost (Discord made the edit, the connection
// dropped) is read back and counts as done; one that never reached Discord
// is ErrVoicePostFailed, not retried (a retry would pay again), with its
// one usage row written.
func TestSpeakStreamedAttachFailures(t *testing.T) {
	const route = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
	// voicedStream is a fixture with Kerach's voice, alice's key and a
	// streamed reply.
	voicedStream := func(t *testing.T) (*fixture, *fakeelevenlabs.Server, activities.StreamTarget) {
		f := newFixture(t, config.GuestOff, "m")
		el := f.withVoice(t)
		f.storeVoiceKey(t, voiceKey, true)
		return f, el, f.streamed(t, "Brr. It is cold.")
	}
	t.Run("answer lost", func(t *testing.T) {
		f, el, to := voicedStream(t)
		f.discord.DropNextAfterHandling(route)
		out, err := f.speakStreamed(to, "Brr. It is cold.")
		if err != nil || !out.Spoken || len(f.discord.Messages(channelID)[0].Attachments) != 1 || len(el.TTSCalls()) != 1 {
			t.Errorf("output %+v, %v; %d TTS calls; want the attach found done", out, err, len(el.TTSCalls()))
		}
	})
	t.Run("lost before Discord saw it", func(t *testing.T) {
		f, el, to := voicedStream(t)
		f.discord.DropNext(route)
		_, err := f.speakStreamed(to, "Brr. It is cold.")
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != activities.ErrVoicePostFailed || !appErr.NonRetryable() {
			t.Fatalf("error %v, want a non-retryable %s", err, activities.ErrVoicePostFailed)
		}
		msgs := f.discord.Messages(channelID)
		if len(msgs[0].Attachments) != 0 || msgs[0].Content != "Brr. It is cold." || len(el.TTSCalls()) != 1 {
			t.Errorf("message %q with %d attachments, %d TTS calls", msgs[0].Content, len(msgs[0].Attachments), len(el.TTSCalls()))
		}
		if n := f.db.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeVoice)).CountX(context.Background()); n != 1 {
			t.Errorf("%d voice usage rows, want the paid audio's 1", n)
		}
	})
}

// A part of the streamed reply deleted since is posted again, and the parts
// after it with it, so the reply still reads in order, the note under the
// last part, never one part's text in another part's message.
func TestRewriteStreamAfterAPartWasDeleted(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	text := strings.Repeat("The static between the stars is cold. ", 60)
	to := f.streamed(t, text)
	before := f.discord.Messages(channelID)
	if err := f.acts.Discord.ChannelMessageDelete(channelID, before[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.ExecuteActivity(f.acts.RewriteStream, activities.RewriteStreamInput{Target: to, Content: text + "\n-# No voice."}); err != nil {
		t.Fatal(err)
	}
	var live []string // in the order they were posted
	for _, m := range f.discord.Messages(channelID) {
		if !m.Deleted {
			live = append(live, m.Content)
		}
	}
	if len(live) != 2 || live[0] != before[0].Content ||
		!strings.HasPrefix(live[1], before[1].Content) || !strings.HasSuffix(live[1], "\n-# No voice.") {
		t.Errorf("live messages %q: want the parts posted again in order, the note under the last", live)
	}
}
