package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/elevenlabs"
	"github.com/tzurot/tzurot/internal/heartbeat"
	"github.com/tzurot/tzurot/internal/openrouter"
)

// maxVoiceRetryDelay caps ElevenLabs' Retry-After while the text waits.
const maxVoiceRetryDelay = 5 * time.Second

// MaxSpokenCharacters bounds what one reply may cost in ElevenLabs
// characters; a longer reply is spoken up to the last sentence that fits.
const MaxSpokenCharacters = 2500

// VoiceRef is what a workflow needs to decide whether a reply is spoken.
type VoiceRef struct {
	// Frequency is the share of replies spoken: 0 never, 1 always.
	Frequency float64 `json:"frequency"`
}

// Speaks decides whether the reply to requestID is spoken, from the request
// id alone, so a replay or a retry always decides the same way: the id's
// hash, as a number in [0, 1), is below frequency.
func Speaks(requestID string, frequency float64) bool {
	if frequency <= 0 {
		return false
	}
	sum := sha256.Sum256([]byte(requestID))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11)/(1<<53) < frequency
}

// SpeakReplyInput is a reply to post with the personality's voice attached.
type SpeakReplyInput struct {
	PostReplyInput
	DiscordUserID string    `json:"discord_user_id"`
	PersonalityID uuid.UUID `json:"personality_id"`
	// Streamed, when set, is a streamed reply already posted under this
	// target: the audio is attached to its first message, and nothing is
	// posted (voice_stream.go). PostReplyInput's content is what is spoken.
	Streamed *StreamTarget `json:"streamed,omitempty"`
}

// SpeakReplyOutput is ids and small facts only: the audio never reaches
// workflow history.
type SpeakReplyOutput struct {
	DiscordMessageID string `json:"discord_message_id"`
	// Spoken is false when no key could pay for the voice and the text was
	// posted alone.
	Spoken     bool   `json:"spoken,omitempty"`
	Characters int    `json:"characters,omitempty"`
	KeySource  string `json:"key_source,omitempty"`
	// PendingUsage: see GenerateOutput.
	PendingUsage *UsageRecord `json:"pending_usage,omitempty"`
}

// SpeakReply synthesises the reply with ElevenLabs and posts it as the
// personality with the MP3 attached to its first message, in one activity so
// the audio stays in the worker's memory; for a reply that streamed
// (Streamed), it attaches the MP3 to the streamed first message instead. The
// key is the user's own ElevenLabs key, else the operator's only under
// GUEST_MODE=all; never the operator's once the user's was switched off;
// with neither, the text is posted alone (or, streamed, left as it is). Any
// error leaves the workflow to post the text (or keep the streamed one). It
// heartbeats throughout, so a dead worker is noticed and a slow upload is
// not mistaken for one.
func (a *Activities) SpeakReply(ctx context.Context, in SpeakReplyInput) (out SpeakReplyOutput, err error) {
	speak := a.speakReply
	if in.Streamed != nil {
		speak = a.speakStreamed
	}
	err = heartbeat.While(ctx, func() error { out, err = speak(ctx, in); return err }, "speaking")
	return out, err
}

