//go:build integration

package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/store"
)

// UpsertUser without a username finds or makes the row and leaves the
// username a reply or /timezone stored.
func TestUpsertUserWithoutUsername(t *testing.T) {
	_, s, ctx := fixture(t)
	id, err := s.UpsertUser(ctx, bob, "")
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := s.User(ctx, bob); u == nil || u.ID != id || u.Username != nil {
		t.Fatalf("a new row without a username: %+v", u)
	}
	if again, err := s.UpsertUser(ctx, bob, "bob"); err != nil || again != id {
		t.Fatalf("UpsertUser(bob) = %s, %v; want %s", again, err, id)
	}
	if again, err := s.UpsertUser(ctx, bob, ""); err != nil || again != id {
		t.Fatalf("UpsertUser(bob, \"\") = %s, %v; want %s", again, err, id)
	}
	if u, _ := s.User(ctx, bob); u.Username == nil || *u.Username != "bob" {
		t.Errorf("username after an upsert without one: %v; want bob kept", u.Username)
	}
}

// A stored key is replaced in place and active again, its deactivated_by
// cleared; DeactivateKey is true for the workflow that switched the key off
// (again on its retry), false for any other; DeactivateKeyIfUnchanged
// leaves a key stored since alone.
func TestKeyLifecycle(t *testing.T) {
	_, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	first := keycrypt.Sealed{IV: "01", Content: "aa", Tag: "0f"}
	if err := s.PutKey(ctx, a, "openrouter", first); err != nil {
		t.Fatal(err)
	}
	k, err := s.Key(ctx, alice, "openrouter")
	if err != nil || !k.IsActive || store.Sealed(k) != first || k.LastUsedAt != nil || k.DeactivatedBy != nil {
		t.Fatalf("Key after PutKey = %+v, %v", k, err)
	}
	if err := s.KeyUsed(ctx, k); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.Key(ctx, alice, "openrouter"); k.LastUsedAt == nil || time.Since(*k.LastUsedAt) > time.Minute {
		t.Errorf("last_used_at after KeyUsed = %v", k.LastUsedAt)
	}

	if off, err := s.DeactivateKey(ctx, alice, "openrouter", "reply/1"); err != nil || !off {
		t.Fatalf("DeactivateKey = %v, %v; want true", off, err)
	}
	if off, err := s.DeactivateKey(ctx, alice, "openrouter", "reply/1"); err != nil || !off {
		t.Errorf("DeactivateKey retried by the same workflow = %v, %v; want true", off, err)
	}
	if off, err := s.DeactivateKey(ctx, alice, "openrouter", "reply/2"); err != nil || off {
		t.Errorf("DeactivateKey by another workflow = %v, %v; want false (reply/1 switched it off)", off, err)
	}
	if off, err := s.DeactivateKey(ctx, carol, "openrouter", "reply/1"); err != nil || off {
		t.Errorf("DeactivateKey(no user) = %v, %v", off, err)
	}
	if k, _ := s.Key(ctx, alice, "openrouter"); k.IsActive || k.DeactivatedBy == nil || *k.DeactivatedBy != "reply/1" {
		t.Errorf("after DeactivateKey: active %v, deactivated_by %v; want off by reply/1", k.IsActive, k.DeactivatedBy)
	}

	second := keycrypt.Sealed{IV: "02", Content: "bb", Tag: "0e"}
	if err := s.PutKey(ctx, a, "openrouter", second); err != nil {
		t.Fatal(err)
	}
	now, err := s.Key(ctx, alice, "openrouter")
	if err != nil || now.ID != k.ID || !now.IsActive || store.Sealed(now) != second || now.DeactivatedBy != nil {
		t.Fatalf("Key after a second PutKey = %+v, %v; want the same row, active, resealed, deactivated_by cleared", now, err)
	}
	if off, err := s.DeactivateKeyIfUnchanged(ctx, k, "reply/3"); err != nil || off {
		t.Errorf("DeactivateKeyIfUnchanged(the old sealing) = %v, %v; want false", off, err)
	}
	if now, _ := s.Key(ctx, alice, "openrouter"); !now.IsActive {
		t.Error("the key stored since was switched off")
	}
	if off, err := s.DeactivateKeyIfUnchanged(ctx, now, "reply/3"); err != nil || !off {
		t.Errorf("DeactivateKeyIfUnchanged(the stored sealing) = %v, %v; want true", off, err)
	}
	if _, err := s.Key(ctx, bob, "openrouter"); !ent.IsNotFound(err) {
		t.Errorf("Key(no key) error = %v; want ent's not found", err)
	}
}

