//go:build integration

package activities_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/delivery"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/elevenlabs"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
)

const (
	voiceKey         = "sk_1111111111111111111111111111111111111111111111ab"
	operatorVoiceKey = "sk_2222222222222222222222222222222222222222222222ab"
	voiceID          = "21m00Tcm4TlvDq8ikWAM"
)

// withVoice gives the fixture a voiced Kerach and the ElevenLabs stand-in.
func (f *fixture) withVoice(t *testing.T) *fakeelevenlabs.Server {
	t.Helper()
	el := fakeelevenlabs.New(fakeelevenlabs.Options{})
	el.AddKey(voiceKey, fakeelevenlabs.Key{})
	el.AddKey(operatorVoiceKey, fakeelevenlabs.Key{})
	srv := httptest.NewServer(el)
	t.Cleanup(srv.Close)
	f.acts.ElevenLabs = elevenlabs.New(srv.URL, nil)
	f.acts.ElevenLabsOperatorKey = operatorVoiceKey
	ctx := context.Background()
	f.db.Personality.UpdateOneID(f.kerach).SetVoiceEnabled(true).ExecX(ctx)
	f.db.VoiceConfig.Create().SetPersonalityID(f.kerach).SetVoiceID(voiceID).SetVoiceModel("eleven_flash_v2_5").
		SetStability(0.3).SetSimilarity(0.9).SetStyle(0.2).SetFrequency(1).ExecX(ctx)
	return el
}

func (f *fixture) storeVoiceKey(t *testing.T, key string, active bool) {
	t.Helper()
	ctx := context.Background()
	uid, err := f.db.User.Query().OnlyID(ctx)
	if err != nil {
		uid = f.db.User.Create().SetDiscordID(aliceID).SaveX(ctx).ID
	}
	s, err := f.keys.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	f.db.UserAPIKey.Create().SetUserID(uid).SetProvider(activities.ProviderElevenLabs).
		SetIv(s.IV).SetContent(s.Content).SetTag(s.Tag).SetIsActive(active).ExecX(ctx)
}

// speak runs SpeakReply for Kerach's reply content to alice under the
// delivery key of request r1.
func (f *fixture) speak(content string) (activities.SpeakReplyOutput, error) {
	return f.speakKey("reply/r1/reply", content)
}

// speakKey runs SpeakReply for Kerach's reply content to alice under key.
func (f *fixture) speakKey(key, content string) (activities.SpeakReplyOutput, error) {
	v, err := f.env.ExecuteActivity(f.acts.SpeakReply, activities.SpeakReplyInput{
		PostReplyInput: activities.PostReplyInput{DeliveryKey: key, ChannelID: channelID, Username: "Kerach", Content: content},
		DiscordUserID:  aliceID, PersonalityID: f.kerach,
	})
	if err != nil {
		return activities.SpeakReplyOutput{}, err
	}
	var out activities.SpeakReplyOutput
	return out, v.Get(&out)
}

func TestSpeakReplyAttachesTheVoiceAndCountsCharacters(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	el := f.withVoice(t)
	f.storeVoiceKey(t, voiceKey, true)
	text := "**Brr.** It is cold <@111111111111111111>, see https://example.com/x"
	out, err := f.speak(text)
	if err != nil {
		t.Fatal(err)
	}
	calls := el.TTSCalls()
	if len(calls) != 1 {
		t.Fatalf("%d TTS calls", len(calls))
	}
	c := calls[0]
	spoken := "Brr. It is cold , see"
	if c.Key != voiceKey || c.VoiceID != voiceID || c.ModelID != "eleven_flash_v2_5" || c.Text != spoken ||
		c.VoiceSettings == nil || *c.VoiceSettings.Stability != 0.3 || *c.VoiceSettings.SimilarityBoost != 0.9 || *c.VoiceSettings.Style != 0.2 {
		t.Errorf("TTS call %+v (text %q)", c, c.Text)
	}
	msgs := f.discord.Messages(channelID)
	if len(msgs) != 1 || msgs[0].ID != out.DiscordMessageID || msgs[0].Content != text || len(msgs[0].Attachments) != 1 {
		t.Fatalf("messages %+v", msgs)
	}
	att := msgs[0].Attachments[0]
	if att.Filename != "cold-kerach.mp3" || !bytes.Equal(att.Data, fakeelevenlabs.MP3(spoken)) {
		t.Errorf("attachment %s %s, %d bytes", att.Filename, att.ContentType, len(att.Data))
	}
	u := f.db.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeVoice)).OnlyX(context.Background())
	if u.Provider != activities.ProviderElevenLabs || u.TokensTotal != len([]rune(spoken)) || u.Model != "eleven_flash_v2_5" {
		t.Errorf("usage %+v", u)
	}
	// A retry after the post was recorded neither speaks nor posts again.
	if again, err := f.speak(text); err != nil || again.DiscordMessageID != out.DiscordMessageID || len(el.TTSCalls()) != 1 || len(f.discord.Messages(channelID)) != 1 {
		t.Errorf("retry: %+v, %v; %d calls", again, err, len(el.TTSCalls()))
	}
}

