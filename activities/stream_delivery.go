package activities

// Streaming delivery: a reply posted as the personality while the model
// writes it, then edited as text arrives, split like a whole reply, and
// durable across a killed attempt (StreamWriter, Progress).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	"github.com/rivo/uniseg"

	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/discordsplit"
	"github.com/tzurot/tzurot/internal/webhookname"
)

// The streaming writer's pace. Discord documents no separate limit on edits
// of one message; webhooks are limited to 5 executions, edits and deletions
// per 2 s each (X-RateLimit-Limit 5, X-RateLimit-Reset-After 2 on those
// routes), which discordgo's bucket for the webhook (webhookBucket) waits
// for. One edit per message per DefaultEditInterval leaves room for the
// first post, a second message past 2,000 characters and other replies in
// the channel.
const (
	// DefaultEditInterval is the least time between two edits of one
	// message while the text grows; Finish's edit does not wait for it.
	DefaultEditInterval = 1200 * time.Millisecond
	// FirstPostAfter posts the first text this long after the first
	// non-blank Update, sentence or not.
	FirstPostAfter = time.Second
	// FirstPostChars posts the first text once it has this many code
	// points, sentence or not.
	FirstPostChars = 120
	// firstSentenceChars is the least text a sentence end posts.
	firstSentenceChars = 20
)

// StreamTarget is where a streamed reply goes and who speaks it.
type StreamTarget struct {
	// DeliveryKey is the reply's delivery key (internal/deliverykey); part
	// i posts once under deliverykey.Part(DeliveryKey, i), as PostReply's
	// parts do, so use a key the whole-reply path does not also post under.
	DeliveryKey string `json:"delivery_key"`
	ChannelID   string `json:"channel_id"`
	Username    string `json:"username"`
	AvatarURL   string `json:"avatar_url,omitempty"`
	// PersonalityID is who the reply speaks as, recorded with each part's
	// delivery (PostReplyInput.PersonalityID).
	PersonalityID *uuid.UUID `json:"personality_id,omitempty"`
}

// Progress is a streamed reply's durable state: the messages posted so far,
// in order. It is small and JSON-serialisable, holds no message content
// (only its length and a digest), and is what the activity heartbeats after
// each post, edit or deletion, for the Web UI and liveness. A retry does not
// continue from it (the server's heartbeat may be seconds old) but from the
// delivery rows: StreamWriter.Resume.
type Progress struct {
	Messages []StreamedMessage `json:"messages,omitempty"`
}

// StreamedMessage is one posted message of a streamed reply.
type StreamedMessage struct {
	// ID is the Discord message id.
	ID string `json:"id"`
	// WebhookID is the webhook that posted it; "" for a bot message (a
	// channel that cannot have our webhook), which the bot edits.
	WebhookID string `json:"webhook_id,omitempty"`
	// Len is its content's length in code points as last written.
	Len int `json:"len"`
	// Digest is the first 16 hex digits of the SHA-256 of that content,
	// "" when unknown (a message adopted from an attempt that died).
	Digest string `json:"digest,omitempty"`
	// gone marks a recorded message found deleted (Resume); never encoded.
	gone bool
}

// StreamWriter posts a reply as it grows: Update with the text so far, then
// Finish with the whole. It is not safe for concurrent use.
type StreamWriter struct {
	a    *Activities
	to   StreamTarget
	name string
	msgs []StreamedMessage
	// edited is when each message was last written (posted or edited).
	edited []time.Time
	// begun is when the first non-blank text arrived; nextSync is when
	// Update next looks at the text.
	begun, nextSync time.Time
	// hooks are the webhooks (with their tokens) that posted the messages.
	hooks map[string]*discordgo.Webhook

	// EditInterval is the least time between edits of one message;
	// DefaultEditInterval when zero.
	EditInterval time.Duration
	// OnProgress, when set, sees the Progress after every post, edit and
	// deletion: the activity records it with activity.RecordHeartbeat.
	OnProgress func(Progress)
}

// NewStreamWriter returns a writer of a reply to to through a's Discord
// session and deliveries, continuing the messages of from (the zero
// Progress to start afresh; Resume then adds what the deliveries hold
// beyond them). A function, not a method: every
// exported method of Activities is registered as an activity.
func NewStreamWriter(a *Activities, to StreamTarget, from Progress) *StreamWriter {
	w := &StreamWriter{a: a, to: to, name: webhookname.Sanitize(to.Username, WebhookName)}
	w.msgs = append(w.msgs, from.Messages...)
	w.edited = make([]time.Time, len(w.msgs))
	return w
}

// Progress is the writer's durable state now.
func (w *StreamWriter) Progress() Progress {
	return Progress{Messages: append([]StreamedMessage(nil), w.msgs...)}
}

