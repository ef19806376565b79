package activities

// What a streamed reply posted, found again by a retry or a discard: every
// part by its delivery row or, posted but never recorded, in the channel.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/store"
)

// Resume takes as the writer's messages, after those it was given, the
// parts the reply posted beyond them (findPosted), so that a retry — or a
// discard, or a rewrite — meets every message an earlier attempt left,
// whatever its last heartbeat said. A part whose message was deleted since
// (by a moderator, or the user) and every part after it are deleted and
// forgotten, so that the text posts them again in order. Errors are
// Discord's or the database's.
func (w *StreamWriter) Resume(ctx context.Context) error {
	if err := w.findPosted(ctx); err != nil {
		return err
	}
	gap := slices.IndexFunc(w.msgs, func(m StreamedMessage) bool { return m.gone })
	for gap >= 0 && len(w.msgs) > gap {
		if err := w.deleteLast(ctx); err != nil {
			return err
		}
	}
	return nil
}

// findPosted takes as the writer's messages, after those it has, the parts
// the reply posted beyond them: each recorded one read back (adopt), and
// the last part's post when it was begun and never recorded (a worker that
// died between its post and the record: parts are posted in order, each
// after the one before was recorded), found in the channel as post finds
// it and recorded under its key. A message deleted since stays in its
// place, marked gone, so each keeps its part's index. Errors are Discord's
// or the database's.
func (w *StreamWriter) findPosted(ctx context.Context) error {
	st := w.a.store()
	for i := len(w.msgs); ; i++ {
		key := deliverykey.Part(w.to.DeliveryKey, i)
		d, err := st.Delivery(ctx, key)
		if err != nil {
			return fmt.Errorf("look up delivery: %w", err)
		}
		if d == nil {
			return nil
		}
		id, last := d.DiscordMessageID, d.DiscordMessageID == ""
		if last {
			if id, err = w.unrecorded(ctx, key, d.CreatedAt); err != nil {
				return err
			}
			if id == "" { // begun, never made
				if err := st.ForgetDelivery(ctx, key); err != nil {
					return fmt.Errorf("forget delivery: %w", err)
				}
				return nil
			}
		}
		m, err := w.adopt(ctx, key, id)
		if err != nil {
			return err
		}
		if m == nil {
			m = &StreamedMessage{ID: id, gone: true}
		}
		w.msgs = append(w.msgs, *m)
		w.edited = append(w.edited, time.Time{})
		if last {
			return nil
		}
	}
}

// unrecorded finds the post an attempt began under key at since and died
// before recording: this personality's post since then that no delivery
// recorded (findEarlierPost, as post adopts it) — through the channel's
// webhook, or, in a channel that cannot have one (a DM, no Manage
// Webhooks), the bot's own message led by the name in bold — recorded under
// key so that no other delivery takes it meanwhile; "" when there is none.
func (w *StreamWriter) unrecorded(ctx context.Context, key string, since time.Time) (string, error) {
	hook, err := w.a.channelWebhook(ctx, w.to.ChannelID)
	if err != nil {
		return "", err
	}
	hookID, match := "", w.postedAsBot
	if hook != nil {
		hookID, match = hook.ID, w.spokenByUs
	}
	for range maxClaimTries {
		id, err := w.a.findEarlierPost(ctx, w.to.ChannelID, hookID, since, match)
		if err != nil || id == "" {
			return "", err
		}
		switch err := w.a.store().RecordDelivery(ctx, key, id); {
		case err == nil:
			return id, nil
		case !errors.Is(err, store.ErrClaimed):
			return "", fmt.Errorf("record delivery: %w", err)
		}
	}
	return "", nil
}

// postedAsBot reports whether m is a message the bot posted as this
// personality where no webhook could: a bot's, its content led by the
// name in bold (botPrefix).
func (w *StreamWriter) postedAsBot(m *discordgo.Message) bool {
	return m.Author != nil && m.Author.Bot && strings.HasPrefix(m.Content, botPrefix(w.name))
}