func TestSpeakReplyKeyRules(t *testing.T) {
	cases := []struct {
		name    string
		guest   config.GuestMode
		userKey string // "" none
		active  bool
		wantKey string // "" for the text alone
	}{
		{"own key", config.GuestOff, voiceKey, true, voiceKey},
		{"no key, guests off: text alone", config.GuestOff, "", false, ""},
		{"no key, GUEST_MODE=free: still no operator voice", config.GuestFree, "", false, ""},
		{"no key, GUEST_MODE=all: the operator's key", config.GuestAll, "", false, operatorVoiceKey},
		{"switched-off key never falls back to the operator's", config.GuestAll, voiceKey, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.guest, "m")
			el := f.withVoice(t)
			if c.userKey != "" {
				f.storeVoiceKey(t, c.userKey, c.active)
			}
			out, err := f.speak("hello")
			if err != nil {
				t.Fatal(err)
			}
			calls := el.TTSCalls()
			if c.wantKey == "" && len(calls) != 0 || c.wantKey != "" && (len(calls) != 1 || calls[0].Key != c.wantKey) {
				t.Errorf("TTS calls %+v, want key %q", calls, c.wantKey)
			}
			msgs := f.discord.Messages(channelID)
			if len(msgs) != 1 || msgs[0].Content != "hello" || msgs[0].ID != out.DiscordMessageID {
				t.Fatalf("messages %+v, want the reply once", msgs)
			}
			if spoken := len(msgs[0].Attachments) == 1; spoken != (c.wantKey != "") || out.Spoken != spoken {
				t.Errorf("attachments %d, output %+v; want spoken = %v", len(msgs[0].Attachments), out, c.wantKey != "")
			}
		})
	}
}

