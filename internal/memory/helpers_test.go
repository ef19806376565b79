//go:build integration

package memory

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	fake "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const (
	testModel = "openai/text-embedding-3-small"
	testKey   = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// fixture is a migrated database with personalities and users to own
// memories, and an embedder: the OpenRouter client against the stand-in.
type fixture struct {
	db    *sql.DB
	url   string
	or    *openrouter.Client
	pairs []pair
}

type pair struct{ personality, user uuid.UUID }

// newFixture makes a database with personalities×users pairs, every
// combination, pairs[i*users+j] being personality i and user j.
func newFixture(tb testing.TB, personalities, users int) *fixture {
	tb.Helper()
	f := &fixture{url: testdb.URL(tb)}
	var err error
	if f.db, err = sql.Open("postgres", f.url); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.db.Close() })
	srv := fake.New(fake.Options{})
	srv.AddKey(testKey, fake.Key{})
	hs := httptest.NewServer(srv)
	tb.Cleanup(hs.Close)
	f.or = openrouter.New(openrouter.Options{BaseURL: hs.URL + "/api/v1"})

	var ps, us []uuid.UUID
	for i := range personalities {
		ps = append(ps, f.insertID(tb, `INSERT INTO personalities (name) VALUES ($1) RETURNING id`, fmt.Sprint("memory-test-", i)))
	}
	for j := range users {
		us = append(us, f.insertID(tb, `INSERT INTO users (discord_id) VALUES ($1) RETURNING id`, fmt.Sprint(100000000000000000+j)))
	}
	for _, p := range ps {
		for _, u := range us {
			f.pairs = append(f.pairs, pair{p, u})
		}
	}
	return f
}

func (f *fixture) insertID(tb testing.TB, q string, arg any) uuid.UUID {
	tb.Helper()
	var id uuid.UUID
	if err := f.db.QueryRow(q, arg).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

// embed embeds texts through the client and the stand-in.
func (f *fixture) embed(tb testing.TB, texts ...string) [][]float32 {
	tb.Helper()
	e, err := f.or.Embed(context.Background(), testKey, testModel, texts)
	if err != nil {
		tb.Fatal(err)
	}
	return e.Vectors
}

// remember stores text as p's memory, embedded by the stand-in.
func (f *fixture) remember(tb testing.TB, idx Index, p pair, text string) Memory {
	tb.Helper()
	m, err := idx.Add(context.Background(), Memory{PersonalityID: p.personality, UserID: p.user,
		Content: text, Model: testModel, Embedding: f.embed(tb, text)[0]})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// randomVector is a vector of dims values uniform in [-1, 1).
func randomVector(r *rand.Rand, dims int) []float32 {
	v := make([]float32, dims)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// topicVector is a vector near one of topics random centres (cosine
// similarity about 0.5 between two of one topic, about 0 across topics),
// as memories cluster around the few things people talk about.
func topicVector(r *rand.Rand, centres [][]float32) []float32 {
	c := centres[r.IntN(len(centres))]
	v := randomVector(r, len(c))
	for i := range v {
		v[i] += c[i]
	}
	return v
}

// bulkLoad fills the table as a busy deployment would hold it: n memories
// of p with dims-dimension embeddings in 100 topics (topicVector, COPY), and others rows of
// 1,000 other pairs (generate_series) whose tiny embeddings are never read,
// shuffled together so p's rows are spread over the table as years of
// interleaved conversations leave them, created over the last year.
// Foreign-key triggers are off (the other pairs' owners do not exist); the
// table is analysed and vacuumed after, as autovacuum would have.
func bulkLoad(tb testing.TB, db *sql.DB, p pair, n, others, dims int) {
	tb.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		tb.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			tb.Fatalf("load: %v\n%s", err, q)
		}
	}
	exec(`SET session_replication_role = replica`)
	exec(`CREATE TEMP TABLE stage (k int, embedding bytea, signature bytea)`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := tx.Prepare(`COPY stage (k, embedding, signature) FROM STDIN`)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	centres := make([][]float32, 100)
	for i := range centres {
		centres[i] = randomVector(r, dims)
	}
	for k := range n {
		v := topicVector(r, centres)
		if _, err := st.Exec(k, encodeVector(v), encodeSignature(signature(v))); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := st.Exec(); err != nil {
		tb.Fatal(err)
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	exec(`INSERT INTO memories (personality_id, user_id, content, model, embedding, signature, created_at)
		SELECT personality_id, user_id, content, $3, embedding, signature, now() - interval '1 second' * (random() * 31536000)
		FROM (
			SELECT $1::uuid AS personality_id, $2::uuid AS user_id, 'loaded memory ' || k AS content, embedding, signature FROM stage
			UNION ALL
			SELECT md5('p' || (i % 1000))::uuid, md5('u' || (i % 1000))::uuid, 'other memory ' || i,
			       decode(md5(i::text), 'hex'), decode(substr(md5(i::text), 1, 16), 'hex')
			FROM generate_series(1, $4::int) i
		) rows ORDER BY random()`, p.personality, p.user, testModel, others)
	exec(`RESET session_replication_role`)
	exec(`VACUUM ANALYZE memories`)
}
