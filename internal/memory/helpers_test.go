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

// bulkLoad is BulkLoad of n memories of p in 100 random topics of dims
// dimensions among others rows of other pairs.
func bulkLoad(tb testing.TB, db *sql.DB, p pair, n, others, dims int) {
	tb.Helper()
	err := BulkLoad(context.Background(), db, Load{PersonalityID: p.personality, UserID: p.user, Model: testModel,
		N: n, Topics: RandomTopics(rand.New(rand.NewPCG(1, 1)), 100, dims), Others: others, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
}