// Two workflows refused with the same key switch it off at the same moment:
// exactly one is told it did, however the UPDATEs interleave, and a retry
// of that one is told so again; storing the key again (as /wallet test
// does) lets the next refusal count afresh.
func TestDeactivateKeyOncePerKey(t *testing.T) {
	_, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	sealed := keycrypt.Sealed{IV: "01", Content: "aa", Tag: "0f"}
	for round := range 3 {
		if err := s.PutKey(ctx, a, "openrouter", sealed); err != nil {
			t.Fatal(err)
		}
		k, err := s.Key(ctx, alice, "openrouter")
		if err != nil {
			t.Fatal(err)
		}
		wfs := []string{fmt.Sprintf("reply/%d/a", round), fmt.Sprintf("reply/%d/b", round)}
		offs := make([]bool, len(wfs))
		errs := make([]error, len(wfs))
		var wg sync.WaitGroup
		for i, wf := range wfs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if round == 2 { // the no-fingerprint path
					offs[i], errs[i] = s.DeactivateKey(ctx, alice, "openrouter", wf)
				} else {
					offs[i], errs[i] = s.DeactivateKeyIfUnchanged(ctx, k, wf)
				}
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || offs[0] == offs[1] {
			t.Fatalf("round %d: two workflows deactivating at once = %v, %v; want exactly one true", round, offs, errs)
		}
		winner := wfs[0]
		if offs[1] {
			winner = wfs[1]
		}
		if off, err := s.DeactivateKeyIfUnchanged(ctx, k, winner); err != nil || !off {
			t.Errorf("round %d: %s retried = %v, %v; want true", round, winner, off, err)
		}
		if off, err := s.DeactivateKey(ctx, alice, "openrouter", winner); err != nil || !off {
			t.Errorf("round %d: %s retried without a fingerprint = %v, %v; want true", round, winner, off, err)
		}
	}
}

