//go:build integration

package activities_test

import (
	"context"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/conversationhistory"
	"github.com/tzurot/tzurot/internal/config"
)

// A killed worker's DeleteUserRows, run again with the count it
// heartbeated, clears what is left in batches, heartbeating after each, and
// reports the whole count; a run after that clears nothing; nobody else's
// rows are touched.
func TestDeleteUserRowsResumesInBatches(t *testing.T) {
	f := newFixture(t, config.GuestFree, "m")
	ctx := context.Background()
	alice := f.db.User.Create().SetDiscordID(aliceID).SaveX(ctx)
	bob := f.db.User.Create().SetDiscordID("222222222222222222").SaveX(ctx)
	left := 2*activities.UserDataBatch + 100
	if _, err := f.acts.SQL.ExecContext(ctx, `INSERT INTO conversation_history (id, created_at, channel_id, personality_id, user_id, role, content)
		SELECT gen_random_uuid(), now(), $1, $2, $3, 'user', 'turn ' || i FROM generate_series(1, $4) i`,
		channelID, f.kerach, alice.ID, left); err != nil {
		t.Fatal(err)
	}
	f.db.ConversationHistory.Create().SetChannelID(channelID).SetPersonalityID(f.kerach).SetUserID(bob.ID).
		SetRole("user").SetContent("bob's").ExecX(ctx)

	const before = 300 // what the killed attempt had cleared and heartbeated
	f.env.SetHeartbeatDetails(before)
	var beats []int
	f.env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) {
		var n int
		if err := d.Get(&n); err != nil {
			t.Error(err)
		}
		beats = append(beats, n)
	})
	in := activities.DeleteUserRowsInput{DiscordUserID: aliceID, Table: "conversation_history"}
	v, err := f.env.ExecuteActivity(f.acts.DeleteUserRows, in)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := v.Get(&n); err != nil || n != before+left {
		t.Fatalf("cleared %d (%v), want %d", n, err, before+left)
	}
	// The SDK throttles heartbeats: the first batch's is always sent.
	if len(beats) == 0 || beats[0] != before+activities.UserDataBatch {
		t.Errorf("heartbeats %v, want the count so far after the first batch", beats)
	}
	if rest := f.db.ConversationHistory.Query().Where(conversationhistory.UserID(alice.ID)).CountX(ctx); rest != 0 {
		t.Fatalf("%d of alice's turns left", rest)
	}
	if f.db.ConversationHistory.Query().Where(conversationhistory.UserID(bob.ID)).CountX(ctx) != 1 {
		t.Fatal("bob's turn went too")
	}

	f.env.SetHeartbeatDetails(nil)
	if v, err = f.env.ExecuteActivity(f.acts.DeleteUserRows, in); err != nil || v.Get(&n) != nil || n != 0 {
		t.Fatalf("second run cleared %d (%v), want 0", n, err)
	}
	_, err = f.env.ExecuteActivity(f.acts.DeleteUserRows, activities.DeleteUserRowsInput{DiscordUserID: aliceID, Table: "personalities"})
	if errType(err) != activities.ErrBadInput {
		t.Fatalf("an unknown table: %v, want %s", err, activities.ErrBadInput)
	}
}
