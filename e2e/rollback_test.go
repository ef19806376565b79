//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/ent/migrationrun"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
)

// rollbackTables are every table a data migration's rollback may touch, and
// those their rows cascade into.
var rollbackTables = []string{"personalities", "llm_configs", "personality_aliases", "voice_configs", "conversation_history", "users"}

// snapshot is each table's row count and a digest of its rows in id order:
// equal snapshots mean equal contents.
func snapshot(t *testing.T, s *itest.Stack, tables ...string) map[string]string {
	t.Helper()
	if len(tables) == 0 {
		tables = rollbackTables
	}
	out := map[string]string{}
	for _, tb := range tables {
		var n int
		var digest string
		if err := s.Activities.SQL.QueryRow(fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') FROM %s t`, tb)).
			Scan(&n, &digest); err != nil {
			t.Fatal(err)
		}
		out[tb] = fmt.Sprintf("%d rows %s", n, digest)
	}
	return out
}

func sameSnapshot(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for tb, g := range got {
		if w := want[tb]; g != w {
			t.Errorf("%s: %s is %s, want %s", what, tb, got[tb], w)
		}
	}
}

// orphans counts rows pointing at a personality that does not exist.
func orphans(t *testing.T, s *itest.Stack) int {
	t.Helper()
	var n int
	if err := s.Activities.SQL.QueryRow(`SELECT
 (SELECT count(*) FROM llm_configs c WHERE NOT EXISTS (SELECT 1 FROM personalities p WHERE p.id = c.personality_id)) +
 (SELECT count(*) FROM conversation_history c WHERE NOT EXISTS (SELECT 1 FROM personalities p WHERE p.id = c.personality_id)) +
 (SELECT count(*) FROM personality_aliases c WHERE NOT EXISTS (SELECT 1 FROM personalities p WHERE p.id = c.personality_id)) +
 (SELECT count(*) FROM voice_configs c WHERE NOT EXISTS (SELECT 1 FROM personalities p WHERE p.id = c.personality_id))`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// seedErrorMessages writes n personalities whose custom fields carry an
// error message (with every character COPY escapes), each with an llm config.
func seedErrorMessages(t *testing.T, s *itest.Stack, n int) {
	t.Helper()
	if _, err := s.Activities.SQL.Exec(`INSERT INTO personalities (name, display_name, system_prompt, custom_fields)
SELECT 'p-' || i, E'Tab\there \\ "quoted" ünï ' || i, repeat(md5(i::text), 40),
  jsonb_build_object('errorMessage', E'*static*\n\tline two \\ back\r\u00e9 ' || i)
FROM generate_series(1, $1) i`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activities.SQL.Exec(`INSERT INTO llm_configs (personality_id, model) SELECT id, 'openrouter/free' FROM personalities`); err != nil {
		t.Fatal(err)
	}
}

func runOutcome(t *testing.T, s *itest.Stack, name string) string {
	t.Helper()
	r, err := s.DB.MigrationRun.Query().Where(migrationrun.Name(name), migrationrun.BackupPathNotNil()).
		Order(migrationrun.ByCreatedAt()).All(context.Background())
	if err != nil || len(r) == 0 {
		t.Fatalf("runs of %s: %v", name, err)
	}
	return r[len(r)-1].Outcome
}

// A rollback whose backup is missing, unreadable, cut short or not a dump at
// all changes nothing; with the backup back, it restores the tables exactly.
func TestRollbackIsAllOrNothing(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	seedErrorMessages(t, s, 400)
	before := snapshot(t, s)
	llm := finishMigration(t, startMigration(t, s, "llm-config-jsonb", opcli.DataMigrationOptions{}))
	other, err := os.ReadFile(llm.BackupPath)
	if err != nil {
		t.Fatal(err)
	}
	st := finishMigration(t, startMigration(t, s, "error-messages", opcli.DataMigrationOptions{BatchSize: 100}))
	if st.Outcome != "succeeded" || st.BackupPath == "" {
		t.Fatalf("migration: %+v", st)
	}
	migrated := snapshot(t, s)
	if migrated["personalities"] == before["personalities"] {
		t.Fatal("the migration changed nothing; the test would prove nothing")
	}
	good, err := os.ReadFile(st.BackupPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file func() error // puts the broken backup in place
		want string
	}{
		{"missing", func() error { return nil }, "is missing"}, // each case starts with the backup removed
		{"empty", func() error { return os.WriteFile(st.BackupPath, nil, 0o600) }, "not a readable pg_dump archive"},
		{"garbage", func() error { return os.WriteFile(st.BackupPath, []byte(strings.Repeat("not a dump\n", 500)), 0o600) }, "not a readable pg_dump archive"},
		// The table of contents is whole, the data is cut: pg_restore fails
		// part-way, after rows were already loaded.
		{"cut short", func() error { return os.WriteFile(st.BackupPath, good[:len(good)*2/3], 0o600) }, "nothing was changed"},
		{"a folder", func() error { return os.Mkdir(st.BackupPath, 0o700) }, "not a regular file"},
		{"another migration's", func() error { return os.WriteFile(st.BackupPath, other, 0o600) }, "does not write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.RemoveAll(st.BackupPath); err != nil {
				t.Fatal(err)
			}
			if err := tc.file(); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			err := opcli.RollbackDataMigration(ctx, s.Config, "error-messages", true, &out, s.Activities.Log)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was changed") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("rollback with a %s backup: %v (output %q)", tc.name, err, out.String())
			}
			t.Log(err)
			sameSnapshot(t, tc.name, snapshot(t, s), migrated)
			if n := orphans(t, s); n != 0 {
				t.Errorf("%d orphaned rows", n)
			}
			if o := runOutcome(t, s, "error-messages"); o != "succeeded" {
				t.Errorf("run outcome %q after a failed rollback", o)
			}
		})
	}

	os.RemoveAll(st.BackupPath)
	if err := os.WriteFile(st.BackupPath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := opcli.RollbackDataMigration(ctx, s.Config, "error-messages", false, &out, s.Activities.Log); err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, "restored", snapshot(t, s, "personalities"), before)
	if !strings.Contains(out.String(), "restored rows: personalities 400") || strings.Contains(out.String(), "discarded") {
		t.Errorf("output %q", out.String())
	}
	if o := runOutcome(t, s, "error-messages"); o != "rolled_back" {
		t.Errorf("run outcome %q", o)
	}
}

// Rows written since the backup — a new personality and what hangs off it,
// and a personality of the backup deleted since — are counted per table and
// the rollback refused, changing nothing; with --discard-newer they go and
// the backup's rows come back, deleted ones too.
func TestRollbackRefusesToLoseNewerRows(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	seedErrorMessages(t, s, 3)
	before := snapshot(t, s, "personalities")
	migrate(t, s, "error-messages", opcli.DataMigrationOptions{})
	// After the backup: a user makes a personality and talks to it, and
	// another personality is deleted.
	if _, err := s.Activities.SQL.Exec(`
WITH p AS (INSERT INTO personalities (name) VALUES ('newcomer') RETURNING id),
     c AS (INSERT INTO llm_configs (personality_id, model) SELECT id, 'openrouter/free' FROM p)
INSERT INTO conversation_history (channel_id, personality_id, role, content)
SELECT '1', id, r, 'hi' FROM p, unnest(ARRAY['user', 'assistant']) r`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activities.SQL.Exec(`DELETE FROM personalities WHERE name = 'p-2'`); err != nil {
		t.Fatal(err)
	}
	written := snapshot(t, s)

	var out strings.Builder
	err := opcli.RollbackDataMigration(ctx, s.Config, "error-messages", false, &out, s.Activities.Log)
	var newer *operator.NewerRowsError
	if !errors.As(err, &newer) {
		t.Fatalf("rollback over newer rows: %v", err)
	}
	want := map[string]int64{"personalities": 2, "llm_configs": 1, "conversation_history": 2}
	if fmt.Sprint(newer.Lost) != fmt.Sprint(want) {
		t.Errorf("lost %v, want %v", newer.Lost, want)
	}
	msg := err.Error()
	for _, w := range []string{"5 rows", "conversation_history 2, llm_configs 1, personalities 2", "deleted since (would come back): personalities 1", "--discard-newer", "nothing was changed"} {
		if !strings.Contains(msg, w) {
			t.Errorf("refusal %q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("refusal is not one line: %q", msg)
	}
	sameSnapshot(t, "refused", snapshot(t, s), written)
	if o := runOutcome(t, s, "error-messages"); o != "succeeded" {
		t.Errorf("run outcome %q after a refused rollback", o)
	}

	out.Reset()
	if err := opcli.RollbackDataMigration(ctx, s.Config, "error-messages", true, &out, s.Activities.Log); err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, "restored", snapshot(t, s, "personalities"), before)
	if n := orphans(t, s); n != 0 {
		t.Errorf("%d orphaned rows", n)
	}
	var configs, history int
	scanRow(t, s.Activities.SQL.QueryRow(`SELECT (SELECT count(*) FROM llm_configs), (SELECT count(*) FROM conversation_history)`), &configs, &history)
	if configs != 2 || history != 0 {
		t.Errorf("%d llm configs (want the 2 of surviving personalities), %d history rows (want 0)", configs, history)
	}
	if !strings.Contains(out.String(), "discarded rows written since the backup: conversation_history 2, llm_configs 1, personalities 2; added: conversation_history 2, llm_configs 1, personalities 1; deleted since (would come back): personalities 1") {
		t.Errorf("output %q", out.String())
	}
}

// A migration that adds rows to several tables: its own rows count as newer
// than its backup, so its rollback needs --discard-newer and then leaves every
// table as it was, children removed before parents are restored.
func TestRollbackOfAMigrationThatAddsRows(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	if _, err := s.Activities.SQL.Exec(`INSERT INTO personalities (name, display_name, voice_enabled, voice_settings, custom_fields) VALUES
 ('kerach', 'Kerach', true, '{"voice_id":"v1","model":"eleven_multilingual_v2","stability":0.4,"similarity":0.7}', '{"aliases":["Kerach Prime","kp"],"birthday":"03-14"}'),
 ('lilith', 'Lilith', false, NULL, '{"aliases":["lil"]}')`); err != nil {
		t.Fatal(err)
	}
	tables := []string{"personalities", "personality_aliases", "voice_configs"}
	before := snapshot(t, s, tables...)
	migrate(t, s, "custom-fields", opcli.DataMigrationOptions{})
	after := snapshot(t, s, tables...)
	var out strings.Builder
	err := opcli.RollbackDataMigration(ctx, s.Config, "custom-fields", false, &out, s.Activities.Log)
	var newer *operator.NewerRowsError
	if !errors.As(err, &newer) || newer.Lost["personality_aliases"] != 3 || newer.Lost["voice_configs"] != 1 || newer.Lost["personalities"] != 0 {
		t.Fatalf("rollback: %v", err)
	}
	sameSnapshot(t, "refused", snapshot(t, s, tables...), after)
	if err := opcli.RollbackDataMigration(ctx, s.Config, "custom-fields", true, &out, s.Activities.Log); err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, "restored", snapshot(t, s, tables...), before)
}

// pgWrappers puts pg_dump and pg_restore wrappers in a folder: each records
// its argv, its environment and its pgpass file, then runs the real tool.
func pgWrappers(t *testing.T) (dir string, log func(tool string) string) {
	t.Helper()
	dir = t.TempDir()
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		real, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		script := fmt.Sprintf(`#!/bin/sh
{
  echo "argv:"; for a in "$0" "$@"; do echo "$a"; done
  echo "env:"; env
  if [ -n "$PGPASSFILE" ]; then echo "passfile-mode: $(stat -c %%a "$PGPASSFILE")"; printf 'passfile: '; cat "$PGPASSFILE"; fi
  echo "end"
} >> %q
exec %q "$@"
`, filepath.Join(dir, tool+".log"), real)
		if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir, func(tool string) string {
		b, _ := os.ReadFile(filepath.Join(dir, tool+".log"))
		return string(b)
	}
}

// section returns the lines of a wrapper log between "name:" and the next
// section.
func section(log, name string) string {
	_, rest, _ := strings.Cut(log, name+":\n")
	for _, next := range []string{"\nenv:\n", "\npassfile-mode:", "\nend\n"} {
		if i := strings.Index(rest, next); i >= 0 {
			rest = rest[:i]
		}
	}
	return rest
}

// No credential on any command line: pg_dump gets the connection through its
// environment and the password through a 0600 pgpass file that is gone
// afterwards; pg_restore connects to nothing. Backups are 0600 in a 0700
// folder, and a folder (and older backups) others could read is tightened.
func TestBackupsKeepCredentialsOffArgvAndPrivate(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	secret := fmt.Sprintf("hunter2:%d\\x", os.Getpid())
	u, err := url.Parse(s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), secret)
	s.Operator.DatabaseURL = u.String() // the test cluster trusts; the password still travels
	bin, log := pgWrappers(t)
	s.Operator.PGBinDir = bin
	backups := filepath.Join(t.TempDir(), "backups")
	if err := os.Mkdir(backups, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(backups, "older.dump")
	if err := errors.Join(os.Chmod(backups, 0o755), os.WriteFile(old, []byte("x"), 0o644), os.Chmod(old, 0o644)); err != nil {
		t.Fatal(err)
	}
	s.Operator.BackupDir = backups

	seedErrorMessages(t, s, 5)
	st := migrate(t, s, "error-messages", opcli.DataMigrationOptions{})
	dump := log("pg_dump")
	if dump == "" {
		t.Fatal("pg_dump was not run through the wrapper")
	}
	argv := section(dump, "argv")
	for _, bad := range []string{"hunter2", secret, "postgres://", "password=", "--dbname", u.Host} {
		if strings.Contains(argv, bad) {
			t.Errorf("pg_dump's argv holds %q:\n%s", bad, argv)
		}
	}
	env := section(dump, "env")
	if strings.Contains(env, "hunter2") || strings.Contains(env, "PGPASSWORD") {
		t.Errorf("pg_dump's environment holds the password:\n%s", env)
	}
	for _, want := range []string{"PGHOST=" + u.Hostname(), "PGPORT=" + u.Port(), "PGDATABASE=" + strings.TrimPrefix(u.Path, "/"), "PGSSLMODE=disable"} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("pg_dump's environment lacks %s:\n%s", want, env)
		}
	}
	if !strings.Contains(dump, "passfile-mode: 600\n") || !strings.Contains(dump, "passfile: *:*:*:*:"+strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(secret)+"\n") {
		t.Errorf("pgpass file:\n%s", dump)
	}
	for _, line := range strings.Split(env, "\n") {
		if p, ok := strings.CutPrefix(line, "PGPASSFILE="); ok {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("pgpass file %s left behind: %v", p, err)
			}
		}
	}

	for path, want := range map[string]os.FileMode{backups: 0o700, st.BackupPath: 0o600, old: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", path, fi.Mode().Perm(), want)
		}
	}
	if filepath.Dir(st.BackupPath) != backups {
		t.Errorf("backup %s is not in %s", st.BackupPath, backups)
	}
	if _, err := os.Stat(st.BackupPath + ".partial"); !os.IsNotExist(err) {
		t.Errorf("partial dump left behind: %v", err)
	}

	// The rollback's pg_restore reads the file and connects to nothing.
	if _, err := operator.Rollback(ctx, s.Operator, "error-messages", operator.RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	restore := log("pg_restore")
	if restore == "" {
		t.Fatal("pg_restore was not run through the wrapper")
	}
	if strings.Contains(restore, "hunter2") || strings.Contains(section(restore, "argv"), "--dbname") || strings.Contains(restore, "PGPASSFILE") {
		t.Errorf("pg_restore got connection details:\n%s", restore)
	}
}