func (a *Activities) speakReply(ctx context.Context, in SpeakReplyInput) (SpeakReplyOutput, error) {
	if in.DeliveryKey == "" || in.ChannelID == "" || strings.TrimSpace(in.Content) == "" {
		return SpeakReplyOutput{}, badInput("delivery_key, channel_id and content are required")
	}
	// A retry finishes what an earlier attempt posted — recorded, or seen in
	// the channel — with the text alone rather than speaking (and paying)
	// again.
	_, posted, err := a.delivered(ctx, deliverykey.Part(in.DeliveryKey, 0))
	if err == nil && !posted && activity.GetInfo(ctx).Attempt > 1 {
		posted, err = a.adoptEarlierPost(ctx, in.PostReplyInput)
	}
	if err != nil {
		return SpeakReplyOutput{}, err
	}
	if posted {
		id, err := a.postChunks(ctx, in.PostReplyInput, nil)
		return SpeakReplyOutput{DiscordMessageID: id}, err
	}
	p, err := a.voiceOf(ctx, in.PersonalityID)
	if err != nil {
		return SpeakReplyOutput{}, err
	}
	speech, err := a.synthesise(ctx, in, p)
	if isType(err, ErrNoKey) || isType(err, ErrKeyInactive) || (err == nil && speech == nil) {
		// The usual case for a user without an ElevenLabs key: the text
		// alone, here, rather than a failed activity on every voiced reply.
		id, err := a.postChunks(ctx, in.PostReplyInput, nil)
		return SpeakReplyOutput{DiscordMessageID: id}, err
	}
	if err != nil {
		return SpeakReplyOutput{}, err
	}
	id, err := a.postChunks(ctx, in.PostReplyInput, speech.file(p))
	if err != nil {
		return SpeakReplyOutput{}, speech.postFailed(err, "the voiced reply could not be posted; the text goes alone")
	}
	return speech.output(id), nil
}

// voiceOf is the personality with its voice configuration loaded;
// ErrNoVoice (non-retryable) when it has none, or is gone.
func (a *Activities) voiceOf(ctx context.Context, id uuid.UUID) (*ent.Personality, error) {
	p, err := a.store().PersonalityWithVoice(ctx, id)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("load personality: %w", err)
	}
	if err != nil || !p.VoiceEnabled || p.Edges.VoiceConfig == nil {
		return nil, temporal.NewNonRetryableApplicationError("this personality has no voice", ErrNoVoice, nil)
	}
	return p, nil
}

// paidSpeech is audio ElevenLabs made and charged for, with its usage
// record written (or pending, when PostgreSQL was away).
type paidSpeech struct {
	audio      []byte
	characters int
	source     string
	pending    *UsageRecord
}

// synthesise speaks in's content in p's voice with the key resolveVoiceKey
// picks for the user, and writes the usage row: nil speech, no error, when
// the content has nothing to say. Errors: resolveVoiceKey's (ErrNoKey,
// ErrKeyInactive) and voiceError's, the user's failed key riding on them.
func (a *Activities) synthesise(ctx context.Context, in SpeakReplyInput, p *ent.Personality) (*paidSpeech, error) {
	vc := p.Edges.VoiceConfig
	u, err := a.store().User(ctx, in.DiscordUserID)
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	key, source, err := a.resolveVoiceKey(ctx, u)
	if err != nil {
		return nil, err
	}
	text := SpeakableText(in.Content, MaxSpokenCharacters)
	if text == "" {
		return nil, nil
	}
	speech, err := a.ElevenLabs.TextToSpeech(ctx, key, elevenlabs.SpeechRequest{
		VoiceID: vc.VoiceID, ModelID: vc.VoiceModel, Text: text,
		Settings: elevenlabs.VoiceSettings{Stability: vc.Stability, SimilarityBoost: vc.Similarity, Style: vc.Style},
	})
	if err != nil {
		err = a.voiceError(ctx, err, key, source, vc.VoiceID, vc.VoiceModel)
		if source == KeyFromUser {
			err = withFailedKey(err, key)
		}
		return nil, err
	}
	// ElevenLabs charged for the audio whether or not Discord takes it. A
	// failed write is logged, not retried: a retry would pay again.
	out := &paidSpeech{audio: speech.Audio, characters: speech.Characters, source: source}
	if speech.Characters > 0 {
		rec := UsageRecord{
			ID: callUsageID(ctx, in.DeliveryKey, "voice"), DiscordUserID: in.DiscordUserID, PersonalityID: &p.ID,
			Model: vc.VoiceModel, Usage: openrouter.Usage{PromptTokens: speech.Characters, TotalTokens: speech.Characters},
			Kind: "voice", Provider: ProviderElevenLabs,
		}
		if err := a.recordUsage(ctx, rec); err != nil {
			a.Log.Warn("voice usage not written; the workflow writes it", "error", err, "characters", speech.Characters)
			out.pending = &rec
		}
	}
	return out, nil
}

