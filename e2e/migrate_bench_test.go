//go:build e2e

package e2e

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
)

// BenchmarkLLMConfigJSONB compares the llm-config-jsonb workflow (paged,
// resumable, validated, backed up) with the single UPDATE … SET
// advanced_parameters = jsonb_build_object(…) that does the same in one
// statement, over BENCH_ROWS rows (default 1,000,000), in rows per second.
// The backup is timed with the workflow: it is part of the migration.
func BenchmarkLLMConfigJSONB(b *testing.B) {
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	batch := 5000
	if v, err := strconv.Atoi(os.Getenv("BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	s := itest.New(b, itest.Options{})
	seedLegacyConfigs(b, s, rows)
	reset := func() {
		b.StopTimer()
		if _, err := s.Activities.SQL.Exec(`UPDATE llm_configs SET advanced_parameters = '{}'`); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Activities.SQL.Exec(`VACUUM ANALYZE llm_configs`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.Run("single-update", func(b *testing.B) {
		var total time.Duration
		for i := 0; i < b.N; i++ {
			reset()
			start := time.Now()
			_, err := s.Activities.SQL.Exec(`UPDATE llm_configs SET advanced_parameters = jsonb_strip_nulls(jsonb_build_object(
  'top_k', CASE WHEN top_k >= 0 THEN top_k END,
  'frequency_penalty', CASE WHEN frequency_penalty BETWEEN -2 AND 2 THEN frequency_penalty END,
  'presence_penalty', CASE WHEN presence_penalty BETWEEN -2 AND 2 THEN presence_penalty END,
  'repetition_penalty', CASE WHEN repetition_penalty BETWEEN 0 AND 2 THEN repetition_penalty END,
  'stop', CASE WHEN cardinality(stop) <= 4 THEN to_jsonb(stop) END,
  'seed', seed, 'logit_bias', logit_bias, 'response_format', response_format)), updated_at = now()`)
			if err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(rows)*float64(b.N)/total.Seconds(), "rows/s")
	})
	b.Run("workflow", func(b *testing.B) {
		var total time.Duration
		for i := 0; i < b.N; i++ {
			reset()
			start := time.Now()
			st := finishMigration(b, startMigration(b, s, "llm-config-jsonb", opcli.DataMigrationOptions{BatchSize: batch, Force: true}))
			total += time.Since(start)
			if st.Outcome != "succeeded" || st.Counts.Read != int64(rows) {
				b.Fatalf("run %+v", st)
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/total.Seconds(), "rows/s")
	})
}
