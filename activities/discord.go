package activities

import (
	"context"
	"crypto/sha256"
	stdsql "database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/ent/delivery"
	"github.com/tzurot/tzurot/internal/discordsplit"
)

// WebhookName names the one webhook per channel that personalities speak through.
const WebhookName = "Tzurot"

// PostReplyInput is a message to post in a channel as a personality.
type PostReplyInput struct {
	// DeliveryKey makes the post idempotent across activity retries.
	DeliveryKey string `json:"delivery_key"`
	ChannelID   string `json:"channel_id"`
	Username    string `json:"username"`
	AvatarURL   string `json:"avatar_url,omitempty"`
	Content     string `json:"content"`
	// MayExist says an earlier activity (a voiced post that failed after
	// Discord took it) may have posted this already: look before posting,
	// even on the first attempt.
	MayExist bool `json:"may_exist,omitempty"`
}

// PostReply posts as the personality through the channel's webhook (created
// once and reused), or as a plain bot message where webhooks are unavailable
// (DMs, missing permission). It returns the first message's id. A retry after
// a crash finds the earlier post — recorded, or seen in the channel — instead
// of posting again.
func (a *Activities) PostReply(ctx context.Context, in PostReplyInput) (string, error) {
	return a.postChunks(ctx, in, nil)
}

// postChunks posts the content in Discord-sized messages, each once, with
// file (when not nil) attached to the first.
func (a *Activities) postChunks(ctx context.Context, in PostReplyInput, file *discordgo.File) (string, error) {
	var first string
	for i, chunk := range discordsplit.Split(in.Content, discordsplit.Limit) {
		key := fmt.Sprintf("%s/%d", in.DeliveryKey, i)
		var files []*discordgo.File
		if i == 0 && file != nil {
			files = []*discordgo.File{file}
		}
		id, err := a.deliverOnce(ctx, key, in.ChannelID, func(retry bool) (string, error) {
			return a.postAsPersonality(ctx, in, chunk, key, retry || in.MayExist, files...)
		})
		if err != nil {
			return "", err
		}
		if i == 0 {
			first = id
		}
	}
	return first, nil
}

// SendDMInput is a direct message to a user.
type SendDMInput struct {
	DeliveryKey   string `json:"delivery_key"`
	DiscordUserID string `json:"discord_user_id"`
	Content       string `json:"content"`
}

// SendDM sends one DM, once: Discord's enforce_nonce returns the first
// message when a retry sends the same nonce.
func (a *Activities) SendDM(ctx context.Context, in SendDMInput) (string, error) {
	ch, err := a.Discord.UserChannelCreate(in.DiscordUserID, discordgo.WithContext(ctx))
	if err != nil {
		return "", discordError("open DM channel", err)
	}
	return a.deliverOnce(ctx, in.DeliveryKey, ch.ID, func(bool) (string, error) {
		return a.sendWithNonce(ctx, ch.ID, in.Content, in.DeliveryKey)
	})
}

// deliverOnce returns the recorded message for key, or posts and records it.
func (a *Activities) deliverOnce(ctx context.Context, key, channelID string, post func(retry bool) (string, error)) (string, error) {
	if id, ok, err := a.delivered(ctx, key); err != nil || ok {
		return id, err
	}
	id, err := post(activity.GetInfo(ctx).Attempt > 1)
	if err != nil {
		return "", err
	}
	err = a.DB.Delivery.Create().SetKey(key).SetChannelID(channelID).SetDiscordMessageID(id).
		OnConflict(sql.ConflictColumns(delivery.FieldKey)).DoNothing().Exec(ctx)
	if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
		return "", fmt.Errorf("record delivery: %w", err)
	}
	return id, nil
}

func (a *Activities) postAsPersonality(ctx context.Context, in PostReplyInput, content, key string, retry bool, files ...*discordgo.File) (string, error) {
	hook, err := a.channelWebhook(ctx, in.ChannelID)
	if err != nil {
		return "", err
	}
	if hook == nil {
		return a.sendWithNonce(ctx, in.ChannelID, content, key, files...)
	}
	if retry {
		// A webhook post has no nonce: look for our own post from an earlier
		// attempt that died before recording it — with or without the audio
		// a voiced attempt attached: the text is what must not repeat.
		if id := a.findEarlierPost(ctx, in.ChannelID, hook.ID, withContent(content)); id != "" {
			return id, nil
		}
	}
	m, err := a.Discord.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{
		Content:         content,
		Username:        truncate(in.Username, 80),
		AvatarURL:       in.AvatarURL,
		Files:           files,
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}},
	}, discordgo.WithContext(ctx))
	if err != nil {
		return "", discordError("post as personality", err)
	}
	return m.ID, nil
}