// Update shows text, the whole reply so far. Nothing is posted until there
// is a sentence or so (20 code points with a sentence end, sentenceEnded,
// FirstPostChars code points, or FirstPostAfter since the first non-blank
// text, seen at the next call: the writer has no timer of its own); then
// each message is edited at most once per EditInterval, the text of calls
// in between only shown by the next edit. Text past a message's limit
// continues in a new message, split as PostReply splits. It blocks while
// Discord's rate limit is waited out. Errors are Discord's or the
// database's, as PostReply's.
func (w *StreamWriter) Update(ctx context.Context, text string) error {
	now := time.Now()
	if w.begun.IsZero() && strings.TrimSpace(text) != "" {
		w.begun = now
	}
	if !w.due(now) || len(w.msgs) == 0 && !w.ready(text, now) {
		return nil
	}
	// Splitting a long text costs milliseconds (BenchmarkParts), too
	// much for every token: the text is looked at four times per
	// EditInterval at most, so a part past a message's end waits that
	// long for its message.
	w.nextSync = now.Add(w.interval() / 4)
	return w.sync(ctx, text, false)
}

// due reports whether an Update at now looks at its text: always before
// the first post, then four times per EditInterval at most. A caller whose
// text costs work to make (visibleSoFar) makes it only when due.
func (w *StreamWriter) due(now time.Time) bool {
	return len(w.msgs) == 0 || !now.Before(w.nextSync)
}

func (w *StreamWriter) interval() time.Duration {
	if w.EditInterval <= 0 {
		return DefaultEditInterval
	}
	return w.EditInterval
}

// Finish writes the whole reply: every message then holds exactly its part
// of discordsplit.Split(text) (what PostReply would post), messages an
// earlier attempt posted beyond the reply's parts are deleted, and the ids
// are returned in order. It does not wait for EditInterval; Discord's rate
// limit it waits for. An empty or blank text leaves no message.
func (w *StreamWriter) Finish(ctx context.Context, text string) ([]string, error) {
	if err := w.sync(ctx, text, true); err != nil {
		return nil, err
	}
	ids := make([]string, len(w.msgs))
	for i, m := range w.msgs {
		ids[i] = m.ID
	}
	return ids, nil
}

// ready reports whether the first message may be posted: a sentence or so.
func (w *StreamWriter) ready(text string, now time.Time) bool {
	t := strings.TrimSpace(text)
	switch n := discordsplit.Len(t); {
	case n == 0:
		return false
	case n >= FirstPostChars:
		return true
	case n >= firstSentenceChars && sentenceEnded(t):
		return true
	}
	return now.Sub(w.begun) >= FirstPostAfter
}

// sentenceEnded reports whether text, the start of a reply still being
// written, holds the end of a sentence with more text after it: a
// sentence boundary of Unicode's rules (UAX #29, through uniseg) before the
// text's end. By those rules a terminator (. ! ? … and the other STerm and
// ATerm characters) ends a sentence only when white space or a line break
// follows it, after any closing quotes or brackets (`."`, `!)`); a full
// stop followed by a digit or a lower-case word does not ("3.5", "v1.2",
// "discord.com", "e.g. this", "wait... what"). The end of the text is no
// boundary: what follows a terminator there has not arrived. A full stop
// after an abbreviation before a capitalised word ("Dr. Smith") is one, as
// the rules cannot tell it from a sentence's end.
func sentenceEnded(text string) bool {
	_, rest, _ := uniseg.FirstSentenceInString(text, -1)
	return strings.TrimSpace(rest) != ""
}

