package store

// The user's own data: the /memory incognito switch, what /data export
// reads and what DeleteUserData removes.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/memory"
	"github.com/tzurot/tzurot/ent/user"
)

// Incognito reports whether the user with this Discord id has turned
// /memory incognito on: while it is on, nothing new may be remembered about
// them, so the code that writes memories asks this before each one. False
// for a user with no row.
func (s *Store) Incognito(ctx context.Context, discordID string) (bool, error) {
	on, err := s.db.User.Query().Where(user.DiscordID(discordID)).Select(user.FieldIncognito).Bool(ctx)
	if ent.IsNotFound(err) {
		return false, nil
	}
	return on, err
}

// SetIncognito switches /memory incognito on or off for the user, creating
// their row; username "" leaves the stored one.
func (s *Store) SetIncognito(ctx context.Context, discordID, username string, on bool) error {
	c := s.db.User.Create().SetDiscordID(discordID).SetIncognito(on)
	if username != "" {
		c.SetUsername(username)
	}
	return c.OnConflict(sql.ConflictColumns(user.FieldDiscordID)).UpdateIncognito().Exec(ctx)
}

// ExportSection is one kind of row /data export lists: its name in the
// export and how the user's rows of it are read.
type ExportSection struct {
	Name string
	// from names the table as t (and joins); where picks the user's rows
	// ($1 their row id); cols are the shown columns (never a key, sealed or
	// not, nor an embedding); at is the column the rows are ordered by,
	// with t.id.
	from, where, cols, at string
}

// dmTurns picks the personality's turns in the DM channels where the user
// talked: in a DM everything said was said to them.
const dmTurns = `t.user_id IS NULL AND t.guild_id IS NULL AND t.channel_id IN
	(SELECT channel_id FROM conversation_history WHERE user_id = $1 AND guild_id IS NULL)`

// userTurns picks every turn of the user's conversations: their own turns,
// the personality's turns that answered them (answered_user_id, in guild
// channels and DMs alike) and the personality's turns in their DMs.
const userTurns = `(t.user_id = $1 OR t.answered_user_id = $1 OR ` + dmTurns + `)`

// The sections of an export, in its order.
var (
	ExportKeys = ExportSection{Name: "api_keys", from: `user_api_keys t`, where: `t.user_id = $1`,
		cols: `t.provider, t.is_active AS active, t.created_at, t.last_used_at, t.deactivated_by`, at: "created_at"}
	ExportConfigs = ExportSection{Name: "personality_configs",
		from: `user_personality_configs t LEFT JOIN personalities p ON p.id = t.personality_id`, where: `t.user_id = $1`,
		cols: `p.name AS personality, t.model, t.advanced_parameters, t.created_at, t.updated_at`, at: "created_at"}
	ExportOwned = ExportSection{Name: "owned_personalities", from: `personalities t`, where: `t.owner_id = $1`,
		cols: `t.name, t.display_name, t.created_at`, at: "created_at"}
	ExportUsage = ExportSection{Name: "usage",
		from: `usage_logs t LEFT JOIN personalities p ON p.id = t.personality_id`, where: `t.user_id = $1 AND t.provider <> '` + HoldProvider + `'`,
		cols: `t."timestamp", p.name AS personality, t.provider, t.model, t.request_type, t.tokens_in, t.tokens_out, t.tokens_total, t.cost_usd`, at: "timestamp"}
	ExportTurns = ExportSection{Name: "conversation_turns",
		from: `conversation_history t LEFT JOIN personalities p ON p.id = t.personality_id`, where: userTurns,
		cols: `t.created_at, p.name AS personality, t.guild_id, t.channel_id, t.discord_message_id, t.role, t.author_name, t.content`, at: "created_at"}
	ExportMemories = ExportSection{Name: "memories",
		from: `memories t LEFT JOIN personalities p ON p.id = t.personality_id`, where: `t.user_id = $1`,
		cols: `t.id, t.created_at, p.name AS personality, t.content, t.model AS embedding_model`, at: "created_at"}
)

// ExportSections lists every section, in the export's order.
var ExportSections = []ExportSection{ExportKeys, ExportConfigs, ExportOwned, ExportUsage, ExportTurns, ExportMemories}

// ExportCursor is where a page of a section ends; the zero value starts
// at the beginning.
type ExportCursor struct {
	At time.Time
	ID uuid.UUID
}

