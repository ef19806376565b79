// Package migrations holds tzurot's versioned schema migrations, embedded in the
// binary, and applies them: 0001 is the legacy baseline, later files are
// generated from ent/schema by internal/tools/migrategen (or written by hand
// where ent cannot express the change, like the lower(alias) index).
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"time"

	atlasschema "ariga.io/atlas/sql/schema"
	entschema "entgo.io/ent/dialect/sql/schema"
)

//go:embed *.sql
var files embed.FS

// lockID serialises concurrent `migrate up` runs (worker and bot starting together).
const lockID = 0x747a75726f74 // "tzurot"

// Migration is one embedded SQL file.
type Migration struct {
	Version  string // the file name up to the first underscore, e.g. 0002
	Name     string // the rest of the file name, without .sql
	SQL      string
	Checksum string
}

// State is a migration and whether and when it was applied.
type State struct {
	Migration
	AppliedAt *time.Time
	// Adopted is true for a baseline found already in place (a production
	// database from before versioned migrations) and recorded without running.
	Adopted bool
	// Guarded is a contract migration, applied only by its data-migration command.
	Guarded string
}

// All lists the embedded migrations in order.
func All() ([]Migration, error) {
	entries, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(entries)
	out := make([]Migration, 0, len(entries))
	for _, name := range entries {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		base := strings.TrimSuffix(name, ".sql")
		version, desc, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration file %s is not named VERSION_NAME.sql", name)
		}
		out = append(out, Migration{Version: version, Name: desc, SQL: string(b), Checksum: checksum(b)})
	}
	return out, nil
}

// embeddedAndConn reads the embedded migrations and takes one connection
// from db, so that a session-scoped advisory lock and the statements under it
// share a session. The caller closes the connection.
func embeddedAndConn(ctx context.Context, db *sql.DB) ([]Migration, *sql.Conn, error) {
	all, err := All()
	if err != nil {
		return nil, nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to the database: %w", err)
	}
	return all, conn, nil
}

// Up applies every pending migration, each in its own transaction, and returns
// the ones it applied. A database that already holds the legacy tables but no
// migration record has its baseline adopted rather than re-created.
func Up(ctx context.Context, db *sql.DB, log *slog.Logger) ([]Migration, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	all, conn, err := embeddedAndConn(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", lockID) //nolint:errcheck // released with the connection anyway
	if err := ensureTable(ctx, conn); err != nil {
		return nil, err
	}
	applied, err := appliedMigrations(ctx, conn)
	if err != nil {
		return nil, err
	}
	if err := checkApplied(all, applied); err != nil {
		return nil, err
	}
	if len(applied) == 0 && len(all) > 0 {
		legacy, err := hasLegacyTables(ctx, conn)
		if err != nil {
			return nil, err
		}
		if legacy {
			base := all[0]
			if _, err := conn.ExecContext(ctx,
				"INSERT INTO schema_migrations (version, name, checksum, adopted) VALUES ($1, $2, $3, true)",
				base.Version, base.Name, base.Checksum); err != nil {
				return nil, fmt.Errorf("record adopted baseline: %w", err)
			}
			applied[base.Version] = appliedRow{checksum: base.Checksum}
			log.Info("adopted the legacy baseline: its tables were already there", "version", base.Version)
		}
	}
	var done []Migration
	for _, m := range all {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		start := time.Now()
		if err := apply(ctx, conn, m); err != nil {
			return done, err
		}
		log.Info("applied migration", "version", m.Version, "name", m.Name, "duration_ms", time.Since(start).Milliseconds())
		done = append(done, m)
	}
	return done, nil
}

// Status lists every embedded migration with when it was applied, plus any
// migration the database has that this binary does not know.
func Status(ctx context.Context, db *sql.DB) ([]State, error) {
	all, conn, err := embeddedAndConn(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	exists, err := tableExists(ctx, conn, "schema_migrations")
	if err != nil {
		return nil, err
	}
	applied := map[string]appliedRow{}
	if exists {
		if applied, err = appliedMigrations(ctx, conn); err != nil {
			return nil, err
		}
	}
	out := make([]State, 0, len(all))
	for _, m := range all {
		st := State{Migration: m}
		if row, ok := applied[m.Version]; ok {
			at := row.at
			st.AppliedAt, st.Adopted = &at, row.adopted
			delete(applied, m.Version)
		}
		out = append(out, st)
	}
	for _, c := range Contracts {
		version, desc, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(c.File, "contract/"), ".sql"), "_")
		st := State{Migration: Migration{Version: version, Name: desc}, Guarded: c.Name}
		if row, ok := applied[version]; ok {
			at := row.at
			st.AppliedAt = &at
			delete(applied, version)
		}
		out = append(out, st)
	}
	for version, row := range applied {
		at := row.at
		out = append(out, State{Migration: Migration{Version: version, Name: row.name + " (unknown to this binary)"}, AppliedAt: &at})
	}
	return out, nil
}

