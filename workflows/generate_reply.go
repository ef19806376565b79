package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/searchattr"
)

// GenerateReplyName is the registered type of GenerateReply.
const GenerateReplyName = "GenerateReply"

// GenerateReplyInput is the input docs/contract.md gives GenerateReply.
type GenerateReplyInput struct {
	RequestID     string `json:"request_id"`
	DiscordUserID string `json:"discord_user_id"`
	Username      string `json:"username"`
	Personality   string `json:"personality"`
	ChannelID     string `json:"channel_id"`
	GuildID       string `json:"guild_id,omitempty"`
	MessageID     string `json:"message_id"`
	Content       string `json:"content"`
	// Mentions name the user, channel and role mentions in Content, from
	// the gateway event (optional: without it they reach the model as
	// Discord wrote them). Passed on to the generate activity, SaveTurns
	// and RememberExchange's input (which keep the turns with their
	// mentions as names), which changes no command the workflow emits, so
	// no version is needed.
	Mentions *MentionNames `json:"mentions,omitempty"`
	// Attachments are the message's images, metadata only: the generate
	// activity fetches their bytes, so none enter history. Optional, and
	// passed on to that activity only, so no version is needed. A message
	// with images may have no text.
	Attachments []Attachment `json:"attachments,omitempty"`
	// References are the ids of the messages this one points at: the
	// message replied to (its chain is followed), whether it is a forward,
	// and — when set at all — the message links in Content are followed
	// where both the speaker and the bot can read their channel. Ids only:
	// the generate activity fetches the messages, so no referenced content
	// enters history. Optional, passed on to that activity only, so no
	// version is needed.
	References *References `json:"references,omitempty"`
	// SearchAttributes are the Tzurot search attributes the starter found
	// registered on the namespace (searchattr.Set): the workflow sets only
	// these, behind version "search-attributes". Absent: it sets none.
	SearchAttributes searchattr.Set `json:"search_attributes,omitempty"`
}

// References are GenerateReplyInput's referenced message ids
// (activities.References, here so the bot need not import activities).
type References = activities.References

// MessageRef is one Discord message by channel and id (activities.MessageRef).
type MessageRef = activities.MessageRef

// Attachment is an image of the message answered
// (activities.Attachment, here so the bot need not import activities).
type Attachment = activities.Attachment

// MentionNames are GenerateReplyInput's names of a message's mentions
// (activities.MentionNames, here so the bot need not import activities).
type MentionNames = activities.MentionNames

// Outcomes of GenerateReply.
const (
	ReplyReplied     = "replied"
	ReplyKeyRejected = "key_rejected"
	ReplyNoKey       = "no_key"
	ReplyRateLimited = "rate_limited"
	ReplyFailed      = "failed"
)

// GenerateReplyResult is the result docs/contract.md gives GenerateReply.
type GenerateReplyResult struct {
	Outcome          string `json:"outcome"`
	DiscordMessageID string `json:"discord_message_id,omitempty"`
}

// GenerateReplyID is the workflow id for a request.
func GenerateReplyID(requestID string) string { return "reply/" + requestID }

// DefaultErrorMessage is said in the channel when a personality has none of its own.
const DefaultErrorMessage = "Sorry, I couldn't answer that just now. Please try again in a little while."