// sync brings the messages to text's parts: posts the parts without a
// message, edits those whose content differs (while streaming, only those
// not edited within EditInterval) and, when final, deletes the messages
// beyond the last part; while streaming those show pending.
func (w *StreamWriter) sync(ctx context.Context, text string, final bool) error {
	var parts []string
	if strings.TrimSpace(text) != "" { // Split("") is one empty part, which Discord refuses
		parts = discordsplit.Split(text, partLimit(w.name))
	}
	interval := w.interval()
	for i, part := range parts {
		if i >= len(w.msgs) {
			if err := w.post(ctx, i, part); err != nil {
				return err
			}
			continue
		}
		if w.msgs[i].Digest == digest(part) || (!final && time.Since(w.edited[i]) < interval) {
			continue
		}
		if err := w.edit(ctx, i, part, !final); err != nil {
			return err
		}
	}
	for final && len(w.msgs) > len(parts) {
		if err := w.deleteLast(ctx); err != nil {
			return err
		}
	}
	// A retry's messages beyond its text so far show no longer the killed
	// attempt's words, only that more is coming (Finish deletes those the
	// reply does not reach).
	for i := len(parts); i < len(w.msgs); i++ {
		if w.msgs[i].Digest != digest(pending) && time.Since(w.edited[i]) >= interval {
			// Once a message after a retry, to hide stale words: not
			// paced as growing edits are.
			if err := w.edit(ctx, i, pending, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// pending is what a message shows while the text that will fill it has not
// arrived (Discord refuses an empty message).
const pending = "…"

// post makes part i's message once under its delivery key. A message the
// key already recorded (an attempt that died before heartbeating it), or
// one an earlier attempt posted through the webhook and died before
// recording, is adopted and then edited to part.
func (w *StreamWriter) post(ctx context.Context, i int, part string) error {
	key := deliverykey.Part(w.to.DeliveryKey, i)
	var made *StreamedMessage
	id, err := w.a.deliverOnce(ctx, key, w.to.ChannelID, w.to.PersonalityID, func(since time.Time) (string, error) {
		id, hookID, err := w.a.postAs(ctx, personaPost{
			channelID: w.to.ChannelID, name: w.name, avatarURL: w.to.AvatarURL, content: part, key: key, since: since,
			earlier: w.spokenByUs,
		})
		if err == nil && !since.IsZero() {
			return id, nil // perhaps adopted: its content is looked up below
		}
		made = &StreamedMessage{ID: id, WebhookID: hookID, Len: discordsplit.Len(part), Digest: digest(part)}
		return id, err
	})
	if err != nil {
		return err
	}
	if made == nil {
		m, err := w.adopt(ctx, key, id)
		if err != nil {
			return err
		}
		if m == nil { // recorded, but deleted since: post it again
			return w.post(ctx, i, part)
		}
		made = m
	}
	w.msgs = append(w.msgs, *made)
	w.edited = append(w.edited, time.Now())
	w.changed()
	if made.Digest != digest(part) {
		return w.edit(ctx, i, part, false)
	}
	return nil
}

// spokenByUs tells an earlier attempt's post among the webhook's: the
// attempt's text is not known, so any post of this personality's through
// the webhook since then, which no other delivery recorded or may have made
// (findEarlierPost).
func (w *StreamWriter) spokenByUs(m *discordgo.Message) bool {
	return m.Author == nil || m.Author.Username == w.name
}

// adopt reads the message an earlier attempt posted under key: who posted
// it and what it holds. A message deleted since (10008) has its delivery
// forgotten and is nil.
func (w *StreamWriter) adopt(ctx context.Context, key, id string) (*StreamedMessage, error) {
	m, err := w.readPosted(ctx, key, id)
	if m == nil || err != nil {
		return nil, err
	}
	content := m.Content
	if m.WebhookID == "" {
		content = strings.TrimPrefix(content, botPrefix(w.name))
	}
	return &StreamedMessage{ID: id, WebhookID: m.WebhookID, Len: discordsplit.Len(content), Digest: digest(content)}, nil
}

// readPosted reads back message id, posted under key: Discord's message,
// nil when it was deleted since (10008), and then its delivery is
// forgotten so the key may post again.
func (w *StreamWriter) readPosted(ctx context.Context, key, id string) (*discordgo.Message, error) {
	m, err := w.a.Discord.ChannelMessage(w.to.ChannelID, id, discordgo.WithContext(ctx))
	if discordCode(err) == discordgo.ErrCodeUnknownMessage {
		if err := w.a.store().ForgetDelivery(ctx, key); err != nil {
			return nil, fmt.Errorf("forget delivery: %w", err)
		}
		return nil, nil
	}
	if err != nil {
		return nil, discordError("read a streamed message", err)
	}
	return m, nil
}

// edit writes part into message i: through the webhook that posted it, or
// as the bot (with the name in bold) for a bot message. A growing edit
// (growing: not the final text) through a webhook that streamed replies
// already keep busy is skipped (webhookPace): a later edit shows its text.
func (w *StreamWriter) edit(ctx context.Context, i int, part string, growing bool) error {
	m := &w.msgs[i]
	if m.WebhookID == "" {
		// An edit without allowed_mentions is parsed with Discord's default
		// allowances (@everyone and roles too), whatever the post sent
		// (https://discord.com/developers/docs/resources/message#edit-message):
		// users only, as the post (sendWithNonce) and the webhook edit send.
		content := botPrefix(w.name) + part
		edit := &discordgo.MessageEdit{
			ID: m.ID, Channel: w.to.ChannelID, Content: &content,
			AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}},
		}
		if _, err := w.a.Discord.ChannelMessageEditComplex(edit, discordgo.WithContext(ctx)); err != nil {
			return discordError("edit the streamed message", err)
		}
	} else {
		hook, err := w.hook(ctx, m.WebhookID)
		if err != nil {
			return refusedIfGone(err)
		}
		body := &discordgo.WebhookEdit{
			Content:         &part,
			AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}},
		}
		uri := discordgo.EndpointWebhookMessage(hook.ID, hook.Token, m.ID)
		if !w.a.pace(hook.ID).take(time.Now(), growing) {
			return nil
		}
		if _, err := w.a.Discord.RequestWithBucketID(http.MethodPatch, uri, body, webhookBucket(hook.ID, hook.Token), discordgo.WithContext(ctx)); err != nil {
			return discordError("edit the streamed message", err)
		}
	}
	m.Len, m.Digest = discordsplit.Len(part), digest(part)
	w.edited[i] = time.Now()
	w.changed()
	return nil
}

