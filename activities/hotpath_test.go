//go:build integration

package activities_test

import (
	"context"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/testdb"
)

// The reply path's work done once: the statements each activity sends,
// recorded by the driver.

// recordingFixture is newFixture on a pool whose statements rec records.
func recordingFixture(t *testing.T, guest config.GuestMode, model string) (*fixture, *testdb.Recorder) {
	t.Helper()
	sqlDB, rec := testdb.RecordingDB(t, testdb.URL(t))
	db := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, sqlDB)))
	return newFixtureOn(t, guest, model, db, sqlDB), rec
}

// reading counts the statements that read table (FROM or JOIN "table").
func reading(stmts []testdb.Statement, table string) (n int) {
	for _, st := range stmts {
		if strings.Contains(st.SQL, `FROM "`+table+`"`) || strings.Contains(st.SQL, `JOIN "`+table+`"`) {
			n++
		}
	}
	return n
}

// ResolvePersonality reads the personality's row once, in the lookup by
// name; its voice settings are read only when its voice is on.
func TestResolvePersonalityReadsThePersonalityOnce(t *testing.T) {
	f, rec := recordingFixture(t, config.GuestAll, "openrouter/free")
	resolve := func() activities.PersonalityRef {
		t.Helper()
		rec.Start()
		v, err := f.env.ExecuteActivity(f.acts.ResolvePersonality, activities.ResolvePersonalityInput{Ref: "@kerach", DiscordUserID: aliceID})
		if err != nil {
			t.Fatal(err)
		}
		var p activities.PersonalityRef
		if err := v.Get(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := resolve()
	stmts := rec.Stop()
	if n := reading(stmts, "personalities"); n != 1 || p.ID != f.kerach || p.Voice != nil {
		t.Errorf("voice off: %d reads of personalities (want 1), ref %+v", n, p)
	}
	if n := reading(stmts, "voice_configs"); n != 0 {
		t.Errorf("voice off: %d reads of voice_configs; want none", n)
	}

	ctx := context.Background()
	f.db.Personality.UpdateOneID(f.kerach).SetVoiceEnabled(true).ExecX(ctx)
	f.db.VoiceConfig.Create().SetPersonalityID(f.kerach).SetVoiceID("v1").SetFrequency(0.5).ExecX(ctx)
	p = resolve()
	stmts = rec.Stop()
	if n := reading(stmts, "personalities"); n != 1 || p.Voice == nil || p.Voice.Frequency != 0.5 {
		t.Errorf("voice on: %d reads of personalities (want 1), voice %+v (want frequency 0.5)", n, p.Voice)
	}
	if n := reading(stmts, "voice_configs"); n != 1 {
		t.Errorf("voice on: %d reads of voice_configs; want 1", n)
	}
}

// Recall uses what Generate already read: the user's row (its incognito
// flag) and the key it resolved; it reads neither again, and the usage rows
// are written with the row's id without a look-up of their own.
func TestRecallReusesGeneratesUserAndKey(t *testing.T) {
	for _, incognito := range []bool{false, true} {
		f, rec := recordingFixture(t, config.GuestAll, "openrouter/free")
		f.acts.Memory = memory.NewPostgres(f.acts.SQL, memory.Options{})
		f.acts.EmbeddingModel = "openai/text-embedding-3-small"
		// A row without a key: the operator's key pays for the reply and the
		// embedding.
		f.db.User.Create().SetDiscordID(aliceID).SetIncognito(incognito).ExecX(context.Background())
		rec.Start()
		out, err := f.generate(t)
		stmts := rec.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if out.Remember == incognito {
			t.Errorf("incognito %v: Remember = %v", incognito, out.Remember)
		}
		if n := reading(stmts, "user_api_keys"); n != 1 {
			t.Errorf("incognito %v: %d reads of user_api_keys; want 1 (Generate's resolveKey)", incognito, n)
		}
		for _, st := range stmts {
			// The flag read again, or the row looked up again for a usage
			// row (store.UpsertUser) though Generate has its id.
			if strings.HasPrefix(st.SQL, `SELECT "users"."incognito"`) || strings.Contains(st.SQL, "INSERT INTO users") {
				t.Errorf("incognito %v: the user's row read again: %s", incognito, st.SQL)
			}
		}
		if calls := f.or.CallsFor(operatorKey); len(calls) != 2 {
			t.Errorf("incognito %v: %d calls on the operator's key; want the embedding and the reply", incognito, len(calls))
		}
	}
}
