//go:build integration

package bot_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/config"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

const aliceVoiceKey = "sk_0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"

// seedVoice gives the world a personality that speaks every reply.
func seedVoice(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	p := w.DB.Personality.Create().SetName("singer").SetDisplayName("Singer").SetVoiceEnabled(true).
		SetErrorMessage("*static*").SaveX(ctx)
	w.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("anthropic/claude-sonnet-4").ExecX(ctx)
	w.DB.VoiceConfig.Create().SetPersonalityID(p.ID).SetVoiceID("JBFqnCBsd6RMkjVDRZzb").
		SetVoiceModel("eleven_flash_v2_5").SetFrequency(1).ExecX(ctx)
}

// setVoiceKey goes through /wallet set provider:elevenlabs and its modal.
func (w *world) setVoiceKey(t *testing.T, userID, key string) string {
	t.Helper()
	ic := w.slash(userID, "wallet", "set", str("provider", activities.ProviderElevenLabs))
	resp := w.responses(ic)
	if len(resp) != 1 || resp[0]["type"] != float64(9) {
		return w.ephemeralText(t, ic)
	}
	data := resp[0]["data"].(map[string]any)
	if title, _ := data["title"].(string); !strings.Contains(title, "ElevenLabs") {
		t.Errorf("form title %q", title)
	}
	return w.ephemeralText(t, w.submit(userID, data["custom_id"].(string), map[string]string{"key": key}))
}

