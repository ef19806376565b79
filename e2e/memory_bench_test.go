//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/workflows"
)

// benchMemoryTopics are what alice talks about, and what the seeded
// memories are near: each memory is a vector near the stand-in's embedding
// of one of them (memory.TopicVector), and each message of the benchmark
// is one of them, so every recall finds memories above the threshold.
var benchMemoryTopics = []string{
	"my cat Pixel sleeps on the warm windowsill all afternoon",
	"planting tomatoes and basil in the garden this spring",
	"training for the city marathon with long sunday runs",
	"learning to bake sourdough bread with a new starter",
	"fixing the old bicycle brakes and gears before the trip",
	"reading science fiction novels about distant planets",
	"my sister's wedding in the mountains next summer",
	"practising piano scales and a Chopin nocturne every evening",
}

// benchMemoryConfig is one of BenchmarkMemoryReply's personalities: memory
// off (memory_limit 0), or on with n memories of alice.
type benchMemoryConfig struct {
	name  string // the metrics' prefix and the personality's alias
	limit int    // memory_limit
	n     int    // alice's memories with the personality
}

// BenchmarkMemoryReply: GenerateReply through Temporal with long-term
// memory off and on, at 10,000 and 100,000 memories of the (personality,
// user) pair in a memories table of 1,000,000 rows, the three interleaved
// request by request in one conversation each. Reported per configuration:
// the reply's latency to being posted and to the workflow's end, and, with
// memory on, the recall's (embedding the query, its usage row, the search:
// activities.RecallLogMessage), the search's alone, the first recall of
// the worker (cold: it reads the pair's signatures) and memories recalled
// per reply. Run (BENCHMARKS.md):
//
//	go test -tags e2e ./e2e -run '^$' -bench BenchmarkMemoryReply -benchtime 100x -timeout 30m
func BenchmarkMemoryReply(b *testing.B) {
	s := benchStack(b, itest.Options{LongTermMemory: true})
	configs := []benchMemoryConfig{{"off", 0, 0}, {"10k", 20, 10_000}, {"100k", 20, 100_000}}
	seedMemoryBench(b, s, configs)
	// The parent runs once (it has a sub-benchmark), so the table is
	// loaded once however often the sub-benchmark runs.
	b.Run("interleaved", func(b *testing.B) { benchMemoryReply(b, s, configs) })
}

func benchMemoryReply(b *testing.B, s *itest.Stack, configs []benchMemoryConfig) {
	channels := make([]string, len(configs))
	for i := range configs {
		channels[i] = benchSnowflake('9')
	}
	// One request function a configuration, each sending topic: the
	// messages go round the topics.
	var topic string
	reqs := make([]benchRequest, len(configs))
	for c := range configs {
		reqs[c] = temporalReplies(s, func(channel, messageID string) workflows.GenerateReplyInput {
			in := benchReplyInput(channel, messageID)
			in.Personality, in.Content = configs[c].name, topic
			return in
		})()
	}
	type sample struct {
		posted string
		start  time.Time
		total  time.Duration
	}
	sent := 0
	request := func(c int) sample {
		topic = benchMemoryTopics[sent%len(benchMemoryTopics)]
		sent++
		start := time.Now()
		posted, err := reqs[c](context.Background(), channels[c], benchSnowflake('8'))
		if err != nil {
			b.Fatalf("%s: %v", configs[c].name, err)
		}
		return sample{posted: posted, start: start, total: time.Since(start)}
	}

	// Warm-up: one reply each creates the channel's webhook and loads the
	// pair's signatures (the cold recall, reported apart).
	for c := range configs {
		request(c)
	}
	// The stack's first recalls of each pair were the cold ones, in the
	// warm-up of the sub-benchmark's first run.
	cold := recallRecords(b, s.Logs.String())
	logStart := len(s.Logs.String())

	samples := make([][]sample, len(configs))
	b.ResetTimer()
	for range b.N {
		for c := range configs {
			samples[c] = append(samples[c], request(c))
		}
	}
	b.StopTimer()

	recalls := recallRecords(b, s.Logs.String()[logStart:])
	if len(cold) < 2 || len(recalls) != 2*b.N {
		b.Fatalf("%d earlier and %d timed recalls logged, want at least 2 and %d: a recall failed (see the logs)", len(cold), len(recalls), 2*b.N)
	}
	for c, cfg := range configs {
		var posted, total []time.Duration
		msgs := map[string]time.Time{}
		for _, m := range s.Discord.Messages(channels[c]) {
			msgs[m.ID] = m.Timestamp
		}
		for _, smp := range samples[c] {
			at, ok := msgs[smp.posted]
			if !ok {
				b.Fatalf("reply %q is not in channel %s", smp.posted, channels[c])
			}
			posted = append(posted, at.Sub(smp.start))
			total = append(total, smp.total)
		}
		b.ReportMetric(percentileMS(posted, 50), cfg.name+"-reply-p50-ms")
		b.ReportMetric(percentileMS(total, 50), cfg.name+"-done-p50-ms")
		if cfg.limit == 0 {
			continue
		}
		var recall, search []time.Duration
		found := 0
		for k := c - 1; k < len(recalls); k += 2 { // the recalls alternate 10k, 100k
			recall, search = append(recall, recalls[k].Duration), append(search, recalls[k].SearchDuration)
			found += recalls[k].Memories
		}
		if found == 0 {
			b.Fatalf("%s: no memory recalled: the benchmark would time an empty search", cfg.name)
		}
		b.ReportMetric(float64(cold[c-1].Duration)/float64(time.Millisecond), cfg.name+"-recall-cold-ms")
		b.ReportMetric(percentileMS(recall, 50), cfg.name+"-recall-p50-ms")
		b.ReportMetric(percentileMS(recall, 99), cfg.name+"-recall-p99-ms")
		b.ReportMetric(percentileMS(search, 50), cfg.name+"-search-p50-ms")
		b.ReportMetric(percentileMS(search, 99), cfg.name+"-search-p99-ms")
		b.ReportMetric(float64(found)/float64(len(recall)), cfg.name+"-recalled/reply")
	}
}

