//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/migrationrun"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/migrations"
	"github.com/tzurot/tzurot/workflows"
)

// seedLegacyConfigs writes n personalities with llm_configs whose legacy
// columns vary, a few of them out of range, straight in SQL as the old system did.
func seedLegacyConfigs(t testing.TB, s *itest.Stack, n int) {
	t.Helper()
	if _, err := s.Activities.SQL.Exec(`INSERT INTO personalities (id, name) SELECT gen_random_uuid(), 'p-' || i FROM generate_series(1, $1) i`, n); err != nil {
		t.Fatal(err)
	}
	_, err := s.Activities.SQL.Exec(`
INSERT INTO llm_configs (personality_id, model, top_k, frequency_penalty, presence_penalty, repetition_penalty, stop, seed, logit_bias, response_format, stream_response)
SELECT p.id, 'openrouter/free',
  CASE WHEN i % 97 = 0 THEN -1 WHEN i % 3 = 0 THEN NULL ELSE i % 100 END,
  CASE WHEN i % 89 = 0 THEN 3.5 WHEN i % 2 = 0 THEN round(((i % 40) - 20) / 10.0, 2) END,
  CASE WHEN i % 5 = 0 THEN 0.25 END,
  CASE WHEN i % 7 = 0 THEN 1.1 END,
  CASE WHEN i % 11 = 0 THEN ARRAY['</s>', 'User:'] WHEN i % 83 = 0 THEN ARRAY['a','b','c','d','e'] END,
  CASE WHEN i % 13 = 0 THEN i END,
  CASE WHEN i % 17 = 0 THEN '{"50256": -100}'::jsonb END,
  CASE WHEN i % 19 = 0 THEN '{"type": "json_object"}'::jsonb END,
  CASE WHEN i % 23 = 0 THEN true END
FROM personalities p JOIN LATERAL (SELECT substr(p.name, 3)::int AS i) x ON true`)
	if err != nil {
		t.Fatal(err)
	}
}

