//go:build integration

package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/internal/testdb"
)

// threshold is a memory_score_threshold as personalities set it.
const threshold = 0.5

// The stand-in's embeddings carry meaning enough that a question finds
// the memory it asks about, above the threshold, and nothing unrelated;
// and the same question from another user, or to another personality,
// never sees it.
func TestRecallFindsTheMemoryAskedAbout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2, 2)
	idx := NewPostgres(f.db, Options{})
	alice, bob, aliceElsewhere := f.pairs[0], f.pairs[1], f.pairs[2]
	pixel := f.remember(t, idx, alice, "my cat is called Pixel")
	unrelated := f.remember(t, idx, alice, "I work night shifts as a nurse in Leeds")
	f.remember(t, idx, alice, "my favourite colour is a deep green")
	bobs := f.remember(t, idx, bob, "my cat is called Tiger")
	f.remember(t, idx, aliceElsewhere, "my cat is called Biscuit")

	q := Query{PersonalityID: alice.personality, UserID: alice.user, Model: testModel,
		Vector: f.embed(t, "what is my cat called?")[0], Limit: 20, MinScore: threshold}
	got, err := idx.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != pixel.ID || got[0].Content != pixel.Content || got[0].Score < threshold {
		t.Fatalf("search = %v, want only %q above %.2f", summary(got), pixel.Content, threshold)
	}
	t.Logf("%q scores %.3f", pixel.Content, got[0].Score)
	if !got[0].CreatedAt.Equal(pixel.CreatedAt) || len(got[0].Embedding) != 1536 {
		t.Errorf("found memory %+v lost its date or embedding", got[0].Memory)
	}

	// With no threshold every one of alice's memories with this
	// personality comes back, the unrelated one well below, and still
	// nothing of bob's or of her other personality.
	q.MinScore = -1
	all, err := idx.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != pixel.ID {
		t.Fatalf("search without threshold = %v, want alice's 3 memories, Pixel first", summary(all))
	}
	for _, s := range all {
		if s.UserID != alice.user || s.PersonalityID != alice.personality || strings.Contains(s.Content, "Tiger") || strings.Contains(s.Content, "Biscuit") {
			t.Errorf("alice's search returned %q of another pair", s.Content)
		}
		if s.ID == unrelated.ID && s.Score >= threshold {
			t.Errorf("unrelated memory scores %.3f, at or above the threshold", s.Score)
		}
	}

	q.UserID = bob.user
	mine, err := idx.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 1 || mine[0].ID != bobs.ID {
		t.Errorf("bob's search = %v, want only his own memory", summary(mine))
	}
}

func summary(ss []Scored) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "[%.3f %q] ", s.Score, s.Content)
	}
	return b.String()
}

// The first pass (signatures) keeps what the exact ranking would have put
// first: on 3,000 memories in 100 topics (BulkLoad), far more than the
// candidates a search reads, the top 10 found agree with a brute-force
// cosine ranking.
func TestSearchAgreesWithExactRanking(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1, 1)
	p := f.pairs[0]
	const n, dims = 3000, 256
	bulkLoad(t, f.db, p, n, 0, dims)
	idx := NewPostgres(f.db, Options{})

	rows, err := f.db.Query(`SELECT id, embedding FROM memories`)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		id uuid.UUID
		v  []float32
	}
	var all []entry
	for rows.Next() {
		var e entry
		var raw []byte
		if err := rows.Scan(&e.id, &raw); err != nil {
			t.Fatal(err)
		}
		e.v = decodeVector(raw)
		all = append(all, e)
	}
	rows.Close()

	r := rand.New(rand.NewPCG(7, 7))
	hits, total := 0, 0
	for range 20 {
		// A query near one stored memory, as a question is near the
		// memory it asks about.
		base := all[r.IntN(len(all))].v
		q := make([]float32, dims)
		for i := range q {
			q[i] = base[i] + (r.Float32()*2-1)*0.5
		}
		sort.Slice(all, func(i, j int) bool { return Cosine(q, all[i].v) > Cosine(q, all[j].v) })
		got, err := idx.Search(ctx, Query{PersonalityID: p.personality, UserID: p.user, Model: testModel, Vector: q, Limit: 10, MinScore: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range all[:10] {
			total++
			if slices.ContainsFunc(got, func(s Scored) bool { return s.ID == e.id }) {
				hits++
			}
		}
		if got[0].ID != all[0].id {
			t.Errorf("search's best %v is not the exact best %v", got[0].ID, all[0].id)
		}
	}
	if recall := float64(hits) / float64(total); recall < 0.9 {
		t.Errorf("recall@10 = %.2f against the exact ranking, want at least 0.9", recall)
	} else {
		t.Logf("recall@10 = %.2f", recall)
	}
}

// Two processes share one table: what one adds, the other's next search
// finds (its signatures are topped up); what one forgets, the other's
// search no longer returns.
func TestSearchSeesOtherProcesses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1, 1)
	p := f.pairs[0]
	a, b := NewPostgres(f.db, Options{}), NewPostgres(f.db, Options{})
	f.remember(t, a, p, "we met at the climbing wall")
	q := Query{PersonalityID: p.personality, UserID: p.user, Model: testModel,
		Vector: f.embed(t, "what is my cat called?")[0], Limit: 5, MinScore: threshold}
	search := func(idx Index) []Scored {
		t.Helper()
		got, err := idx.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := search(a); len(got) != 0 {
		t.Fatalf("before: %v", summary(got))
	}
	pixel := f.remember(t, b, p, "my cat is called Pixel")
	if got := search(a); len(got) != 1 || got[0].ID != pixel.ID {
		t.Fatalf("a does not find what b added: %v", summary(got))
	}
	if ok, err := b.Forget(ctx, p.user, pixel.ID); err != nil || !ok {
		t.Fatalf("forget: %v %v", ok, err)
	}
	if got := search(a); len(got) != 0 {
		t.Fatalf("a still finds what b forgot: %v", summary(got))
	}
	f.remember(t, a, p, "my cat is called Pixel, again")
	if n, err := b.ForgetAll(ctx, p.personality, p.user); err != nil || n != 2 {
		t.Fatalf("forget all = %d, %v; want 2", n, err)
	}
	if got := search(a); len(got) != 0 {
		t.Fatalf("a still finds what b forgot wholesale: %v", summary(got))
	}
}

