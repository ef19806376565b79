//go:build integration

package bot_test

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/tzurot/tzurot/migrations"
)

var replyDBRows = flag.Int("replydb.rows", 10_000_000,
	"conversation_history rows (and as many deliveries) of BenchmarkReplyDB's large database")

// BenchmarkReplyDB measures the database time of one reply (replyDB.reply:
// routing by the Discord message replied to and in a DM, resolve
// the personality, user, key, /config and history, the guest allowance,
// usage, the delivery record and lookup, SaveTurns) on an empty database and
// on one of -replydb.rows history rows and deliveries, side by side: first
// without migration 0015's indexes, then with them, built by the migration's
// own SQL on the loaded tables (its build time is reported as 0015-build-s).
//
// db-ms/reply is the time spent in the database driver per reply (statements
// and reading their rows), the provider and Discord fakes' time excluded;
// ns/op includes them. Loading 10,000,000 rows takes a few minutes, so the
// benchmark only runs under -bench (make bench), never in make test.
func BenchmarkReplyDB(b *testing.B) {
	n := *replyDBRows
	empty := newReplyDB(b, loadSpec{})
	empty.bot.KeepPersonalityNames(time.Hour)
	benchReplies(b, "history=0", empty, nil)

	big := newReplyDB(b, loadSpec{history: n, personalities: 10_000, users: 100_000, usage: n / 10, without0015: true})
	big.bot.KeepPersonalityNames(time.Hour)
	benchReplies(b, fmt.Sprintf("history=%d-without-0015", n), big, nil)

	all, err := migrations.All()
	if err != nil {
		b.Fatal(err)
	}
	var build time.Duration
	for _, m := range all {
		if m.Version != "0015" {
			continue
		}
		start := time.Now()
		if _, err := big.admin.ExecContext(context.Background(), m.SQL); err != nil {
			b.Fatal(err)
		}
		build = time.Since(start)
	}
	if build == 0 {
		b.Fatal("no migration 0015")
	}
	if _, err := big.admin.ExecContext(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("migration 0015 built its indexes on %d rows in %s", n, build.Round(time.Millisecond))
	benchReplies(b, fmt.Sprintf("history=%d", n), big, func(b *testing.B) {
		b.ReportMetric(build.Seconds(), "0015-build-s")
	})
}

func benchReplies(b *testing.B, name string, r *replyDB, extra func(*testing.B)) {
	b.Run(name, func(b *testing.B) {
		r.reply(b) // warm: the mention index, the channel's webhook, connections
		per := make([]time.Duration, 0, b.N)
		stmts := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r.rec.Start()
			r.reply(b)
			stmts += len(r.rec.Stop())
			per = append(per, r.rec.Total())
		}
		b.StopTimer()
		var sum time.Duration
		for _, d := range per {
			sum += d
		}
		sort.Slice(per, func(i, j int) bool { return per[i] < per[j] })
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(sum)/float64(b.N), "db-ms/reply")
		b.ReportMetric(ms(per[(len(per)-1)/2]), "db-p50-ms")
		b.ReportMetric(ms(per[(len(per)*99+99)/100-1]), "db-p99-ms")
		b.ReportMetric(float64(stmts)/float64(b.N), "stmts/reply")
		if extra != nil {
			extra(b)
		}
	})
}
