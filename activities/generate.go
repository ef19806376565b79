package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
	"github.com/tzurot/tzurot/internal/heartbeat"
	"github.com/tzurot/tzurot/internal/limits"
	"github.com/tzurot/tzurot/internal/llmparams"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/reasoning"
	"github.com/tzurot/tzurot/internal/webhookname"
)

// PersonalityRef is what a workflow needs to know to speak as a personality.
type PersonalityRef struct {
	ID           uuid.UUID `json:"id"`
	Name         string    `json:"name"`
	DisplayName  string    `json:"display_name"`
	AvatarURL    string    `json:"avatar_url,omitempty"`
	ErrorMessage string    `json:"error_message,omitempty"`
	// Voice is set when the personality speaks some of its replies.
	Voice *VoiceRef `json:"voice,omitempty"`
	// Stream is set when its replies are streamed (streamsReplies): posted
	// while the model writes them, then edited as the text grows.
	Stream bool `json:"stream,omitempty"`
}

// ResolvePersonalityInput is who asks for which personality.
type ResolvePersonalityInput struct {
	// Ref is an id, a name, an alias or a display name (any case).
	Ref string `json:"ref"`
	// DiscordUserID is the speaker: the personality must be one they may use
	// (internal/access). Empty only in histories recorded before it was
	// passed, never replayed through the activity itself.
	DiscordUserID string `json:"discord_user_id"`
	// GuildID is the server the request comes from ("" for a DM or none):
	// checked against the deny list with the speaker (refuseDenied).
	GuildID string `json:"guild_id,omitempty"`
}

// ResolvePersonality finds the personality in.Ref means for the speaker, by
// the one rule of internal/access (id, then name, then alias, then display
// name; a personality the speaker may not use does not exist for them). It
// re-checks what the bot checked, so a workflow started by hand for another
// user's private personality is refused here: ErrNotFound, non-retryable,
// which names nothing private. A speaker or guild on the deny list is
// refused first: ErrDenied, non-retryable.
func (a *Activities) ResolvePersonality(ctx context.Context, in ResolvePersonalityInput) (PersonalityRef, error) {
	ref := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in.Ref), "@"))
	if ref == "" {
		return PersonalityRef{}, badInput("personality is required: give its name, an alias or its id")
	}
	if in.DiscordUserID == "" {
		return PersonalityRef{}, badInput("discord_user_id is required: a personality is resolved for the user who speaks to it")
	}
	st := a.store()
	s, err := st.Speaker(ctx, in.DiscordUserID, a.OperatorDiscordID)
	if err != nil {
		return PersonalityRef{}, err
	}
	if err := a.refuseDenied(ctx, s, in.GuildID); err != nil {
		return PersonalityRef{}, err
	}
	m, err := st.Resolve(ctx, s, ref)
	if errors.Is(err, access.ErrNotFound) {
		return PersonalityRef{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no personality you can use is called %q: check the name or alias", ref), ErrNotFound, nil)
	}
	if err != nil {
		return PersonalityRef{}, err
	}
	// Resolve read the personality's row: only its voice settings are left
	// to read, and only when its voice is on.
	p := m.Personality
	out := PersonalityRef{
		ID: p.ID, Name: p.Name, DisplayName: webhookname.Sanitize(deref(p.DisplayName, p.Name), p.Name),
		AvatarURL: deref(p.AvatarURL, ""), ErrorMessage: deref(p.ErrorMessage, ""),
		Stream: a.streamsReplies(p),
	}
	if !p.VoiceEnabled {
		return out, nil
	}
	vc, err := st.VoiceConfig(ctx, p.ID)
	if err != nil {
		return PersonalityRef{}, fmt.Errorf("look up voice settings: %w", err)
	}
	if vc != nil && vc.Frequency > 0 {
		out.Voice = &VoiceRef{Frequency: vc.Frequency}
	}
	return out, nil
}

