//go:build integration

package retention_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/internal/testdb"
	"github.com/tzurot/tzurot/workflows"
)

// Each purge batch, at a production-like size, is served by its index and
// reads about as many rows as it deletes: no sequential scan, no walk over
// the rows it keeps. The tables hold 200,000 turns and usage rows (one in
// 200 a hold), 50,000 memories and other delivery records, and 100,000
// replies' delivery records, all older than a day and kept while
// RETENTION_DAYS is unset, which the hourly purge of the other records must
// not read. A tenth of each is past the 30-day cutoff. EXPLAIN ANALYZE runs
// each batch in a transaction rolled back.
func TestPurgeStatementsUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 600,000 rows")
	}
	db := testdb.DB(t)
	ctx := context.Background()
	user, pers := uuid.New(), uuid.New()
	now := time.Now()
	cut := now.Add(-30 * 24 * time.Hour)
	lit := strings.NewReplacer("$1", "'"+user.String()+"'::uuid", "$2", "'"+pers.String()+"'::uuid", "$3", "'"+now.Format(time.RFC3339Nano)+"'")
	for _, q := range []string{
		`INSERT INTO users (id, discord_id) VALUES ($1, '111111111111111111')`,
		`INSERT INTO personalities (id, name) VALUES ($2, 'kerach')`,
		// Row i is i minutes older than $3 - 60 days + 30 days × 1.1: one in
		// ten of each table is past the 30-day cutoff.
		`INSERT INTO conversation_history (channel_id, personality_id, user_id, role, content, created_at)
		 SELECT '2222222', $2, $1, 'user', 'turn', $3::timestamptz - (i * interval '33 days' / 200000)
		 FROM generate_series(1, 200000) i`,
		`INSERT INTO memories (personality_id, user_id, content, model, embedding, signature, created_at)
		 SELECT $2, $1, 'memory', 'e', '\x00000000', '\x00', $3::timestamptz - (i * interval '33 days' / 50000)
		 FROM generate_series(1, 50000) i`,
		`INSERT INTO deliveries (key, channel_id, discord_message_id, created_at)
		 SELECT 'imagine/' || i || '/post', '2222222', (3000000 + i)::text, $3::timestamptz - (i * interval '33 days' / 50000)
		 FROM generate_series(1, 50000) i`,
		`INSERT INTO deliveries (key, channel_id, discord_message_id, created_at)
		 SELECT 'reply/' || i || '/reply/1', '2222222', (4000000 + i)::text, $3::timestamptz - interval '2 days' - (i * interval '31 days' / 100000)
		 FROM generate_series(1, 100000) i`,
		`INSERT INTO usage_logs (user_id, provider, model, tokens_total, request_type, timestamp)
		 SELECT $1, CASE WHEN i % 200 = 0 THEN 'hold' ELSE 'openrouter' END, 'm', 10, 'text',
		        $3::timestamptz - (i * interval '33 days' / 200000)
		 FROM generate_series(1, 200000) i`,
		`ANALYZE`,
	} {
		if _, err := db.ExecContext(ctx, lit.Replace(q)); err != nil {
			t.Fatalf("%.60s…: %v", q, err)
		}
	}
	const batch = operator.DefaultPurgeBatch
	for _, tc := range []struct {
		kind   string
		before time.Time
		index  string
	}{
		{operator.PurgeLimitHolds, cut, "usagelog_provider"},
		{operator.PurgeDeliveries, now.Add(-workflows.DeliveryKeep), "deliveries_others_created_at"},
		{operator.PurgeReplyDeliveries, cut, "deliveries_replies_created_at"},
		{operator.PurgeTurns, cut, "conversationhistory_created_at"},
		{operator.PurgeMemories, cut, "memory_created_at"},
	} {
		plan, took := explainAnalyze(t, db, operator.PurgeStatement(tc.kind), tc.before, batch)
		if idx := testdb.Indexes(plan); !slices.Contains(idx, tc.index) {
			t.Errorf("%s reads indexes %v, want %s", tc.kind, idx, tc.index)
		}
		// The hold purge reads every hold (the provider index), which the
		// hourly purge keeps to an hour's worth; here 1,000.
		if bad := testdb.Unbounded(plan, 2*batch); len(bad) > 0 {
			t.Errorf("%s: %v", tc.kind, bad)
		}
		t.Logf("%s: one batch of %d in %s", tc.kind, batch, took)
	}
}

// explainAnalyze runs stmt under EXPLAIN ANALYZE in a transaction it rolls
// back, and returns its plan and execution time.
func explainAnalyze(t *testing.T, db *sql.DB, stmt string, args ...any) (testdb.PlanNode, time.Duration) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // only ever rolled back
	var raw []byte
	if err := tx.QueryRow("EXPLAIN (ANALYZE, FORMAT JSON) "+stmt, args...).Scan(&raw); err != nil {
		t.Fatalf("explain %s: %v", stmt, err)
	}
	var out []struct {
		Plan testdb.PlanNode `json:"Plan"`
		Ms   float64         `json:"Execution Time"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		t.Fatalf("read the plan of %s: %v", stmt, err)
	}
	return out[0].Plan, time.Duration(out[0].Ms * float64(time.Millisecond))
}