// A voiced personality answers with text and the MP3 attached, paid with the
// user's ElevenLabs key; when ElevenLabs later rejects that key, it is
// switched off with one DM and the reply still comes, as text.
func TestVoiceReplyThroughTheBot(t *testing.T) {
	w := newWorld(t, itest.Options{GuestMode: config.GuestOff})
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	w.ElevenLabs.AddKey(aliceVoiceKey, fakeelevenlabs.Key{})
	seedVoice(t, w)
	if text := w.setKey(t, alice, aliceKey); !strings.Contains(text, "works and is saved") {
		t.Fatalf("/wallet set openrouter: %q", text)
	}
	for key, want := range map[string]string{
		aliceKey: "OpenRouter key, not an ElevenLabs one",
		"sk_1234567890abcdef1234567890abcdef1234567890abcd": "ElevenLabs did not accept that key",
		aliceVoiceKey: "works and is saved",
	} {
		if text := w.setVoiceKey(t, alice, key); !strings.Contains(text, want) {
			t.Errorf("/wallet set elevenlabs %.10s…: told %q, want %q", key, text, want)
		}
	}
	if n := w.DB.UserAPIKey.Query().Where(userapikey.Provider(activities.ProviderElevenLabs), userapikey.IsActive(true)).CountX(context.Background()); n != 1 {
		t.Fatalf("%d active ElevenLabs keys", n)
	}

	first := w.say(alice, general, guildID, "@singer sing me something")
	// A voiced reply streams, then gets its audio: read it once whole.
	res := w.replyResult(t, first.ID)
	testwait.Until(t, "the voiced reply", func() bool { return len(w.posts(general)) == 1 })
	msg := w.posts(general)[0]
	if msg.Author.Username != "Singer" || !strings.Contains(msg.Content, "sing me something") || len(msg.Attachments) != 1 {
		t.Fatalf("reply %+v", msg)
	}
	tts := w.ElevenLabs.TTSCalls()
	if len(tts) != 1 || tts[0].Key != aliceVoiceKey || tts[0].VoiceID != "JBFqnCBsd6RMkjVDRZzb" || tts[0].ModelID != "eleven_flash_v2_5" {
		t.Fatalf("TTS calls %+v", tts)
	}
	audio := msg.Attachments[0]
	if audio.Filename != "singer.mp3" || !bytes.Equal(audio.Data, fakeelevenlabs.MP3(tts[0].Text)) {
		t.Errorf("attachment %s (%d bytes) is not the synthesised MP3", audio.Filename, len(audio.Data))
	}
	if res.Outcome != workflows.ReplyReplied || res.DiscordMessageID != msg.ID {
		t.Errorf("result %+v, want replied with %s", res, msg.ID)
	}
	voice := w.DB.UsageLog.Query().Where(usagelog.RequestTypeEQ(usagelog.RequestTypeVoice)).AllX(context.Background())
	if len(voice) != 1 || voice[0].Provider != "elevenlabs" || voice[0].TokensTotal != len([]rune(tts[0].Text)) {
		t.Errorf("voice usage %+v", voice)
	}
	if text := w.ephemeralText(t, w.slash(alice, "usage", "")); !strings.Contains(text, "eleven_flash_v2_5") || !strings.Contains(text, "characters spoken") {
		t.Errorf("/usage says %q, want the voice model counted in characters", text)
	}

	// ElevenLabs revokes the key: text only, one DM, the key switched off,
	// and no other key (the operator has none here) is tried.
	w.ElevenLabs.RevokeKey(aliceVoiceKey)
	w.replyResult(t, w.say(alice, general, guildID, "@singer again").ID)
	testwait.Until(t, "the text reply and the DM", func() bool { return len(w.posts(general)) == 2 && len(w.Discord.DMs(alice)) == 1 })
	if m := w.posts(general)[1]; !strings.Contains(m.Content, "again") || len(m.Attachments) != 0 {
		t.Errorf("second reply %+v, want the text alone", m)
	}
	if dm := w.Discord.DMs(alice)[0].Content; !strings.Contains(dm, "ElevenLabs") || !strings.Contains(dm, "/wallet set provider:elevenlabs") {
		t.Errorf("DM %q", dm)
	}
	k := w.DB.UserAPIKey.Query().Where(userapikey.Provider(activities.ProviderElevenLabs)).OnlyX(context.Background())
	if k.IsActive {
		t.Error("the rejected ElevenLabs key is still active")
	}
	if or := w.DB.UserAPIKey.Query().Where(userapikey.Provider(activities.ProviderOpenRouter)).OnlyX(context.Background()); !or.IsActive {
		t.Error("the OpenRouter key was switched off for an ElevenLabs failure")
	}
	for _, c := range w.ElevenLabs.Calls() {
		if c.Key != aliceVoiceKey && c.Key != "sk_1234567890abcdef1234567890abcdef1234567890abcd" {
			t.Errorf("a call with another key: %s %s", c.Method, c.Path)
		}
	}

	// A third reply neither calls ElevenLabs nor DMs again.
	calls := len(w.ElevenLabs.Calls())
	w.replyResult(t, w.say(alice, general, guildID, "@singer once more").ID)
	testwait.Until(t, "the third reply", func() bool { return len(w.posts(general)) == 3 })
	if len(w.ElevenLabs.Calls()) != calls || len(w.Discord.DMs(alice)) != 1 {
		t.Errorf("after the key was switched off: %d more calls, %d DMs", len(w.ElevenLabs.Calls())-calls, len(w.Discord.DMs(alice)))
	}

	// No key and no audio in any history or log line.
	mid := base64.StdEncoding.EncodeToString(audio.Data)
	w.AssertNoSecretsAnywhere(t, 5, aliceKey, aliceVoiceKey, mid[len(mid)/2:len(mid)/2+40])
}

