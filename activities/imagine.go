package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/internal/imageparams"
	"github.com/tzurot/tzurot/internal/openrouter"
)

// TokensPerImage is what one generated image counts as in usage_logs: image
// calls report no comparable token usage, and limits count tokens.
const TokensPerImage = 1000

// maxImages bounds the files in one post (Discord allows 10 per message).
const maxImages = 4

// ImagineInput is one image to generate and post.
type ImagineInput struct {
	ImagineTarget
	DiscordUserID string    `json:"discord_user_id"`
	PersonalityID uuid.UUID `json:"personality_id"`
	Prompt        string    `json:"prompt"`
	Size          string    `json:"size,omitempty"`
}

// ImagineOutput is deliberately only ids and small facts: the image bytes
// must never reach workflow history.
type ImagineOutput struct {
	DiscordMessageID string `json:"discord_message_id"`
	Model            string `json:"model,omitempty"`
	Size             string `json:"size,omitempty"`
	KeySource        string `json:"key_source,omitempty"`
	// PendingUsage: see GenerateOutput.
	PendingUsage *UsageRecord `json:"pending_usage,omitempty"`
}

// Imagine generates an image with the personality's image model and posts it
// as an attachment, in one activity so the bytes stay in the worker's memory.
// A retry after the post was recorded returns the recorded message without
// calling the provider again.
func (a *Activities) Imagine(ctx context.Context, in ImagineInput) (ImagineOutput, error) {
	if strings.TrimSpace(in.Prompt) == "" || in.ChannelID == "" || in.DeliveryKey == "" {
		return ImagineOutput{}, badInput("prompt, channel_id and delivery_key are required")
	}
	if id, ok, err := a.delivered(ctx, in.DeliveryKey); err != nil || ok {
		return ImagineOutput{DiscordMessageID: id}, err
	}
	st := a.store()
	cfg, err := st.ImageConfig(ctx, in.PersonalityID)
	if err != nil {
		return ImagineOutput{}, fmt.Errorf("load image config: %w", err)
	}
	if cfg == nil || !cfg.Enabled {
		return ImagineOutput{}, temporal.NewNonRetryableApplicationError(
			"this personality does not make images: only the bot's operator can switch them on (an enabled image_configs row)", ErrImagesDisabled, nil)
	}
	raw, err := json.Marshal(cfg.AdvancedParameters)
	if err != nil {
		return ImagineOutput{}, err
	}
	params, err := imageparams.Parse(raw)
	if err != nil {
		return ImagineOutput{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("this personality's image settings are invalid (%v); only the bot's operator can fix them", err), ErrBadInput, nil)
	}
	size, err := params.Size(in.Size, cfg.DefaultSize)
	if err != nil {
		return ImagineOutput{}, badInput(err.Error())
	}

	u, err := st.User(ctx, in.DiscordUserID)
	if err != nil {
		return ImagineOutput{}, fmt.Errorf("load user: %w", err)
	}
	key, source, err := a.resolveKey(ctx, u, cfg.Model)
	if err != nil {
		return ImagineOutput{}, err
	}
	// LIMIT_IMAGES_PER_HOUR, before any provider call; the hold keeps the
	// slot until this image's usage row exists.
	lim, err := a.checkImageLimit(ctx, in.DiscordUserID)
	if err != nil {
		return ImagineOutput{}, err
	}
	resp, err := a.chatWithHeartbeat(ctx, key, openrouter.ChatRequest{
		Model:      cfg.Model,
		Messages:   []openrouter.Message{{Role: "user", Content: params.Prompt(in.Prompt, size)}},
		Modalities: []string{"image", "text"},
	})
	if err != nil {
		a.releaseHold(lim.HoldID)
		return ImagineOutput{}, a.classifyCallError(ctx, err, key, source)
	}
	// Written before decoding and the upload: the provider charged for the
	// images whether or not they decode or Discord takes them.
	n := len(resp.Images)
	pid := &cfg.PersonalityID
	out := ImagineOutput{Model: resp.Model, Size: size, KeySource: source}
	rec := UsageRecord{
		ID: callUsageID(ctx, in.DeliveryKey, "image"), DiscordUserID: in.DiscordUserID, PersonalityID: pid, Model: resp.Model,
		Usage: openrouter.Usage{CompletionTokens: n * TokensPerImage, TotalTokens: n * TokensPerImage,
			Cost: resp.Usage.Cost, BYOK: resp.Usage.BYOK, UpstreamCost: resp.Usage.UpstreamCost}, Kind: "image",
	}
	if err := a.recordUsage(ctx, rec); err != nil {
		a.Log.Warn("image usage not written; the workflow writes it", "error", err)
		out.PendingUsage = &rec
	} else {
		a.releaseHold(lim.HoldID)
	}
	files, err := decodeImages(resp.Images, in.DeliveryKey)
	if err != nil {
		return ImagineOutput{}, err
	}
	// The image is paid for: a passing Discord failure is retried here,
	// not by repeating the activity and its provider call.
	out.DiscordMessageID, err = retryTransient(ctx, a.Log, func() (string, error) {
		return a.deliverOnce(ctx, in.DeliveryKey, in.ChannelID, nil, func(since time.Time) (string, error) {
			return a.postImagine(ctx, in.ImagineTarget, "", files, since)
		})
	})
	if err != nil {
		return ImagineOutput{}, err
	}
	return out, nil
}

// ImagineNoticeInput is a text answer to an /imagine: a refusal or a failure.
type ImagineNoticeInput struct {
	ImagineTarget
	Content string `json:"content"`
}

// ImagineNotice posts a text answer where the image would have gone, once.
func (a *Activities) ImagineNotice(ctx context.Context, in ImagineNoticeInput) (string, error) {
	return a.deliverOnce(ctx, in.DeliveryKey, in.ChannelID, nil, func(since time.Time) (string, error) {
		return a.postImagine(ctx, in.ImagineTarget, in.Content, nil, since)
	})
}

// decodeImages turns the provider's data URLs into files. A link instead of
// data is refused rather than fetched: the issue wants Discord to hold the
// bytes, never a pointer to the provider.
func decodeImages(urls []string, deliveryKey string) ([]*discordgo.File, error) {
	sum := sha256.Sum256([]byte(deliveryKey))
	tag := hex.EncodeToString(sum[:3])
	var files []*discordgo.File
	for i, u := range urls {
		if len(files) == maxImages {
			break
		}
		meta, data, ok := strings.Cut(u, ",")
		if !ok || !strings.HasPrefix(meta, "data:") || !strings.HasSuffix(meta, ";base64") {
			continue
		}
		ct := strings.TrimSuffix(strings.TrimPrefix(meta, "data:"), ";base64")
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			continue
		}
		ext := "png"
		if _, sub, ok := strings.Cut(ct, "/"); ok && sub != "" {
			ext = strings.TrimPrefix(sub, "x-")
		}
		if ext == "jpeg" {
			ext = "jpg"
		}
		files = append(files, &discordgo.File{Name: fmt.Sprintf("imagine-%s-%d.%s", tag, i+1, ext), ContentType: ct, Reader: bytes.NewReader(b)})
	}
	if len(files) == 0 {
		// Models sometimes answer with text only; a retry often draws.
		return nil, temporal.NewApplicationError("the model returned no image", ErrUnavailable)
	}
	return files, nil
}