// channelWebhook returns our webhook in the channel, creating it the first
// time; nil where the channel cannot have one.
func (a *Activities) channelWebhook(ctx context.Context, channelID string) (*discordgo.Webhook, error) {
	if v, ok := a.webhooks.Load(channelID); ok {
		return v.(*discordgo.Webhook), nil
	}
	hooks, err := a.Discord.ChannelWebhooks(channelID, discordgo.WithContext(ctx))
	if noWebhooks(err) {
		return nil, nil
	}
	if err != nil {
		return nil, discordError("list webhooks", err)
	}
	for _, h := range hooks {
		if h.Name == WebhookName && h.Token != "" {
			a.webhooks.Store(channelID, h)
			return h, nil
		}
	}
	h, err := a.Discord.WebhookCreate(channelID, WebhookName, "", discordgo.WithContext(ctx))
	if noWebhooks(err) {
		return nil, nil
	}
	if err != nil {
		return nil, discordError("create webhook", err)
	}
	a.webhooks.Store(channelID, h)
	return h, nil
}

// findEarlierPost looks in the channel for the post an earlier attempt made
// through the webhook (a personality's, or the application's follow-ups)
// and died before recording: recent, and matching.
func (a *Activities) findEarlierPost(ctx context.Context, channelID, webhookID string, match func(*discordgo.Message) bool) string {
	since := activity.GetInfo(ctx).ScheduledTime.Add(-time.Minute)
	msgs, err := a.Discord.ChannelMessages(channelID, 50, "", "", "", discordgo.WithContext(ctx))
	if err != nil {
		return ""
	}
	for _, m := range msgs {
		if m.WebhookID == webhookID && !m.Timestamp.Before(since) && match(m) {
			return m.ID
		}
	}
	return ""
}

func withContent(content string) func(*discordgo.Message) bool {
	return func(m *discordgo.Message) bool { return m.Content == content }
}

// sendWithNonce posts a bot message, with files when given, with
// enforce_nonce, which discordgo's MessageSend cannot express.
func (a *Activities) sendWithNonce(ctx context.Context, channelID, content, key string, files ...*discordgo.File) (string, error) {
	sum := sha256.Sum256([]byte(key))
	body := map[string]any{
		"content":          content,
		"nonce":            hex.EncodeToString(sum[:])[:25], // Discord allows 25 characters
		"enforce_nonce":    true,
		"allowed_mentions": map[string]any{"parse": []string{"users"}},
	}
	endpoint := discordgo.EndpointChannelMessages(channelID)
	var raw []byte
	var err error
	if len(files) == 0 {
		raw, err = a.Discord.RequestWithBucketID(http.MethodPost, endpoint, body, endpoint, discordgo.WithContext(ctx))
	} else {
		ct, payload, merr := discordgo.MultipartBodyWithJSON(body, files)
		if merr != nil {
			return "", fmt.Errorf("build upload: %w", merr)
		}
		raw, err = a.Discord.RequestRaw(http.MethodPost, endpoint, ct, payload, endpoint, 0, discordgo.WithContext(ctx))
	}
	if err != nil {
		return "", discordError("send message", err)
	}
	var m discordgo.Message
	if err := unmarshal(raw, &m); err != nil {
		return "", err
	}
	return m.ID, nil
}

// noWebhooks is Discord saying this channel cannot have our webhook: a DM, or
// no Manage Webhooks permission.
func noWebhooks(err error) bool {
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response == nil {
		return false
	}
	if re.Message != nil && (re.Message.Code == discordgo.ErrCodeMissingPermissions || re.Message.Code == discordgo.ErrCodeMissingAccess ||
		re.Message.Code == discordgo.ErrCodeCannotExecuteActionOnDMChannel) {
		return true
	}
	return re.Response.StatusCode == http.StatusForbidden
}

// discordError keeps 4xx answers (other than 429) from being retried: they
// will not change.
func discordError(what string, err error) error {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		st := re.Response.StatusCode
		if st >= 400 && st < 500 && st != http.StatusTooManyRequests {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("discord %s: %s", what, strings.TrimSpace(re.Error())), ErrDiscordRefused, nil)
		}
	}
	return fmt.Errorf("discord %s: %w", what, err)
}

// ErrDiscordRefused is a Discord 4xx: the request itself is wrong or not allowed.
const ErrDiscordRefused = "DiscordRefused"