// Under GUEST_MODE=all a user without an ElevenLabs key is spoken to with the
// operator's; under any other mode the reply is text only.
func TestVoiceOperatorKeyOnlyForGuestModeAll(t *testing.T) {
	const opVoice = "sk_0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
	for _, mode := range []config.GuestMode{config.GuestAll, config.GuestFree} {
		t.Run(string(mode), func(t *testing.T) {
			w := newWorld(t, itest.Options{GuestMode: mode, OperatorKey: operator, ElevenLabsOperatorKey: opVoice})
			w.OpenRouter.AddKey(operator, fakeopenrouter.Key{})
			w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
			w.ElevenLabs.AddKey(opVoice, fakeelevenlabs.Key{})
			seedVoice(t, w)
			w.setKey(t, alice, aliceKey)
			w.replyResult(t, w.say(alice, general, guildID, "@singer hello").ID)
			testwait.Until(t, "the reply", func() bool { return len(w.posts(general)) == 1 })
			spoken := len(w.posts(general)[0].Attachments) == 1
			if spoken != (mode == config.GuestAll) {
				t.Errorf("GUEST_MODE=%s: spoken = %v", mode, spoken)
			}
			for _, c := range w.ElevenLabs.TTSCalls() {
				if c.Key != opVoice {
					t.Errorf("TTS with key %.6s…", c.Key)
				}
			}
		})
	}
}

