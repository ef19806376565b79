//go:build integration

package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/internal/testdb"
)

// Autocomplete's statements (Suggest, AliasesLike) are served by indexes on
// 20,000 personalities and aliases: no sequential scan, no node reading more
// than 1,000 rows, whatever is typed; and each answer holds at most the
// limit: the matches that start with what is typed first; for nothing
// typed, the speaker's own first.
func TestSuggestIsServedByIndexes(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t)
	admin, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	for _, q := range []string{
		`INSERT INTO personalities (name, display_name) SELECT 'load-' || i, 'Load ' || i FROM generate_series(0, 19999) i`,
		`INSERT INTO personality_aliases (personality_id, alias) SELECT id, 'alias-of-' || name FROM personalities`,
		`INSERT INTO personalities (name, display_name) VALUES ('cold-kerach', 'Kerach')`,
		`ANALYZE`,
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	pool, rec := testdb.RecordingDB(t, url)
	s := store.New(ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, pool))))
	owner, err := s.UpsertUser(ctx, alice, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, `INSERT INTO personalities (name, owner_id, is_public) VALUES ('zz-own', $1, false)`, owner); err != nil {
		t.Fatal(err)
	}
	sp, _ := s.Speaker(ctx, alice, "")

	for _, c := range []struct {
		typed string
		first string // the first suggestion's name
	}{
		{"", "zz-own"}, {"k", "cold-kerach"}, {"co", "cold-kerach"}, {"kerach", "cold-kerach"},
		{"load-1234", "load-1234"}, {"alias-of-load-77", "load-77"}, {"of-load-1999", "load-1999"},
	} {
		rec.Start()
		ps, err := s.Suggest(ctx, sp, c.typed, 25)
		stmts := rec.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 || len(ps) > 25 || ps[0].Name != c.first {
			t.Errorf("Suggest(%q): %d suggestions, first %v; want at most 25, first %s", c.typed, len(ps), names(ps), c.first)
		}
		for _, st := range stmts {
			plan, err := testdb.Explain(ctx, admin, st)
			if err != nil {
				t.Fatal(err)
			}
			if bad := testdb.Unbounded(plan, 1000); len(bad) > 0 {
				t.Errorf("Suggest(%q): %s\n    %s", c.typed, st.SQL, strings.Join(bad, "\n    "))
			}
		}
	}
}

func names(ps []*ent.Personality) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return fmt.Sprint(out)
}
