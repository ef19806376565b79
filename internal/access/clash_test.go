//go:build integration

package access_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
	"github.com/tzurot/tzurot/internal/testdb"
)

func names(ps []*ent.Personality) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// take gives self the text as kind when Clash and Unfit let it, as
// /personality create, edit and alias add do, and reports whether it did.
func take(t *testing.T, db *ent.Client, kind access.Kind, text string, self *ent.Personality) bool {
	t.Helper()
	ctx := context.Background()
	held, err := access.Clash(ctx, db, kind, text, self.OwnerID, self.ID)
	if err != nil {
		t.Fatal(err)
	}
	if held != nil || access.Unfit(kind, text) != "" {
		return false
	}
	switch kind {
	case access.ByAlias:
		db.PersonalityAlias.Create().SetPersonalityID(self.ID).SetAlias(text).ExecX(ctx)
	case access.ByDisplayName:
		db.Personality.UpdateOneID(self.ID).SetDisplayName(text).ExecX(ctx)
	case access.ByName:
		db.Personality.UpdateOneID(self.ID).SetName(text).ExecX(ctx)
	}
	return true
}

// Non-ASCII case: Clash (PostgreSQL lower()) and the mention index (Go
// strings.ToLower) agree, so an alias cannot shadow another owner's display
// name by its case.
func TestClashAndMentionsAgreeOnNonASCIICase(t *testing.T) {
	db, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	ash := db.Personality.Create().SetName("alice-ash").SetDisplayName("Élodie").SetOwnerID(alice.ID).SetIsPublic(true).SaveX(ctx)
	evil := db.Personality.Create().SetName("bob-evil").SetDisplayName("Evil").SetOwnerID(bob.ID).SetIsPublic(true).SaveX(ctx)
	if take(t, db, access.ByAlias, "élodie", evil) {
		t.Error("alias élodie for Bob's personality is free, though Alice's display name is Élodie")
	}
	dave := access.Speaker{DiscordID: "9"}
	got := access.NewIndex(db.Personality.Query().WithAliases().AllX(ctx)).Mentions(dave, "@Élodie hi", 5)
	if len(got) != 1 || got[0].ID != ash.ID {
		t.Errorf("@Élodie from a third user reached %v, want %s", names(got), ash.Name)
	}
	m, err := access.Resolve(ctx, db, dave, "Élodie")
	if err != nil || m.Personality.ID != ash.ID {
		t.Errorf("/personality view Élodie: %v (want alice-ash); the mention index says %v", err, names(got))
	}
}

// No edit of a display name takes another owner's: Bob's older personality
// may not become "Lilith" (any case) while Alice's is, since the oldest
// wins among equal display names and every stranger's @Lilith would then
// run Bob's personality on the stranger's key. One owner's personalities
// may still share a display name.
func TestDisplayNameCannotBeTakenFromAnotherOwner(t *testing.T) {
	db, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	bobs := db.Personality.Create().SetName("bob-old").SetDisplayName("Bobby").SetOwnerID(bob.ID).SetIsPublic(true).SaveX(ctx)
	bobsPrivate := db.Personality.Create().SetName("bob-private").SetDisplayName("Hidden").SetOwnerID(bob.ID).SetIsPublic(false).SaveX(ctx)
	alices := db.Personality.Create().SetName("alice-lilith").SetDisplayName("Lilith").SetOwnerID(alice.ID).SetIsPublic(true).SaveX(ctx)
	alices2 := db.Personality.Create().SetName("alice-other").SetDisplayName("Other").SetOwnerID(alice.ID).SetIsPublic(true).SaveX(ctx)
	stranger := access.Speaker{DiscordID: "9"}
	mentions := func() []*ent.Personality {
		return access.NewIndex(db.Personality.Query().WithAliases().AllX(ctx)).Mentions(stranger, "@Lilith hi", 5)
	}
	before := mentions()
	for _, d := range []string{"Lilith", "LILITH", " lilith "} {
		if take(t, db, access.ByDisplayName, d, bobs) {
			t.Errorf("Bob's personality took the display name %q of Alice's", d)
		}
	}
	// Nor the other way: Alice may not take the display name of Bob's
	// private personality (which she cannot see), nor may a new one.
	if take(t, db, access.ByDisplayName, "hidden", alices2) {
		t.Error("Alice's personality took the display name of Bob's private one")
	}
	if held, err := access.Clash(ctx, db, access.ByDisplayName, "Bobby", &alice.ID, uuid.Nil); err != nil || held == nil || held.ID != bobs.ID {
		t.Errorf("a new personality of Alice's displayed Bobby: clash %v, %v; want bob-old", held, err)
	}
	after := mentions()
	if len(before) != 1 || before[0].ID != alices.ID || len(after) != 1 || after[0].ID != alices.ID {
		t.Errorf("a stranger's @Lilith: before Bob's edit %v, after %v; want alice-lilith both times", names(before), names(after))
	}
	// One owner's personalities may share a display name.
	if !take(t, db, access.ByDisplayName, "Lilith", alices2) {
		t.Error("Alice may not display two of her personalities as Lilith")
	}
	if held, err := access.Clash(ctx, db, access.ByDisplayName, "Hidden", &bob.ID, uuid.Nil); err != nil || held != nil {
		t.Errorf("Bob's new personality displayed as his own Hidden: clash %v, %v", held, err)
	}
	_ = bobsPrivate
}