// ElevenLabs suspending a free account (401 detected_unusual_activity) is not
// a bad key: through the real GenerateReply on the dev server the reply goes
// as text with a one-line note, the key stays on in PostgreSQL, nobody is
// DMed that the key was rejected, and /wallet test neither calls the key bad
// nor flips it. A plan limit (402 paid_plan_required), a key without the
// text_to_speech permission and a voice that does not exist are the same; a
// revoked key is still switched off.
func TestVoiceBlockedAccountKeepsTheKey(t *testing.T) {
	w := newWorld(t, itest.Options{GuestMode: config.GuestOff})
	ctx := context.Background()
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	w.ElevenLabs.AddKey(aliceVoiceKey, fakeelevenlabs.Key{Blocked: "detected_unusual_activity"})
	seedVoice(t, w)
	w.setKey(t, alice, aliceKey)
	if text := w.setVoiceKey(t, alice, aliceVoiceKey); !strings.Contains(text, "works and is saved") {
		t.Fatalf("/wallet set elevenlabs on a blocked account: %q", text)
	}
	voiceKeyActive := func() bool {
		return w.DB.UserAPIKey.Query().Where(userapikey.Provider(activities.ProviderElevenLabs)).OnlyX(ctx).IsActive
	}
	const blockedNote = "\n-# No voice this time: ElevenLabs has paused free-tier use of your ElevenLabs account (unusual activity detected)."

	for i, say := range []string{"@singer sing", "@singer sing again"} {
		first := w.say(alice, general, guildID, say)
		var res workflows.GenerateReplyResult
		res = w.replyResult(t, first.ID)
		posts := w.posts(general)
		if len(posts) != i+1 {
			t.Fatalf("%d posts after reply %d", len(posts), i+1)
		}
		m := posts[i]
		if res.Outcome != workflows.ReplyReplied || res.DiscordMessageID != m.ID {
			t.Errorf("result %+v, want replied with %s", res, m.ID)
		}
		if !strings.Contains(m.Content, say[len("@singer "):]) || !strings.Contains(m.Content, blockedNote) || len(m.Attachments) != 0 {
			t.Errorf("reply %d: %q with %d attachments, want the text and the note", i+1, m.Content, len(m.Attachments))
		}
		if strings.Count(m.Content, "\n-# ") != 1 {
			t.Errorf("reply %d: the note is not one line: %q", i+1, m.Content)
		}
		// Each reply still tried the key: it was never switched off.
		if n := len(w.ElevenLabs.TTSCalls()); n != i+1 {
			t.Errorf("%d TTS calls after reply %d", n, i+1)
		}
		if !voiceKeyActive() {
			t.Fatalf("reply %d switched the blocked account's key off", i+1)
		}
	}
	if dms := w.Discord.DMs(alice); len(dms) != 0 {
		t.Errorf("DMs %+v: nobody should be told the key was rejected", dms)
	}
	// The turn saved is the reply, not the note.
	for _, h := range w.DB.ConversationHistory.Query().AllX(ctx) {
		if strings.Contains(h.Content, "No voice") {
			t.Errorf("history row %q carries the note", h.Content)
		}
	}

	// /wallet test: the key is real; it stays on.
	if text := w.ephemeralText(t, w.slash(alice, "wallet", "test", str("provider", activities.ProviderElevenLabs))); strings.Contains(text, "refuses") || !strings.Contains(text, "switched on") {
		t.Errorf("/wallet test on a blocked account: %q", text)
	}
	if !voiceKeyActive() {
		t.Fatal("/wallet test switched the key off")
	}
	// Should the key check itself meet the block, it says so and still
	// keeps the key.
	w.ElevenLabs.ScriptUser(aliceVoiceKey, fakeelevenlabs.Fail(0, "detected_unusual_activity"))
	text := w.ephemeralText(t, w.slash(alice, "wallet", "test", str("provider", activities.ProviderElevenLabs)))
	if !strings.Contains(text, "real and is switched on") || !strings.Contains(text, "unusual activity") || !voiceKeyActive() {
		t.Errorf("/wallet test meeting the block: %q, active %v", text, voiceKeyActive())
	}

	// noted says msg and checks that the reply, the n-th post in #general,
	// has no audio and carries the one-line note "No voice this time: note",
	// while the key stays on and no DM is sent.
	noted := func(what, msg string, n int, note string) {
		t.Helper()
		w.replyResult(t, w.say(alice, general, guildID, msg).ID)
		testwait.Until(t, what+"'s reply", func() bool { return len(w.posts(general)) == n })
		if m := w.posts(general)[n-1]; !strings.Contains(m.Content, "\n-# No voice this time: "+note) || len(m.Attachments) != 0 {
			t.Errorf("%s: reply %q with %d attachments", what, m.Content, len(m.Attachments))
		}
		if !voiceKeyActive() || len(w.Discord.DMs(alice)) != 0 {
			t.Errorf("%s: key active %v, %d DMs; want on and none", what, voiceKeyActive(), len(w.Discord.DMs(alice)))
		}
	}

	// Another account-level refusal: a library voice on the free plan.
	w.ElevenLabs.AddKey(aliceVoiceKey, fakeelevenlabs.Key{Blocked: "paid_plan_required"})
	noted("a plan limit", "@singer a library voice", 3, "this personality's voice needs a paid ElevenLabs plan (paid_plan_required)")

	// A scoped key without text_to_speech: /wallet test could not see it,
	// so the key stays on and the note names the permission.
	w.ElevenLabs.AddKey(aliceVoiceKey, fakeelevenlabs.Key{Permissions: []string{"user_read"}})
	noted("a missing permission", "@singer scoped", 4, "your ElevenLabs key may not make speech (missing_permissions)")

	// A voice ElevenLabs does not have: a note for the personality's owner.
	w.ElevenLabs.AddKey(aliceVoiceKey, fakeelevenlabs.Key{})
	w.DB.VoiceConfig.Update().SetVoiceID("NoSuchVoice0000000000").ExecX(ctx)
	noted("voice_not_found", "@singer lost voice", 5,
		"ElevenLabs has no voice \"NoSuchVoice0000000000\" (voice_not_found). Only the bot's operator can give this personality another voice.")

	// A revoked key is still a bad key: switched off, one DM, no note.
	w.ElevenLabs.RevokeKey(aliceVoiceKey)
	w.say(alice, general, guildID, "@singer revoked")
	testwait.Until(t, "the last reply and the DM", func() bool { return len(w.posts(general)) == 6 && len(w.Discord.DMs(alice)) == 1 })
	if m := w.posts(general)[5]; strings.Contains(m.Content, "-#") {
		t.Errorf("a bad key's reply carries a note: %q", m.Content)
	}
	if dm := w.Discord.DMs(alice)[0].Content; !strings.Contains(dm, "ElevenLabs rejected your API key") {
		t.Errorf("DM %q", dm)
	}
	if voiceKeyActive() {
		t.Error("the revoked key is still active")
	}
	w.AssertNoSecretsAnywhere(t, 5, aliceKey, aliceVoiceKey)
}