// ExportPage returns up to limit of the user's rows of sec after cur,
// oldest first, each as a JSON object, and the cursor after them; fewer
// than limit rows means the section is done. PostgreSQL builds the JSON, so
// a page costs one query whatever the columns.
func (s *Store) ExportPage(ctx context.Context, sec ExportSection, userID uuid.UUID, cur ExportCursor, limit int) ([]json.RawMessage, ExportCursor, error) {
	at := cur.At
	if at.IsZero() {
		at = time.Unix(0, 0).AddDate(-100, 0, 0)
	}
	q := fmt.Sprintf(`SELECT row_to_json(x)::text, t.%[1]q, t.id FROM %[2]s CROSS JOIN LATERAL (SELECT %[3]s) x
		WHERE (%[4]s) AND (t.%[1]q, t.id) > ($2, $3) ORDER BY t.%[1]q, t.id LIMIT $4`, sec.at, sec.from, sec.cols, sec.where)
	rows, err := s.db.QueryContext(ctx, q, userID, at, cur.ID, limit)
	if err != nil {
		return nil, cur, fmt.Errorf("read %s for the export: %w", sec.Name, err)
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var obj string
		if err := rows.Scan(&obj, &cur.At, &cur.ID); err != nil {
			return nil, cur, fmt.Errorf("read %s for the export: %w", sec.Name, err)
		}
		out = append(out, json.RawMessage(obj))
	}
	return out, cur, rows.Err()
}

// UserDataTables are the tables DeleteUserData clears of a user, in its
// order: what hangs off the user first, the users row last (its foreign
// keys would cascade, but in one unbounded statement). usage_logs rows are
// not deleted but made anonymous (user_id NULL), so /admin usage's totals
// stay whole while no row says whose they were.
var UserDataTables = []string{"memories", "conversation_history", "user_personality_configs", "user_api_keys", "usage_logs", "users"}

// clearUser is, per table of UserDataTables, the statement that clears up
// to $2 of user $1's rows (conversation_history: userTurns). Personality
// turns go first,
// while the user's own turns still show which channels those are.
var clearUser = map[string]string{
	"memories":                 `DELETE FROM memories WHERE id IN (SELECT id FROM memories WHERE user_id = $1 LIMIT $2)`,
	"conversation_history":     `DELETE FROM conversation_history WHERE id IN (SELECT t.id FROM conversation_history t WHERE ` + userTurns + ` ORDER BY t.user_id NULLS FIRST LIMIT $2)`,
	"user_personality_configs": `DELETE FROM user_personality_configs WHERE id IN (SELECT id FROM user_personality_configs WHERE user_id = $1 LIMIT $2)`,
	"user_api_keys":            `DELETE FROM user_api_keys WHERE id IN (SELECT id FROM user_api_keys WHERE user_id = $1 LIMIT $2)`,
	"usage_logs":               `UPDATE usage_logs SET user_id = NULL WHERE id IN (SELECT id FROM usage_logs WHERE user_id = $1 LIMIT $2)`,
	"users":                    `DELETE FROM users WHERE id = $1 AND $2 > 0`,
}

// ClearUserBatch clears up to batch of the user's rows from table (one of
// UserDataTables; usage_logs rows are made anonymous) and returns how many;
// 0 means none are left. Clearing what is already gone clears nothing.
func (s *Store) ClearUserBatch(ctx context.Context, table string, userID uuid.UUID, batch int) (int, error) {
	stmt, ok := clearUser[table]
	if !ok {
		return 0, fmt.Errorf("clear user data: %q is not one of %v", table, UserDataTables)
	}
	res, err := s.db.ExecContext(ctx, stmt, userID, batch)
	if err != nil {
		return 0, fmt.Errorf("clear the user's %s: %w", table, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// MemoriesByPrefix returns the ids, at most two, of the user's memories
// with the personality whose id is ref or starts with it (hex digits,
// dashes ignored, any case; at least 8 digits, the short form /memory list
// shows). None for a ref that cannot be an id's start. The range of ids is
// read on the primary key, so the pair's size does not matter.
func (s *Store) MemoriesByPrefix(ctx context.Context, userID, personalityID uuid.UUID, ref string) ([]uuid.UUID, error) {
	hex := strings.ToLower(strings.ReplaceAll(ref, "-", ""))
	if len(hex) < 8 || len(hex) > 32 || strings.Trim(hex, "0123456789abcdef") != "" {
		return nil, nil
	}
	lo, errLo := uuid.Parse(hex + strings.Repeat("0", 32-len(hex)))
	hi, errHi := uuid.Parse(hex + strings.Repeat("f", 32-len(hex)))
	if errLo != nil || errHi != nil {
		return nil, nil
	}
	return s.db.Memory.Query().Where(memory.IDGTE(lo), memory.IDLTE(hi),
		memory.UserID(userID), memory.PersonalityID(personalityID)).Limit(2).IDs(ctx)
}
