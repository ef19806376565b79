//go:build integration

package userexport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/internal/testdb"
	"github.com/tzurot/tzurot/internal/userexport"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// An export longer than a page holds every row once, oldest first, as one
// valid JSON document; a user with no row gets the same shape, empty.
func TestWriteAcrossPages(t *testing.T) {
	db, sqlDB := testdb.Client(t)
	ctx := context.Background()
	st := store.New(db)
	p := db.Personality.Create().SetName("kerach").SaveX(ctx)
	uid, err := st.UpsertUser(ctx, "111111111111111111", "alice")
	if err != nil {
		t.Fatal(err)
	}
	const n = 1234 // two full pages and a part
	if _, err := sqlDB.ExecContext(ctx, `INSERT INTO conversation_history (id, created_at, channel_id, personality_id, user_id, role, content)
		SELECT gen_random_uuid(), now() - make_interval(secs => $4 - i), '900000000000000001', $1, $2, 'user', 'turn ' || i
		FROM generate_series(1, $3) i`, p.ID, uid, n, n); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	counts, err := userexport.Write(ctx, st, "111111111111111111", time.Now(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format  string                     `json:"format"`
		Profile *userexport.Profile        `json:"profile"`
		Turns   []struct{ Content string } `json:"conversation_turns"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if counts["conversation_turns"] != n || len(doc.Turns) != n || doc.Format != userexport.Format || doc.Profile == nil || doc.Profile.Username != "alice" {
		t.Fatalf("counts %v, %d turns, format %q, profile %+v", counts, len(doc.Turns), doc.Format, doc.Profile)
	}
	if doc.Turns[0].Content != "turn 1" || doc.Turns[n-1].Content != "turn 1234" {
		t.Errorf("turns run from %q to %q, want oldest first", doc.Turns[0].Content, doc.Turns[n-1].Content)
	}

	buf.Reset()
	counts, err = userexport.Write(ctx, st, "222222222222222222", time.Now(), &buf)
	if err != nil || counts.Total() != 0 {
		t.Fatalf("a stranger's export: %v %v", counts, err)
	}
	var empty map[string]any
	if err := json.Unmarshal(buf.Bytes(), &empty); err != nil || empty["profile"] != nil || len(empty) != 4+len(store.ExportSections) {
		t.Fatalf("a stranger's export %s (%v)", buf.String(), err)
	}
}
