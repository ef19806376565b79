package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/workflows"
)

func (b *Bot) imagineCommand() *command {
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "imagine", Description: "Have a personality draw a picture for the channel",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "What to draw", Required: true, MaxLength: 1500},
				{Type: discordgo.ApplicationCommandOptionString, Name: "personality", Description: "Who draws it (default: the one this channel last talked to)", Autocomplete: true},
				{Type: discordgo.ApplicationCommandOptionString, Name: "size", Description: "WxH, each side 256 to 2048, e.g. 1024x768 (default: the personality's)", MaxLength: 9},
			},
		},
		run:          b.imagine,
		autocomplete: b.personalityCommandAutocomplete,
	}
}

// imagine checks what it can without a round trip, then defers publicly —
// the picture is for the channel — and leaves the answer to ImagineImage,
// which posts it as the interaction's follow-up. The bot does not wait, so a
// bot restart while the model draws loses nothing.
func (b *Bot) imagine(ctx context.Context, in *Interaction) error {
	prompt := strings.TrimSpace(in.String("prompt"))
	if prompt == "" {
		return UserError("Tell me what to draw: /imagine prompt:<text>.")
	}
	who := strings.TrimSpace(in.String("personality"))
	if who == "" {
		id, ok, err := b.store.LastInChannel(ctx, in.ChannelID)
		if err != nil {
			return err
		}
		who = id.String()
		if ok {
			// The last one to talk here may be someone else's private one.
			s, err := b.store.Speaker(ctx, in.UserID, b.Config.BotOwnerDiscordID)
			if err != nil {
				return err
			}
			_, ok = b.store.Usable(ctx, s, id)
		}
		if !ok {
			return UserError("No personality has talked in this channel yet, so I don't know who should draw: add personality:<name>.")
		}
	}
	err := b.Session.InteractionRespond(in.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
	})
	if err != nil {
		return err
	}
	in.acked = true
	sealed, err := b.Keys.Seal(in.Token)
	if err != nil {
		return fmt.Errorf("seal the interaction token: %w", err)
	}
	_, err = b.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.ImagineImageID(in.ID),
		TaskQueue:                                b.Config.TemporalTaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.ImagineImageName, workflows.ImagineImageInput{
		DiscordUserID: in.UserID, Personality: who, Prompt: prompt, Size: strings.TrimSpace(in.String("size")),
		ChannelID: in.ChannelID, SealedInteractionToken: &sealed, ApplicationID: in.AppID,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		// A redelivered interaction: the first run answers it.
		return nil
	}
	if err != nil {
		return fmt.Errorf("start ImagineImage: %w", err)
	}
	return nil
}
