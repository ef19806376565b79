//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/internal/config"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

const userVoiceKey = "sk_0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d"

// A worker SIGKILLed while ElevenLabs speaks: the retried SpeakReply on a new
// worker posts the reply once, with its audio, and the text is never lost.
func TestWorkerKilledMidSpeech(t *testing.T) {
	bin := buildTzurot(t)
	s := userKeyStack(t, itest.Options{NoWorker: true, GuestMode: config.GuestOff}, "openrouter/free")
	ctx := context.Background()
	giveVoice(s)
	storeVoiceKey(t, s, fakeelevenlabs.Delay(20*time.Second))

	first := startWorker(t, s, bin)
	const requestID = "800000000000000077"
	id := workflows.GenerateReplyID(requestID)
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.TaskQueue},
		workflows.GenerateReplyName, workflows.GenerateReplyInput{
			RequestID: requestID, DiscordUserID: aliceID, Username: "alice", Personality: "Kerach",
			ChannelID: channelID, MessageID: requestID, Content: "sing",
		})
	if err != nil {
		t.Fatal(err)
	}
	// Killed once the text-to-speech call is in flight (the stand-in holds it).
	testwait.Until(t, "the text-to-speech call to arrive", func() bool { return s.ElevenLabs.Arrived(userVoiceKey) > 0 })
	killWorker(t, first)
	startWorker(t, s, bin)
	res := runResult[workflows.GenerateReplyResult](t, run, 90*time.Second)
	msgs := s.Discord.Messages(channelID)
	if res.Outcome != workflows.ReplyReplied || len(msgs) != 1 || msgs[0].ID != res.DiscordMessageID {
		t.Fatalf("result %+v, %d channel messages; want one reply", res, len(msgs))
	}
	if len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].ContentType != "audio/mpeg" {
		t.Errorf("reply attachments %+v, want the MP3", msgs[0].Attachments)
	}
	if n := len(s.ElevenLabs.TTSCalls()); n != 2 {
		t.Errorf("%d TTS calls, want 2: the killed one and the retry", n)
	}
	// The killed call never finished, so only the retry was billed.
	if n := s.DB.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeVoice)).CountX(ctx); n != 1 {
		t.Errorf("%d voice usage rows, want 1", n)
	}
	if n := s.DB.ConversationHistory.Query().CountX(ctx); n != 2 {
		t.Errorf("%d history rows, want 2", n)
	}
	s.AssertNoSecretsAnywhere(t, 1, userKey, userVoiceKey)
}