// GenerateReply answers one user message as a personality, durably: with the
// user's own key, or the operator's only as GUEST_MODE allows — never the
// operator's after the user's key failed. Workflow id reply/<request_id>, the
// request id derived from the Discord message id so a redelivered event
// cannot produce a second reply.
//
// The story, step by step:
//  1. ResolvePersonality (a local activity) finds the personality the user
//     named, among those they may use; if none, the workflow ends "failed"
//     without a post. A user or guild on the deny list ends it "denied",
//     without a post.
//  2. GenerateWithinLimits (Generate in histories before "guest-token-limit")
//     resolves the key, refuses a guest over the daily allowance, recalls
//     long-term memories, calls the model and writes the usage row;
//     retried on outages and rate limits, never on ProviderFailures or
//     KeyFailures.
//  3. A streamed reply (stream_reply.go) was posted by step 2 as it was
//     written, and is not posted again; a voiced one then gets its audio
//     attached (SpeakReply), or a note why not (RewriteStream). Otherwise the reply is posted
//     (PostReply, after DiscardStream when a stream could not finish), or
//     spoken and posted (SpeakReply) on the share of requests the
//     personality's voice gives; a voice failure posts the text alone.
//     SaveTurns then writes both turns to the conversation history, and,
//     when Generate says the exchange is to be remembered, RememberExchange
//     (id reply/<request_id>/memory) is started and abandoned to write its
//     long-term memory in the background. Outcome "replied".
//  4. On failure, after DiscardStream deletes what a stream posted: a
//     user's key refused (401 confirmed, 402) is switched off
//     (DeactivateKey) and its owner told once by DM (SendDM) — by the one
//     workflow that switched it off, when two replies hit it at once — then
//     the personality's error message is posted ("key_rejected"); no key, or an
//     inactive one, gets the reason posted ("no_key", "key_rejected"); an
//     allowance or quota used up gets when it comes back ("rate_limited");
//     an empty or filtered answer gets what happened ("failed"); anything
//     else, after its retries, the personality's error message ("failed").
//
// A usage row an activity could not write after a paid call is written by
// RecordUsage before anything else, so no outcome loses it.
//
// Its current details follow these steps, and when it ends it sets the
// search attributes it learned (outcome, model, key source, tokens).
func GenerateReply(ctx workflow.Context, in GenerateReplyInput) (GenerateReplyResult, error) {
	pr := &progress{title: speakerOf(in) + " → " + in.Personality}
	res, err := generateReply(ctx, in, pr)
	if err == nil {
		pr.finish(ctx, in.SearchAttributes, res.Outcome)
		// An error is retried or fails the workflow: no outcome to count.
		countReply(ctx, in.RequestID, res.Outcome, cmp.Or(pr.keySource, metrics.KeyUnknown))
	}
	return res, err
}

// countReplyChange versions counting a reply by the local activity
// CountReply, once (its row in the deliveries table is the guard), instead
// of through the workflow's metrics handler, which counted again each time
// the last workflow task was retried or run again after a worker died.
// Runs recorded before it count nothing when they finish on a new worker.
const countReplyChange = "count-reply-once"

