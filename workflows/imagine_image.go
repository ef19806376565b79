package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/searchattr"
)

// ImagineImageName is the registered type of ImagineImage.
const ImagineImageName = "ImagineImage"

// ImagineImageInput is the input docs/contract.md gives ImagineImage.
// ApplicationID is an addition to the shared spec:
// the follow-up webhook is addressed by it, and without it the activity asks
// Discord for the bot's own id.
type ImagineImageInput struct {
	DiscordUserID string `json:"discord_user_id"`
	Personality   string `json:"personality"`
	Prompt        string `json:"prompt"`
	Size          string `json:"size,omitempty"`
	ChannelID     string `json:"channel_id"`
	// SealedInteractionToken is the interaction's token, sealed by the bot
	// with APP_MASTER_KEY: the token lets anyone answer the interaction, so
	// it never enters history in clear (decoded payloads included).
	SealedInteractionToken *keycrypt.Sealed `json:"sealed_interaction_token,omitempty"`
	// InteractionToken is the token in clear, as runs started before
	// SealedInteractionToken (and by hand) carry it.
	InteractionToken string `json:"interaction_token,omitempty"`
	ApplicationID    string `json:"application_id,omitempty"`
	// SearchAttributes: as GenerateReplyInput's.
	SearchAttributes searchattr.Set `json:"search_attributes,omitempty"`
}

// Outcomes of ImagineImage beyond GenerateReply's.
const (
	ImaginePosted   = "posted"
	ImagineDisabled = "disabled"
)

// ImagineImageResult is the result docs/contract.md gives ImagineImage.
type ImagineImageResult struct {
	Outcome          string `json:"outcome"`
	DiscordMessageID string `json:"discord_message_id,omitempty"`
}

// ImagesOff is what a user is told when a personality does not make images.
// Images are switched on per personality by an enabled image_configs row,
// which only the operator writes (no slash command does), so that is who it
// names.
func ImagesOff(displayName string) string {
	return fmt.Sprintf("%s does not make images: only the bot's operator can switch images on for a personality (no command does), so ask them or pick another personality.", displayName)
}

// ImagineImageID is the workflow id for an interaction.
func ImagineImageID(interactionID string) string { return "imagine/" + interactionID }

// ImagineImage answers /imagine: one image from a personality's image
// model, paid for exactly as GenerateReply pays for text. Workflow id
// imagine/<interaction id>.
//
// The story, step by step:
//  1. ResolvePersonality (a local activity, as in GenerateReply) finds the
//     personality; if none, the reason is the answer ("failed").
//  2. Imagine resolves the key, checks LIMIT_IMAGES_PER_HOUR, calls the
//     model, writes the usage row and posts the image as an attachment, all
//     in one activity so the bytes never reach history. It answers through
//     the interaction's follow-up (the token sealed with the master key),
//     else in the channel. Outcome "posted".
//  3. On failure ImagineNotice posts one text answer where the image would
//     have gone, under the same delivery key, so the interaction gets
//     exactly one answer: images not enabled ("disabled"); a refused key
//     switched off and its owner told by DM, as in GenerateReply
//     ("key_rejected"); no key ("no_key"); a limit or quota reached
//     ("rate_limited"); anything else after its retries ("failed").
//
// Its current details follow these steps; when it ends it sets the search
// attributes it learned (outcome, model, key source).
func ImagineImage(ctx workflow.Context, in ImagineImageInput) (ImagineImageResult, error) {
	pr := &progress{title: "/imagine by user " + in.DiscordUserID + " → " + in.Personality}
	res, err := imagineImage(ctx, in, pr)
	if err == nil {
		pr.finish(ctx, in.SearchAttributes, res.Outcome)
	}
	return res, err
}

