package store

// A delivery (table deliveries) records one post to Discord under its
// delivery key (internal/deliverykey): a row with an empty message id is a
// post begun, not made; the activities post each key once through these rows.

import (
	"context"
	stdsql "database/sql"
	"errors"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/delivery"
)

// Delivery is the row of the delivery key, nil when no post under it was
// begun. One lookup on the key's unique index; any error is the database's.
func (s *Store) Delivery(ctx context.Context, key string) (*ent.Delivery, error) {
	return orNil(s.db.Delivery.Query().Where(delivery.Key(key)).Only(ctx))
}

// Posted reports whether the message of any of the delivery keys is
// posted: its row holds a message id (a row without one is a post begun,
// not made). One query on the key's unique index, however many keys.
func (s *Store) Posted(ctx context.Context, keys ...string) (bool, error) {
	return s.db.Delivery.Query().Where(delivery.KeyIn(keys...), delivery.DiscordMessageIDNEQ("")).Exist(ctx)
}

// BeginDelivery records that a post under the key to channelID began: a row
// with no message id, whose created_at tells a retry since when the earlier
// attempt may have posted, and the personality it speaks as (nil: none, a
// post of the bot's own). A row the key already has is left as it is.
func (s *Store) BeginDelivery(ctx context.Context, key, channelID string, personalityID *uuid.UUID) error {
	err := s.db.Delivery.Create().SetKey(key).SetChannelID(channelID).SetDiscordMessageID("").
		SetNillablePersonalityID(personalityID).
		OnConflict(sql.ConflictColumns(delivery.FieldKey)).DoNothing().Exec(ctx)
	if errors.Is(err, stdsql.ErrNoRows) {
		return nil // DO NOTHING returned no row: the key has one already
	}
	return err
}

// Once records that the once-only effect keyed key (a delivery key whose
// purpose is deliverykey.Counted) happened, and reports whether this call
// recorded it: true the first time, false for every later call with the
// key. A row of the deliveries table with no channel and no message: the
// unique key is the guard, as for posts.
func (s *Store) Once(ctx context.Context, key string) (bool, error) {
	err := s.db.Delivery.Create().SetKey(key).SetChannelID("").SetDiscordMessageID("").
		OnConflict(sql.ConflictColumns(delivery.FieldKey)).DoNothing().Exec(ctx)
	if errors.Is(err, stdsql.ErrNoRows) {
		return false, nil // DO NOTHING returned no row: recorded before
	}
	return err == nil, err
}

// ErrClaimed is RecordDelivery's answer when another delivery recorded the
// message first: a message is one delivery's only (the unique index
// delivery_discord_message_id, migration 0027).
var ErrClaimed = errors.New("another delivery recorded that Discord message first")

// RecordDelivery saves messageID, the Discord message the key's post made,
// on the key's row (BeginDelivery made it); ErrClaimed when another key's
// row holds it already.
func (s *Store) RecordDelivery(ctx context.Context, key, messageID string) error {
	err := s.db.Delivery.Update().Where(delivery.Key(key)).SetDiscordMessageID(messageID).Exec(ctx)
	if ent.IsConstraintError(err) {
		return ErrClaimed
	}
	return err
}

// DeliveryOf is the delivery the Discord message messageID was posted
// under: its key (internal/deliverykey) and the personality it spoke as
// (nil when none was recorded); ok is false for a message no delivery
// recorded. One lookup on the message id's index; any error is the
// database's.
func (s *Store) DeliveryOf(ctx context.Context, messageID string) (key string, personalityID *uuid.UUID, ok bool, err error) {
	// <> '' lets the planner use the partial unique index whatever the value.
	d, err := s.db.Delivery.Query().Where(delivery.DiscordMessageID(messageID), delivery.DiscordMessageIDNEQ("")).First(ctx)
	if ent.IsNotFound(err) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	return d.Key, d.PersonalityID, true, nil
}

// ForgetDelivery removes the delivery key's row: its message was deleted
// (a streamed reply that ended shorter than an earlier attempt's), so a
// later post under the key is a new one. A key without a row is no error.
func (s *Store) ForgetDelivery(ctx context.Context, key string) error {
	_, err := s.db.Delivery.Delete().Where(delivery.Key(key)).Exec(ctx)
	return err
}