// A memory is forgotten only by its own user; ForgetAll touches only its
// pair.
func TestForgetIsScoped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2, 2)
	idx := NewPostgres(f.db, Options{})
	alice, bob := f.pairs[0], f.pairs[1]
	m := f.remember(t, idx, alice, "my cat is called Pixel")
	f.remember(t, idx, bob, "my cat is called Tiger")
	f.remember(t, idx, f.pairs[2], "my cat is called Biscuit")
	if ok, err := idx.Forget(ctx, bob.user, m.ID); err != nil || ok {
		t.Fatalf("bob forgot alice's memory: %v %v", ok, err)
	}
	if n, err := idx.ForgetAll(ctx, alice.personality, alice.user); err != nil || n != 1 {
		t.Fatalf("forget all = %d, %v; want alice's 1", n, err)
	}
	var left int
	if err := f.db.QueryRow(`SELECT count(*) FROM memories`).Scan(&left); err != nil || left != 2 {
		t.Fatalf("%d memories left (%v), want bob's and alice's other personality's", left, err)
	}
}

// List pages through a pair's memories newest first, each once, and ends.
func TestListPages(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1, 2)
	idx := NewPostgres(f.db, Options{})
	p := f.pairs[0]
	vec := f.embed(t, "something")[0]
	// Same-instant rows (one statement) test the tie on created_at.
	if _, err := f.db.Exec(`INSERT INTO memories (personality_id, user_id, content, model, embedding, signature)
		SELECT $1, $2, 'memory ' || i, $3, $4, $5 FROM generate_series(1, 12) i`,
		p.personality, p.user, testModel, encodeVector(vec), encodeSignature(signature(vec))); err != nil {
		t.Fatal(err)
	}
	for i := range 13 {
		f.remember(t, idx, p, fmt.Sprint("later memory ", i))
	}
	f.remember(t, idx, f.pairs[1], "not alice's")

	var seen []Memory
	page := Page{Size: 10}
	for pages := 0; ; pages++ {
		got, err := idx.List(ctx, p.personality, p.user, page)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, got.Memories...)
		if got.Next == "" {
			if pages != 2 || len(got.Memories) != 5 {
				t.Errorf("last page %d has %d memories, want the third with 5", pages, len(got.Memories))
			}
			break
		}
		if len(got.Next) >= 60 {
			t.Errorf("cursor %q is too long for a button", got.Next)
		}
		page.After = got.Next
	}
	ids := map[uuid.UUID]bool{}
	for i, m := range seen {
		if ids[m.ID] || m.UserID != p.user || m.Content == "not alice's" {
			t.Errorf("memory %d %q repeated or not alice's", i, m.Content)
		}
		ids[m.ID] = true
		if i > 0 && m.CreatedAt.After(seen[i-1].CreatedAt) {
			t.Errorf("memory %d is newer than the one before", i)
		}
	}
	if len(seen) != 25 || seen[0].Content != "later memory 12" {
		t.Errorf("listed %d memories, newest %q; want 25, newest \"later memory 12\"", len(seen), seen[0].Content)
	}
	if _, err := idx.List(ctx, p.personality, p.user, Page{Size: 10, After: "nonsense"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
}

// What cannot be stored or searched is refused with ErrInvalid before the
// database is asked.
func TestInvalidInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1, 1)
	idx := NewPostgres(f.db, Options{})
	p := f.pairs[0]
	nan := []float32{1, float32(math.NaN())}
	for _, m := range []Memory{
		{PersonalityID: p.personality, UserID: p.user, Content: " ", Model: testModel, Embedding: []float32{1}},
		{PersonalityID: p.personality, UserID: p.user, Content: "x", Embedding: []float32{1}},
		{PersonalityID: p.personality, UserID: p.user, Content: "x", Model: testModel},
		{PersonalityID: p.personality, UserID: p.user, Content: "x", Model: testModel, Embedding: nan},
	} {
		if _, err := idx.Add(ctx, m); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add(%+v) = %v, want ErrInvalid", m, err)
		}
	}
	for _, q := range []Query{
		{PersonalityID: p.personality, UserID: p.user, Model: testModel, Vector: []float32{1}, Limit: 0},
		{PersonalityID: p.personality, UserID: p.user, Model: testModel, Vector: []float32{1}, Limit: MaxLimit + 1},
		{PersonalityID: p.personality, UserID: p.user, Vector: []float32{1}, Limit: 1},
		{PersonalityID: p.personality, UserID: p.user, Model: testModel, Vector: nan, Limit: 1},
	} {
		if _, err := idx.Search(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("Search(%+v) = %v, want ErrInvalid", q, err)
		}
	}
	if _, err := idx.List(ctx, p.personality, p.user, Page{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("List with size 0: %v", err)
	}
}