// file is the audio as p's attachment (audioName).
func (s *paidSpeech) file(p *ent.Personality) *discordgo.File {
	return &discordgo.File{Name: audioName(p.Name), ContentType: "audio/mpeg", Reader: bytes.NewReader(s.audio)}
}

// output is SpeakReply's answer once the audio reached message id.
func (s *paidSpeech) output(id string) SpeakReplyOutput {
	return SpeakReplyOutput{DiscordMessageID: id, Spoken: true, Characters: s.characters, KeySource: s.source, PendingUsage: s.pending}
}

// postFailed is the audio's post failing with err: ErrVoicePostFailed,
// non-retryable (a retry would pay again), an unwritten usage row riding on
// it for the workflow to write.
func (s *paidSpeech) postFailed(err error, msg string) error {
	return withPendingUsage(temporal.NewApplicationErrorWithOptions(msg, ErrVoicePostFailed,
		temporal.ApplicationErrorOptions{NonRetryable: true, Cause: err}), s.pending)
}

// voiceError turns an ElevenLabs failure into the workflow's error types,
// by what it means (see elevenlabs.Kind):
//   - the key is bad or out of characters: ErrInvalidKey / ErrNoCredits,
//     and the workflow switches it off and DMs the user. A key is switched
//     off only for what the key check of /wallet test refuses too, or that
//     command would just turn it back on and the next reply off again: so
//     characters count as used up only with none left on a plan that cannot
//     extend (a key's own credit limit or a usage cap keeps the key on, with
//     a note);
//   - the key lacks the text_to_speech permission (the key check reads
//     /v1/user, which does not need it), the account is blocked, its plan
//     may not use this voice, or the voice settings are wrong:
//     ErrVoiceRefused with a note for the channel naming what to do, and
//     the key stays on;
//   - rate limits and outages: retried briefly, then the text goes alone.
//
// The operator's key failing for its own or its account's sake is the
// operator's problem and never the user's.
func (a *Activities) voiceError(ctx context.Context, err error, key, source, voiceID, model string) error {
	e, ok := elevenlabs.AsError(err)
	if !ok {
		return elevenLabsError("ElevenLabs call failed", err, maxVoiceRetryDelay)
	}
	if e.Kind == elevenlabs.KindQuotaExceeded && source == KeyFromUser {
		el := providerOf(ProviderElevenLabs)
		if _, cerr := a.checkElevenLabsKey(ctx, key); cerr == nil {
			a.Log.Warn("ElevenLabs refused the voice for quota, but the account has characters or can extend", "code", e.Code, "status", e.Status)
			return temporal.NewNonRetryableApplicationError(
				"No voice this time: ElevenLabs says your key is out of characters ("+e.Code+"), though your account has some or can extend. Your key stays saved; raise the key's credit limit ("+
					bareURL(el.KeysURL)+") or your usage cap ("+bareURL(el.BillingURL)+").",
				ErrVoiceRefused, nil)
		}
	}
	switch e.Kind {
	case elevenlabs.KindInvalidKey, elevenlabs.KindQuotaExceeded, elevenlabs.KindMissingPermission,
		elevenlabs.KindAccountBlocked, elevenlabs.KindPlanRestricted:
		if source == KeyFromOperator {
			a.Log.Error("the operator's ElevenLabs key was refused", "kind", string(e.Kind), "code", e.Code, "status", e.Status)
			return temporal.NewNonRetryableApplicationError("the operator's ElevenLabs key was refused", ErrOperatorKeyFails, nil)
		}
	}
	switch e.Kind {
	case elevenlabs.KindMissingPermission, elevenlabs.KindAccountBlocked, elevenlabs.KindPlanRestricted, elevenlabs.KindBadRequest:
		a.Log.Warn("ElevenLabs refused the voice", "kind", string(e.Kind), "code", e.Code, "status", e.Status, "voice_id", voiceID)
		return temporal.NewNonRetryableApplicationError(VoiceRefusalNote(e, voiceID, model), ErrVoiceRefused, nil)
	}
	// The text waits on the voice: a long Retry-After is not worth it.
	return elevenLabsError("ElevenLabs call failed", err, maxVoiceRetryDelay)
}

