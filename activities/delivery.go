package activities

import (
	"context"
	"crypto/sha256"
	stdsql "database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/delivery"
	"github.com/tzurot/tzurot/internal/discordsplit"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/webhookname"
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
// file (when not nil) attached to the first. The parts leave room for the
// bot's "**Name:** " prefix, so any of them can fall back to a bot message.
func (a *Activities) postChunks(ctx context.Context, in PostReplyInput, file *discordgo.File) (string, error) {
	name := webhookname.Sanitize(in.Username, WebhookName)
	var first string
	for i, chunk := range discordsplit.Split(in.Content, partLimit(name)) {
		key := fmt.Sprintf("%s/%d", in.DeliveryKey, i)
		var files []*discordgo.File
		if i == 0 && file != nil {
			files = []*discordgo.File{file}
		}
		id, err := a.deliverOnce(ctx, key, in.ChannelID, func(since time.Time) (string, error) {
			if since.IsZero() && in.MayExist {
				since = activity.GetInfo(ctx).ScheduledTime.Add(-time.Minute)
			}
			return a.postAsPersonality(ctx, in.ChannelID, name, in.AvatarURL, chunk, key, since, files...)
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
	return a.deliverOnce(ctx, in.DeliveryKey, ch.ID, func(time.Time) (string, error) {
		return a.sendWithNonce(ctx, ch.ID, in.Content, in.DeliveryKey)
	})
}

// deliverOnce returns the recorded message for key, or posts and records it.
// Before posting it records that key began posting (a row with no message
// id yet), so that a retry knows an earlier attempt may have posted and
// since when: post receives that time, zero on the first try.
func (a *Activities) deliverOnce(ctx context.Context, key, channelID string, post func(since time.Time) (string, error)) (string, error) {
	d, err := a.DB.Delivery.Query().Where(delivery.Key(key)).Only(ctx)
	switch {
	case err == nil && d.DiscordMessageID != "":
		return d.DiscordMessageID, nil
	case err != nil && !ent.IsNotFound(err):
		return "", fmt.Errorf("look up delivery: %w", err)
	}
	var since time.Time
	if d != nil {
		since = d.CreatedAt
	} else {
		err = a.DB.Delivery.Create().SetKey(key).SetChannelID(channelID).SetDiscordMessageID("").
			OnConflict(sql.ConflictColumns(delivery.FieldKey)).DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
			return "", fmt.Errorf("record delivery: %w", err)
		}
	}
	id, err := post(since)
	if err != nil {
		return "", err
	}
	if err := a.DB.Delivery.Update().Where(delivery.Key(key)).SetDiscordMessageID(id).Exec(ctx); err != nil {
		return "", fmt.Errorf("record delivery: %w", err)
	}
	return id, nil
}

// postAsPersonality posts through the channel's webhook under the
// personality's name, else as the bot with the name in bold. A webhook that
// was deleted (10015) or whose token changed (50027) is forgotten and made
// again within this attempt; a channel that cannot have ours (no Manage
// Webhooks, 15 webhooks already) and a post Discord refuses for a reason no
// retry can fix go through the bot, so a reply that was paid for is always
// seen. since, when not zero, is when an earlier attempt began posting: a
// post of its made since then is adopted instead of posting again.
func (a *Activities) postAsPersonality(ctx context.Context, channelID, name, avatarURL, content, key string, since time.Time, files ...*discordgo.File) (string, error) {
	for try := 0; try < 2; try++ {
		hook, err := a.channelWebhook(ctx, channelID)
		if err != nil {
			return "", err
		}
		if hook == nil {
			break
		}
		if !since.IsZero() {
			// A webhook post has no nonce: look for our own post from an
			// earlier attempt that died before recording it — with or
			// without the audio a voiced attempt attached: the text is what
			// must not repeat.
			id, err := a.findEarlierPost(ctx, channelID, hook.ID, key, since, func(m *discordgo.Message) bool {
				return m.Content == content && (name == "" || m.Author == nil || m.Author.Username == name)
			})
			if err != nil || id != "" {
				return id, err
			}
		}
		rewind(files)
		params := &discordgo.WebhookParams{
			Content: content, Username: name, AvatarURL: avatarURL, Files: files,
			AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}},
		}
		m, err := a.Discord.WebhookExecute(hook.ID, hook.Token, true, params, discordgo.WithContext(ctx))
		if err == nil {
			return m.ID, nil
		}
		switch {
		case webhookGone(err):
			a.Log.Warn("channel webhook is gone; making it again", "channel_id", channelID, "discord_code", discordCode(err))
			a.webhooks.CompareAndDelete(channelID, hook)
			continue
		case refused(err):
			a.Log.Warn("Discord refused the webhook post; posting as the bot", "channel_id", channelID,
				"discord_code", discordCode(err))
		default:
			return "", discordError("post as personality", err)
		}
		break
	}
	rewind(files)
	return a.sendWithNonce(ctx, channelID, botPrefix(name)+content, key, files...)
}

// rewind readies files for another send: a send reads each file's Reader
// to its end, and a retry or fallback must upload the same bytes again.
// The activities' files are bytes.Readers, which seek.
func rewind(files []*discordgo.File) {
	for _, f := range files {
		if s, ok := f.Reader.(io.Seeker); ok {
			_, _ = s.Seek(0, io.SeekStart)
		}
	}
}

// partLimit is the length of each part of a reply posted under name: room
// is left for the bot's prefix, so any part can fall back to a bot message.
func partLimit(name string) int {
	return discordsplit.Limit - discordsplit.Len(botPrefix(name))
}

// botPrefix names the personality at the start of a message the bot posts
// for it; markdown in the name is escaped so it shows as written.
func botPrefix(name string) string {
	if name == "" {
		return ""
	}
	return "**" + markdownEscaper.Replace(name) + ":** "
}

var markdownEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`, ">", `\>`, "#", `\#`, "[", `\[`, "]", `\]`)

// noWebhookTTL is how long a channel that cannot have our webhook (missing
// permission, webhook limit) posts as the bot before asking Discord again.
const noWebhookTTL = 10 * time.Minute

// noWebhook is cached for a channel that cannot have our webhook.
type noWebhook struct{ until time.Time }

// channelWebhook returns our webhook in the channel: the one named
// WebhookName, else any other the application made, else a new one; nil
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
	var app *discordgo.Webhook
	for _, h := range hooks {
		switch {
		case h.Token == "" || h.Type != discordgo.WebhookTypeIncoming:
		case h.Name == WebhookName:
			a.webhooks.Store(channelID, h)
			return h, nil
		case app == nil && h.ApplicationID != "" && a.ownApplication(ctx, h.ApplicationID):
			app = h
		}
	}
	if app != nil {
		a.webhooks.Store(channelID, app)
		return app, nil
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
	a.webhooks.Store(channelID, h)
	return h, nil
}

// ownApplication reports whether appID is this bot's application; bots
// created since 2020 have the application id as their user id.
func (a *Activities) ownApplication(ctx context.Context, appID string) bool {
	if a.Discord.State != nil && a.Discord.State.User != nil {
		return a.Discord.State.User.ID == appID
	}
	me, err := a.Discord.User("@me", discordgo.WithContext(ctx))
	return err == nil && me.ID == appID
}

// findEarlierPost looks in the channel for the post an earlier attempt of
// the delivery key made through the webhook (a personality's, or the
// application's follow-ups) and died before recording: made since that
// attempt began posting (less a few seconds for the clocks of Discord and
// PostgreSQL), matching, recorded by no other delivery, and not possibly
// another delivery's that began posting shortly before it and has not yet
// recorded its message — a reply with the same text as another never takes
// the other's message; when it cannot tell, it posts its own.
func (a *Activities) findEarlierPost(ctx context.Context, channelID, webhookID, key string, since time.Time, match func(*discordgo.Message) bool) (string, error) {
	since = since.Add(-clockSkew)
	msgs, err := a.Discord.ChannelMessages(channelID, 100, "", snowflakeAt(since), "", discordgo.WithContext(ctx))
	if err != nil {
		// Not knowing is not "not posted": posting now could post twice.
		return "", discordError("look for an earlier post", err)
	}
	slices.SortFunc(msgs, func(x, y *discordgo.Message) int { return x.Timestamp.Compare(y.Timestamp) })
	for _, m := range msgs {
		if m.WebhookID != webhookID || m.Timestamp.Before(since) || !match(m) {
			continue
		}
		claimed, err := a.DB.Delivery.Query().Where(delivery.DiscordMessageID(m.ID)).Exist(ctx)
		if err != nil {
			return "", fmt.Errorf("look up delivery: %w", err)
		}
		if claimed {
			continue
		}
		// Served by deliveries_pending_channel, which holds pending rows only.
		rival, err := a.DB.Delivery.Query().Where(
			delivery.ChannelID(channelID), delivery.DiscordMessageID(""), delivery.KeyNEQ(key),
			delivery.CreatedAtGTE(m.Timestamp.Add(-adoptWindow)), delivery.CreatedAtLTE(m.Timestamp.Add(clockSkew)),
		).Exist(ctx)
		if err != nil {
			return "", fmt.Errorf("look up deliveries: %w", err)
		}
		if rival {
			a.Log.Warn("an earlier post may be another delivery's; posting this one's own", "channel_id", channelID)
			continue
		}
		return m.ID, nil
	}
	return "", nil
}

// adoptWindow is how long before a message another delivery may have begun
// the post that made it.
const adoptWindow = time.Minute

// clockSkew allows for Discord's and PostgreSQL's clocks disagreeing.
const clockSkew = 5 * time.Second

// snowflakeAt is the smallest Discord id of a message made at t
// (https://discord.com/developers/docs/reference#snowflakes).
func snowflakeAt(t time.Time) string {
	ms := t.UnixMilli() - 1420070400000
	if ms < 0 {
		ms = 0
	}
	return strconv.FormatInt(ms<<22, 10)
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

// discordError keeps 4xx answers (other than 429) from being retried: they
// will not change.
func discordError(what string, err error) error {
	err = redact.Error(err) // a *url.Error quotes the URL, and with it a webhook or interaction token
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
