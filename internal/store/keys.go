package store

import (
	"context"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/ent/userapikey"
)

// Keys are the user's stored keys, sealed, by provider id.
func (s *Store) Keys(ctx context.Context, discordID string) ([]*ent.UserAPIKey, error) {
	return s.db.UserAPIKey.Query().Where(userapikey.HasUserWith(user.DiscordID(discordID))).
		Order(userapikey.ByProvider()).All(ctx)
}

// Key is the user's stored key for the provider id (internal/provider);
// ent's not-found error when they have none.
func (s *Store) Key(ctx context.Context, discordID, provider string) (*ent.UserAPIKey, error) {
	return s.db.UserAPIKey.Query().Where(
		userapikey.Provider(provider), userapikey.HasUserWith(user.DiscordID(discordID)),
	).Only(ctx)
}

// DeleteKey deletes the user's key for the provider id, reporting how many
// rows went (0 or 1).
func (s *Store) DeleteKey(ctx context.Context, discordID, provider string) (int, error) {
	return s.db.UserAPIKey.Delete().Where(
		userapikey.Provider(provider), userapikey.HasUserWith(user.DiscordID(discordID)),
	).Exec(ctx)
}
