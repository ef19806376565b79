package store

import (
	"context"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/access"
)

// User is the user with this Discord id, nil when they have no row yet (a
// user gets one on their first reply, setting or key).
func (s *Store) User(ctx context.Context, discordID string) (*ent.User, error) {
	return orNil(s.db.User.Query().Where(user.DiscordID(discordID)).Only(ctx))
}

// Speaker is who discordID is for internal/access: their row's id and
// superuser flag, and whether they are the bot's operator (operatorID).
func (s *Store) Speaker(ctx context.Context, discordID, operatorID string) (access.Speaker, error) {
	return access.Load(ctx, s.db, discordID, operatorID)
}

// UpsertUser is the id of the user with this Discord id, created when they
// have no row, with their Discord username brought up to date; username ""
// leaves the stored one as it is (a new row then has none). One statement
// on the discord_id unique index.
func (s *Store) UpsertUser(ctx context.Context, discordID, username string) (uuid.UUID, error) {
	c := s.db.User.Create().SetDiscordID(discordID)
	if username == "" {
		// A no-op update, so that RETURNING gives the existing row's id.
		return c.OnConflict(sql.ConflictColumns(user.FieldDiscordID)).UpdateDiscordID().ID(ctx)
	}
	return c.SetUsername(username).OnConflict(sql.ConflictColumns(user.FieldDiscordID)).UpdateUsername().ID(ctx)
}

// SetTimezone saves the user's IANA time zone name, creating their row.
func (s *Store) SetTimezone(ctx context.Context, discordID, username, zone string) error {
	return s.db.User.Create().SetDiscordID(discordID).SetUsername(username).SetTimezone(zone).
		OnConflict(sql.ConflictColumns(user.FieldDiscordID)).UpdateUsername().UpdateTimezone().Exec(ctx)
}
