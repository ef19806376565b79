//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
)

// Rows changed after the backup count as written since it, like rows added:
// backup rows edited since other than by the migration (in columns the
// migration does not write, however they were written; or in the columns
// it writes, after it finished), backup rows deleted since (the rollback
// would bring them back), and foreign keys outside the backup that deleting
// added rows would set to NULL. The rollback is refused with their counts
// per table, changing nothing, and goes on only with --discard-newer. The
// migration's own changes, and an updated_at bumped without a change to a
// row the migration left alone, do not count.
func TestRollbackCountsRowsEditedOrDeletedSinceTheBackup(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	db := s.Activities.SQL
	seedErrorMessages(t, s, 3)
	// quiet has no error message to move: the migration leaves it alone.
	if _, err := db.Exec(`INSERT INTO personalities (name) VALUES ('quiet')`); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s, "personalities")
	migrate(t, s, "error-messages", opcli.DataMigrationOptions{})
	for _, q := range []string{
		// An owner makes p-1 private and changes its prompt, by a statement
		// that leaves updated_at alone.
		`UPDATE personalities SET is_public = false, system_prompt = 'my new private prompt' WHERE name = 'p-1'`,
		// p-2 is deleted.
		`DELETE FROM personalities WHERE name = 'p-2'`,
		// p-3's error message, which the migration wrote, is edited later.
		`UPDATE personalities SET error_message = 'my own error', updated_at = now() + interval '1 second' WHERE name = 'p-3'`,
		// quiet is saved without a change: only updated_at moves.
		`UPDATE personalities SET updated_at = now() + interval '1 second' WHERE name = 'quiet'`,
		// A newcomer with a usage log, which its deletion would detach.
		`WITH u AS (INSERT INTO users (discord_id) VALUES ('100000000000000009') RETURNING id),
      p AS (INSERT INTO personalities (name) VALUES ('newcomer') RETURNING id)
 INSERT INTO usage_logs (provider, model, request_type, personality_id, user_id) SELECT 'openrouter', 'openrouter/free', 'text', p.id, u.id FROM p, u`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	written := snapshot(t, s, append(rollbackTables, "usage_logs")...)

	var out strings.Builder
	err := opcli.RollbackDataMigration(ctx, s.Config, "error-messages", false, &out, s.Activities.Log)
	var newer *operator.NewerRowsError
	if !errors.As(err, &newer) {
		t.Fatalf("rollback without --discard-newer over later edits and a deletion: %v (output %q)", err, out.String())
	}
	for _, c := range []struct {
		kind      string
		got, want map[string]int64
	}{
		{"edited", newer.Edited, map[string]int64{"personalities": 2}},
		{"deleted", newer.Deleted, map[string]int64{"personalities": 1}},
		{"added", newer.Added, map[string]int64{"personalities": 1}},
		{"cleared", newer.Cleared, map[string]int64{"usage_logs": 1}},
		{"lost", newer.Lost, map[string]int64{"personalities": 4, "usage_logs": 1}},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.kind, c.got, c.want)
		}
	}
	msg := err.Error()
	for _, w := range []string{"5 rows", "personalities 4, usage_logs 1", "edited since: personalities 2",
		"deleted since (would come back): personalities 1", "foreign key set to NULL: usage_logs 1", "--discard-newer", "nothing was changed"} {
		if !strings.Contains(msg, w) {
			t.Errorf("refusal %q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("refusal is not one line: %q", msg)
	}
	sameSnapshot(t, "refused", snapshot(t, s, append(rollbackTables, "usage_logs")...), written)

	out.Reset()
	if err := opcli.RollbackDataMigration(ctx, s.Config, "error-messages", true, &out, s.Activities.Log); err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, "restored", snapshot(t, s, "personalities"), before)
	if !strings.Contains(out.String(), "discarded rows written since the backup: personalities 4, usage_logs 1; added: personalities 1; edited since: personalities 2") {
		t.Errorf("output %q", out.String())
	}
	var public bool
	var prompt string
	scanRow(t, db.QueryRow(`SELECT is_public, system_prompt FROM personalities WHERE name = 'p-1'`), &public, &prompt)
	if !public || prompt == "my new private prompt" {
		t.Errorf("p-1 not restored: public=%v prompt=%q", public, prompt)
	}
}

// The migration's own changes are what a rollback undoes: right after a run
// (error-messages writes error_message; assign-ownership writes owner_id and
// is_superuser, the latter without moving updated_at) nothing counts as
// written since the backup, so no --discard-newer is needed beyond the rows
// the migration added.
func TestRollbackUndoesTheMigrationsOwnChanges(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	seedErrorMessages(t, s, 3)
	before := snapshot(t, s, "personalities")
	migrate(t, s, "error-messages", opcli.DataMigrationOptions{})
	var out strings.Builder
	if err := opcli.RollbackDataMigration(ctx, s.Config, "error-messages", false, &out, s.Activities.Log); err != nil {
		t.Fatalf("rollback of the migration's own changes: %v", err)
	}
	sameSnapshot(t, "restored", snapshot(t, s, "personalities"), before)

	// assign-ownership: the operator's users row exists already, and the
	// migration makes it superuser by an upsert that leaves updated_at.
	s.Config.BotOwnerDiscordID = "123456789012345678"
	if _, err := s.Activities.SQL.Exec(`INSERT INTO users (discord_id) VALUES ($1)`, s.Config.BotOwnerDiscordID); err != nil {
		t.Fatal(err)
	}
	before = snapshot(t, s, "personalities", "users")
	migrate(t, s, "assign-ownership", opcli.DataMigrationOptions{})
	if err := opcli.RollbackDataMigration(ctx, s.Config, "assign-ownership", false, &out, s.Activities.Log); err != nil {
		t.Fatalf("rollback of assign-ownership's own changes: %v", err)
	}
	sameSnapshot(t, "restored", snapshot(t, s, "personalities", "users"), before)
}
