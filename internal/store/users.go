package store

import (
	"context"
	"errors"
	"fmt"

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

// UserNames are the names the users rows keep (the name each user last
// spoke with), by Discord id, for those of discordIDs that have a row with
// a name; one query on users' unique discord_id index.
func (s *Store) UserNames(ctx context.Context, discordIDs []string) (map[string]string, error) {
	if len(discordIDs) == 0 {
		return nil, nil
	}
	rows, err := s.db.User.Query().Where(user.DiscordIDIn(discordIDs...), user.UsernameNotNil()).
		Select(user.FieldDiscordID, user.FieldUsername).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for _, u := range rows {
		if u.Username != nil && *u.Username != "" {
			out[u.DiscordID] = *u.Username
		}
	}
	return out, nil
}

// Speaker is who discordID is for internal/access: their row's id and
// superuser flag, and whether they are the bot's operator (operatorID).
func (s *Store) Speaker(ctx context.Context, discordID, operatorID string) (access.Speaker, error) {
	return access.Load(ctx, s.db, discordID, operatorID)
}

// UpsertUser is the id of the user with this Discord id, created when they
// have no row, with their Discord username brought up to date; username ""
// leaves the stored one as it is (a new row then has none). One statement
// on the discord_id unique index, which writes nothing when the row exists
// and its username is already username: the reply path calls it for every
// usage row and turn, and an ON CONFLICT DO UPDATE would write a new row
// version (and WAL) each time.
func (s *Store) UpsertUser(ctx context.Context, discordID, username string) (uuid.UUID, error) {
	// The three parts run on one snapshot: ins makes a new row; upd changes
	// an existing row's username only when it differs; the plain read finds
	// an existing row. A row inserted by a concurrent statement after the
	// snapshot is seen by none of them (ins meets its conflict and does
	// nothing): no row comes back, and the next try's snapshot sees it.
	const q = `WITH ins AS (
		INSERT INTO users (discord_id, username) VALUES ($1, NULLIF($2, ''))
		ON CONFLICT (discord_id) DO NOTHING RETURNING id
	), upd AS (
		UPDATE users SET username = $2, updated_at = now()
		WHERE discord_id = $1 AND $2 <> '' AND username IS DISTINCT FROM $2 RETURNING id
	)
	SELECT id FROM ins UNION ALL SELECT id FROM upd
	UNION ALL SELECT id FROM users WHERE discord_id = $1 LIMIT 1`
	for try := 0; try < 3; try++ {
		id, err := s.firstID(ctx, q, discordID, username)
		if err != nil {
			return uuid.Nil, fmt.Errorf("upsert user: %w", err)
		}
		if id != uuid.Nil {
			return id, nil
		}
	}
	return uuid.Nil, errors.New("upsert user: the row was not found after it conflicted: try again")
}

// firstID is the first column of the first row q returns, uuid.Nil when
// it returns none.
func (s *Store) firstID(ctx context.Context, q string, args ...any) (uuid.UUID, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return uuid.Nil, err
	}
	defer rows.Close()
	var id uuid.UUID
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return uuid.Nil, err
		}
	}
	return id, rows.Err()
}

// SetTimezone saves the user's IANA time zone name, creating their row.
func (s *Store) SetTimezone(ctx context.Context, discordID, username, zone string) error {
	return s.db.User.Create().SetDiscordID(discordID).SetUsername(username).SetTimezone(zone).
		OnConflict(sql.ConflictColumns(user.FieldDiscordID)).UpdateUsername().UpdateTimezone().Exec(ctx)
}
