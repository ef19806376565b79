package operator

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/tzurot/tzurot/ent/migrationrun"
)

// RollbackOptions are `tzurot migrate data rollback`'s choices.
type RollbackOptions struct {
	// DiscardNewer lets the rollback lose what was written since the backup
	// (see Rollback): delete rows added since (by users or by the migration
	// itself) with the rows of other tables that cascade from them, revert
	// rows edited since, and bring back rows deleted since.
	DiscardNewer bool
}

// RollbackResult is what a rollback did, per table.
type RollbackResult struct {
	BackupPath string
	Restored   map[string]int64 // backup rows written back (updated or re-inserted)
	// Discarded are the rows written since the backup that the rollback
	// lost, per table: Added, Edited, Deleted and Cleared together.
	Discarded map[string]int64
	// Added are live rows the backup does not hold, deleted with the rows
	// that cascade from them in other tables.
	Added map[string]int64
	// Edited are backup rows changed since, other than by the migration,
	// reverted to the backup.
	Edited map[string]int64
	// Deleted are backup rows deleted since, brought back.
	Deleted map[string]int64
	// Cleared are rows of tables outside the backup whose foreign key was
	// set to NULL (ON DELETE SET NULL) by the deletion of added rows.
	Cleared map[string]int64
}

// NewerRowsError refuses a rollback that would lose rows written since the
// backup; Lost counts them per table (Added, Edited, Deleted and Cleared
// together, cascades included), the others by kind as in RollbackResult.
type NewerRowsError struct {
	Name                                  string
	Lost, Added, Edited, Deleted, Cleared map[string]int64
}

func (e *NewerRowsError) Error() string {
	var total int64
	for _, n := range e.Lost {
		total += n
	}
	return fmt.Sprintf("rollback of %s refused, nothing was changed: %d rows written since the backup would be lost (%s%s); pass --discard-newer to discard them",
		e.Name, total, TableCounts(e.Lost), LostDetail(e.Added, e.Edited, e.Deleted, e.Cleared))
}

// LostDetail says, after the totals, which of the lost rows were added,
// edited or deleted since the backup, or would have a foreign key cleared:
// "; added: a 1; edited since: b 2; deleted since (would come back): b 1".
// Empty kinds are left out.
func LostDetail(added, edited, deleted, cleared map[string]int64) string {
	var b strings.Builder
	for _, k := range []struct {
		what string
		m    map[string]int64
	}{{"added", added}, {"edited since", edited}, {"deleted since (would come back)", deleted}, {"foreign key set to NULL", cleared}} {
		if len(k.m) > 0 {
			fmt.Fprintf(&b, "; %s: %s", k.what, TableCounts(k.m))
		}
	}
	return b.String()
}