// GenerateInput is one user message to answer.
type GenerateInput struct {
	RequestID     string    `json:"request_id"`
	DiscordUserID string    `json:"discord_user_id"`
	Username      string    `json:"username,omitempty"`
	PersonalityID uuid.UUID `json:"personality_id"`
	ChannelID     string    `json:"channel_id"`
	Content       string    `json:"content"`
	// Mentions name the mentions in Content (optional: histories before it
	// have none, and their mentions stay as Discord wrote them).
	Mentions *MentionNames `json:"mentions,omitempty"`
	// Now is the workflow's time of the request, so a retry builds the same prompt.
	Now time.Time `json:"now"`
	// MessageID is the Discord message answered, fetched again for fresh
	// attachment URLs when Attachments' have expired.
	MessageID string `json:"message_id,omitempty"`
	// Attachments are the message's images, metadata only (images.go):
	// their bytes are fetched here and never enter workflow history.
	Attachments []Attachment `json:"attachments,omitempty"`
	// GuildID is the guild of the message answered; empty in a DM, where
	// no message link is followed.
	GuildID string `json:"guild_id,omitempty"`
	// References are the ids of the messages the one answered points at
	// (references.go), fetched here; optional.
	References *References `json:"references,omitempty"`
	// Stream, when set, streams the reply to this target while the model
	// writes it (generate_stream.go): GenerateOutput.DiscordMessageID then
	// names the posted reply. Absent: the reply is returned to be posted.
	Stream *StreamTarget `json:"stream,omitempty"`
}

// GenerateOutput is the reply, with the reasoning kept apart from the text.
type GenerateOutput struct {
	Text      string           `json:"text"`
	Reasoning string           `json:"reasoning,omitempty"`
	Model     string           `json:"model"`
	KeySource string           `json:"key_source"`
	Usage     openrouter.Usage `json:"usage"`
	// PendingUsage is set when the provider call returned but its usage row
	// could not be written in time: the workflow writes it with RecordUsage,
	// so the paid call is not repeated for bookkeeping.
	PendingUsage *UsageRecord `json:"pending_usage,omitempty"`
	// Remember is set when the exchange is to be remembered (long-term
	// memory is on for the personality, a key may pay for the embedding,
	// and the user is not incognito): the workflow then runs Remember.
	Remember bool `json:"remember,omitempty"`
	// DiscordMessageID is the first message of the streamed reply, which
	// holds exactly Text as PostReply would post it; "" when the reply was
	// not streamed, or its messages could not be finished (the workflow
	// then discards them and posts Text).
	DiscordMessageID string `json:"discord_message_id,omitempty"`
}

