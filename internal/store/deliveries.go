package store

import (
	"context"

	"github.com/tzurot/tzurot/ent/delivery"
)

// DeliveryOf is the delivery key (internal/deliverykey) the Discord message
// messageID was posted under; ok is false for a message not posted by us.
func (s *Store) DeliveryOf(ctx context.Context, messageID string) (key string, ok bool) {
	d, err := s.db.Delivery.Query().Where(delivery.DiscordMessageID(messageID)).First(ctx)
	if err != nil {
		return "", false
	}
	return d.Key, true
}

// Posted reports whether the delivery key's message is posted: its row
// holds a message id (a row without one is a post begun, not made). One
// lookup on the key's unique index.
func (s *Store) Posted(ctx context.Context, key string) (bool, error) {
	return s.db.Delivery.Query().Where(delivery.Key(key), delivery.DiscordMessageIDNEQ("")).Exist(ctx)
}
