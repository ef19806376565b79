//go:build e2e

package e2e

import (
	"math/rand"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
	"github.com/tzurot/tzurot/internal/testwait"
)

// Every data migration, not just llm-config-jsonb, ends in the state of an
// uninterrupted run when its worker process is SIGKILLed at random points.
func TestEachMigrationSurvivesKilledWorkers(t *testing.T) {
	bin := buildTzurot(t)
	cases := []struct {
		name     string
		opts     opcli.DataMigrationOptions
		seed     func(t *testing.T, s *itest.Stack)
		progress string // a count that grows as the migration writes
		want     map[string]int64
	}{
		{
			name: "custom-fields",
			opts: opcli.DataMigrationOptions{BatchSize: 20},
			seed: func(t *testing.T, s *itest.Stack) {
				_, err := s.Activities.SQL.Exec(`INSERT INTO personalities (name, custom_fields, voice_settings)
SELECT 'p-' || i, jsonb_build_object('aliases', jsonb_build_array('alias-' || i), 'birthday', '03-14'),
  CASE WHEN i % 3 = 0 THEN jsonb_build_object('voice_id', 'v' || i, 'stability', 0.4) END
FROM generate_series(1, 6000) i`)
				if err != nil {
					t.Fatal(err)
				}
			},
			progress: `SELECT count(*) FROM personality_aliases`,
			want: map[string]int64{
				`SELECT count(*) FROM personality_aliases`:                     6000,
				`SELECT count(*) FROM personalities WHERE birth_month = 3`:     6000,
				`SELECT count(*) FROM voice_configs WHERE stability = 0.4`:     2000,
				`SELECT count(DISTINCT lower(alias)) FROM personality_aliases`: 6000,
			},
		},
		{
			name:     "shapes-import",
			opts:     opcli.DataMigrationOptions{BatchSize: 1, Dir: fixtures},
			seed:     func(*testing.T, *itest.Stack) {},
			progress: `SELECT count(*) FROM personalities`,
			want: map[string]int64{
				`SELECT count(*) FROM personalities`:        66,
				`SELECT count(*) FROM llm_configs`:          66,
				`SELECT count(*) FROM conversation_history`: 420,
			},
		},
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := itest.New(t, itest.Options{NoWorker: true})
			tc.seed(t, s)
			count := func(q string) int64 {
				var n int64
				if err := s.Activities.SQL.QueryRow(q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			run := startMigration(t, s, tc.name, tc.opts)
			for kill := 0; kill < 3; kill++ {
				w := startWorker(t, s, bin)
				before := count(tc.progress)
				done := tc.want[tc.progress]
				testwait.Until(t, "progress", func() bool { n := count(tc.progress); return n > before || n >= done })
				time.Sleep(time.Duration(rng.Intn(300)) * time.Millisecond)
				killWorker(t, w)
				t.Logf("kill %d at %d", kill+1, count(tc.progress))
			}
			startWorker(t, s, bin)
			st := finishMigration(t, run)
			if st.Outcome != "succeeded" {
				t.Fatalf("outcome %q", st.Outcome)
			}
			for q, want := range tc.want {
				if got := count(q); got != want {
					t.Errorf("%s = %d, want %d", q, got, want)
				}
			}
		})
	}
}