// Generate resolves the key, builds the prompt, calls the provider and writes
// the usage row. The user's key is resolved and opened here, in the activity
// that uses it, so it never leaves the worker's memory.
func (a *Activities) Generate(ctx context.Context, in GenerateInput) (GenerateOutput, error) {
	st := a.store()
	p, err := st.PersonalityWithModel(ctx, in.PersonalityID)
	if err != nil {
		if ent.IsNotFound(err) {
			return GenerateOutput{}, temporal.NewNonRetryableApplicationError("personality was deleted", ErrNotFound, nil)
		}
		return GenerateOutput{}, fmt.Errorf("load personality: %w", err)
	}
	cfg := p.Edges.LlmConfig
	if cfg == nil {
		return GenerateOutput{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("personality %s has no LLM config: give it a model with /config", p.Name), ErrBadInput, nil)
	}
	params, err := paramsOf(cfg)
	if err != nil {
		return GenerateOutput{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("personality %s has invalid advanced parameters: %v", p.Name, err), ErrBadInput, nil)
	}
	lim, err := limits.Resolve(limits.Overrides{
		MaxConversationHistory: cfg.MaxConversationHistory, MaxMentionsPerMessage: cfg.MaxMentionsPerMessage,
		MaxChannelsPerMessage: cfg.MaxChannelsPerMessage, MaxRolesPerMessage: cfg.MaxRolesPerMessage,
		MaxReferencedMessages: cfg.MaxReferencedMessages,
	})
	if err != nil {
		// The bad values were replaced by their defaults: answer anyway.
		a.Log.Warn("personality limits out of range; their defaults apply", "personality", p.Name, "error", err)
	}

	u, err := st.User(ctx, in.DiscordUserID)
	if err != nil {
		return GenerateOutput{}, fmt.Errorf("load user: %w", err)
	}
	model := cfg.Model
	if u != nil {
		if model, params, err = a.applyUserConfig(ctx, u.DiscordID, p, model, params); err != nil {
			return GenerateOutput{}, err
		}
	}
	key, source, err := a.resolveKey(ctx, u, model)
	if err != nil {
		return GenerateOutput{}, err
	}

	content, images, err := a.seeImages(ctx, in, cfg.VisionModel, model, key, source)
	if err != nil {
		return GenerateOutput{}, err
	}

	var names MentionNames
	if in.Mentions != nil {
		names = *in.Mentions
	}
	content = a.withReferences(ctx, in, content, lim.MaxReferencedMessages, names, mentionLimits(lim))

	history, err := a.history(ctx, in.ChannelID, p.ID, lim.MaxConversationHistory)
	if err != nil {
		return GenerateOutput{}, err
	}
	tz := "UTC"
	if u != nil {
		tz = u.Timezone
	}
	msgs := BuildMessages(PromptInput{
		Persona: personaOf(p), History: history, Username: in.Username, DiscordUserID: in.DiscordUserID, Timezone: tz,
		Now: in.Now, Content: content, Model: model, Mentions: a.withStoredNames(ctx, history, names, in.DiscordUserID),
		MentionLimits: mentionLimits(lim),
	})
	msgs[len(msgs)-1].Images = images
	recalled, remember := a.recall(ctx, in, u, p, key, source, history, seenTurns(history, len(msgs)-2))
	msgs = withMemories(msgs, in.Username, tz, recalled)

	req := openrouter.ChatRequest{Model: model, Messages: msgs, Params: params}
	var (
		resp openrouter.ChatResponse
		sw   *StreamWriter
	)
	if in.Stream != nil {
		if sw, err = a.resumeStream(ctx, *in.Stream); err == nil {
			resp, err = a.chatStreaming(ctx, key, req, sw)
		}
	} else {
		resp, err = a.chatWithHeartbeat(ctx, key, req)
	}
	if err != nil {
		var pending *UsageRecord
		if oe, ok := openrouter.AsError(err); ok && oe.Usage.TotalTokens > 0 {
			// The upstream failed mid-answer after generating (and
			// billing) tokens: they get their row like any call's.
			rec := UsageRecord{
				ID: callUsageID(ctx, in.RequestID, "text"), DiscordUserID: in.DiscordUserID, PersonalityID: &p.ID,
				Model: oe.Model, Usage: oe.Usage, Kind: "text", userID: userIDOf(u),
			}
			if werr := a.recordUsage(ctx, rec); werr != nil {
				pending = &rec
			}
		}
		classify := a.classifyCallError
		if sw != nil {
			classify = a.classifyStreamError
		}
		return GenerateOutput{}, withPendingUsage(classify(ctx, err, key, source), pending)
	}
	// From here on the call is paid for: nothing below may fail the
	// activity in a way that repeats it.
	out := GenerateOutput{Model: resp.Model, KeySource: source, Usage: resp.Usage, Remember: remember}
	rec := UsageRecord{
		ID: callUsageID(ctx, in.RequestID, "text"), DiscordUserID: in.DiscordUserID, PersonalityID: &p.ID,
		Model: resp.Model, Usage: resp.Usage, Kind: "text", userID: userIDOf(u),
	}
	if err := a.recordUsage(ctx, rec); err != nil {
		a.Log.Warn("usage not written; the workflow writes it", "error", err)
		out.PendingUsage = &rec
	}
	visible, inline := reasoning.Split(resp.Content)
	if strings.TrimSpace(visible) == "" {
		// Billed and logged above: final unless the provider failed.
		return GenerateOutput{}, emptyReply(resp, params, out.PendingUsage)
	}
	out.Text, out.Reasoning = visible, reasoning.Join(resp.Reasoning, inline)
	if sw != nil {
		out.DiscordMessageID = a.finishStream(ctx, sw, visible)
	}
	return out, nil
}

// userIDOf is u's row id, uuid.Nil when the user has no row yet.
func userIDOf(u *ent.User) uuid.UUID {
	if u == nil {
		return uuid.Nil
	}
	return u.ID
}