// seedMemoryBench makes the configurations' personalities and loads their
// memories of alice, among other pairs' rows up to 1,000,000, then checks
// the plans of the recall's reads of each pair.
func seedMemoryBench(b *testing.B, s *itest.Stack, configs []benchMemoryConfig) {
	b.Helper()
	ctx := context.Background()
	alice := s.DB.User.Query().OnlyX(ctx)
	db, err := sql.Open("postgres", s.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	topics := make([][]float32, len(benchMemoryTopics))
	for i, t := range benchMemoryTopics {
		topics[i] = fakeopenrouter.Embedding(t, 1536)
	}
	rows := 0
	var pairs []string
	for _, c := range configs {
		rows += c.n
	}
	for i, c := range configs {
		p := s.DB.Personality.Create().SetName("memory-" + c.name).SetDisplayName("Memory " + c.name).
			SetSystemPrompt("You remember.").SetErrorMessage("*static*").SaveX(ctx)
		s.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").SetMemoryLimit(c.limit).ExecX(ctx)
		s.DB.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias(c.name).ExecX(ctx)
		if c.n == 0 {
			continue
		}
		others := 0
		if i == len(configs)-1 {
			others = 1_000_000 - rows
		}
		start := time.Now()
		err := memory.BulkLoad(ctx, db, memory.Load{PersonalityID: p.ID, UserID: alice.ID, Model: s.Config.EmbeddingModel,
			N: c.n, Topics: topics, Others: others, Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d memories of %s and %d of other pairs in %s", c.n, c.name, others, time.Since(start).Round(time.Second))
		pairs = append(pairs, p.ID.String())
	}
	for _, p := range pairs {
		explainRecall(b, db, p, alice.ID.String(), s.Config.EmbeddingModel)
	}
}

// explainRecall checks that the reads of a recall (internal/memory's
// mirror and Search) are served by the indexes meant for them: the pair's
// signatures, all and then those since a moment, by the pair's index, and
// the candidates by primary key.
func explainRecall(b *testing.B, db *sql.DB, personality, user, model string) {
	b.Helper()
	sig := `SELECT id, created_at, signature FROM memories
		WHERE personality_id = $1 AND user_id = $2 AND created_at > $3 AND model = $4 ORDER BY created_at`
	// 160 of the pair's ids, as many candidates as a search of limit 20 reads.
	var candidates string
	err := db.QueryRow(`SELECT array_agg(id)::text FROM (SELECT id FROM memories
		WHERE personality_id = $1 AND user_id = $2 ORDER BY random() LIMIT 160) c`, personality, user).Scan(&candidates)
	if err != nil {
		b.Fatal(err)
	}
	checks := []struct {
		query, index string
		args         []any
	}{
		{sig, "memory_personality_id_user_id_created_at_id", []any{personality, user, time.Time{}, model}},
		{sig, "memory_personality_id_user_id_created_at_id", []any{personality, user, time.Now().Add(-time.Minute), model}},
		{`SELECT id, personality_id, user_id, model, content, created_at, embedding
			FROM memories WHERE id = ANY($1::uuid[])`, "memories_pkey", []any{candidates}},
	}
	for _, c := range checks {
		var plan strings.Builder
		rows, err := db.Query("EXPLAIN (ANALYZE, BUFFERS) "+c.query, c.args...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		rows.Close()
		b.Logf("plan:\n%s", plan.String())
		if !strings.Contains(plan.String(), c.index) || strings.Contains(plan.String(), "Seq Scan") {
			b.Errorf("recall's read is not served by %s:\n%s", c.index, plan.String())
		}
	}
}

// recallRecord is one RecallLogMessage record.
type recallRecord struct {
	Memories       int           `json:"memories"`
	Duration       time.Duration `json:"duration"`
	SearchDuration time.Duration `json:"search_duration"`
}

// recallRecords are the RecallLogMessage records of logs (JSON lines), in order.
func recallRecords(b *testing.B, logs string) []recallRecord {
	b.Helper()
	var out []recallRecord
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), activities.RecallLogMessage) {
			continue
		}
		var r struct {
			Msg string `json:"msg"`
			recallRecord
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(fmt.Errorf("recall record %q: %w", sc.Text(), err))
		}
		if r.Msg == activities.RecallLogMessage {
			out = append(out, r.recallRecord)
		}
	}
	return out
}