// History is the newest turns, oldest first; SaveExchange writes an
// exchange once however often it is repeated.
func TestHistoryAndExchange(t *testing.T) {
	db, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	p := db.Personality.Create().SetName("kerach").SaveX(ctx)
	for i, msg := range []string{"1", "2", "3"} {
		e := store.Exchange{PersonalityID: p.ID, ChannelID: "9", UserID: a,
			UserContent: "q" + msg, UserMessageID: "50" + msg, ReplyContent: "a" + msg, ReplyMessageID: "60" + msg}
		if i == 2 {
			e.GuildID, e.ReplyReasoning = "7", "because"
		}
		for range 2 {
			if err := s.SaveExchange(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := db.ConversationHistory.Query().CountX(ctx); n != 6 {
		t.Fatalf("%d turns stored; want 6 (each exchange once)", n)
	}
	rows, err := s.History(ctx, "9", p.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Role+":"+r.Content)
	}
	if want := "[assistant:a2 user:q3 assistant:a3]"; len(rows) != 3 || fmt.Sprint(got) != want {
		t.Errorf("History(limit 3) = %v; want %s", got, want)
	}
	last := rows[2]
	if last.Reasoning == nil || *last.Reasoning != "because" || last.GuildID == nil || *last.GuildID != "7" || last.UserID != nil {
		t.Errorf("the reply's row: %+v", last)
	}
	if rows[1].UserID == nil || *rows[1].UserID != a {
		t.Errorf("the user's turn has user %v; want %s", rows[1].UserID, a)
	}
	if other, _ := s.History(ctx, "10", p.ID, 3); len(other) != 0 {
		t.Errorf("another channel's history: %v", other)
	}
}

// AddUsage writes a row once per id; the sums see it.
func TestAddUsage(t *testing.T) {
	db, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	id := uuid.New()
	u := store.Usage{ID: id, UserID: a, Provider: "openrouter", Model: "m/one", In: 10, Out: 20, Total: 30, Kind: store.UsageText}
	for i := range 2 {
		written, err := s.AddUsage(ctx, u)
		if err != nil || written != (i == 0) {
			t.Fatalf("write %d: written %v, %v; want the first only", i+1, written, err)
		}
	}
	if _, err := s.AddUsage(ctx, store.Usage{UserID: a, Provider: "elevenlabs", Model: "v", In: 5, Total: 5, Kind: store.UsageVoice}); err != nil {
		t.Fatal(err)
	}
	if n := db.UsageLog.Query().CountX(ctx); n != 2 {
		t.Errorf("%d usage rows; want 2 (the repeated id once)", n)
	}
	if tot, err := s.UsageTotal(ctx, store.UsageFilter{UserID: a, Kind: store.UsageText}); err != nil || tot.Total != 30 || tot.Requests != 1 {
		t.Errorf("text usage = %+v, %v; want one request of 30 tokens", tot, err)
	}
}

// A delivery is begun once, recorded once, found by its key and its
// message, and a message is one delivery's only.
func TestDeliveryRows(t *testing.T) {
	_, s, ctx := fixture(t)
	if d, err := s.Delivery(ctx, "reply/1/reply/0"); err != nil || d != nil {
		t.Fatalf("Delivery(none) = %+v, %v", d, err)
	}
	for _, key := range []string{"reply/1/reply/0", "reply/1/reply/0", "reply/2/reply/0", "reply/3/reply/0"} {
		if err := s.BeginDelivery(ctx, key, "9", nil); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Delivery(ctx, "reply/1/reply/0")
	if err != nil || d == nil || d.DiscordMessageID != "" || d.ChannelID != "9" {
		t.Fatalf("a begun delivery: %+v, %v", d, err)
	}
	if ok, err := s.Posted(ctx, "reply/1/reply/0"); err != nil || ok {
		t.Errorf("Posted(begun) = %v, %v", ok, err)
	}

	if err := s.RecordDelivery(ctx, "reply/1/reply/0", "700"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Posted(ctx, "reply/1/reply/0"); err != nil || !ok {
		t.Errorf("Posted(recorded) = %v, %v", ok, err)
	}
	if key, _, ok, err := s.DeliveryOf(ctx, "700"); err != nil || !ok || key != "reply/1/reply/0" {
		t.Errorf("DeliveryOf(700) = %q, %v, %v", key, ok, err)
	}
	if _, _, ok, err := s.DeliveryOf(ctx, "701"); err != nil || ok {
		t.Errorf("DeliveryOf(not ours) = %v, %v", ok, err)
	}
	// Another delivery cannot record the same message; recording it again
	// under its own key is no change. Pending rows (no message yet) are many.
	if err := s.RecordDelivery(ctx, "reply/2/reply/0", "700"); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("a second delivery recording message 700: %v, want ErrClaimed", err)
	}
	if err := s.RecordDelivery(ctx, "reply/1/reply/0", "700"); err != nil {
		t.Errorf("the same delivery recording 700 again: %v", err)
	}
	if ok, err := s.Posted(ctx, "reply/2/reply/0"); err != nil || ok {
		t.Errorf("Posted(refused) = %v, %v; want still pending", ok, err)
	}
}

// The reply path reads a personality with one kind of settings: the
// model's for a reply, the voice's for speaking.
func TestPersonalityWithSettings(t *testing.T) {
	db, s, ctx := fixture(t)
	p := db.Personality.Create().SetName("kerach").SaveX(ctx)
	if got, err := s.PersonalityWithModel(ctx, p.ID); err != nil || got.Edges.LlmConfig != nil {
		t.Fatalf("without settings: %+v, %v", got, err)
	}
	db.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("x/y").ExecX(ctx)
	db.VoiceConfig.Create().SetPersonalityID(p.ID).SetVoiceID("v1").ExecX(ctx)
	if got, err := s.PersonalityWithModel(ctx, p.ID); err != nil || got.Edges.LlmConfig == nil || got.Edges.LlmConfig.Model != "x/y" {
		t.Errorf("PersonalityWithModel = %+v, %v", got, err)
	}
	if got, err := s.PersonalityWithVoice(ctx, p.ID); err != nil || got.Edges.VoiceConfig == nil || got.Edges.VoiceConfig.VoiceID != "v1" {
		t.Errorf("PersonalityWithVoice = %+v, %v", got, err)
	}
	if _, err := s.PersonalityWithVoice(ctx, uuid.New()); !ent.IsNotFound(err) {
		t.Errorf("a gone personality: %v; want ent's not found", err)
	}
}

// UpsertUser of a user whose row is as asked writes nothing: the row keeps
// its version (xmin), with or without a username; a new username is
// written, and a new user gets a row.
func TestUpsertUserWritesNothingUnchanged(t *testing.T) {
	db, s, ctx := fixture(t)
	version := func() string {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT xmin::text FROM users WHERE discord_id = $1`, bob)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var v string
		if !rows.Next() {
			t.Fatal("no row for bob")
		}
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	id, err := s.UpsertUser(ctx, bob, "bob")
	if err != nil {
		t.Fatal(err)
	}
	before := version()
	for _, name := range []string{"", "bob", ""} {
		if again, err := s.UpsertUser(ctx, bob, name); err != nil || again != id {
			t.Fatalf("UpsertUser(bob, %q) = %s, %v; want %s", name, again, err, id)
		}
	}
	if after := version(); after != before {
		t.Errorf("the row was written again (xmin %s → %s) though nothing changed", before, after)
	}
	if again, err := s.UpsertUser(ctx, bob, "robert"); err != nil || again != id {
		t.Fatalf("UpsertUser(bob, robert) = %s, %v; want %s", again, err, id)
	}
	if u, _ := s.User(ctx, bob); u.Username == nil || *u.Username != "robert" || version() == before {
		t.Errorf("a new username was not written: %v", u.Username)
	}
}