// applyUserConfig applies the user's own /config overrides for this
// personality: their model, and their parameters over the personality's.
func (a *Activities) applyUserConfig(ctx context.Context, discordID string, p *ent.Personality, model string, params llmparams.Params) (string, llmparams.Params, error) {
	ov, err := a.store().UserConfig(ctx, discordID, p.ID)
	if err != nil {
		return "", params, fmt.Errorf("load user config: %w", err)
	}
	if ov == nil {
		return model, params, nil
	}
	if ov.Model != nil && *ov.Model != "" {
		model = *ov.Model
	}
	raw, err := json.Marshal(ov.AdvancedParameters)
	if err != nil {
		return "", params, err
	}
	own, err := llmparams.Parse(raw)
	if err == nil {
		params = params.Merge(own)
		err = params.Validate()
	}
	if err != nil {
		return "", params, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("your /config settings for %s are invalid (%v): change them with /config set or clear them with /config reset", p.Name, err), ErrBadInput, nil)
	}
	return model, params, nil
}

// chatWithHeartbeat heartbeats while the provider works, so a dead worker is
// noticed within the heartbeat timeout instead of the whole call's.
func (a *Activities) chatWithHeartbeat(ctx context.Context, key string, req openrouter.ChatRequest) (resp openrouter.ChatResponse, err error) {
	activity.RecordHeartbeat(ctx, "calling the provider")
	err = heartbeat.While(ctx, func() error { resp, err = a.OpenRouter.Chat(ctx, key, req); return err }, "waiting for the provider")
	return resp, err
}

func (a *Activities) history(ctx context.Context, channelID string, personalityID uuid.UUID, limit int) ([]Turn, error) {
	rows, err := a.store().History(ctx, channelID, personalityID, limit)
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	turns := make([]Turn, len(rows))
	for i, r := range rows {
		turns[i] = Turn{Role: r.Role, Content: r.Content}
		if r.Role == "user" {
			turns[i].MessageID = deref(r.DiscordMessageID, "")
		}
		if u := r.Edges.User; u != nil {
			// The name shown when they said it; turns saved before
			// author_name have the user's last known username.
			turns[i].AuthorID, turns[i].Author = u.DiscordID, deref(r.AuthorName, deref(u.Username, ""))
		}
	}
	return turns, nil
}

func paramsOf(cfg *ent.LLMConfig) (llmparams.Params, error) {
	base := llmparams.Params{Temperature: cfg.Temperature, TopP: cfg.TopP, MaxTokens: cfg.MaxTokens}
	raw, err := json.Marshal(cfg.AdvancedParameters)
	if err != nil {
		return llmparams.Params{}, err
	}
	adv, err := llmparams.Parse(raw)
	if err != nil {
		return llmparams.Params{}, err
	}
	merged := base.Merge(adv)
	return merged, merged.Validate()
}

func personaOf(p *ent.Personality) Persona {
	per := Persona{
		Name: p.Name, DisplayName: deref(p.DisplayName, ""),
		SystemPrompt: deref(p.SystemPrompt, ""), CharacterInfo: deref(p.CharacterInfo, ""),
	}
	for _, f := range []struct {
		label string
		v     *string
	}{
		{"Traits", p.PersonalityTraits}, {"Tone", p.PersonalityTone}, {"Age", p.PersonalityAge},
		{"Appearance", p.PersonalityAppearance}, {"Likes", p.PersonalityLikes}, {"Dislikes", p.PersonalityDislikes},
		{"Conversational goals", p.ConversationalGoals}, {"Conversational examples", p.ConversationalExamples},
	} {
		if f.v != nil && strings.TrimSpace(*f.v) != "" {
			per.Card = append(per.Card, [2]string{f.label, *f.v})
		}
	}
	if p.BirthMonth != nil && p.BirthDay != nil {
		per.BirthMonth, per.BirthDay = int(*p.BirthMonth), int(*p.BirthDay)
		if p.BirthYear != nil {
			per.BirthYear = int(*p.BirthYear)
		}
	}
	return per
}