// expectedMismatches counts rows whose advanced_parameters is not exactly
// the in-range legacy values, as the single SQL statement would set them.
func expectedMismatches(t *testing.T, s *itest.Stack) int {
	t.Helper()
	var n int
	err := s.Activities.SQL.QueryRow(`SELECT count(*) FROM llm_configs WHERE advanced_parameters <> jsonb_strip_nulls(jsonb_build_object(
  'top_k', CASE WHEN top_k >= 0 THEN top_k END,
  'frequency_penalty', CASE WHEN frequency_penalty BETWEEN -2 AND 2 THEN frequency_penalty END,
  'presence_penalty', presence_penalty,
  'repetition_penalty', repetition_penalty,
  'stop', CASE WHEN cardinality(stop) <= 4 THEN to_jsonb(stop) END,
  'seed', seed, 'logit_bias', logit_bias, 'response_format', response_format))`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func startMigration(t testing.TB, s *itest.Stack, name string, opts opcli.DataMigrationOptions) client.WorkflowRun {
	t.Helper()
	opts.Detach = true
	var out bytes.Buffer
	if err := opcli.StartDataMigration(context.Background(), s.Config, name, opts, &out, s.Activities.Log); err != nil {
		t.Fatal(err)
	}
	return s.Client.GetWorkflow(context.Background(), workflows.DataMigrationID(name), "")
}

func finishMigration(t testing.TB, run client.WorkflowRun) workflows.MigrationState {
	t.Helper()
	return runResult[workflows.MigrationState](t, run, 5*time.Minute)
}

// migrate runs the named migration to its end and fails the test unless it
// succeeded.
func migrate(t testing.TB, s *itest.Stack, name string, opts opcli.DataMigrationOptions) workflows.MigrationState {
	t.Helper()
	st := finishMigration(t, startMigration(t, s, name, opts))
	if st.Outcome != "succeeded" {
		t.Fatalf("%s: %+v", name, st)
	}
	return st
}

func TestLLMConfigJSONB(t *testing.T) {
	s := itest.New(t, itest.Options{})
	seedLegacyConfigs(t, s, 3000)
	ctx := context.Background()

	// A dry run reports and changes nothing.
	dry := finishMigration(t, startMigration(t, s, "llm-config-jsonb", opcli.DataMigrationOptions{DryRun: true, BatchSize: 500}))
	var touched int
	scanRow(t, s.Activities.SQL.QueryRow(`SELECT count(*) FROM llm_configs WHERE advanced_parameters <> '{}'`), &touched)
	if dry.Counts.Changed == 0 || touched != 0 || dry.BackupPath != "" {
		t.Fatalf("dry run: changed %d, rows touched %d, backup %q", dry.Counts.Changed, touched, dry.BackupPath)
	}

	st := finishMigration(t, startMigration(t, s, "llm-config-jsonb", opcli.DataMigrationOptions{BatchSize: 500}))
	if st.Outcome != "succeeded" || st.Counts.Read != 3000 || st.Counts.Changed != dry.Counts.Changed {
		t.Fatalf("state %+v", st)
	}
	if n := expectedMismatches(t, s); n != 0 {
		t.Fatalf("%d rows differ from the legacy values", n)
	}
	report := strings.Join(st.Report, "\n")
	for _, want := range []string{"top_k: -1", "frequency_penalty: 3.5", "stop"} {
		if !strings.Contains(report, want) {
			t.Errorf("report does not mention %q:\n%s", want, report)
		}
	}
	if _, err := os.Stat(st.BackupPath); err != nil {
		t.Errorf("backup %q: %v", st.BackupPath, err)
	}
	r := s.DB.MigrationRun.Query().Where(migrationrun.Name("llm-config-jsonb"), migrationrun.DryRun(false)).OnlyX(ctx)
	if r.Outcome != "succeeded" || !r.Verified || r.Counts["read"] != 3000 {
		t.Errorf("run record %+v", r)
	}

	// The same migration cannot be applied twice by accident; forced, it changes nothing.
	var out bytes.Buffer
	err := opcli.StartDataMigration(ctx, s.Config, "llm-config-jsonb", opcli.DataMigrationOptions{BatchSize: 500, Detach: true}, &out, s.Activities.Log)
	if err != nil {
		t.Fatal(err)
	}
	again := s.Client.GetWorkflow(ctx, workflows.DataMigrationID("llm-config-jsonb"), "")
	if err := again.Get(ctx, nil); err == nil || !strings.Contains(err.Error(), "already applied") {
		t.Errorf("second run: %v, want a refusal", err)
	}
	forced := finishMigration(t, startMigration(t, s, "llm-config-jsonb", opcli.DataMigrationOptions{BatchSize: 500, Force: true}))
	if forced.Counts.Changed != 0 {
		t.Errorf("a forced re-run changed %d rows", forced.Counts.Changed)
	}

	// The contract step is now allowed only after custom-fields too.
	if _, err := migrations.ApplyContract(ctx, s.Activities.SQL, migrations.Contracts[0]); err == nil || !strings.Contains(err.Error(), "custom-fields") {
		t.Fatalf("contract before custom-fields: %v", err)
	}
}

func TestMigrationPauseResumeCancel(t *testing.T) {
	s := itest.New(t, itest.Options{})
	seedLegacyConfigs(t, s, 30000)
	ctx := context.Background()
	run := startMigration(t, s, "llm-config-jsonb", opcli.DataMigrationOptions{BatchSize: 1})
	id := workflows.DataMigrationID("llm-config-jsonb")
	progress := func() workflows.MigrationState {
		v, err := s.Client.QueryWorkflow(ctx, id, "", workflows.QueryProgress)
		if err != nil {
			t.Fatal(err)
		}
		var st workflows.MigrationState
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	testwait.Until(t, "rows read", func() bool { return progress().Counts.Read > 0 })
	if err := s.Client.SignalWorkflow(ctx, id, "", workflows.SignalPause, nil); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "paused", func() bool { return progress().Paused })
	testwait.Until(t, "the batch in flight when paused to finish", func() bool {
		d, err := s.Client.DescribeWorkflowExecution(ctx, id, "")
		return err == nil && len(d.GetPendingActivities()) == 0
	})
	a := progress().Counts.Read
	time.Sleep(2 * time.Second)
	if b := progress().Counts.Read; b != a {
		t.Fatalf("rows went on from %d to %d while paused", a, b)
	}
	if err := s.Client.SignalWorkflow(ctx, id, "", workflows.SignalResume, nil); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "resumed", func() bool { return progress().Counts.Read > a })
	if st := finishMigration(t, run); st.Outcome != "succeeded" || st.Counts.Read != 30000 {
		t.Fatalf("after resuming: %+v", st)
	}

	// A run cancelled while paused ends as cancelled, recorded so.
	run = startMigration(t, s, "llm-config-jsonb", opcli.DataMigrationOptions{BatchSize: 1, DryRun: true})
	if err := s.Client.SignalWorkflow(ctx, id, "", workflows.SignalPause, nil); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "paused", func() bool { return progress().Paused })
	if err := s.Client.SignalWorkflow(ctx, id, "", workflows.SignalCancel, nil); err != nil {
		t.Fatal(err)
	}
	if st := finishMigration(t, run); st.Outcome != "cancelled" {
		t.Fatalf("outcome %q", st.Outcome)
	}
	r := s.DB.MigrationRun.Query().Where(migrationrun.DryRun(true)).OnlyX(ctx)
	if r.Outcome != "cancelled" || r.Verified {
		t.Errorf("run record %+v", r)
	}
}

