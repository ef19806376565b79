package store

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/denial"
)

// Kinds of deny-list entries (denials.kind).
const (
	DenyUser  = denial.KindUser
	DenyGuild = denial.KindGuild
)

// Deny puts a user or guild (its Discord id) on the deny list, recording
// who denied it (a Discord id) and why (may be ""). It reports false when
// the entry was there already, which it leaves as it was. One statement on
// the (kind, discord_id) unique index.
func (s *Store) Deny(ctx context.Context, kind denial.Kind, discordID, by, reason string) (bool, error) {
	c := s.db.Denial.Create().SetKind(kind).SetDiscordID(discordID).SetDeniedBy(by)
	if reason != "" {
		c.SetReason(reason)
	}
	err := c.OnConflict(sql.ConflictColumns(denial.FieldKind, denial.FieldDiscordID)).DoNothing().Exec(ctx)
	if errors.Is(err, stdsql.ErrNoRows) {
		return false, nil // DO NOTHING returned no row: denied before
	}
	if err != nil {
		return false, fmt.Errorf("deny %s %s: %w", kind, discordID, err)
	}
	return true, nil
}

// Allow takes a user or guild off the deny list; false when it was not on it.
func (s *Store) Allow(ctx context.Context, kind denial.Kind, discordID string) (bool, error) {
	n, err := s.db.Denial.Delete().Where(denial.KindEQ(kind), denial.DiscordID(discordID)).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("allow %s %s: %w", kind, discordID, err)
	}
	return n > 0, nil
}

// Denials is the whole deny list, oldest first.
func (s *Store) Denials(ctx context.Context) ([]*ent.Denial, error) {
	rows, err := s.db.Denial.Query().Order(ent.Asc(denial.FieldCreatedAt), ent.Asc(denial.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the deny list: %w", err)
	}
	return rows, nil
}

// IsDenied says whether the user and the guild (its id, "" for a DM or
// none) are on the deny list: one query, each side an equality on the
// (kind, discord_id) unique index, for the worker's reply path
// (activities.ResolvePersonality), which holds no list in memory.
func (s *Store) IsDenied(ctx context.Context, userID, guildID string) (user, guild bool, err error) {
	match := denial.And(denial.KindEQ(DenyUser), denial.DiscordID(userID))
	if guildID != "" {
		match = denial.Or(match, denial.And(denial.KindEQ(DenyGuild), denial.DiscordID(guildID)))
	}
	kinds, err := s.db.Denial.Query().Where(match).Select(denial.FieldKind).Strings(ctx)
	if err != nil {
		return false, false, fmt.Errorf("read the deny list: %w", err)
	}
	for _, k := range kinds {
		user = user || k == string(DenyUser)
		guild = guild || k == string(DenyGuild)
	}
	return user, guild, nil
}
