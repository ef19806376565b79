//go:build e2e

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/userapikey"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// voicedStack is deliveryStack where Kerach speaks every reply and alice
// has stored her own ElevenLabs key, answered by ElevenLabs with steps.
func voicedStack(t *testing.T, steps ...fakeelevenlabs.Step) *itest.Stack {
	t.Helper()
	s := deliveryStack(t)
	giveVoice(s)
	storeVoiceKey(t, s, steps...)
	s.OpenRouter.Script(userKey, fakeopenrouter.OK().Paced(streamRate))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Logs.String())
		}
	})
	return s
}

// giveVoice makes Kerach, the one personality, speak every reply.
func giveVoice(s *itest.Stack) {
	ctx := context.Background()
	p := s.DB.Personality.Query().OnlyX(ctx)
	s.DB.Personality.UpdateOne(p).SetVoiceEnabled(true).ExecX(ctx)
	s.DB.VoiceConfig.Create().SetPersonalityID(p.ID).SetVoiceID("JBFqnCBsd6RMkjVDRZzb").SetFrequency(1).ExecX(ctx)
}

// storeVoiceKey stores userVoiceKey as the one user's ElevenLabs key,
// known to ElevenLabs' stand-in, which answers it with steps.
func storeVoiceKey(t *testing.T, s *itest.Stack, steps ...fakeelevenlabs.Step) {
	t.Helper()
	ctx := context.Background()
	sealed, err := s.Keys.Seal(userVoiceKey)
	if err != nil {
		t.Fatal(err)
	}
	s.DB.UserAPIKey.Create().SetUserID(s.DB.User.Query().OnlyX(ctx).ID).SetProvider(activities.ProviderElevenLabs).
		SetIv(sealed.IV).SetContent(sealed.Content).SetTag(sealed.Tag).ExecX(ctx)
	s.ElevenLabs.AddKey(userVoiceKey, fakeelevenlabs.Key{})
	if len(steps) > 0 {
		s.ElevenLabs.Script(userVoiceKey, steps...)
	}
}

// streamedVoiceReply runs a voiced reply that streams: the first text is in
// the channel, without audio, while the model still writes; the reply then
// ends as one message holding exactly the whole text, written several times
// as it grew.
func streamedVoiceReply(t *testing.T, s *itest.Stack, requestID string) (workflows.GenerateReplyResult, fakediscord.Message) {
	t.Helper()
	run := startReplyAsking(t, s, requestID, channelID, streamAsk)
	first := waitForMessage(t, s)
	res := result(t, run)
	m := assertOneWholeReply(t, s, res, requestID)
	if len(first.Attachments) != 0 || len(first.Content) >= len(m.Content) {
		t.Errorf("first seen as %q with %d attachments; want part of the text, before any audio", first.Content, len(first.Attachments))
	}
	return res, m
}

// attachmentNames are m's attachments' file names (their bytes would flood
// a failure's message).
func attachmentNames(m fakediscord.Message) []string {
	var out []string
	for _, a := range m.Attachments {
		out = append(out, a.Filename+" "+a.ContentType)
	}
	return out
}

// voiceRows is the number of voice usage rows.
func voiceRows(s *itest.Stack) int {
	return s.DB.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeVoice)).CountX(context.Background())
}

// A voiced reply streams its text like any other and gets its MP3 attached
// to the first message once written: one ElevenLabs call, one voice usage
// row. A retried voice step (the workflow reset to just before it, so the
// dev server schedules SpeakReply again) finds the audio and pays nothing.
func TestVoicedReplyStreamsThenAttachesItsAudio(t *testing.T) {
	s := voicedStack(t)
	const requestID = "810000000000000021"
	_, m := streamedVoiceReply(t, s, requestID)
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "cold-kerach.mp3" || m.Attachments[0].ContentType != "audio/mpeg" {
		t.Fatalf("attachments %q, want the MP3", attachmentNames(m))
	}
	calls := s.ElevenLabs.TTSCalls()
	if len(calls) != 1 || calls[0].Key != userVoiceKey || calls[0].Text != activities.SpeakableText(m.Content, activities.MaxSpokenCharacters) {
		t.Fatalf("TTS calls %+v, want one of the whole reply with alice's key", calls)
	}
	if m.History[len(m.History)-1] != m.Content || m.History[len(m.History)-2] != m.Content {
		t.Errorf("the audio was not attached after the text was whole: writes %q", m.History)
	}
	if n := voiceRows(s); n != 1 {
		t.Errorf("%d voice usage rows, want 1", n)
	}

	run := resetBefore(t, s, workflows.GenerateReplyID(requestID), "SpeakReply")
	if res := result(t, run); res.Outcome != workflows.ReplyReplied || res.DiscordMessageID != m.ID {
		t.Fatalf("reset run: %+v", res)
	}
	if n := len(s.ElevenLabs.TTSCalls()); n != 1 {
		t.Errorf("%d TTS calls after the voice step ran again, want still 1", n)
	}
	if msgs := shown(s.Discord.Messages(channelID)); len(msgs) != 1 || len(msgs[0].Attachments) != 1 {
		t.Errorf("after the voice step ran again: %d messages, the first with %d attachments; want the one reply with its one MP3", len(msgs), len(msgs[0].Attachments))
	}
	if n := voiceRows(s); n != 1 {
		t.Errorf("%d voice usage rows after the voice step ran again, want 1", n)
	}
}