// deleteLast deletes the last message (an earlier attempt's text beyond the
// reply's end) and forgets its delivery, so the key may post again.
func (w *StreamWriter) deleteLast(ctx context.Context) error {
	i := len(w.msgs) - 1
	m := w.msgs[i]
	var err error
	switch {
	case m.gone: // deleted already
	case m.WebhookID == "":
		err = w.a.Discord.ChannelMessageDelete(w.to.ChannelID, m.ID, discordgo.WithContext(ctx))
	default:
		hook, herr := w.hook(ctx, m.WebhookID)
		if herr != nil && !errors.Is(herr, errWebhookGone) {
			return herr
		}
		if herr == nil {
			uri := discordgo.EndpointWebhookMessage(hook.ID, hook.Token, m.ID)
			w.a.pace(hook.ID).take(time.Now(), false)
			_, err = w.a.Discord.RequestWithBucketID(http.MethodDelete, uri, nil, webhookBucket(hook.ID, hook.Token), discordgo.WithContext(ctx))
		}
		// A deleted webhook (gone from the channel, or Unknown Webhook /
		// Invalid Webhook Token from a cached one) leaves its messages: the
		// bot deletes it, with Manage Messages.
		if c := discordCode(err); herr != nil || c == discordgo.ErrCodeUnknownWebhook || c == discordgo.ErrCodeInvalidWebhookTokenProvided {
			err = w.a.Discord.ChannelMessageDelete(w.to.ChannelID, m.ID, discordgo.WithContext(ctx))
		}
	}
	if err != nil && discordCode(err) != discordgo.ErrCodeUnknownMessage {
		return discordError("delete a stray streamed message", err)
	}
	if err := w.a.store().ForgetDelivery(ctx, deliverykey.Part(w.to.DeliveryKey, i)); err != nil {
		return fmt.Errorf("forget delivery: %w", err)
	}
	w.msgs, w.edited = w.msgs[:i], w.edited[:i]
	w.changed()
	return nil
}

// hook is the webhook that posted a message, the only one that may edit it:
// the channel's cached webhook, else the one of that id among the channel's
// (another attempt or worker may have made and cached a second one).
func (w *StreamWriter) hook(ctx context.Context, id string) (*discordgo.Webhook, error) {
	if h := w.hooks[id]; h != nil {
		return h, nil
	}
	hook, err := w.a.channelWebhook(ctx, w.to.ChannelID)
	if err != nil {
		return nil, err
	}
	if hook == nil || hook.ID != id {
		hooks, err := w.a.Discord.ChannelWebhooks(w.to.ChannelID, discordgo.WithContext(ctx))
		if err != nil {
			return nil, discordError("list webhooks", err)
		}
		hook = nil
		for _, h := range hooks {
			if h.ID == id && h.Token != "" {
				hook = h
			}
		}
	}
	if hook == nil {
		return nil, errWebhookGone
	}
	if w.hooks == nil {
		w.hooks = map[string]*discordgo.Webhook{}
	}
	w.hooks[id] = hook
	return hook, nil
}

// errWebhookGone: the webhook that posted a message is no longer the
// channel's. A message of a deleted webhook stays in the channel and can
// only be deleted as the bot (deleteLast); edit refuses it as bad input.
var errWebhookGone = errors.New("the webhook that posted the streamed reply was deleted, so its messages cannot be edited; the reply stays as it is")

func (w *StreamWriter) changed() {
	if w.OnProgress != nil {
		w.OnProgress(w.Progress())
	}
}

// digest identifies a message's content without keeping it (Progress is
// heartbeated, and content stays out of Temporal).
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// refusedIfGone is err, errWebhookGone as a non-retryable bad input: a
// message whose webhook is gone cannot be edited on any attempt.
func refusedIfGone(err error) error {
	if errors.Is(err, errWebhookGone) {
		return badInput(err.Error())
	}
	return err
}