func TestSpeakReplyProviderErrors(t *testing.T) {
	cases := []struct {
		name     string
		step     fakeelevenlabs.Step
		revoke   bool
		operator bool
		wantErr  string
	}{
		{"revoked key", fakeelevenlabs.OK(), true, false, activities.ErrInvalidKey},
		{"a 401 invalid_api_key is final", fakeelevenlabs.Fail(401, "invalid_api_key"), false, false, activities.ErrInvalidKey},
		{"a key without the text_to_speech permission is kept, with a note", fakeelevenlabs.Fail(401, "missing_permissions"), false, false, activities.ErrVoiceRefused},
		{"the operator's key without the permission is the operator's problem", fakeelevenlabs.Fail(401, "missing_permissions"), false, true, activities.ErrOperatorKeyFails},
		{"quota refused while the account has characters: the key is kept", fakeelevenlabs.Fail(401, "quota_exceeded"), false, false, activities.ErrVoiceRefused},
		{"too many concurrent requests is retried", fakeelevenlabs.Fail(429, "too_many_concurrent_requests"), false, false, activities.ErrRateLimited},
		{"system busy is retried", fakeelevenlabs.Fail(429, "system_busy"), false, false, activities.ErrRateLimited},
		{"422 is not retried: a note for the owner", fakeelevenlabs.Fail(422, ""), false, false, activities.ErrVoiceRefused},
		{"operator's key refused is the operator's problem", fakeelevenlabs.Fail(401, "quota_exceeded"), false, true, activities.ErrOperatorKeyFails},
		{"operator's account blocked is the operator's problem", fakeelevenlabs.Fail(0, "detected_unusual_activity"), false, true, activities.ErrOperatorKeyFails},
		{"a bad voice with the operator's key is still the owner's to fix", fakeelevenlabs.Fail(0, "voice_not_found"), false, true, activities.ErrVoiceRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			guest := config.GuestOff
			key := voiceKey
			if c.operator {
				guest, key = config.GuestAll, operatorVoiceKey
			}
			f := newFixture(t, guest, "m")
			el := f.withVoice(t)
			if !c.operator {
				f.storeVoiceKey(t, voiceKey, true)
			}
			if c.revoke {
				el.RevokeKey(key)
			}
			el.Script(key, c.step)
			_, err := f.speak("hello")
			if errType(err) != c.wantErr {
				t.Fatalf("error %v, want type %s", err, c.wantErr)
			}
			if strings.Contains(err.Error(), key) {
				t.Error("the key is in the error")
			}
			if n := f.db.UsageLog.Query().CountX(context.Background()); n != 0 {
				t.Errorf("%d usage rows for a failed voice", n)
			}
			// The activity never switches keys off itself: the workflow does,
			// once, for the user's key only.
			if n := f.db.UserAPIKey.Query().Where(userapikey.IsActive(false)).CountX(context.Background()); n != 0 {
				t.Errorf("%d keys switched off by the activity", n)
			}
		})
	}
}