// Every statement the Index sends is served by an index, on a table of
// 100,000 rows of other pairs: no sequential scan, and none reads more rows
// than the pair has (the first search reads all of its signatures, once).
// Without the pair's statistics (migration 0019) a page is planned as a
// read of the whole pair.
func TestQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1, 1)
	p := f.pairs[0]
	const pairRows = 500
	bulkLoad(t, f.db, p, pairRows, 100_000, 64)
	db, rec := testdb.RecordingDB(t, f.url)
	idx := NewPostgres(db, Options{})
	v := RandomVector(rand.New(rand.NewPCG(3, 3)), 64)

	rec.Start()
	m, err := idx.Add(ctx, Memory{PersonalityID: p.personality, UserID: p.user, Content: "x", Model: testModel, Embedding: v})
	if err != nil {
		t.Fatal(err)
	}
	q := Query{PersonalityID: p.personality, UserID: p.user, Model: testModel, Vector: v, Limit: 5, MinScore: -1}
	for range 2 { // the first search loads the pair; the second tops it up
		if _, err := idx.Search(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	first, err := idx.List(ctx, p.personality, p.user, Page{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idx.List(ctx, p.personality, p.user, Page{Size: 10, After: first.Next}); err != nil {
		t.Fatal(err)
	}
	reads := rec.Stop()
	if len(reads) != 7 {
		t.Fatalf("recorded %d statements, want 7 (add, 2×(signatures, candidates), 2 pages)", len(reads))
	}
	// The reads are explained (and run again) while the pair is whole.
	if bad := unindexed(t, f.db, reads, pairRows); len(bad) > 0 {
		t.Error(strings.Join(bad, "\n"))
	}

	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `DROP STATISTICS memories_pair; ANALYZE memories`); err != nil {
		t.Fatal(err)
	}
	bad := unindexed(t, tx, reads[5:], pairRows)
	_ = tx.Rollback()
	if len(bad) == 0 {
		t.Error("without the statistics of migration 0019 the pages are still bounded: the check cannot see it, or they are not needed")
	}

	rec.Start()
	if _, err := idx.Forget(ctx, p.user, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := idx.ForgetAll(ctx, p.personality, p.user); err != nil {
		t.Fatal(err)
	}
	if bad := unindexed(t, f.db, rec.Stop(), pairRows); len(bad) > 0 {
		t.Error(strings.Join(bad, "\n"))
	}
}

// unindexed explains each statement and lists those that use no index or
// not the one they should, or read more rows than they need: only the
// first read of a pair's signatures reads the whole pair (pairRows);
// everything else a page, the candidates, or what is new.
func unindexed(t *testing.T, q testdb.Querier, stmts []testdb.Statement, pairRows int) []string {
	t.Helper()
	var out []string
	loads := 0
	for _, st := range stmts {
		plan, err := testdb.Explain(context.Background(), q, st)
		if err != nil {
			t.Fatal(err)
		}
		used := testdb.Indexes(plan)
		if testing.Verbose() {
			t.Logf("%s\n    indexes: %v", st.SQL, used)
		}
		sql := strings.TrimSpace(st.SQL)
		bound, want := 100.0, "memory_personality_id_user_id_created_at_id"
		switch {
		case strings.HasPrefix(sql, "INSERT"):
			want = ""
		case strings.Contains(sql, "id = ANY(") || strings.Contains(sql, "WHERE id = $1"):
			want = "memories_pkey"
		case strings.Contains(sql, "signature FROM"):
			if loads++; loads == 1 {
				bound = float64(pairRows + 10)
			}
			if slices.Contains(used, "memory_user_id_created_at") {
				want = "memory_user_id_created_at" // see below
			}
		case strings.HasPrefix(sql, "DELETE") && slices.Contains(used, "memory_user_id_created_at"):
			// Here the pair's user has memories with no other personality,
			// so the user's index (user, created_at; migration 0021, for
			// /data) reads exactly the pair's rows and the planner may take
			// it; the bound still holds the statement to them.
			want = "memory_user_id_created_at"
		}
		// Deletes are planned, not run (testdb.Explain): their plan
		// still names the index they go through.
		if bad := testdb.Unbounded(plan, bound); len(bad) > 0 || (want != "" && !slices.Contains(used, want)) {
			out = append(out, fmt.Sprintf("%s\n    indexes %v, want %q; unbounded: %v", st.SQL, used, want, bad))
		}
	}
	return out
}

// Searches, additions and deletions of several pairs at once, with a mirror
// too small for all of them (so pairs are evicted under use), each find
// what their own pair holds and nothing of the others (run with -race).
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2, 2)
	idx := NewPostgres(f.db, Options{MirrorBytes: 3 * (8*24 + entryOverhead)})
	texts := make([]string, 8)
	for w := range texts {
		texts[w] = fmt.Sprintf("worker %d remembers the lighthouse", w)
	}
	vectors := f.embed(t, texts...) // here: t.Fatal only on the test's goroutine
	var wg sync.WaitGroup
	for w := range texts {
		wg.Go(func() {
			p, text, v := f.pairs[w%len(f.pairs)], texts[w], vectors[w]
			m, err := idx.Add(ctx, Memory{PersonalityID: p.personality, UserID: p.user, Content: text, Model: testModel, Embedding: v})
			if err != nil {
				t.Error(err)
				return
			}
			for range 5 {
				got, err := idx.Search(ctx, Query{PersonalityID: p.personality, UserID: p.user, Model: testModel, Vector: v, Limit: 10, MinScore: -1})
				if err != nil {
					t.Error(err)
					return
				}
				if !slices.ContainsFunc(got, func(s Scored) bool { return s.ID == m.ID }) {
					t.Errorf("worker %d does not find its own memory", w)
				}
				for _, s := range got {
					if s.PersonalityID != p.personality || s.UserID != p.user {
						t.Errorf("worker %d found %q of another pair", w, s.Content)
					}
				}
			}
			if ok, err := idx.Forget(ctx, p.user, m.ID); err != nil || !ok {
				t.Errorf("forget: %v %v", ok, err)
			}
		})
	}
	wg.Wait()
}

// Excluded memories are never returned, and their places go to the next
// nearest: with limit 2 and the two nearest excluded, the third is found.
func TestSearchExcludes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1, 1)
	p := f.pairs[0]
	idx := NewPostgres(f.db, Options{})
	near1 := f.remember(t, idx, p, "tell me about topic number 29, like weather and trains")
	near2 := f.remember(t, idx, p, "tell me about topic number 30, like weather and trains")
	cat := f.remember(t, idx, p, "my cat is called Pixel")
	q := Query{PersonalityID: p.personality, UserID: p.user, Model: testModel,
		Vector: f.embed(t, "topic number 30, weather and trains, and my cat")[0], Limit: 2, MinScore: -1}
	got, err := idx.Search(ctx, q)
	if err != nil || len(got) != 2 || got[0].ID == cat.ID {
		t.Fatalf("without exclusion: %v, %v; want the two topics first", got, err)
	}
	q.Exclude = []uuid.UUID{near1.ID, near2.ID}
	got, err = idx.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != cat.ID {
		t.Errorf("with the topics excluded the search found %v, want only the cat", got)
	}
	q.Exclude = make([]uuid.UUID, MaxExclude+1)
	if _, err := idx.Search(ctx, q); !errors.Is(err, ErrInvalid) {
		t.Errorf("a search excluding %d memories: %v, want ErrInvalid", len(q.Exclude), err)
	}
}
