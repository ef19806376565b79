//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/config"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

func TestGuestAtTheLimitIsRefusedWithoutAProviderCall(t *testing.T) {
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "openrouter/free")
	s.Activities.Limits = activities.Limits{GuestTokensPerDay: 1000}
	ctx := context.Background()
	u := s.DB.User.Create().SetDiscordID(aliceID).SaveX(ctx)
	s.DB.UsageLog.Create().SetUserID(u.ID).SetProvider("openrouter").SetModel("openrouter/free").
		SetTokensTotal(1000).SetRequestType("text").SetTimestamp(time.Now().Add(-23 * time.Hour)).ExecX(ctx)

	res := reply(t, s, "800000000000000077")
	if res.Outcome != workflows.ReplyRateLimited {
		t.Fatalf("outcome %s, want %s", res.Outcome, workflows.ReplyRateLimited)
	}
	if n := len(s.OpenRouter.Calls()); n != 0 {
		t.Errorf("%d provider calls for a guest at the limit", n)
	}
	msgs := s.Discord.Messages(channelID)
	retry := time.Now().Add(time.Hour).Unix()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Content, "<@"+aliceID+"> you have used today's shared allowance; try again <t:") ||
		!strings.Contains(msgs[0].Content, "/wallet set") {
		t.Fatalf("channel messages %+v", msgs)
	}
	var at int64
	if _, err := fmt.Sscanf(msgs[0].Content[strings.Index(msgs[0].Content, "<t:"):], "<t:%d:R>", &at); err != nil || at < retry-60 || at > retry+60 {
		t.Errorf("retry time %d, want about %d (when the 23 h old usage rolls out)", at, retry)
	}
	if n := s.DB.UsageLog.Query().CountX(ctx); n != 1 {
		t.Errorf("%d usage rows, want only the seeded one (no hold left behind)", n)
	}
}

// TestRecordGenerateReplyHistory re-records the replay test's histories. It
// runs only on request: the files must come from the workflow as it was before
// a change, so recording them again after the change would prove nothing.
const operatorVoiceKey = "sk_0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"

func TestRecordGenerateReplyHistory(t *testing.T) {
	if os.Getenv("TZUROT_RECORD_HISTORY") == "" {
		t.Skip("set TZUROT_RECORD_HISTORY to a file name of workflows/testdata (or all) to record it")
	}
	for _, tc := range []struct {
		file, model    string
		userKey, voice bool
		// voiceRefusal, when set, stores the user's own ElevenLabs key and
		// has ElevenLabs answer it with Fail(401, voiceRefusal).
		voiceRefusal string
		// step is scripted for the call's key, with the outcome it leads to
		// ("" for replied).
		step    *fakeopenrouter.Step
		outcome string
	}{
		// Add a case here, named for the version it records, when the
		// workflow changes; never re-record the older files.
		{"generate_reply_v0_guest.json", "openrouter/free", false, false, "", nil, ""},
		{"generate_reply_v0_own_key.json", "anthropic/claude-sonnet-4", true, false, "", nil, ""},
		{"generate_reply_v2_voice.json", "openrouter/free", false, true, "", nil, ""},
		// Recorded before voice-note: the voice key switched off and the DM.
		{"generate_reply_v2_voice_key_rejected.json", "anthropic/claude-sonnet-4", true, true, "invalid_api_key", nil, ""},
		// voice-note: a suspended account's reply, the text with the note.
		{"generate_reply_v3_voice_note.json", "anthropic/claude-sonnet-4", true, true, "detected_unusual_activity", nil, ""},
		{"generate_reply_v2_quota.json", "openrouter/free", false, false, "", ptr(fakeopenrouter.FreeModelsPerDay(50)), workflows.ReplyRateLimited},
		{"generate_reply_v2_out_of_tokens.json", "deepseek/deepseek-r1", true, false, "", ptr(fakeopenrouter.Finish("length", "")), workflows.ReplyFailed},
		// Recorded before stream-voice: a streaming personality's voiced
		// reply, posted whole with its audio (no stream version asked).
		{"generate_reply_v7_voice_posted_whole.json", "openrouter/free", false, true, "", nil, ""},
	} {
		if os.Getenv("TZUROT_RECORD_HISTORY") != tc.file && os.Getenv("TZUROT_RECORD_HISTORY") != "all" {
			continue
		}
		s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey, ElevenLabsOperatorKey: operatorVoiceKey})
		s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
		s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
		s.ElevenLabs.AddKey(operatorVoiceKey, fakeelevenlabs.Key{})
		seedPersonality(t, s, tc.model)
		if tc.userKey {
			storeKey(t, s, userKey)
		}
		if tc.voice {
			giveVoice(s)
		}
		if tc.voiceRefusal != "" {
			storeVoiceKey(t, s, fakeelevenlabs.Fail(401, tc.voiceRefusal))
		}
		if tc.step != nil {
			key := operatorKey
			if tc.userKey {
				key = userKey
			}
			s.OpenRouter.Script(key, *tc.step)
		}
		want := tc.outcome
		if want == "" {
			want = workflows.ReplyReplied
		}
		const requestID = "800000000000000042"
		if res := reply(t, s, requestID); res.Outcome != want {
			t.Fatalf("%s: outcome %s", tc.file, res.Outcome)
		}
		recordHistory(t, s, workflows.GenerateReplyID(requestID), tc.file)
	}
}

// recordHistory writes the whole history of workflowID, as protojson, to
// workflows/testdata/file, for the replay tests there.
func recordHistory(t *testing.T, s *itest.Stack, workflowID, file string) {
	t.Helper()
	it := s.Client.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	var hist historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&hist)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "workflows", "testdata", file), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