// Every documented ElevenLabs refusal, as the stand-in sends it, reaches the
// workflow as the error type of its meaning; refusals that are not the
// key's carry a one-line note naming what happened and what to do.
func TestSpeakReplyEveryDocumentedRefusal(t *testing.T) {
	cases := []struct {
		id       string
		wantErr  string
		wantNote string // for ErrVoiceRefused
	}{
		{"invalid_api_key", activities.ErrInvalidKey, ""},
		{"needs_authorization", activities.ErrInvalidKey, ""},
		{"invalid_authorization_header", activities.ErrInvalidKey, ""},
		{"missing_api_key", activities.ErrInvalidKey, ""},
		{"sign_in_required", activities.ErrInvalidKey, ""},
		{"missing_permissions", activities.ErrVoiceRefused, "Text to Speech permission"},
		{"insufficient_permissions", activities.ErrVoiceRefused, "may not make speech (insufficient_permissions)"},
		{"workspace_access_denied", activities.ErrVoiceRefused, "may not make speech (workspace_access_denied)"},
		// The account has characters (the stand-in's key is unlimited): the
		// key check would pass, so the key stays on.
		{"quota_exceeded", activities.ErrVoiceRefused, "out of characters (quota_exceeded)"},
		{"insufficient_credits", activities.ErrVoiceRefused, "out of characters (insufficient_credits)"},
		{"detected_unusual_activity", activities.ErrVoiceRefused, "paused free-tier use"},
		{"payment_issue", activities.ErrVoiceRefused, "failed or incomplete payment"},
		{"forbidden", activities.ErrVoiceRefused, "refused your ElevenLabs account (forbidden)"},
		{"paid_plan_required", activities.ErrVoiceRefused, "needs a paid ElevenLabs plan (paid_plan_required). Upgrade at https://elevenlabs.io/app/subscription, or ask the bot's operator"},
		{"free_users_not_allowed", activities.ErrVoiceRefused, "needs a paid ElevenLabs plan (free_users_not_allowed)"},
		{"subscription_required", activities.ErrVoiceRefused, "needs a paid ElevenLabs plan"},
		{"feature_not_available", activities.ErrVoiceRefused, "needs a paid ElevenLabs plan"},
		{"voice_access_denied", activities.ErrVoiceRefused, "may not use this personality's voice (" + voiceID + "). Only the bot's operator can give it another voice."},
		{"model_access_denied", activities.ErrVoiceRefused, `voice model "eleven_flash_v2_5"`},
		{"voice_limit_reached", activities.ErrVoiceRefused, "no free voice slot"},
		{"voice_not_found", activities.ErrVoiceRefused, `no voice "` + voiceID + `"`},
		{"invalid_voice_id", activities.ErrVoiceRefused, "Only the bot's operator can give this personality another voice"},
		{"model_not_found", activities.ErrVoiceRefused, "Only the bot's operator can give it another model"},
		{"unsupported_model", activities.ErrVoiceRefused, "Only the bot's operator can give it another model"},
		{"invalid_voice_settings", activities.ErrVoiceRefused, "voice settings (invalid_voice_settings). Only the bot's operator can change them."},
		{"max_character_limit_exceeded", activities.ErrVoiceRefused, "(max_character_limit_exceeded)"},
		{"invalid_parameters", activities.ErrVoiceRefused, "(invalid_parameters)"},
		{"too_many_concurrent_requests", activities.ErrRateLimited, ""},
		{"rate_limit_exceeded", activities.ErrRateLimited, ""},
		{"system_busy", activities.ErrRateLimited, ""},
		{"internal_server_error", activities.ErrUnavailable, ""},
		{"maintenance", activities.ErrUnavailable, ""},
	}
	f := newFixture(t, config.GuestOff, "m")
	el := f.withVoice(t)
	f.storeVoiceKey(t, voiceKey, true)
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			el.Script(voiceKey, fakeelevenlabs.Fail(0, c.id))
			_, err := f.speak("hello")
			if errType(err) != c.wantErr {
				t.Fatalf("error %v, want type %s", err, c.wantErr)
			}
			var appErr *temporal.ApplicationError
			errors.As(err, &appErr)
			if c.wantErr == activities.ErrVoiceRefused {
				note := appErr.Message()
				if !strings.HasPrefix(note, "No voice this time: ") || !strings.Contains(note, c.wantNote) || strings.Contains(note, "\n") || len(note) > 300 {
					t.Errorf("note %q, want one line about %q", note, c.wantNote)
				}
			}
			if retryable := c.wantErr == activities.ErrRateLimited || c.wantErr == activities.ErrUnavailable; appErr.NonRetryable() == retryable {
				t.Errorf("non-retryable = %v", appErr.NonRetryable())
			}
		})
	}
	if n := f.db.UserAPIKey.Query().Where(userapikey.IsActive(false)).CountX(context.Background()); n != 0 {
		t.Errorf("%d keys switched off by the activity", n)
	}
	if len(f.discord.Messages(channelID)) != 0 {
		t.Error("a refused voice posted something itself: the workflow posts the text")
	}
}

// Characters count as used up, and the key is switched off, only when the
// key check of /wallet test would refuse the key too: no characters left on a
// plan that cannot extend (f48c0d2). A key's own credit limit or a paid plan
// that can extend keeps the key on, or /wallet test would only turn it back
// on.
func TestSpeakReplyQuotaFollowsTheKeyCheck(t *testing.T) {
	cases := []struct {
		name    string
		key     fakeelevenlabs.Key
		useUp   bool // speak its whole allowance first
		script  bool // ElevenLabs says quota_exceeded regardless
		wantErr string
	}{
		{"a free plan with no characters left: switched off", fakeelevenlabs.Key{CharacterLimit: 5}, true, false, activities.ErrNoCredits},
		{"a paid plan that can extend: kept", fakeelevenlabs.Key{CharacterLimit: 50_000}, false, true, activities.ErrVoiceRefused},
		{"the key's own credit limit on an account with characters: kept", fakeelevenlabs.Key{CharacterLimit: 10_000}, false, true, activities.ErrVoiceRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, config.GuestOff, "m")
			el := f.withVoice(t)
			el.AddKey(voiceKey, c.key)
			f.storeVoiceKey(t, voiceKey, true)
			if c.useUp {
				if _, err := f.acts.ElevenLabs.TextToSpeech(context.Background(), voiceKey,
					elevenlabs.SpeechRequest{VoiceID: voiceID, Text: "hello"}); err != nil {
					t.Fatal(err)
				}
			}
			if c.script {
				el.Script(voiceKey, fakeelevenlabs.Fail(401, "quota_exceeded"))
			}
			_, err := f.speak("hello")
			if errType(err) != c.wantErr {
				t.Fatalf("error %v, want type %s", err, c.wantErr)
			}
			// What /wallet test says of the same key agrees.
			sealed, _ := f.keys.Seal(voiceKey)
			_, cerr := f.env.ExecuteActivity(f.acts.CheckKey, activities.CheckKeyInput{Provider: activities.ProviderElevenLabs, SealedKey: sealed})
			if (errType(cerr) == activities.ErrNoCredits) != (c.wantErr == activities.ErrNoCredits) {
				t.Errorf("the key check says %v while speaking said %s", cerr, c.wantErr)
			}
		})
	}
}

