package store

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/keycrypt"
)

// Keys are the user's stored keys, sealed, by provider id.
func (s *Store) Keys(ctx context.Context, discordID string) ([]*ent.UserAPIKey, error) {
	return s.db.UserAPIKey.Query().Where(userapikey.HasUserWith(user.DiscordID(discordID))).
		Order(userapikey.ByProvider()).All(ctx)
}

// Key is the user's stored key for the provider id (internal/provider),
// active or not; ent's not-found error when they have none. One lookup on
// the unique index (user_id, provider).
func (s *Store) Key(ctx context.Context, discordID, provider string) (*ent.UserAPIKey, error) {
	return s.db.UserAPIKey.Query().Where(
		userapikey.Provider(provider), userapikey.HasUserWith(user.DiscordID(discordID)),
	).Only(ctx)
}

// Sealed is the stored key k as keycrypt seals it, to open with the keyring.
func Sealed(k *ent.UserAPIKey) keycrypt.Sealed {
	return keycrypt.Sealed{IV: k.Iv, Content: k.Content, Tag: k.Tag}
}

// PutKey stores the sealed key as the user's (row id userID) key for the
// provider id, active: a new row, or the one they have replaced in place.
// Storing the same key twice leaves the same row.
func (s *Store) PutKey(ctx context.Context, userID uuid.UUID, provider string, key keycrypt.Sealed) error {
	return s.db.UserAPIKey.Create().
		SetUserID(userID).SetProvider(provider).
		SetIv(key.IV).SetContent(key.Content).SetTag(key.Tag).
		SetIsActive(true).
		OnConflict(sql.ConflictColumns(userapikey.FieldUserID, userapikey.FieldProvider)).
		Update(func(u *ent.UserAPIKeyUpsert) {
			u.UpdateIv().UpdateContent().UpdateTag().UpdateIsActive().SetUpdatedAt(time.Now())
		}).
		Exec(ctx)
}

// KeyUsed sets the stored key's last_used_at to now.
func (s *Store) KeyUsed(ctx context.Context, k *ent.UserAPIKey) error {
	return s.db.UserAPIKey.UpdateOne(k).SetLastUsedAt(time.Now()).Exec(ctx)
}

// DeactivateKey switches off the user's active key for the provider id,
// reporting whether this call changed a row (false when they have none or it
// was off already).
func (s *Store) DeactivateKey(ctx context.Context, discordID, provider string) (bool, error) {
	n, err := s.db.UserAPIKey.Update().Where(
		userapikey.Provider(provider), userapikey.IsActive(true), userapikey.HasUserWith(user.DiscordID(discordID)),
	).SetIsActive(false).Save(ctx)
	return n > 0, err
}

// DeactivateKeyIfUnchanged switches off the stored key k only while its row
// still holds the sealing k was read with: true when it does (the key is off
// now, by this call or an earlier one), false when the user has stored
// another key since, which stays on.
func (s *Store) DeactivateKeyIfUnchanged(ctx context.Context, k *ent.UserAPIKey) (bool, error) {
	n, err := s.db.UserAPIKey.Update().
		Where(userapikey.ID(k.ID), userapikey.Iv(k.Iv), userapikey.Content(k.Content)).
		SetIsActive(false).Save(ctx)
	return n > 0, err
}

// DeleteKey deletes the user's key for the provider id, reporting how many
// rows went (0 or 1).
func (s *Store) DeleteKey(ctx context.Context, discordID, provider string) (int, error) {
	return s.db.UserAPIKey.Delete().Where(
		userapikey.Provider(provider), userapikey.HasUserWith(user.DiscordID(discordID)),
	).Exec(ctx)
}
