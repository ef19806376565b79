//go:build integration

package migrations_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	atlasschema "ariga.io/atlas/sql/schema"
	entschema "entgo.io/ent/dialect/sql/schema"
	"github.com/lib/pq"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/testdb"
	"github.com/tzurot/tzurot/migrations"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The database the migrations build from nothing is exactly what ent/schema
// describes: ent's own planner, allowed to drop columns and indexes, finds
// nothing to change.
func TestMigratedDatabaseMatchesEntSchema(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.EmptyURL(t))
	applied, err := migrations.Up(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := migrations.All()
	if len(applied) != len(all) || len(all) < 10 {
		t.Fatalf("applied %d of %d migrations", len(applied), len(all))
	}
	client := ent.NewClient(ent.Driver(entsqlDriver(db)))
	var plan bytes.Buffer
	err = client.Schema.WriteTo(ctx, &plan,
		entschema.WithDropColumn(true), entschema.WithDropIndex(true),
		entschema.WithDiffHook(migrations.KeepHandWritten, ignoreDefaultParens))
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(stripComments(plan.String())); s != "" {
		t.Fatalf("the migrated database differs from ent/schema; run `make migration NAME=…`:\n%s", s)
	}
}

// ignoreDefaultParens drops default changes that only differ in the
// parentheses PostgreSQL adds around a default expression when it stores it;
// ent compares the inspected text verbatim in this mode.
func ignoreDefaultParens(next entschema.Differ) entschema.Differ {
	return entschema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		var out []atlasschema.Change
		for _, c := range changes {
			if mt, ok := c.(*atlasschema.ModifyTable); ok {
				var kept []atlasschema.Change
				for _, cc := range mt.Changes {
					if mc, ok := cc.(*atlasschema.ModifyColumn); ok && mc.Change == atlasschema.ChangeDefault &&
						exprText(mc.From.Default) == exprText(mc.To.Default) {
						continue
					}
					kept = append(kept, cc)
				}
				if mt.Changes = kept; len(kept) == 0 {
					continue
				}
			}
			out = append(out, c)
		}
		return out, nil
	})
}

func exprText(e atlasschema.Expr) string {
	var s string
	switch e := e.(type) {
	case *atlasschema.RawExpr:
		s = e.X
	case *atlasschema.Literal:
		s = e.V
	default:
		return fmt.Sprintf("%T", e)
	}
	return strings.Trim(s, "()")
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "--") || l == "BEGIN;" || l == "COMMIT;" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestUpTwiceAppliesNothingAndStatusShowsAll(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.EmptyURL(t))
	if _, err := migrations.Up(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	again, err := migrations.Up(ctx, db, nil)
	if err != nil || len(again) != 0 {
		t.Fatalf("second Up applied %d migrations, err %v; want none", len(again), err)
	}
	states, err := migrations.Status(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Guarded != "" {
			if s.AppliedAt != nil {
				t.Errorf("the guarded %s was applied by Up", s.Version)
			}
			continue
		}
		if s.AppliedAt == nil || s.Adopted {
			t.Errorf("migration %s_%s: applied %v adopted %v, want applied and not adopted", s.Version, s.Name, s.AppliedAt, s.Adopted)
		}
	}
}

func TestStatusOnEmptyDatabaseShowsAllPending(t *testing.T) {
	db := open(t, testdb.EmptyURL(t))
	states, err := migrations.Status(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) == 0 {
		t.Fatal("no migrations listed")
	}
	for _, s := range states {
		if s.AppliedAt != nil {
			t.Errorf("%s applied on an empty database", s.Version)
		}
	}
}

func TestEditedMigrationIsRefused(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.EmptyURL(t))
	if _, err := migrations.Up(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0002'`); err != nil {
		t.Fatal(err)
	}
	_, err := migrations.Up(ctx, db, nil)
	if err == nil || !strings.Contains(err.Error(), "was changed after it was applied") {
		t.Fatalf("Up after an edit: err = %v, want a refusal", err)
	}
}

