//go:build integration

package memory

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Recall latency on a table of 1,000,000 memories, n of them the searching
// pair's, with 1536-dimension embeddings (text-embedding-3-small's) in
// topics (BulkLoad); limit 20 (memory_limit's default), threshold 0.
// Reported: the first search of a fresh process (it reads the pair's
// signatures), then p50 and p99 of the searches after it, each on a new
// query vector. Run (BENCHMARKS.md):
//
//	go test -tags integration -run '^$' -bench 'Recall' -benchtime 200x ./internal/memory/
func BenchmarkRecall10000(b *testing.B)  { benchmarkRecall(b, 10_000) }
func BenchmarkRecall100000(b *testing.B) { benchmarkRecall(b, 100_000) }

const (
	benchTable = 1_000_000
	benchDims  = 1536
)

func benchmarkRecall(b *testing.B, n int) {
	f := newFixture(b, 1, 1)
	p := f.pairs[0]
	start := time.Now()
	bulkLoad(b, f.db, p, n, benchTable-n, benchDims)
	b.Logf("loaded %d memories (%d of the pair) in %s", benchTable, n, time.Since(start).Round(time.Millisecond))

	// The parent runs once; the sub-benchmark may run several times, and
	// each run is a fresh process's Index, so the first search is cold.
	b.Run("search", func(b *testing.B) {
		ctx := context.Background()
		idx := NewPostgres(f.db, Options{})
		r := rand.New(rand.NewPCG(uint64(n), 9))
		centres := RandomTopics(r, 100, benchDims)
		query := func() Query {
			return Query{PersonalityID: p.personality, UserID: p.user, Model: testModel,
				Vector: TopicVector(r, centres), Limit: 20, MinScore: 0}
		}
		t0 := time.Now()
		if _, err := idx.Search(ctx, query()); err != nil {
			b.Fatal(err)
		}
		cold := time.Since(t0)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			q := query()
			t := time.Now()
			got, err := idx.Search(ctx, q)
			lat = append(lat, time.Since(t))
			if err != nil || len(got) == 0 {
				b.Fatalf("search: %d found, %v", len(got), err)
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(cold), "cold-ms")
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
		b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
	})
}
