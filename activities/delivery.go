package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/discordsplit"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/webhookname"
)

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
	// PersonalityID is the personality the post speaks as, recorded with
	// its delivery so that a Discord reply to it reaches that personality
	// even when no conversation turn names it (a refusal). Absent in
	// histories from before it: nothing is recorded.
	PersonalityID *uuid.UUID `json:"personality_id,omitempty"`
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
		key := deliverykey.Part(in.DeliveryKey, i)
		var files []*discordgo.File
		if i == 0 && file != nil {
			files = []*discordgo.File{file}
		}
		id, err := a.deliverOnce(ctx, key, in.ChannelID, in.PersonalityID, func(since time.Time) (string, error) {
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
	return a.deliverOnce(ctx, in.DeliveryKey, ch.ID, nil, func(time.Time) (string, error) {
		id, err := a.sendWithNonce(ctx, ch.ID, in.Content, in.DeliveryKey)
		if err == nil {
			metrics.DMSent()
		}
		return id, err
	})
}

// postAsPersonality posts through the channel's webhook under the
// personality's name, else as the bot with the name in bold (postAs). since,
// when not zero, is when an earlier attempt began posting: a post of its
// made since then with the same content is adopted instead of posting again.
func (a *Activities) postAsPersonality(ctx context.Context, channelID, name, avatarURL, content, key string, since time.Time, files ...*discordgo.File) (string, error) {
	id, _, err := a.postAs(ctx, personaPost{
		channelID: channelID, name: name, avatarURL: avatarURL, content: content, key: key, since: since, files: files,
		// With or without the audio a voiced attempt attached: the text
		// is what must not repeat.
		earlier: func(m *discordgo.Message) bool {
			return m.Content == content && (name == "" || m.Author == nil || m.Author.Username == name)
		},
	})
	return id, err
}

// personaPost is one message to post as a personality (postAs).
type personaPost struct {
	channelID, name, avatarURL, content, key string
	// since, when not zero, is when an earlier attempt began posting under
	// key; earlier tells which of the webhook's posts since then is its.
	since   time.Time
	earlier func(*discordgo.Message) bool
	files   []*discordgo.File
}

// postAs posts through the channel's webhook under the personality's name,
// else as the bot with the name in bold; webhookID is the webhook that
// posted, "" for the bot. A webhook that was deleted (10015) or whose token
// changed (50027) is forgotten and made again within this attempt; a channel
// that cannot have ours (no Manage Webhooks, 15 webhooks already) and a post
// Discord refuses for a reason no retry can fix go through the bot, so a
// reply that was paid for is always seen.
func (a *Activities) postAs(ctx context.Context, p personaPost) (id, webhookID string, err error) {
	for try := 0; try < 2; try++ {
		hook, err := a.channelWebhook(ctx, p.channelID)
		if err != nil {
			return "", "", err
		}
		if hook == nil {
			break
		}
		if !p.since.IsZero() {
			// A webhook post has no nonce: look for our own post from an
			// earlier attempt that died before recording it.
			id, err := a.findEarlierPost(ctx, p.channelID, hook.ID, p.since, p.earlier)
			if err != nil || id != "" {
				return id, hook.ID, err
			}
		}
		rewind(p.files)
		params := &discordgo.WebhookParams{
			Content: p.content, Username: p.name, AvatarURL: p.avatarURL, Files: p.files,
			AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}},
		}
		m, err := a.executeWebhook(ctx, hook, params)
		if err == nil {
			return m.ID, hook.ID, nil
		}
		switch {
		case webhookGone(err):
			a.Log.Warn("channel webhook is gone; making it again", "channel_id", p.channelID, "discord_code", discordCode(err))
			a.webhooks.CompareAndDelete(p.channelID, hook)
			metrics.WebhookRecreated()
			continue
		case refused(err):
			a.Log.Warn("Discord refused the webhook post; posting as the bot", "channel_id", p.channelID,
				"discord_code", discordCode(err))
		default:
			return "", "", discordError("post as personality", err)
		}
		break
	}
	rewind(p.files)
	id, err = a.sendWithNonce(ctx, p.channelID, botPrefix(p.name)+p.content, p.key, p.files...)
	return id, "", err
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