// A production database from before versioned migrations (the baseline tables,
// no schema_migrations) adopts the baseline and migrates up with every row and
// value kept.
func TestLegacyDatabaseMigratesUpWithoutLoss(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.EmptyURL(t))
	all, _ := migrations.All()
	if _, err := db.Exec(all[0].SQL); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `
INSERT INTO users (id, discord_id, username) VALUES
 ('00000000-0000-0000-0000-000000000001', '111111111111111111', 'alice'),
 ('00000000-0000-0000-0000-000000000002', '222222222222222222', NULL);
INSERT INTO personalities (id, name, display_name, system_prompt, voice_enabled, voice_settings, custom_fields) VALUES
 ('10000000-0000-0000-0000-000000000001', 'cold-kerach-batuach-0', 'Cold Kerach', 'be cold', true,
  '{"voice_id":"v1","model":"eleven_multilingual_v2","stability":0.4,"similarity":0.8,"style":0.1,"frequency":0.5}',
  '{"errorMessage":"*static*","aliases":["Kerach","cold"],"birthday":"03-14","favorite":"tea"}'),
 ('10000000-0000-0000-0000-000000000002', 'plain', NULL, NULL, false, NULL, NULL);
INSERT INTO llm_configs (personality_id, model, temperature, top_p, top_k, frequency_penalty, presence_penalty,
  repetition_penalty, max_tokens, stop, seed, logit_bias, response_format, stream_response, system_fingerprint)
 VALUES ('10000000-0000-0000-0000-000000000001', 'anthropic/claude-sonnet-4', 0.85, 0.925, 40, 0.5, -0.5, 1.1,
  4096, ARRAY['</s>','User:'], 42, '{"50256":-100}', '{"type":"text"}', true, 'fp_1');
INSERT INTO llm_configs (personality_id, model) VALUES ('10000000-0000-0000-0000-000000000002', 'openrouter/free');
INSERT INTO conversation_history (channel_id, personality_id, user_id, role, content, discord_message_id) VALUES
 ('900000000000000001', '10000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000001', 'user', 'hello', '800000000000000001'),
 ('900000000000000001', '10000000-0000-0000-0000-000000000001', NULL, 'assistant', 'brr', '800000000000000002');`)
	before := snapshot(t, db)

	applied, err := migrations.Up(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(all)-1 {
		t.Fatalf("applied %d migrations, want all but the adopted baseline (%d)", len(applied), len(all)-1)
	}
	states, _ := migrations.Status(ctx, db)
	if !states[0].Adopted {
		t.Error("the baseline was not recorded as adopted")
	}
	after := snapshot(t, db)
	for table, rows := range before {
		if after[table] != rows {
			t.Errorf("%s changed across the migration:\nbefore %s\nafter  %s", table, rows, after[table])
		}
	}
	var tz string
	var superuser bool
	if err := db.QueryRow(`SELECT timezone, is_superuser FROM users WHERE username = 'alice'`).Scan(&tz, &superuser); err != nil {
		t.Fatal(err)
	}
	if tz != "UTC" || superuser {
		t.Errorf("new user columns = %q, %v; want the defaults UTC, false", tz, superuser)
	}
	var params, provider string
	if err := db.QueryRow(`SELECT advanced_parameters::text, provider FROM llm_configs WHERE model = 'openrouter/free'`).Scan(&params, &provider); err != nil {
		t.Fatal(err)
	}
	if params != "{}" || provider != "openrouter" {
		t.Errorf("new llm_configs columns = %s, %s; want {}, openrouter", params, provider)
	}
}