// TableCounts renders {"a": 2, "b": 1} as "a 2, b 1", sorted by table.
func TableCounts(m map[string]int64) string {
	names := make([]string, 0, len(m))
	for t := range m {
		names = append(names, t)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, t := range names {
		parts[i] = fmt.Sprintf("%s %d", t, m[t])
	}
	return strings.Join(parts, ", ")
}

// Rollback restores the tables of name's last backup, all in one transaction
// that commits only when everything worked, so a missing, unreadable or
// corrupt backup, or any failure on the way, changes nothing:
//
//  1. The dump is checked before anything is touched: present, a pg_dump
//     archive (pg_restore --list), holding data for exactly the migration's
//     tables.
//  2. pg_restore turns it into SQL (--file=-, no database connection), whose
//     COPY blocks are loaded into temporary tables inside our transaction.
//  3. The live tables are locked against writers, and what was written since
//     the backup is counted:
//     - edited: backup rows whose live version differs from the backup in a
//     column the migration does not write (dataMigration.writes; updated_at
//     aside), or in one it writes with updated_at after the run finished
//     (its finished_at; now for a run that never finished). The
//     migration's own changes — to the columns it writes, by the time it
//     finished — are what the rollback undoes and are not counted;
//     - deleted: backup rows no longer live, which the rollback would bring
//     back (migrations never delete rows, so someone else did);
//     - added: rows not in the backup (by primary key), deleted, their
//     foreign keys' ON DELETE actions firing as usual, every row so
//     deleted in any table counted (pg_stat_xact_user_tables);
//     - cleared: rows of tables outside the backup whose foreign key those
//     deletions set to NULL (ON DELETE SET NULL; pg_stat_xact_user_tables).
//     Unless opts.DiscardNewer, the rollback stops here with a
//     *NewerRowsError and the transaction is rolled back.
//  4. The backup's rows are written back (UPDATE by primary key, INSERT of
//     those missing), parents before children, foreign keys checked, and
//     the run is marked rolled_back; then the transaction commits.
//
// Columns added to a table since the backup keep their values (defaults for
// re-inserted rows); a backup column the table no longer has fails the
// rollback. No superuser is needed.
//
// Rollback is a function rather than a method of Activities because it is no
// activity: the operator runs it from the command line (tzurot migrate data
// rollback), and the worker registers every method of Activities.
func Rollback(ctx context.Context, a *Activities, name string, opts RollbackOptions) (RollbackResult, error) {
	res := RollbackResult{Restored: map[string]int64{}, Discarded: map[string]int64{},
		Added: map[string]int64{}, Edited: map[string]int64{}, Deleted: map[string]int64{}, Cleared: map[string]int64{}}
	m, err := a.migration(name)
	if err != nil {
		return res, err
	}
	runs, err := a.DB.MigrationRun.Query().Where(migrationrun.Name(name), migrationrun.BackupPathNotNil()).
		Order(migrationrun.ByCreatedAt()).All(ctx)
	if err != nil {
		return res, err
	}
	if len(runs) == 0 {
		return res, fmt.Errorf("%s has no backup to restore: it never wrote anything", name)
	}
	last := runs[len(runs)-1]
	path := *last.BackupPath
	res.BackupPath = path

	// 1. Check the dump before touching anything.
	tables := map[string]bool{}
	for _, t := range m.tables {
		tables[t] = true
	}
	if err := a.checkDump(ctx, path, tables); err != nil {
		return res, fmt.Errorf("rollback of %s refused, nothing was changed: %w", name, err)
	}

	tx, err := a.SQL.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	// 2. The backup into temporary tables.
	loaded, err := a.loadDump(ctx, tx, path, tables)
	if err != nil {
		return res, fmt.Errorf("rollback of %s failed, nothing was changed: %w", name, err)
	}
	fail := func(err error) (RollbackResult, error) {
		return res, fmt.Errorf("rollback of %s failed, nothing was changed: %w", name, err)
	}

	// 3. Lock, then delete what the backup does not hold, children first.
	order, err := parentsFirst(ctx, tx, loaded)
	if err != nil {
		return fail(err)
	}
	lock := make([]string, len(order))
	for i, t := range order {
		lock[i] = t.live
	}
	// SHARE ROW EXCLUSIVE: readers go on, writers wait for the commit. A
	// long transaction holding the tables makes us give up rather than queue
	// every writer behind us.
	if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '30s'"); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE "+strings.Join(lock, ", ")+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fail(fmt.Errorf("lock the tables (busy for 30 s: stop the worker and bot, or try again): %w", err))
	}
	if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = 0"); err != nil {
		return fail(err)
	}
	end := time.Now()
	if last.FinishedAt != nil {
		end = *last.FinishedAt
	}
	for _, t := range order {
		edited, deleted, err := changedSince(ctx, tx, t, m.writes[t.name], end)
		if err != nil {
			return fail(err)
		}
		if edited > 0 {
			res.Edited[t.name] = edited
		}
		if deleted > 0 {
			res.Deleted[t.name] = deleted
		}
	}
	// The statistics of this backend may still hold counts of its earlier
	// transactions not yet flushed (PostgreSQL 15 and later): only what
	// moves during the deletions counts.
	base, err := xactStats(ctx, tx)
	if err != nil {
		return fail(err)
	}
	direct := map[string]int64{}
	for i := len(order) - 1; i >= 0; i-- {
		t := order[i]
		r, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s l WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE %s)`,
			t.live, t.temp, t.pkMatch("b", "l")))
		if err != nil {
			return fail(fmt.Errorf("delete the rows of %s the backup does not hold: %w", t.name, err))
		}
		// Rows a cascade already took from this table count in the
		// statistics below, not here.
		if n, _ := r.RowsAffected(); n > 0 {
			direct[t.name] = n
		}
	}
	// What the deletions moved: their deletions and their cascades, and
	// the updates of ON DELETE SET NULL. Updates to the backup's own tables
	// are left out: step 4 writes those rows back anyway.
	after, err := xactStats(ctx, tx)
	if err != nil {
		return fail(err)
	}
	for t, n := range after {
		if del := n[0] - base[t][0]; del > 0 {
			res.Added[t] = del
		}
		if upd := n[1] - base[t][1]; upd > 0 && loaded[t] == nil {
			res.Cleared[t] = upd
		}
	}
	// The statistics see cascades into other tables; the direct counts
	// stand in should track_counts be off.
	for t, n := range direct {
		res.Added[t] = max(res.Added[t], n)
	}
	for _, m := range []map[string]int64{res.Added, res.Edited, res.Deleted, res.Cleared} {
		for t, n := range m {
			res.Discarded[t] += n
		}
	}
	if len(res.Discarded) > 0 && !opts.DiscardNewer {
		return res, &NewerRowsError{Name: name, Lost: res.Discarded, Added: res.Added, Edited: res.Edited, Deleted: res.Deleted, Cleared: res.Cleared}
	}

	// 4. The backup's rows back, parents first.
	for _, t := range order {
		var n int64
		if set := t.setList("b"); set != "" {
			r, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s l SET %s FROM %s b WHERE %s`, t.live, set, t.temp, t.pkMatch("b", "l")))
			if err != nil {
				return fail(fmt.Errorf("restore the rows of %s: %w", t.name, err))
			}
			u, _ := r.RowsAffected()
			n += u
		}
		cols := t.colList("")
		r, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s b WHERE NOT EXISTS (SELECT 1 FROM %s l WHERE %s)`,
			t.live, cols, t.colList("b"), t.temp, t.live, t.pkMatch("b", "l")))
		if err != nil {
			return fail(fmt.Errorf("restore the rows of %s: %w", t.name, err))
		}
		ins, _ := r.RowsAffected()
		res.Restored[t.name] = n + ins
	}
	if _, err := tx.ExecContext(ctx, `UPDATE migration_runs SET outcome = 'rolled_back', updated_at = now() WHERE id = $1`, last.ID); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return res, nil
}

// xactStats are the rows deleted and updated per live table as this
// transaction's statistics count them (pg_stat_xact_user_tables).
func xactStats(ctx context.Context, tx *sql.Tx) (map[string][2]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT relname, n_tup_del, n_tup_upd FROM pg_stat_xact_user_tables
WHERE (n_tup_del > 0 OR n_tup_upd > 0) AND schemaname NOT LIKE 'pg_temp%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][2]int64{}
	for rows.Next() {
		var t string
		var n [2]int64
		if err := rows.Scan(&t, &n[0], &n[1]); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, rows.Err()
}

// changedSince counts t's backup rows edited since the backup other than by
// the migration, and those deleted since (see Rollback, step 3). writes are
// the columns of t the migration may change; end is when it finished.
// Columns are compared as text (both tables have the same types), so types
// without an equality operator (json) compare too.
func changedSince(ctx context.Context, tx *sql.Tx, t *restoreTable, writes []string, end time.Time) (edited, deleted int64, err error) {
	var hasUpdated bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'updated_at' AND attnum > 0 AND NOT attisdropped)`,
		t.live).Scan(&hasUpdated); err != nil {
		return 0, 0, fmt.Errorf("read the columns of %s: %w", t.name, err)
	}
	differ := func(cols []string) string {
		if len(cols) == 0 {
			return "false"
		}
		l, b := make([]string, len(cols)), make([]string, len(cols))
		for i, c := range cols {
			c = pq.QuoteIdentifier(c)
			l[i], b[i] = "l."+c+"::text", "b."+c+"::text"
		}
		return "ROW(" + strings.Join(l, ", ") + ") IS DISTINCT FROM ROW(" + strings.Join(b, ", ") + ")"
	}
	var own, other []string
	for _, c := range t.cols {
		switch {
		case c == "updated_at" || slices.Contains(t.pk, c):
		case slices.Contains(writes, c):
			own = append(own, c)
		default:
			other = append(other, c)
		}
	}
	cond := differ(other)
	var args []any
	if hasUpdated && len(own) > 0 {
		cond = "(" + cond + ") OR ((" + differ(own) + ") AND l.updated_at > $1)"
		args = append(args, end)
	}
	if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT
  (SELECT count(*) FROM %s l JOIN %s b ON %s WHERE %s),
  (SELECT count(*) FROM %s b WHERE NOT EXISTS (SELECT 1 FROM %s l WHERE %s))`,
		t.live, t.temp, t.pkMatch("b", "l"), cond, t.temp, t.live, t.pkMatch("b", "l")), args...).Scan(&edited, &deleted); err != nil {
		return 0, 0, fmt.Errorf("count the rows of %s changed since the backup: %w", t.name, err)
	}
	return edited, deleted, nil
}

// parentsFirst orders the loaded tables so that a table comes after those
// its foreign keys point at (among the loaded ones).
func parentsFirst(ctx context.Context, tx *sql.Tx, loaded map[string]*restoreTable) ([]*restoreTable, error) {
	names := make([]string, 0, len(loaded))
	for n := range loaded {
		names = append(names, n)
	}
	sort.Strings(names)
	parents := map[string]map[string]bool{}
	for _, n := range names {
		rows, err := tx.QueryContext(ctx, `SELECT p.relname FROM pg_constraint k JOIN pg_class p ON p.oid = k.confrelid
WHERE k.contype = 'f' AND k.conrelid = $1::regclass AND k.confrelid <> k.conrelid`, loaded[n].live)
		if err != nil {
			return nil, fmt.Errorf("read the foreign keys of %s: %w", n, err)
		}
		parents[n] = map[string]bool{}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return nil, err
			}
			if loaded[p] != nil {
				parents[n][p] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var order []*restoreTable
	done := map[string]bool{}
	for len(order) < len(names) {
		progressed := false
		for _, n := range names {
			if done[n] {
				continue
			}
			ready := true
			for p := range parents[n] {
				ready = ready && done[p]
			}
			if ready {
				order, done[n], progressed = append(order, loaded[n]), true, true
			}
		}
		if !progressed {
			return nil, fmt.Errorf("the tables %v refer to each other in a cycle; this rollback cannot order them", names)
		}
	}
	return order, nil
}