// ImagineTarget is where an /imagine answer goes: the interaction's follow-up
// when there is a token, else a plain message in the channel.
type ImagineTarget struct {
	// DeliveryKey makes the post idempotent across retries.
	DeliveryKey      string `json:"delivery_key"`
	ChannelID        string `json:"channel_id"`
	ApplicationID    string `json:"application_id,omitempty"`
	InteractionToken string `json:"interaction_token,omitempty"`
	// SealedInteractionToken, when set, is the token sealed with the
	// master key, opened only here.
	SealedInteractionToken *keycrypt.Sealed `json:"sealed_interaction_token,omitempty"`
}

// postImagine answers through the interaction's follow-up webhook, which
// needs no channel permission and replaces the "thinking…" message; without
// a token it posts in the channel with a nonce so a retry is not a repeat.
// A follow-up has no nonce: a retry first looks in the channel for the
// application's post from an earlier attempt that died before recording it.
func (a *Activities) postImagine(ctx context.Context, t ImagineTarget, content string, files []*discordgo.File, since time.Time) (string, error) {
	allowed := &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}}
	token := t.InteractionToken
	if t.SealedInteractionToken != nil {
		var err error
		if token, err = a.Keys.Open(*t.SealedInteractionToken); err != nil {
			return "", badInput("the sealed interaction token does not open with this worker's APP_MASTER_KEY: " + err.Error())
		}
	}
	if token != "" {
		appID := t.ApplicationID
		if appID == "" {
			// Bots created since 2020 have the application id as user id.
			me, err := a.Discord.User("@me", discordgo.WithContext(ctx))
			if err != nil {
				return "", discordError("look up the bot user", err)
			}
			appID = me.ID
		}
		if !since.IsZero() {
			// File names carry the delivery key's hash, so another user's
			// image in the same channel never matches.
			if id, err := a.findEarlierPost(ctx, t.ChannelID, appID, since, func(m *discordgo.Message) bool {
				return m.Content == content && sameFiles(m.Attachments, files)
			}); err != nil || id != "" {
				return id, err
			}
		}
		rewind(files)
		m, err := a.Discord.FollowupMessageCreate(&discordgo.Interaction{AppID: appID, Token: token}, true,
			&discordgo.WebhookParams{Content: content, Files: files, AllowedMentions: allowed}, discordgo.WithContext(ctx))
		if err != nil {
			return "", discordError("post the follow-up", err)
		}
		return m.ID, nil
	}
	rewind(files)
	return a.sendWithNonce(ctx, t.ChannelID, content, t.DeliveryKey, files...)
}

func unmarshal(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode discord response: %w", err)
	}
	return nil
}

// adoptEarlierPost records, as the first chunk's delivery, a post an earlier
// attempt made through the channel's webhook and died before recording.
func (a *Activities) adoptEarlierPost(ctx context.Context, in PostReplyInput) (bool, error) {
	key := deliverykey.Part(in.DeliveryKey, 0)
	d, err := a.store().Delivery(ctx, key)
	if err != nil {
		return false, fmt.Errorf("look up delivery: %w", err)
	}
	if d == nil {
		return false, nil // no attempt began posting
	}
	hook, err := a.channelWebhook(ctx, in.ChannelID)
	if err != nil || hook == nil {
		// Without a webhook the post carried a nonce: Discord dedupes it.
		return false, err
	}
	name := webhookname.Sanitize(in.Username, WebhookName)
	first := discordsplit.Split(in.Content, partLimit(name))[0]
	id, err := a.findEarlierPost(ctx, in.ChannelID, hook.ID, d.CreatedAt, func(m *discordgo.Message) bool { return m.Content == first })
	if err != nil || id == "" {
		return false, err
	}
	_, err = a.deliverOnce(ctx, key, in.ChannelID, in.PersonalityID, func(time.Time) (string, error) { return id, nil })
	return err == nil, err
}