func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type appliedRow struct {
	name, checksum string
	at             time.Time
	adopted        bool
}

func ensureTable(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text PRIMARY KEY,
	name       text NOT NULL,
	checksum   text NOT NULL,
	adopted    boolean NOT NULL DEFAULT false,
	applied_at timestamptz NOT NULL DEFAULT now()
)`)
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return nil
}

func appliedMigrations(ctx context.Context, conn *sql.Conn) (map[string]appliedRow, error) {
	rows, err := conn.QueryContext(ctx, "SELECT version, name, checksum, adopted, applied_at FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[string]appliedRow{}
	for rows.Next() {
		var v string
		var r appliedRow
		if err := rows.Scan(&v, &r.name, &r.checksum, &r.adopted, &r.at); err != nil {
			return nil, err
		}
		out[v] = r
	}
	return out, rows.Err()
}

// checkApplied refuses to go on when an applied file was edited afterwards: the
// database would no longer be what the files say.
func checkApplied(all []Migration, applied map[string]appliedRow) error {
	for _, m := range all {
		if row, ok := applied[m.Version]; ok && !row.adopted && row.checksum != m.Checksum {
			return fmt.Errorf("migration %s_%s was changed after it was applied: restore the file and add a new migration instead", m.Version, m.Name)
		}
	}
	return nil
}

func apply(ctx context.Context, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s_%s failed, nothing of it was applied: %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
		m.Version, m.Name, m.Checksum); err != nil {
		return fmt.Errorf("record migration %s: %w", m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration %s_%s: %w", m.Version, m.Name, err)
	}
	return nil
}

func hasLegacyTables(ctx context.Context, conn *sql.Conn) (bool, error) {
	for _, t := range []string{"users", "personalities", "llm_configs", "conversation_history"} {
		ok, err := tableExists(ctx, conn, t)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func tableExists(ctx context.Context, conn *sql.Conn, name string) (bool, error) {
	var ok bool
	err := conn.QueryRowContext(ctx, "SELECT to_regclass('public.' || $1) IS NOT NULL", name).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return ok, nil
}

// KeepHandWritten is an ent diff hook that keeps what the migrations add by hand
// and ent cannot describe (the lower(alias) unique index, the migration
// bookkeeping table), so that neither the generator nor the drift check
// proposes to drop them.
func KeepHandWritten(next entschema.Differ) entschema.Differ {
	return entschema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		return filterHandWritten(changes), nil
	})
}

// ContractColumns are legacy columns the ent schema no longer has but the
// database keeps until the contract migration drops them, once the data
// migrations that moved their data are verified.
var ContractColumns = map[string][]string{
	"llm_configs": {"top_k", "frequency_penalty", "presence_penalty", "repetition_penalty", "stop", "seed",
		"logit_bias", "response_format", "stream_response", "system_fingerprint"},
	"personalities": {"voice_settings"},
}

func isContractColumn(table, column string) bool {
	for _, c := range ContractColumns[table] {
		if c == column {
			return true
		}
	}
	return false
}

// HandWrittenIndexes are indexes created by hand in the SQL files: the
// expression indexes on lower(…) that case-insensitive lookups use.
var HandWrittenIndexes = []string{
	"personality_aliases_alias_lower_key", // 0007
	"personalities_name_lower",            // 0015
	"personalities_display_name_lower",    // 0015
	"personalities_name_trgm",             // 0023
	"personalities_display_name_trgm",     // 0023
	"personality_aliases_alias_trgm",      // 0023
	"personalities_owner_id_name",         // 0023
}

func filterHandWritten(changes []atlasschema.Change) []atlasschema.Change {
	out := changes[:0]
	for _, c := range changes {
		switch c := c.(type) {
		case *atlasschema.DropTable:
			if c.T.Name == "schema_migrations" {
				continue
			}
		case *atlasschema.ModifyTable:
			var kept []atlasschema.Change
			for _, cc := range filterHandWritten(c.Changes) {
				if dc, ok := cc.(*atlasschema.DropColumn); ok && isContractColumn(c.T.Name, dc.C.Name) {
					continue
				}
				kept = append(kept, cc)
			}
			if c.Changes = kept; len(kept) == 0 {
				continue
			}
		case *atlasschema.DropIndex:
			if isHandWritten(c.I.Name) {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

func isHandWritten(index string) bool {
	for _, n := range HandWrittenIndexes {
		if n == index {
			return true
		}
	}
	return false
}

// ErrNoDatabase is returned by callers that need DATABASE_URL.
var ErrNoDatabase = errors.New("DATABASE_URL is not set: set it, or run `tzurot dev` which starts a local PostgreSQL")