// countReply counts the finished reply in tzurot_replies_total, once. A
// failure is logged: a metric is never a reason for a reply to fail.
func countReply(ctx workflow.Context, requestID, outcome, keySource string) {
	if workflow.GetVersion(ctx, countReplyChange, workflow.DefaultVersion, 1) < 1 {
		return
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		Summary:             "count the reply in tzurot_replies_total, once",
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	if err := workflow.ExecuteLocalActivity(lctx, a.CountReply, activities.CountReplyInput{
		WorkflowID: GenerateReplyID(requestID), Outcome: outcome, KeySource: keySource,
	}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("reply not counted in tzurot_replies_total", "error", err)
	}
}

// speakerOf names the user in details: their username, else their id.
func speakerOf(in GenerateReplyInput) string {
	if in.Username != "" {
		return in.Username
	}
	return in.DiscordUserID
}

func generateReply(ctx workflow.Context, in GenerateReplyInput, pr *progress) (GenerateReplyResult, error) {
	if in.RequestID == "" || in.DiscordUserID == "" || in.ChannelID == "" || (in.Content == "" && len(in.Attachments) == 0 && (in.References == nil || !in.References.Forward)) {
		return GenerateReplyResult{}, temporal.NewNonRetryableApplicationError(
			"request_id, discord_user_id, channel_id and content (or attachments, or a forward) are required", activities.ErrBadInput, nil)
	}
	log := workflow.GetLogger(ctx)

	pr.at(ctx, "finding the personality")
	p, err := resolvePersonality(ctx, in.Personality, in.DiscordUserID, in.GuildID)
	if denied(err) {
		log.Warn("the user or guild is on the deny list; nothing posted")
		return GenerateReplyResult{Outcome: ReplyDenied}, nil
	}
	if err != nil {
		log.Warn("personality not resolved", "personality", in.Personality)
		return GenerateReplyResult{Outcome: ReplyFailed}, nil
	}
	pr.title = speakerOf(in) + " → " + p.DisplayName
	pr.at(ctx, "asking the model")

	// The activity heartbeats every 2 s while the provider works, so a dead
	// worker is noticed in seconds.
	genCtx := withSummary(ctx, providerOptions(5), "ask "+p.DisplayName+"'s model for the reply")
	stream := streamTarget(ctx, in, p)
	if stream != nil {
		genCtx = withSummary(ctx, streamingOptions(5), "ask "+p.DisplayName+"'s model for the reply and stream it")
	}
	// Version 1 answers through GenerateWithinLimits, which refuses guests over
	// their daily allowance before any provider call; histories recorded
	// before it scheduled Generate and must keep doing so on replay.
	var generate any = a.Generate
	if workflow.GetVersion(ctx, "guest-token-limit", workflow.DefaultVersion, 1) >= 1 {
		generate = a.GenerateWithinLimits
	}
	var gen activities.GenerateOutput
	genErr := workflow.ExecuteActivity(genCtx, generate, activities.GenerateInput{
		RequestID: in.RequestID, DiscordUserID: in.DiscordUserID, Username: in.Username,
		PersonalityID: p.ID, ChannelID: in.ChannelID, Content: in.Content, Mentions: in.Mentions, Now: workflow.Now(ctx),
		MessageID: messageIDFor(in), Attachments: in.Attachments, References: in.References, GuildID: guildIDFor(in),
		Stream: stream,
	}).Get(ctx, &gen)

	if genErr == nil {
		pr.learned(gen.Model, gen.KeySource, gen.Usage.TotalTokens)
		// Before the post, so that a post that fails for good cannot lose
		// the row; PendingUsage is nil unless PostgreSQL was away.
		recordPendingUsage(ctx, gen.PendingUsage)
		id := gen.DiscordMessageID // the streamed reply, already posted whole
		if id == "" {
			discardStream(ctx, stream)
			pr.at(ctx, "posting the reply")
			if id, err = reply(ctx, in, p, gen.Text); err != nil {
				return GenerateReplyResult{}, err
			}
		} else if stream != nil && voiced(in, p) {
			pr.at(ctx, "speaking the reply")
			speakStreamed(ctx, in, p, gen.Text, stream)
		}
		pr.at(ctx, "saving the conversation")
		saveCtx := withSummary(ctx, discordOptions, "save both turns to the conversation history")
		if err := workflow.ExecuteActivity(saveCtx, a.SaveTurns, activities.SaveTurnsInput{
			PersonalityID: p.ID, ChannelID: in.ChannelID, GuildID: in.GuildID,
			DiscordUserID: in.DiscordUserID, Username: in.Username, Mentions: in.Mentions,
			UserContent: userTurn(in), UserMessageID: in.MessageID,
			ReplyContent: gen.Text, ReplyReasoning: gen.Reasoning, ReplyMessageID: id,
		}).Get(ctx, nil); err != nil {
			return GenerateReplyResult{}, err
		}
		// Version 1 remembers the exchange in a workflow of its own, after
		// the post; asked only when Generate says to (it never did before
		// long-term memory), so older histories carry no marker.
		if gen.Remember && workflow.GetVersion(ctx, "long-term-memory", workflow.DefaultVersion, 1) >= 1 {
			remember(ctx, in, p, gen.Text)
		}
		return GenerateReplyResult{Outcome: ReplyReplied, DiscordMessageID: id}, nil
	}

	recordPendingUsage(ctx, activities.PendingUsageOf(genErr))
	// No half reply stays beside the notice posted below.
	discardStream(ctx, stream)
	errType := errorType(genErr)
	pr.learned("", keySourceOf(errType), 0)
	pr.at(ctx, "telling the channel why there is no reply")
	switch errType {
	case activities.ErrInvalidKey, activities.ErrNoCredits:
		// A confirmed 401, or a 402, on the user's own key: switch it off, tell
		// them privately once, and answer in the channel without any other key.
		if err := keyRejected(ctx, in.DiscordUserID, deliverykey.New(GenerateReplyID(in.RequestID), deliverykey.DM), errType, failedKey(genErr)); err != nil {
			return GenerateReplyResult{}, err
		}
		id, err := post(ctx, in, p, errorMessage(p))
		if err != nil {
			return GenerateReplyResult{}, err
		}
		return GenerateReplyResult{Outcome: ReplyKeyRejected, DiscordMessageID: id}, nil
	case activities.ErrLimitReached:
		// No version needed: only GenerateWithinLimits returns this type, so no
		// history recorded before it can reach this branch.
		id, err := post(ctx, in, p, limitMessage(in.DiscordUserID, genErr))
		if err != nil {
			return GenerateReplyResult{}, err
		}
		return GenerateReplyResult{Outcome: ReplyRateLimited, DiscordMessageID: id}, nil
	case activities.ErrKeyInactive, activities.ErrNoKey,
		activities.ErrQuotaExhausted, activities.ErrUnavailableUntil,
		activities.ErrOutOfTokens, activities.ErrReplyFiltered, activities.ErrEmptyReply, activities.ErrImageRefused:
		// The activity's message says what happened and what would change
		// it: a key switched off or missing, or a failure final after one
		// call. No version needed for the final ones: only activities built
		// with those types return them, so no history recorded before them
		// holds such a failure, and replaying one never reaches this branch.
		id, err := post(ctx, in, p, fmt.Sprintf("<@%s> %s", in.DiscordUserID, appMessage(genErr)))
		if err != nil {
			return GenerateReplyResult{}, err
		}
		outcome := ReplyFailed
		switch errType {
		case activities.ErrKeyInactive:
			outcome = ReplyKeyRejected
		case activities.ErrNoKey:
			outcome = ReplyNoKey
		case activities.ErrQuotaExhausted:
			outcome = ReplyRateLimited
		}
		return GenerateReplyResult{Outcome: outcome, DiscordMessageID: id}, nil
	}
	log.Warn("reply failed after retries", "error_type", errType)
	id, err := post(ctx, in, p, errorMessage(p))
	if err != nil {
		return GenerateReplyResult{}, err
	}
	outcome := ReplyFailed
	if errType == activities.ErrRateLimited {
		outcome = ReplyRateLimited
	}
	return GenerateReplyResult{Outcome: outcome, DiscordMessageID: id}, nil
}

// messageIDFor is the Discord message whose attachments' URLs the generate
// activity may fetch again: only asked for a message with attachments, so
// histories without them schedule the activity with the input they had.
func messageIDFor(in GenerateReplyInput) string {
	if len(in.Attachments) == 0 && (in.References == nil || !in.References.Forward) {
		return ""
	}
	return in.MessageID
}

// guildIDFor is the guild the generate activity is told of: only with
// References, where message links are followed within it, so inputs
// without them stay as they were.
func guildIDFor(in GenerateReplyInput) string {
	if in.References == nil {
		return ""
	}
	return in.GuildID
}

// userTurn is the user's message as the conversation history keeps it:
// its text, and the names of its images (their bytes are not kept).
func userTurn(in GenerateReplyInput) string {
	if len(in.Attachments) == 0 {
		return in.Content
	}
	names := make([]string, len(in.Attachments))
	for i, at := range in.Attachments {
		names[i] = at.Filename
	}
	note := "[image(s) attached: " + strings.Join(names, ", ") + "]"
	if in.Content == "" {
		return note
	}
	return in.Content + "\n" + note
}

func post(ctx workflow.Context, in GenerateReplyInput, p activities.PersonalityRef, content string) (string, error) {
	return postText(ctx, in, p, content, false)
}

func postText(ctx workflow.Context, in GenerateReplyInput, p activities.PersonalityRef, content string, mayExist bool) (string, error) {
	var id string
	err := workflow.ExecuteActivity(withSummary(ctx, discordOptions, "post as "+p.DisplayName+" in the channel"), a.PostReply, activities.PostReplyInput{
		DeliveryKey: deliverykey.New(GenerateReplyID(in.RequestID), deliverykey.Reply),
		ChannelID:   in.ChannelID, Username: p.DisplayName, AvatarURL: p.AvatarURL, Content: content,
		MayExist: mayExist, PersonalityID: spokenBy(p),
	}).Get(ctx, &id)
	return id, err
}

// spokenBy is the personality a post speaks as, for its delivery record
// (PostReplyInput.PersonalityID). Only the activity's input changes, not
// the commands the workflow emits, so no version is needed.
func spokenBy(p activities.PersonalityRef) *uuid.UUID {
	if p.ID == uuid.Nil {
		return nil
	}
	return &p.ID
}

// reply posts the generated text, spoken as well on the share of requests
// the personality's voice frequency gives. The voice step came after
// histories were recorded without it; it only runs for voiced personalities
// (whose ResolvePersonality result names a voice), behind its own version.
func reply(ctx workflow.Context, in GenerateReplyInput, p activities.PersonalityRef, text string) (string, error) {
	if !voiced(in, p) ||
		workflow.GetVersion(ctx, "voice-reply", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return post(ctx, in, p, text)
	}
	var out activities.SpeakReplyOutput
	err := workflow.ExecuteActivity(withSummary(ctx, voiceOptions, "speak "+p.DisplayName+"'s reply (ElevenLabs) and post it"), a.SpeakReply, activities.SpeakReplyInput{
		PostReplyInput: activities.PostReplyInput{
			DeliveryKey: deliverykey.New(GenerateReplyID(in.RequestID), deliverykey.Reply),
			ChannelID:   in.ChannelID, Username: p.DisplayName, AvatarURL: p.AvatarURL, Content: text,
			PersonalityID: spokenBy(p),
		},
		DiscordUserID: in.DiscordUserID, PersonalityID: p.ID,
	}).Get(ctx, &out)
	if err == nil {
		recordPendingUsage(ctx, out.PendingUsage)
		return out.DiscordMessageID, nil
	}
	// A voice failure never costs the text reply: it is posted first, and
	// what follows a rejected key (switching it off, the DM) can only be
	// logged if it fails. The voiced attempt may have reached Discord before
	// failing, so the text post looks for it first.
	recordPendingUsage(ctx, activities.PendingUsageOf(err))
	errType := errorType(err)
	log := workflow.GetLogger(ctx)
	log.Warn("no voice for this reply; posting the text alone", "error_type", errType)
	content := text
	// Version 1 posts, under the text, the one-line note SpeakReply gave for
	// a refusal that is not the key's (a blocked account, a plan limit, bad
	// voice settings): the key stays on and the user learns why there is no
	// voice. Asked only on this branch, so other histories carry no marker.
	if errType == activities.ErrVoiceRefused &&
		workflow.GetVersion(ctx, "voice-note", workflow.DefaultVersion, 1) >= 1 {
		note, _, _ := strings.Cut(appMessage(err), "\n")
		content = text + "\n-# " + note
	}
	id, perr := postText(ctx, in, p, content, true)
	if perr != nil {
		return "", perr
	}
	if errType == activities.ErrInvalidKey || errType == activities.ErrNoCredits {
		if err := voiceKeyRejected(ctx, in, errType, appMessage(err), failedKey(err)); err != nil {
			log.Error("the rejected ElevenLabs key was not switched off or the user not told", "error", err)
		}
	}
	return id, nil
}

// voiceOptions: speech is worth a couple of quick tries, not a long wait
// while the text reply is held back.
var voiceOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    45 * time.Second,
	ScheduleToCloseTimeout: 90 * time.Second,
	HeartbeatTimeout:       10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
		MaximumAttempts:    3,
		NonRetryableErrorTypes: append([]string{activities.ErrNoVoice, activities.ErrDiscordRefused, activities.ErrVoicePostFailed},
			append(append([]string{}, activities.ProviderFailures...), activities.KeyFailures...)...),
	},
}

