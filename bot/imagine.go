package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/imageparams"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/workflows"
)

func (b *Bot) imagineCommand() *command {
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "imagine", Description: "Have a personality draw a picture for the channel",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "What to draw", Required: true, MaxLength: 1500},
				{Type: discordgo.ApplicationCommandOptionString, Name: "personality", Description: "Who draws it (default: the one this channel last talked to)", Autocomplete: true},
				{Type: discordgo.ApplicationCommandOptionString, Name: "size", MaxLength: 9, Autocomplete: true,
					Description: fmt.Sprintf("WxH, each side %d to %d, e.g. 1024x768 (default: the personality's)", imageparams.MinSide, imageparams.MaxSide)},
			},
		},
		run:          b.imagine,
		autocomplete: b.imagineAutocomplete,
	}
}

// imagine checks what it can without a round trip, then defers publicly —
// the picture is for the channel — and leaves the answer to ImagineImage,
// which posts it as the interaction's follow-up. The bot does not wait, so a
// bot restart while the model draws loses nothing. Every refusal before the
// deferral is private: a personality the user cannot use, one that does not
// make images, a size it does not draw.
func (b *Bot) imagine(ctx context.Context, in *Interaction) error {
	prompt := strings.TrimSpace(in.String("prompt"))
	if prompt == "" {
		return UserError("Tell me what to draw: /imagine prompt:<text>.")
	}
	p, err := b.imaginePersonality(ctx, in)
	if err != nil {
		return err
	}
	size := strings.TrimSpace(in.String("size"))
	if err := b.checkImageRequest(ctx, p, size); err != nil {
		return err
	}
	err = b.Session.InteractionRespond(in.Interaction, &discordgo.InteractionResponse{
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
	input := workflows.ImagineImageInput{
		DiscordUserID: in.UserID, Personality: p.ID.String(), Prompt: prompt, Size: size,
		ChannelID: in.ChannelID, SealedInteractionToken: &sealed, ApplicationID: in.AppID,
	}
	_, err = b.attrs.Start(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.ImagineImageID(in.ID),
		TaskQueue:                                b.Config.TemporalTaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            imagineSummary(in.Username, p.Name, size),
		StaticDetails: fmt.Sprintf("/imagine by user %s (%s) in channel %s, personality %s (%s).",
			in.UserID, in.Username, in.ChannelID, p.Name, p.ID),
	}, workflows.ImagineImageName, func(set searchattr.Set) any {
		input.SearchAttributes = set
		return input
	}, startValues(in.UserID, p.Name, "")...)
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

// imaginePersonality is the personality named by the personality option, by
// the one rule (findPersonality), else the one this channel last talked to,
// when the user may use it.
func (b *Bot) imaginePersonality(ctx context.Context, in *Interaction) (*ent.Personality, error) {
	acc, err := b.personalityAccessOf(ctx, in)
	if err != nil {
		return nil, err
	}
	if who := strings.TrimSpace(in.String("personality")); who != "" {
		return b.findPersonality(ctx, acc, who)
	}
	id, ok, err := b.store.LastInChannel(ctx, in.ChannelID)
	if err != nil {
		return nil, err
	}
	var p *ent.Personality
	if ok {
		// The last one to talk here may be someone else's private one.
		p, ok = b.store.Usable(ctx, acc.Speaker, id)
	}
	if !ok {
		return nil, UserError("No personality has talked in this channel yet, so I don't know who should draw: add personality:<name>.")
	}
	return p, nil
}

// checkImageRequest refuses what the personality's image settings already
// answer: that it makes images at all (an enabled image_configs row), and
// that a requested size is one it draws (imageparams.Size, the rule the
// Imagine activity applies again). Settings that do not parse are left to
// the workflow, which reports them.
func (b *Bot) checkImageRequest(ctx context.Context, p *ent.Personality, size string) error {
	cfg, params, err := b.imageSettings(ctx, p)
	if err == nil && cfg == nil || cfg != nil && !cfg.Enabled {
		return UserError("%s", workflows.ImagesOff(personaName(p)))
	}
	if errors.Is(err, errBadImageParams) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := params.Size(size, cfg.DefaultSize); err != nil {
		return UserError("No image: %v.", err)
	}
	return nil
}

var errBadImageParams = errors.New("invalid image advanced parameters")

// imageSettings is the personality's image config and its parameters; nil
// when it has none.
func (b *Bot) imageSettings(ctx context.Context, p *ent.Personality) (*ent.ImageConfig, imageparams.Params, error) {
	cfg, err := b.store.ImageConfig(ctx, p.ID)
	if err != nil || cfg == nil {
		return nil, imageparams.Params{}, err
	}
	raw, err := json.Marshal(cfg.AdvancedParameters)
	if err != nil {
		return nil, imageparams.Params{}, err
	}
	params, err := imageparams.Parse(raw)
	if err != nil {
		return cfg, params, fmt.Errorf("%w: %v", errBadImageParams, err)
	}
	return cfg, params, nil
}

// commonImageSizes are offered for size when the personality lists none.
var commonImageSizes = []string{"1024x1024", "1024x768", "768x1024", "1536x1024", "1024x1536", "512x512"}

// imagineAutocomplete offers, for size, the sizes the chosen personality
// draws (its image parameters' sizes, else common ones), and personalities
// for personality. Discord lets a user type something else, which imagine
// refuses with what is accepted.
func (b *Bot) imagineAutocomplete(ctx context.Context, in *Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	focused, typed := in.Focused()
	if focused != "size" {
		return b.personalityCommandAutocomplete(ctx, in)
	}
	sizes := commonImageSizes
	if p, err := b.imaginePersonality(ctx, in); err == nil {
		if _, params, err := b.imageSettings(ctx, p); err == nil && len(params.Sizes) > 0 {
			sizes = params.Sizes
		}
	}
	typed = strings.ToLower(strings.TrimSpace(typed))
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, s := range sizes {
		if strings.Contains(strings.ToLower(s), typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: s, Value: s})
		}
	}
	return out, nil
}