// snapshot renders each legacy table's legacy columns, ordered, as text.
func snapshot(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	queries := map[string]string{
		"users":                `SELECT string_agg(format('%s|%s|%s|%s', id, discord_id, username, created_at), E'\n' ORDER BY id) FROM users`,
		"personalities":        `SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', id, name, display_name, system_prompt, voice_enabled, voice_settings, custom_fields), E'\n' ORDER BY id) FROM personalities`,
		"llm_configs":          `SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', personality_id, model, temperature, top_p, top_k, frequency_penalty, presence_penalty, repetition_penalty, max_tokens, stop, seed, logit_bias, response_format, stream_response, system_fingerprint, max_conversation_history), E'\n' ORDER BY personality_id) FROM llm_configs`,
		"conversation_history": `SELECT string_agg(format('%s|%s|%s|%s|%s|%s', channel_id, personality_id, user_id, role, content, discord_message_id), E'\n' ORDER BY discord_message_id) FROM conversation_history`,
	}
	out := map[string]string{}
	for table, q := range queries {
		var s sql.NullString
		if err := db.QueryRow(q).Scan(&s); err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		if !s.Valid || s.String == "" {
			t.Fatalf("snapshot %s is empty", table)
		}
		out[table] = s.String
	}
	return out
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// The constraints the seeds ask for, as the database enforces them.
func TestConstraints(t *testing.T) {
	db := testdb.DB(t)
	mustExec(t, db, `
INSERT INTO users (id, discord_id) VALUES ('00000000-0000-0000-0000-000000000001', '111111111111111111');
INSERT INTO personalities (id, name, owner_id) VALUES
 ('10000000-0000-0000-0000-000000000001', 'kerach', '00000000-0000-0000-0000-000000000001'),
 ('10000000-0000-0000-0000-000000000002', 'other', NULL);
INSERT INTO personality_aliases (personality_id, alias) VALUES ('10000000-0000-0000-0000-000000000001', 'Kerach');
INSERT INTO llm_configs (personality_id, model) VALUES ('10000000-0000-0000-0000-000000000001', 'm');
INSERT INTO voice_configs (personality_id, voice_id) VALUES ('10000000-0000-0000-0000-000000000001', 'v');
INSERT INTO image_configs (personality_id, model) VALUES ('10000000-0000-0000-0000-000000000001', 'img');
INSERT INTO user_api_keys (user_id, iv, content, tag) VALUES ('00000000-0000-0000-0000-000000000001', 'aa', 'bb', 'cc');
INSERT INTO usage_logs (user_id, personality_id, provider, model, tokens_total, request_type)
 VALUES ('00000000-0000-0000-0000-000000000001', '10000000-0000-0000-0000-000000000001', 'openrouter', 'm', 5, 'text');`)

	violations := []struct {
		name, stmt, code string
	}{
		{"alias unique regardless of case", `INSERT INTO personality_aliases (personality_id, alias) VALUES ('10000000-0000-0000-0000-000000000002', 'KERACH')`, "23505"},
		{"discord_id unique", `INSERT INTO users (discord_id) VALUES ('111111111111111111')`, "23505"},
		{"one key per user and provider", `INSERT INTO user_api_keys (user_id, iv, content, tag) VALUES ('00000000-0000-0000-0000-000000000001', 'a', 'b', 'c')`, "23505"},
		{"one voice config per personality", `INSERT INTO voice_configs (personality_id, voice_id) VALUES ('10000000-0000-0000-0000-000000000001', 'w')`, "23505"},
		{"voice sliders within 0..1", `INSERT INTO voice_configs (personality_id, voice_id, stability) VALUES ('10000000-0000-0000-0000-000000000002', 'w', 1.5)`, "23514"},
		{"personality name unique", `INSERT INTO personalities (name) VALUES ('kerach')`, "23505"},
	}
	for _, v := range violations {
		_, err := db.Exec(v.stmt)
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || string(pqErr.Code) != v.code {
			t.Errorf("%s: err = %v, want SQLSTATE %s", v.name, err, v.code)
		}
	}

	var alias, voiceModel, size string
	var stability float64
	var active bool
	mustScan(t, db, `SELECT alias FROM personality_aliases WHERE lower(alias) = 'kerach'`, &alias)
	mustScan(t, db, `SELECT voice_model, stability FROM voice_configs`, &voiceModel, &stability)
	mustScan(t, db, `SELECT default_size FROM image_configs`, &size)
	mustScan(t, db, `SELECT is_active FROM user_api_keys`, &active)
	if alias != "Kerach" || voiceModel != "eleven_flash_v2_5" || stability != 0.5 || size != "1024x1024" || !active {
		t.Errorf("stored values/defaults = %q %q %v %q %v", alias, voiceModel, stability, size, active)
	}

	// Deleting the owner keeps the personality as a system one and the
	// usage as anonymous totals (0021); deleting the personality takes its
	// configs and aliases with it but keeps usage.
	mustExec(t, db, `DELETE FROM users WHERE discord_id = '111111111111111111'`)
	counts := map[string]int{}
	for _, table := range []string{"personalities WHERE owner_id IS NULL", "user_api_keys", "usage_logs WHERE user_id IS NULL"} {
		var n int
		mustScan(t, db, `SELECT count(*) FROM `+table, &n)
		counts[table] = n
	}
	if counts["personalities WHERE owner_id IS NULL"] != 2 || counts["user_api_keys"] != 0 || counts["usage_logs WHERE user_id IS NULL"] != 1 {
		t.Errorf("after deleting the user: %v; want 2 ownerless personalities, keys gone, usage anonymous", counts)
	}
	mustExec(t, db, `DELETE FROM personalities WHERE name = 'kerach'`)
	for _, table := range []string{"personality_aliases", "llm_configs", "voice_configs", "image_configs"} {
		var n int
		mustScan(t, db, `SELECT count(*) FROM `+table, &n)
		if n != 0 {
			t.Errorf("%s has %d rows after its personality was deleted, want 0", table, n)
		}
	}
}

func mustScan(t *testing.T, db *sql.DB, q string, dest ...any) {
	t.Helper()
	if err := db.QueryRow(q).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