// At each @ the longest text wins, so no name, alias or display name may
// extend another owner's at a word boundary ("Lilith," "Lilith please"), nor
// be what another owner's begins with ("Lilith" under "Lilith Sable"); and a
// name or alias may not end in punctuation. A text that goes on within the
// word ("lilith-lilith") never captures @Lilith and stays free.
func TestLongerTextCannotCaptureAnotherOwnersMentions(t *testing.T) {
	db, alice, bob := aliceAndBob(t)
	ctx := context.Background()
	alices := db.Personality.Create().SetName("alice-lilith").SetDisplayName("Lilith").SetOwnerID(alice.ID).SetIsPublic(true).SaveX(ctx)
	sable := db.Personality.Create().SetName("alice-sable").SetDisplayName("Sable Nights").SetOwnerID(alice.ID).SetIsPublic(true).SaveX(ctx)
	db.PersonalityAlias.Create().SetPersonalityID(sable.ID).SetAlias("Night Owl").ExecX(ctx)
	bobs := db.Personality.Create().SetName("bob-evil").SetDisplayName("Evil").SetOwnerID(bob.ID).SetIsPublic(true).SaveX(ctx)
	bobs2 := db.Personality.Create().SetName("bob-two").SetDisplayName("Two").SetOwnerID(bob.ID).SetIsPublic(true).SaveX(ctx)
	for _, tc := range []struct {
		kind access.Kind
		text string
	}{
		{access.ByAlias, "Lilith,"}, {access.ByAlias, "Lilith please"}, {access.ByAlias, "LILITH: hi"},
		{access.ByDisplayName, "Lilith please"}, {access.ByDisplayName, "Lilith!"},
		{access.ByAlias, "Sable"}, {access.ByDisplayName, "sable"}, {access.ByAlias, "Night"}, // another owner's text begins with it
		{access.ByAlias, "night owl's friend"}, {access.ByAlias, "alice-lilith please"},
	} {
		if take(t, db, tc.kind, tc.text, bobs) {
			t.Errorf("Bob's personality took the %s %q over Alice's texts", tc.kind, tc.text)
		}
	}
	if held, err := access.Clash(ctx, db, access.ByName, "alice", &bob.ID, uuid.Nil); err != nil || held != nil {
		t.Errorf("the name alice (alice-lilith goes on within the word): clash %v, %v", held, err)
	}
	if !take(t, db, access.ByAlias, "lilith-lilith", bobs2) {
		t.Error("lilith-lilith is refused, though @Lilith never reaches it")
	}
	// Alice's own personalities may extend each other's texts.
	if !take(t, db, access.ByAlias, "Lilith Sable", sable) || !take(t, db, access.ByAlias, "Night", alices) {
		t.Error("Alice may not give her personalities texts that extend each other's")
	}
	idx := access.NewIndex(db.Personality.Query().WithAliases().AllX(ctx))
	stranger := access.Speaker{DiscordID: "9"}
	for msg, want := range map[string]*ent.Personality{
		"@Lilith, how are you?": alices, "@Lilith please help": alices, "@Sable Nights hi": sable, "@lilith-lilith": bobs2,
	} {
		got := idx.Mentions(stranger, msg, 5)
		if len(got) != 1 || got[0].ID != want.ID {
			t.Errorf("%q from a stranger reaches %v, want %s", msg, names(got), want.Name)
		}
	}
}

// Unfit refuses, for names and aliases, what a Discord id looks like (all
// digits: <@id> pings a Discord user) and a last character that is
// punctuation; for every kind, the reserved words.
func TestUnfitNamesAndAliases(t *testing.T) {
	for _, tc := range []struct {
		kind  access.Kind
		text  string
		unfit bool
	}{
		{access.ByName, "80351110224678912", true},
		{access.ByAlias, "175928847299117063", true},
		{access.ByAlias, " 42 ", true},
		{access.ByAlias, "@007", true},
		{access.ByDisplayName, "42", false}, // never in <@…>: @42 is typed text
		{access.ByAlias, "Lilith,", true},
		{access.ByAlias, "Kerach!", true},
		{access.ByAlias, "Mx. E.", true},
		{access.ByAlias, "Who?", true},
		{access.ByAlias, "(Nyx)", true},
		{access.ByName, "kerach-", true},
		{access.ByDisplayName, "Who?", false},
		{access.ByAlias, "Here we go", true},
		{access.ByDisplayName, "everyone", true},
		{access.ByName, "k-9", false},
		{access.ByName, "2b", false},
		{access.ByAlias, "Lilith ✨", false},
		{access.ByAlias, "C++", false},
		{access.ByAlias, "Mx. E", false},
	} {
		if got := access.Unfit(tc.kind, tc.text); (got != "") != tc.unfit {
			t.Errorf("Unfit(%s, %q) = %q, want unfit %v", tc.kind, tc.text, got, tc.unfit)
		}
	}
}

// aliceAndBob is a fresh database with two users, alice and bob, to own
// personalities that clash.
func aliceAndBob(t *testing.T) (db *ent.Client, alice, bob *ent.User) {
	t.Helper()
	db, _ = testdb.Client(t)
	ctx := context.Background()
	alice = db.User.Create().SetDiscordID("1").SetUsername("alice").SaveX(ctx)
	bob = db.User.Create().SetDiscordID("2").SetUsername("bob").SaveX(ctx)
	return db, alice, bob
}
