package activities

// Each delivery key posts once: the deliveries rows that record a post, and
// the adoption of a post an earlier attempt made but died before recording.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/internal/store"
)

// deliverOnce returns the recorded message for key, or posts and records it.
// Before posting it records that key began posting (a row with no message
// id yet), so that a retry knows an earlier attempt may have posted and
// since when: post receives that time, zero on the first try. A message is
// one delivery's only (store.ErrClaimed): when another delivery recorded
// the message first — one of the same text that adopted it, seeing it in
// the channel while this post's answer was on its way — post runs again
// from the time this key began, to adopt this key's own lost post or make
// a new one, up to maxClaimTries times.
//
// personalityID is who the post speaks as (nil: the bot itself), recorded
// with the delivery for the bot's reply-to routing.
func (a *Activities) deliverOnce(ctx context.Context, key, channelID string, personalityID *uuid.UUID, post func(since time.Time) (string, error)) (string, error) {
	st := a.store()
	d, err := st.Delivery(ctx, key)
	switch {
	case err != nil:
		return "", fmt.Errorf("look up delivery: %w", err)
	case d != nil && d.DiscordMessageID != "":
		return d.DiscordMessageID, nil
	}
	var since time.Time
	if d != nil {
		since = d.CreatedAt
	} else if err := st.BeginDelivery(ctx, key, channelID, personalityID); err != nil {
		return "", fmt.Errorf("record delivery: %w", err)
	}
	for try := 1; ; try++ {
		id, err := post(since)
		if err != nil {
			return "", err
		}
		err = st.RecordDelivery(ctx, key, id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, store.ErrClaimed) || try == maxClaimTries {
			return "", fmt.Errorf("record delivery: %w", err)
		}
		a.Log.Warn("another delivery took this post's message; looking again", "channel_id", channelID)
		if since.IsZero() {
			d, err := st.Delivery(ctx, key)
			if err != nil || d == nil {
				return "", fmt.Errorf("look up delivery: %w", err)
			}
			since = d.CreatedAt
		}
	}
}

// maxClaimTries bounds deliverOnce's posts after another delivery took the
// message: each try either records or finds the message taken again,
// which needs yet another retry of the same text to adopt it meanwhile.
const maxClaimTries = 3

// findEarlierPost looks in the channel for the post an earlier attempt of
// a delivery made through the webhook (a personality's, or the
// application's follow-ups) and died before recording: made since that
// attempt began posting (less a few seconds for the clocks of Discord and
// PostgreSQL), matching, and recorded by no other delivery. Posts that
// match are alike (same webhook, text and name), so taking another
// delivery's still unrecorded post is no harm: that delivery's record is
// then refused (store.ErrClaimed) and it adopts this one's post, or posts
// anew, so every delivery ends with a message of its own.
func (a *Activities) findEarlierPost(ctx context.Context, channelID, webhookID string, since time.Time, match func(*discordgo.Message) bool) (string, error) {
	since = since.Add(-clockSkew)
	msgs, err := a.Discord.ChannelMessages(channelID, 100, "", snowflakeAt(since), "", discordgo.WithContext(ctx))
	if err != nil {
		// Not knowing is not "not posted": posting now could post twice.
		return "", discordError("look for an earlier post", err)
	}
	slices.SortFunc(msgs, func(x, y *discordgo.Message) int { return x.Timestamp.Compare(y.Timestamp) })
	st := a.store()
	for _, m := range msgs {
		if m.WebhookID != webhookID || m.Timestamp.Before(since) || !match(m) {
			continue
		}
		_, _, claimed, err := st.DeliveryOf(ctx, m.ID)
		if err != nil {
			return "", fmt.Errorf("look up delivery: %w", err)
		}
		if !claimed {
			return m.ID, nil
		}
	}
	return "", nil
}

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

func (a *Activities) delivered(ctx context.Context, key string) (string, bool, error) {
	d, err := a.store().Delivery(ctx, key)
	if err != nil {
		return "", false, fmt.Errorf("look up delivery: %w", err)
	}
	if d == nil {
		return "", false, nil
	}
	// A row without a message id is a post begun, not made.
	return d.DiscordMessageID, d.DiscordMessageID != "", nil
}

func sameFiles(got []*discordgo.MessageAttachment, want []*discordgo.File) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Filename != want[i].Name {
			return false
		}
	}
	return true
}