// Five SIGKILLs of a real worker process at random points of a 100,000-row
// migration end in exactly the state of an uninterrupted run.
func TestMigrationSurvivesKilledWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("the kill test takes a minute or two")
	}
	bin := buildTzurot(t)
	s := itest.New(t, itest.Options{NoWorker: true})
	seedLegacyConfigs(t, s, 100000)
	var total int64
	scanRow(t, s.Activities.SQL.QueryRow(`SELECT count(*) FROM llm_configs WHERE top_k >= 0 OR frequency_penalty BETWEEN -2 AND 2 OR presence_penalty IS NOT NULL OR repetition_penalty IS NOT NULL OR cardinality(stop) <= 4 OR seed IS NOT NULL OR logit_bias IS NOT NULL OR response_format IS NOT NULL`), &total)
	run := startMigration(t, s, "llm-config-jsonb", opcli.DataMigrationOptions{BatchSize: 1000})
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	// Progress as the database sees it, which needs no live worker to answer.
	read := func() int64 {
		var n int64
		scanRow(t, s.Activities.SQL.QueryRow(`SELECT count(*) FROM llm_configs WHERE advanced_parameters <> '{}'`), &n)
		return n
	}
	for kill := 0; kill < 5; kill++ {
		w := startWorker(t, s, bin)
		before := read()
		// Kill only once this worker is doing the migration's work, at a random moment.
		testwait.Until(t, "the new worker to make progress", func() bool { return read() > before || read() == total })
		time.Sleep(time.Duration(rng.Intn(1500)) * time.Millisecond)
		killWorker(t, w)
		t.Logf("kill %d after %d rows", kill+1, read())
	}
	startWorker(t, s, bin)
	st := finishMigration(t, run)
	if st.Outcome != "succeeded" {
		t.Fatalf("outcome %q", st.Outcome)
	}
	if n := expectedMismatches(t, s); n != 0 {
		t.Fatalf("%d rows differ from an uninterrupted run", n)
	}
	fmt.Fprintf(os.Stderr, "kill test: read %d rows for 100000 (pages redone after kills)\n", st.Counts.Read)
}