// VoiceRefusalNote is the one line posted under a reply ElevenLabs would not
// speak for a reason of the account, its plan or the voice settings: what
// happened, and what the user (or the personality's owner) can do. It
// quotes ElevenLabs' identifier, never its message, so it stays short.
func VoiceRefusalNote(e *elevenlabs.Error, voiceID, model string) string {
	code := e.Code
	if code == "" {
		code = string(e.Kind)
	}
	const prefix = "No voice this time: "
	el := providerOf(ProviderElevenLabs)
	switch code {
	case "detected_unusual_activity":
		return prefix + "ElevenLabs has paused free-tier use of your ElevenLabs account (unusual activity detected). Your key stays saved; a paid ElevenLabs plan lifts the block, or it may lift on its own later."
	case "payment_issue":
		return prefix + "ElevenLabs reports a failed or incomplete payment on your ElevenLabs plan. Your key stays saved; settle it at " + el.BillingURL + " and voices come back."
	case "voice_limit_reached":
		return prefix + "your ElevenLabs account has no free voice slot for this personality's voice. Remove a voice at https://elevenlabs.io/app/voice-lab to make room."
	case "voice_access_denied":
		return prefix + fmt.Sprintf("your ElevenLabs account may not use this personality's voice (%s). Only the bot's operator can give it another voice.", voiceID)
	case "model_access_denied", "model_not_found", "unsupported_model":
		return prefix + fmt.Sprintf("ElevenLabs will not speak with this personality's voice model %q (%s). Only the bot's operator can give it another model.", model, code)
	case "voice_not_found", "invalid_voice_id":
		return prefix + fmt.Sprintf("ElevenLabs has no voice %q (%s). Only the bot's operator can give this personality another voice.", voiceID, code)
	}
	switch e.Kind {
	case elevenlabs.KindMissingPermission:
		return prefix + "your ElevenLabs key may not make speech (" + code + "). Your key stays saved; give it the Text to Speech permission at " + el.KeysURL + "."
	case elevenlabs.KindPlanRestricted:
		return prefix + "this personality's voice needs a paid ElevenLabs plan (" + code + "). Upgrade at " + el.BillingURL + ", or ask the bot's operator to give it one of ElevenLabs' default voices."
	case elevenlabs.KindAccountBlocked:
		return prefix + "ElevenLabs refused your ElevenLabs account (" + code + "). Your key stays saved; check your account at " + el.BillingURL + "."
	}
	return prefix + "ElevenLabs refused this personality's voice settings (" + code + "). Only the bot's operator can change them."
}

var (
	// Discord markup a voice should not read out: mentions, channels, roles,
	// custom emoji and timestamps; links; code blocks.
	discordTokens = regexp.MustCompile(`<(?:@[!&]?|#|a?:\w+:|t:)[^>]*>|https?://\S+|` + "```[\\s\\S]*?```")
	markdownMarks = regexp.MustCompile("[*_~`|]+|(?m)^#{1,3} |(?m)^> ")
	blankRuns     = regexp.MustCompile(`[ \t]+`)
)

// SpeakableText is content as a voice should say it: Discord markup and
// markdown removed, at most limit characters, cut at a sentence end when it
// must be cut.
func SpeakableText(content string, limit int) string {
	s := discordTokens.ReplaceAllString(content, " ")
	s = markdownMarks.ReplaceAllString(s, "")
	s = strings.TrimSpace(blankRuns.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	s = string([]rune(s)[:limit])
	if i := strings.LastIndexAny(s, ".!?\n"); i > limit/2 {
		s = s[:i+1]
	}
	return strings.TrimSpace(s)
}

// bareURL is url without its https:// scheme, for a link in parentheses.
func bareURL(url string) string { return strings.TrimPrefix(url, "https://") }

// audioName is the attachment's file name: the personality's name, safe.
func audioName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	if b.Len() == 0 {
		return "voice.mp3"
	}
	return truncate(b.String(), 60) + ".mp3"
}
