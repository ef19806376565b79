package store

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/predicate"
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
// provider id, active and with no deactivated_by: a new row, or the one they
// have replaced in place (/wallet set, or /wallet test re-storing it).
// Storing the same key twice leaves the same row.
func (s *Store) PutKey(ctx context.Context, userID uuid.UUID, provider string, key keycrypt.Sealed) error {
	return s.db.UserAPIKey.Create().
		SetUserID(userID).SetProvider(provider).
		SetIv(key.IV).SetContent(key.Content).SetTag(key.Tag).
		SetIsActive(true).
		OnConflict(sql.ConflictColumns(userapikey.FieldUserID, userapikey.FieldProvider)).
		Update(func(u *ent.UserAPIKeyUpsert) {
			u.UpdateIv().UpdateContent().UpdateTag().UpdateIsActive().ClearDeactivatedBy().SetUpdatedAt(time.Now())
		}).
		Exec(ctx)
}

// KeyUsed sets the stored key's last_used_at to now.
func (s *Store) KeyUsed(ctx context.Context, k *ent.UserAPIKey) error {
	return s.db.UserAPIKey.UpdateOne(k).SetLastUsedAt(time.Now()).Exec(ctx)
}

// DeactivateKey switches off the user's key for the provider id on behalf
// of the workflow execution by (its Temporal workflow ID), recording by in
// deactivated_by. True exactly when by is the one that switched it off: on
// the first call, and on a retry of it after its UPDATE committed; false
// when they have no key, or another workflow switched it off, so that only
// one workflow tells the user. An empty by is recorded as NULL and is true
// only for the call that changed the row.
func (s *Store) DeactivateKey(ctx context.Context, discordID, provider, by string) (bool, error) {
	return s.deactivate(ctx, by, userapikey.Provider(provider), userapikey.HasUserWith(user.DiscordID(discordID)))
}

// DeactivateKeyIfUnchanged is DeactivateKey for the stored key k only while
// its row still holds the sealing k was read with: false as well when the
// user has stored another key since, which stays on.
func (s *Store) DeactivateKeyIfUnchanged(ctx context.Context, k *ent.UserAPIKey, by string) (bool, error) {
	return s.deactivate(ctx, by, userapikey.ID(k.ID), userapikey.Iv(k.Iv), userapikey.Content(k.Content))
}

// deactivate is one UPDATE … SET is_active = false, deactivated_by = by
// WHERE row AND (is_active OR deactivated_by = by): two workflows racing on
// the same row serialise on its lock, and the second no longer matches.
func (s *Store) deactivate(ctx context.Context, by string, row ...predicate.UserAPIKey) (bool, error) {
	u := s.db.UserAPIKey.Update().
		Where(append(row, userapikey.Or(userapikey.IsActive(true), userapikey.DeactivatedBy(by)))...).
		SetIsActive(false)
	if by == "" {
		u.ClearDeactivatedBy()
	} else {
		u.SetDeactivatedBy(by)
	}
	n, err := u.Save(ctx)
	return n > 0, err
}

// DeleteKey deletes the user's key for the provider id, reporting how many
// rows went (0 or 1).
func (s *Store) DeleteKey(ctx context.Context, discordID, provider string) (int, error) {
	return s.db.UserAPIKey.Delete().Where(
		userapikey.Provider(provider), userapikey.HasUserWith(user.DiscordID(discordID)),
	).Exec(ctx)
}