// shapes-import's rollback: five tables, children of personalities among
// them, and the operator's own rows from before the import untouched.
func TestRollbackOfShapesImport(t *testing.T) {
	if _, err := os.Stat(fixtures); err != nil {
		t.Fatalf("the shapes fixtures are not at %s: set SHAPES_FIXTURES to their path", fixtures)
	}
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	if _, err := s.Activities.SQL.Exec(`
WITH p AS (INSERT INTO personalities (name, system_prompt) VALUES ('resident', E'line\none\ttab \\ back') RETURNING id),
     c AS (INSERT INTO llm_configs (personality_id, model) SELECT id, 'openrouter/free' FROM p),
     a AS (INSERT INTO personality_aliases (personality_id, alias) SELECT id, 'res' FROM p)
INSERT INTO conversation_history (channel_id, personality_id, role, content) SELECT '1', id, 'user', E'hi\nthere' FROM p`); err != nil {
		t.Fatal(err)
	}
	tables := []string{"personalities", "llm_configs", "personality_aliases", "voice_configs", "conversation_history"}
	before := snapshot(t, s, tables...)
	migrate(t, s, "shapes-import", opcli.DataMigrationOptions{BatchSize: 10, Dir: fixtures})
	imported := snapshot(t, s, tables...)
	var out strings.Builder
	err := opcli.RollbackDataMigration(ctx, s.Config, "shapes-import", false, &out, s.Activities.Log)
	var newer *operator.NewerRowsError
	if !errors.As(err, &newer) || newer.Lost["personalities"] != 66 || newer.Lost["conversation_history"] < 420 {
		t.Fatalf("rollback: %v", err)
	}
	sameSnapshot(t, "refused", snapshot(t, s, tables...), imported)
	if err := opcli.RollbackDataMigration(ctx, s.Config, "shapes-import", true, &out, s.Activities.Log); err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, "restored", snapshot(t, s, tables...), before)
	if n := orphans(t, s); n != 0 {
		t.Errorf("%d orphaned rows", n)
	}
}