// voiceKeyRejected switches off the user's ElevenLabs key and tells them
// privately, once; their replies go on as text.
func voiceKeyRejected(ctx workflow.Context, in GenerateReplyInput, errType, detail string, failed activities.FailedKey) error {
	dctx := withSummary(ctx, discordOptions, "switch off the user's refused ElevenLabs key")
	var off bool
	if err := workflow.ExecuteActivity(dctx, a.DeactivateKey, activities.DeactivateKeyInput{
		DiscordUserID: in.DiscordUserID, Provider: activities.ProviderElevenLabs, KeyFingerprint: failed.Fingerprint,
	}).Get(ctx, &off); err != nil {
		return err
	}
	// As in keyRejected: a key stored since the failure stays on, unmentioned.
	if failed.Fingerprint != "" && !off && workflow.GetVersion(ctx, "deactivate-failed-voice-key", workflow.DefaultVersion, 1) >= 1 {
		return nil
	}
	why := "ElevenLabs rejected your API key (" + detail + "), so I switched it off and stopped using it."
	if errType == activities.ErrNoCredits {
		why = "Your ElevenLabs key has no characters left (" + detail + "), so I switched it off and stopped using it."
	}
	msg := why + " Replies still come as text, and no one else's key was used. To fix it: check the key (and its text_to_speech permission) or your quota at https://elevenlabs.io/app/settings/api-keys, then run /wallet set provider:elevenlabs, or /wallet test provider:elevenlabs to re-check the one stored."
	return dm(ctx, deliverykey.New(GenerateReplyID(in.RequestID), deliverykey.VoiceDM), in.DiscordUserID, msg)
}

// limitMessage tells a guest over the shared allowance when it frees up, as a
// Discord timestamp so each reader sees it in their own time zone.
func limitMessage(userID string, err error) string {
	var d activities.LimitDetails
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Details(&d) != nil || d.RetryAt.IsZero() {
		return fmt.Sprintf("<@%s> you have used today's shared allowance; try again later or add your own key with /wallet set", userID)
	}
	return fmt.Sprintf("<@%s> you have used today's shared allowance; try again <t:%d:R> or add your own key with /wallet set", userID, d.RetryAt.Unix())
}

func errorMessage(p activities.PersonalityRef) string {
	if p.ErrorMessage != "" {
		return p.ErrorMessage
	}
	return DefaultErrorMessage
}
