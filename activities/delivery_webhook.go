package activities

// The channel's webhook personalities speak through, and how Discord's
// refusals are told apart (gone, refused, missing permission).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"
)

// noWebhookTTL is how long a channel that cannot have our webhook (missing
// permission, webhook limit) posts as the bot before asking Discord again.
const noWebhookTTL = 10 * time.Minute

// noWebhook is cached for a channel that cannot have our webhook.
type noWebhook struct{ until time.Time }

// channelWebhook returns our webhook in the channel: the oldest named
// WebhookName, else any other the application made, else a new one
// (settled with other workers making one at once: settleWebhook); nil
// where the channel cannot have one (a DM, no Manage Webhooks, or Discord's
// limit of webhooks per channel reached, 30007).
func (a *Activities) channelWebhook(ctx context.Context, channelID string) (*discordgo.Webhook, error) {
	if v, ok := a.webhooks.Load(channelID); ok {
		switch v := v.(type) {
		case *discordgo.Webhook:
			return v, nil
		case noWebhook:
			if time.Now().Before(v.until) {
				return nil, nil
			}
			a.webhooks.CompareAndDelete(channelID, v)
		}
	}
	none := func() (*discordgo.Webhook, error) {
		a.webhooks.Store(channelID, noWebhook{until: time.Now().Add(noWebhookTTL)})
		return nil, nil
	}
	hooks, err := a.Discord.ChannelWebhooks(channelID, discordgo.WithContext(ctx))
	if noWebhooks(err) || refused(err) {
		// A DM, a thread or other channel type without webhooks (50024),
		// no permission: whatever Discord refuses here stays refused.
		a.Log.Warn("this channel cannot have our webhook; personalities post as the bot", "channel_id", channelID, "discord_code", discordCode(err))
		return none()
	}
	if err != nil {
		return nil, discordError("list webhooks", err)
	}
	if h := oldestNamed(hooks); h != nil {
		a.webhooks.Store(channelID, h)
		return h, nil
	}
	for _, h := range hooks {
		if usable(h) && h.ApplicationID != "" && a.ownApplication(ctx, h.ApplicationID) {
			a.webhooks.Store(channelID, h)
			return h, nil
		}
	}
	h, err := a.Discord.WebhookCreate(channelID, WebhookName, "", discordgo.WithContext(ctx))
	if noWebhooks(err) || refused(err) {
		// Missing permission, the channel's 15 (30007) or the server's
		// 1,000 webhooks (30058), a channel type without webhooks.
		a.Log.Warn("no webhook can be made in this channel; personalities post as the bot", "channel_id", channelID, "discord_code", discordCode(err))
		return none()
	}
	if err != nil {
		return nil, discordError("create webhook", err)
	}
	h = a.settleWebhook(ctx, channelID, h)
	a.webhooks.Store(channelID, h)
	return h, nil
}

// settleWebhook makes the workers that each made a webhook in the channel
// at the same moment (every worker process has its own cache) keep one: it
// lists the channel's webhooks again and, when an older one of ours is
// there, deletes made and returns the older, which every worker picks.
// Without that, a worker retrying a post whose answer was lost would look
// for it under its own webhook while it went out under another's. A failed
// list or delete keeps made: it works, only not shared.
func (a *Activities) settleWebhook(ctx context.Context, channelID string, made *discordgo.Webhook) *discordgo.Webhook {
	hooks, err := a.Discord.ChannelWebhooks(channelID, discordgo.WithContext(ctx))
	if err != nil {
		a.Log.Warn("could not check for another worker's webhook in the channel", "channel_id", channelID, "discord_code", discordCode(err))
		return made
	}
	oldest := oldestNamed(hooks)
	if oldest == nil || oldest.ID == made.ID {
		return made
	}
	if err := a.Discord.WebhookDelete(made.ID, discordgo.WithContext(ctx)); err != nil {
		a.Log.Warn("could not delete the webhook made beside another worker's", "channel_id", channelID, "discord_code", discordCode(err))
		return made
	}
	return oldest
}

// usable is a webhook we can post through: an incoming one whose token we see.
func usable(h *discordgo.Webhook) bool {
	return h.Token != "" && h.Type == discordgo.WebhookTypeIncoming
}

// oldestNamed is the oldest (smallest snowflake) usable webhook named
// WebhookName among hooks, nil if none: the one every worker settles on.
func oldestNamed(hooks []*discordgo.Webhook) *discordgo.Webhook {
	var out *discordgo.Webhook
	for _, h := range hooks {
		if usable(h) && h.Name == WebhookName && (out == nil || snowflakeBefore(h.ID, out.ID)) {
			out = h
		}
	}
	return out
}

// snowflakeBefore orders Discord ids, decimal numbers of up to 20 digits,
// by value, which is their time order.
func snowflakeBefore(x, y string) bool {
	if len(x) != len(y) {
		return len(x) < len(y)
	}
	return x < y
}

// ownApplication reports whether appID is this bot's application; bots
// created since 2020 have the application id as their user id.
func (a *Activities) ownApplication(ctx context.Context, appID string) bool {
	me, err := a.botUserID(ctx)
	return err == nil && me == appID
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

// webhookGone is Discord saying the webhook no longer exists (deleted in
// Server Settings → Integrations: 404, 10015) or its token was reset (401,
// 50027): it must be made again.
func webhookGone(err error) bool {
	c := discordCode(err)
	return c == discordgo.ErrCodeUnknownWebhook || c == discordgo.ErrCodeInvalidWebhookTokenProvided
}

// refused is a 4xx other than 429 and 401/404 of a gone webhook: Discord
// will refuse the same request again.
func refused(err error) bool {
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response == nil {
		return false
	}
	st := re.Response.StatusCode
	return st >= 400 && st < 500 && st != http.StatusTooManyRequests
}

// discordCode is the JSON error code of a Discord REST error, 0 if none.
func discordCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}

// WebhookName names the one webhook per channel that personalities speak through.
const WebhookName = "Tzurot"

// executeWebhook is Execute Webhook with wait=true, counted in the
// webhook's own rate-limit bucket (webhookBucket), which its message edits
// and deletions share: Discord limits them together per webhook id and
// token (https://discord.com/developers/docs/topics/rate-limits).
// discordgo's WebhookExecute keys the bucket by its URL with the query, and
// its message edits by one bucket for all webhooks.
func (a *Activities) executeWebhook(ctx context.Context, hook *discordgo.Webhook, params *discordgo.WebhookParams) (*discordgo.Message, error) {
	uri := discordgo.EndpointWebhookToken(hook.ID, hook.Token) + "?wait=true"
	a.pace(hook.ID).take(time.Now(), false) // streamed replies' edits make room (webhookPace)
	var raw []byte
	var err error
	if len(params.Files) > 0 {
		ct, body, merr := discordgo.MultipartBodyWithJSON(params, params.Files)
		if merr != nil {
			return nil, fmt.Errorf("build upload: %w", merr)
		}
		raw, err = a.Discord.RequestRaw(http.MethodPost, uri, ct, body, webhookBucket(hook.ID, hook.Token), 0, discordgo.WithContext(ctx))
	} else {
		raw, err = a.Discord.RequestWithBucketID(http.MethodPost, uri, params, webhookBucket(hook.ID, hook.Token), discordgo.WithContext(ctx))
	}
	if err != nil {
		return nil, err
	}
	var m discordgo.Message
	if err := unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// webhookBucket is the discordgo rate-limit bucket of one webhook's
// executions, edits and deletions.
func webhookBucket(id, token string) string { return discordgo.EndpointWebhookToken(id, token) }