func imagineImage(ctx workflow.Context, in ImagineImageInput, pr *progress) (ImagineImageResult, error) {
	if in.DiscordUserID == "" || in.ChannelID == "" || in.Prompt == "" {
		return ImagineImageResult{}, temporal.NewNonRetryableApplicationError(
			"discord_user_id, channel_id and prompt are required", activities.ErrBadInput, nil)
	}
	log := workflow.GetLogger(ctx)
	wfID := workflow.GetInfo(ctx).WorkflowExecution.ID
	// The image and every refusal share one delivery key: whatever happens,
	// the interaction gets exactly one answer.
	target := activities.ImagineTarget{
		DeliveryKey: deliverykey.New(wfID, deliverykey.Post), ChannelID: in.ChannelID,
		ApplicationID: in.ApplicationID, InteractionToken: in.InteractionToken,
		SealedInteractionToken: in.SealedInteractionToken,
	}
	notice := func(outcome, content string) (ImagineImageResult, error) {
		var id string
		pr.at(ctx, "answering without an image")
		err := workflow.ExecuteActivity(withSummary(ctx, discordOptions, "answer /imagine with why there is no image"), a.ImagineNotice,
			activities.ImagineNoticeInput{ImagineTarget: target, Content: content}).Get(ctx, &id)
		if err != nil {
			return ImagineImageResult{}, err
		}
		return ImagineImageResult{Outcome: outcome, DiscordMessageID: id}, nil
	}

	pr.at(ctx, "finding the personality")
	p, err := resolvePersonality(ctx, in.Personality, in.DiscordUserID, "")
	if denied(err) {
		return ImagineImageResult{Outcome: ReplyDenied}, nil // posts nothing, as the bot would
	}
	if err != nil {
		return notice(ReplyFailed, fmt.Sprintf("<@%s> %s", in.DiscordUserID, appMessage(err)))
	}
	pr.title = "/imagine by user " + in.DiscordUserID + " → " + p.DisplayName
	pr.at(ctx, "making and posting the image")

	// Image models take 5–30 s; the heartbeat notices a dead worker sooner.
	genCtx := withSummary(ctx, providerOptions(4, activities.ErrImagesDisabled, activities.ErrDiscordRefused),
		"make "+p.DisplayName+"'s image and post it")
	var out activities.ImagineOutput
	err = workflow.ExecuteActivity(genCtx, a.Imagine, activities.ImagineInput{
		ImagineTarget: target, DiscordUserID: in.DiscordUserID, PersonalityID: p.ID,
		Prompt: in.Prompt, Size: in.Size,
	}).Get(ctx, &out)
	if err == nil {
		pr.learned(out.Model, out.KeySource, 0)
		recordPendingUsage(ctx, out.PendingUsage)
		return ImagineImageResult{Outcome: ImaginePosted, DiscordMessageID: out.DiscordMessageID}, nil
	}

	errType := errorType(err)
	if errType != activities.ErrLimitReached { // LIMIT_IMAGES_PER_HOUR holds whoever's key it is
		pr.learned("", keySourceOf(errType), 0)
	}
	switch errType {
	case activities.ErrImagesDisabled:
		return notice(ImagineDisabled, ImagesOff(p.DisplayName))
	case activities.ErrInvalidKey, activities.ErrNoCredits:
		if err := keyRejected(ctx, in.DiscordUserID, deliverykey.New(wfID, deliverykey.DM), errType, failedKey(err)); err != nil {
			return ImagineImageResult{}, err
		}
		return notice(ReplyKeyRejected, fmt.Sprintf("<@%s> your OpenRouter key was refused, so no image was made and no other key was used; I sent you a DM with how to fix it.", in.DiscordUserID))
	case activities.ErrLimitReached, activities.ErrQuotaExhausted:
		// ErrQuotaExhausted needs no version, as GenerateReply's branch says.
		return notice(ReplyRateLimited, fmt.Sprintf("<@%s> %s", in.DiscordUserID, appMessage(err)))
	case activities.ErrUnavailableUntil:
		return notice(ReplyFailed, fmt.Sprintf("<@%s> %s", in.DiscordUserID, appMessage(err)))
	case activities.ErrKeyInactive, activities.ErrNoKey:
		outcome := ReplyKeyRejected
		if errType == activities.ErrNoKey {
			outcome = ReplyNoKey
		}
		return notice(outcome, fmt.Sprintf("<@%s> %s", in.DiscordUserID, appMessage(err)))
	}
	log.Warn("image failed after retries", "error_type", errType)
	outcome, msg := ReplyFailed, "Sorry, I couldn't make that image just now. Please try again in a little while."
	switch errType {
	case activities.ErrRateLimited:
		outcome, msg = ReplyRateLimited, "The image model is busy (rate limited). Please try again in a minute."
	case activities.ErrModeration:
		msg = "The image model refused that prompt."
	case activities.ErrBadInput:
		// A size the personality does not draw, or its image settings
		// invalid: the activity's message says which and who can act.
		msg = "No image: " + appMessage(err)
	case activities.ErrUnknownModel:
		msg = "This personality's image setup is broken: " + appMessage(err)
	}
	return notice(outcome, msg)
}