// resetBefore resets workflowID's run to the workflow task that scheduled
// its activity of type activityType, so that the new run schedules it
// again, and returns the new run.
func resetBefore(t *testing.T, s *itest.Stack, workflowID, activityType string) client.WorkflowRun {
	t.Helper()
	ctx := context.Background()
	it := s.Client.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var lastCompleted int64
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			lastCompleted = ev.GetEventId()
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activityType {
			break
		}
	}
	d, err := s.Client.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 s.Config.TemporalNamespace,
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: d.GetWorkflowExecutionInfo().GetExecution().GetRunId()},
		Reason:                    "test: run " + activityType + " again",
		WorkflowTaskFinishEventId: lastCompleted,
		RequestId:                 workflowID + "/reset",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s.Client.GetWorkflow(ctx, workflowID, resp.GetRunId())
}

// ElevenLabs refusing for the plan's sake (a library voice on the free
// plan, 402 paid_plan_required) leaves the streamed text, with the one-line
// note under it; the key stays on and no one is DMed.
func TestStreamedVoiceRefusedLeavesTheTextAndANote(t *testing.T) {
	s := voicedStack(t, fakeelevenlabs.Fail(402, "paid_plan_required"))
	const requestID = "810000000000000022"
	run := startReplyAsking(t, s, requestID, channelID, streamAsk)
	first := waitForMessage(t, s)
	res := result(t, run)
	want := savedReply(t, s, requestID)
	msgs := shown(s.Discord.Messages(channelID))
	if res.Outcome != workflows.ReplyReplied || len(msgs) != 1 || msgs[0].ID != first.ID || res.DiscordMessageID != first.ID {
		t.Fatalf("result %+v, %d messages: want the streamed message, kept", res, len(msgs))
	}
	content, note, ok := strings.Cut(msgs[0].Content, "\n-# ")
	if !ok || content != want || !strings.HasPrefix(note, "No voice this time:") || !strings.Contains(note, "paid ElevenLabs plan") || len(msgs[0].Attachments) != 0 {
		t.Errorf("message %q with %d attachments, want the whole reply %q and the note", msgs[0].Content, len(msgs[0].Attachments), want)
	}
	if s.DB.UserAPIKey.Query().Where(userapikey.ProviderEQ(activities.ProviderElevenLabs), userapikey.IsActive(true)).CountX(context.Background()) != 1 {
		t.Error("the ElevenLabs key was switched off for a plan restriction")
	}
	if dms := s.Discord.DMs(aliceID); len(dms) != 0 || voiceRows(s) != 0 {
		t.Errorf("DMs %+v, %d voice rows; want none", dms, voiceRows(s))
	}
}

// A 401 on alice's ElevenLabs key switches it off and DMs her once; the
// streamed text stays as it is, whole, with no audio.
func TestStreamedVoiceKeyRejectedKeepsTheText(t *testing.T) {
	s := voicedStack(t, fakeelevenlabs.Fail(401, "invalid_api_key"))
	const requestID = "810000000000000023"
	_, m := streamedVoiceReply(t, s, requestID)
	if len(m.Attachments) != 0 {
		t.Errorf("attachments %q, want none", attachmentNames(m))
	}
	if s.DB.UserAPIKey.Query().Where(userapikey.ProviderEQ(activities.ProviderElevenLabs), userapikey.IsActive(true)).CountX(context.Background()) != 0 {
		t.Error("the rejected ElevenLabs key is still on")
	}
	if dms := s.Discord.DMs(aliceID); len(dms) != 1 || !strings.Contains(dms[0].Content, "ElevenLabs rejected your API key") {
		t.Errorf("DMs %+v, want one about the ElevenLabs key", dms)
	}
}

// With streaming switched off, a voiced reply is posted whole with its MP3,
// as before: one write of the message, the audio on it.
func TestVoicedReplyWithStreamingOffPostsWhole(t *testing.T) {
	s := voicedStack(t)
	s.DB.Personality.Update().SetStreaming(false).ExecX(context.Background())
	res := replyAsking(t, s, "810000000000000024", channelID, streamAsk)
	m := oneReply(t, s, channelID, res)
	if len(m.History) != 1 || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "audio/mpeg" || len(s.ElevenLabs.TTSCalls()) != 1 {
		t.Errorf("written %d times with attachments %q, %d TTS calls; want once, whole, with the MP3", len(m.History), attachmentNames(m), len(s.ElevenLabs.TTSCalls()))
	}
}

// TestRecordStreamedVoiceHistories records, on request, a voiced reply that
// streamed and got its audio (GenerateReply at stream-voice 1), and one
// whose voice was refused (SpeakReply, then RewriteStream with the note),
// for the replay tests in workflows/.
func TestRecordStreamedVoiceHistories(t *testing.T) {
	const spoken, refused = "generate_reply_v8_stream_voice.json", "generate_reply_v8_stream_voice_refused.json"
	if f := os.Getenv("TZUROT_RECORD_HISTORY"); f != spoken && f != "all" {
		t.Skip("set TZUROT_RECORD_HISTORY to " + spoken + " or all to record it and " + refused)
	}
	s := voicedStack(t, fakeelevenlabs.Delay(0), fakeelevenlabs.Fail(402, "paid_plan_required"))
	s.OpenRouter.Script(userKey, fakeopenrouter.OK().Paced(streamRate), fakeopenrouter.OK().Paced(streamRate))
	for _, r := range []struct{ file, requestID string }{{spoken, "810000000000000071"}, {refused, "810000000000000072"}} {
		if res := replyAsking(t, s, r.requestID, channelID, streamAsk); res.Outcome != workflows.ReplyReplied {
			t.Fatalf("%s: outcome %s", r.file, res.Outcome)
		}
		recordHistory(t, s, workflows.GenerateReplyID(r.requestID), r.file)
	}
}