// A write in flight when the rollback starts is waited for and counted, not
// slipped in between the count and the restore.
func TestRollbackWaitsForWritesInFlight(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	seedErrorMessages(t, s, 3)
	migrate(t, s, "error-messages", opcli.DataMigrationOptions{})
	writer, err := s.Activities.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := writer.Exec(`INSERT INTO personalities (name) VALUES ('late')`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var out strings.Builder
		done <- opcli.RollbackDataMigration(ctx, s.Config, "error-messages", false, &out, s.Activities.Log)
	}()
	select {
	case err := <-done:
		t.Fatalf("the rollback did not wait for the write in flight: %v", err)
	case <-time.After(time.Second):
	}
	if err := writer.Commit(); err != nil {
		t.Fatal(err)
	}
	err = <-done
	var newer *operator.NewerRowsError
	if !errors.As(err, &newer) || newer.Lost["personalities"] != 1 {
		t.Fatalf("rollback after the write: %v", err)
	}
}

// A backup whose columns the table no longer has (a later schema change
// dropped one) fails the rollback whole, after its rows were staged.
func TestRollbackIntoAChangedSchemaChangesNothing(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	seedLegacyConfigs(t, s, 50)
	migrate(t, s, "llm-config-jsonb", opcli.DataMigrationOptions{})
	if _, err := s.Activities.SQL.Exec(`ALTER TABLE llm_configs DROP COLUMN top_k`); err != nil {
		t.Fatal(err)
	}
	migrated := snapshot(t, s)
	var out strings.Builder
	err := opcli.RollbackDataMigration(ctx, s.Config, "llm-config-jsonb", true, &out, s.Activities.Log)
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), "top_k") {
		t.Fatalf("rollback: %v", err)
	}
	t.Log(err)
	sameSnapshot(t, "failed", snapshot(t, s), migrated)
}