// A reply longer than one Discord message is posted whole, the audio on its
// first message; a retry that finds the first recorded finishes the rest
// without speaking (or paying) again.
func TestSpeakReplyLongReplies(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	el := f.withVoice(t)
	f.storeVoiceKey(t, voiceKey, true)
	long := strings.Repeat("A sentence that goes on. ", 120) // about 3,000 characters
	if _, err := f.speak(long); err != nil {
		t.Fatal(err)
	}
	msgs := f.discord.Messages(channelID)
	if len(msgs) != 2 || len(msgs[0].Attachments) != 1 || len(msgs[1].Attachments) != 0 {
		t.Fatalf("%d messages, want 2 with the audio on the first", len(msgs))
	}
	if got := len([]rune(el.TTSCalls()[0].Text)); got > activities.MaxSpokenCharacters {
		t.Errorf("spoke %d characters, cap %d", got, activities.MaxSpokenCharacters)
	}

	// The first chunk of another reply was posted and recorded by an
	// attempt that then died.
	ctx := context.Background()
	f.db.Delivery.Create().SetKey("reply/r1/reply-b/0").SetChannelID(channelID).SetDiscordMessageID("42").ExecX(ctx)
	v, err := f.env.ExecuteActivity(f.acts.SpeakReply, activities.SpeakReplyInput{
		PostReplyInput: activities.PostReplyInput{DeliveryKey: "reply/r1/reply-b", ChannelID: channelID, Username: "Kerach", Content: long},
		DiscordUserID:  aliceID, PersonalityID: f.kerach,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out activities.SpeakReplyOutput
	if err := v.Get(&out); err != nil {
		t.Fatal(err)
	}
	if out.DiscordMessageID != "42" || len(el.TTSCalls()) != 1 || len(f.discord.Messages(channelID)) != 3 {
		t.Errorf("retry: %+v, %d TTS calls, %d messages; want the rest posted, nothing spoken", out, len(el.TTSCalls()), len(f.discord.Messages(channelID)))
	}
}

// /wallet set provider:elevenlabs checks the key on GET /v1/user.
func TestCheckElevenLabsKey(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	el := f.withVoice(t)
	const (
		spent      = "sk_3333333333333333333333333333333333333333333333ab"
		scoped     = "sk_4444444444444444444444444444444444444444444444ab"
		unknownKey = "sk_5555555555555555555555555555555555555555555555ab"
	)
	el.AddKey(spent, fakeelevenlabs.Key{CharacterLimit: 5})
	el.AddKey(scoped, fakeelevenlabs.Key{Permissions: []string{"text_to_speech"}})
	// Use up the small key's characters.
	if _, err := f.acts.ElevenLabs.TextToSpeech(context.Background(), spent,
		elevenlabs.SpeechRequest{VoiceID: voiceID, Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	const (
		blocked    = "sk_6666666666666666666666666666666666666666666666ab"
		flaggedNow = "sk_7777777777777777777777777777777777777777777777ab"
		unpaid     = "sk_8888888888888888888888888888888888888888888888ab"
	)
	// A free account suspended for unusual activity: its key reads the user
	// as always (only speech is refused) …
	el.AddKey(blocked, fakeelevenlabs.Key{Blocked: "detected_unusual_activity"})
	// … and should /v1/user ever refuse for the account's sake, the key is
	// still real.
	el.AddKey(flaggedNow, fakeelevenlabs.Key{})
	el.ScriptUser(flaggedNow, fakeelevenlabs.Fail(0, "detected_unusual_activity"))
	el.AddKey(unpaid, fakeelevenlabs.Key{})
	el.ScriptUser(unpaid, fakeelevenlabs.Fail(0, "payment_issue"))
	for key, want := range map[string]struct{ errType, note string }{
		voiceKey:   {"", ""},
		scoped:     {"", ""}, // a real key without user_read
		blocked:    {"", ""},
		flaggedNow: {"", "paused free-tier use"},
		unpaid:     {"", "(payment_issue)"},
		spent:      {activities.ErrNoCredits, ""},
		unknownKey: {activities.ErrInvalidKey, ""},
	} {
		sealed, err := f.keys.Seal(key)
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.env.ExecuteActivity(f.acts.CheckKey, activities.CheckKeyInput{Provider: activities.ProviderElevenLabs, SealedKey: sealed})
		if errType(err) != want.errType {
			t.Errorf("key %.6s…: %v, want %q", key, err, want.errType)
			continue
		}
		if err != nil {
			continue
		}
		var res activities.CheckKeyResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		if (want.note == "") != (res.Note == "") || !strings.Contains(res.Note, want.note) {
			t.Errorf("key %.6s…: note %q, want one about %q", key, res.Note, want.note)
		}
	}
}

// A voiced attempt that posted through the webhook and died before
// recording it is found in the channel by the retry, which then records it
// instead of speaking and posting again; a post another delivery recorded
// is never taken, even with the same words.
func TestAdoptEarlierVoicedPost(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	f.withVoice(t)
	f.storeVoiceKey(t, voiceKey, true)
	ctx := context.Background()
	in := activities.PostReplyInput{DeliveryKey: "reply/r9/reply", ChannelID: channelID, Username: "Kerach", Content: "the same words"}
	v, err := f.env.ExecuteActivity(f.acts.SpeakReply, activities.SpeakReplyInput{
		PostReplyInput: in, DiscordUserID: aliceID, PersonalityID: f.kerach,
	})
	if err != nil {
		t.Fatal(err)
	}
	var first activities.SpeakReplyOutput
	if err := v.Get(&first); err != nil {
		t.Fatal(err)
	}
	// The attempt "died" after Discord took the post: its delivery was
	// begun but holds no message id.
	f.db.Delivery.Update().Where(delivery.Key("reply/r9/reply/0")).SetDiscordMessageID("").ExecX(ctx)
	adopt := func() bool { // AdoptEarlierPost(in) with in as it is now
		t.Helper()
		v, err := f.env.ExecuteActivity(f.acts.AdoptEarlierPost, in)
		var adopted bool
		if err == nil {
			err = v.Get(&adopted)
		}
		if err != nil {
			t.Fatal(err)
		}
		return adopted
	}
	adopted := adopt()
	d, err := f.db.Delivery.Query().Where(delivery.Key("reply/r9/reply/0")).Only(ctx)
	if !adopted || err != nil || d.DiscordMessageID != first.DiscordMessageID {
		t.Fatalf("adopted %v, delivery %+v (%v); want the earlier message %s recorded", adopted, d, err, first.DiscordMessageID)
	}
	// Another delivery with the same words that also died after beginning:
	// the message is r9's, so it adopts nothing.
	f.db.Delivery.Create().SetKey("reply/r11/reply/0").SetChannelID(channelID).SetDiscordMessageID("").ExecX(ctx)
	in.DeliveryKey = "reply/r11/reply"
	if adopt() {
		t.Error("adopted a post another delivery recorded")
	}
	// A delivery that never began posting looks for nothing.
	in.DeliveryKey = "reply/r12/reply"
	if adopt() {
		t.Error("adopted a post for a delivery that never began")
	}
	f.db.Delivery.Create().SetKey("reply/r10/reply/0").SetChannelID(channelID).SetDiscordMessageID("").ExecX(ctx)
	// Different words are a different reply: nothing is adopted.
	in.DeliveryKey, in.Content = "reply/r10/reply", "other words"
	if adopt() {
		t.Error("adopted a post with other content")
	}
}
