//go:build integration

package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
	"github.com/tzurot/tzurot/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type dbWorld struct {
	db                       *ent.Client
	alice, bob, carol, super access.Speaker
	byName                   map[string]*ent.Personality
}

func newDBWorld(t *testing.T) *dbWorld {
	db, _ := testdb.Client(t)
	ctx := context.Background()
	w := &dbWorld{db: db, byName: map[string]*ent.Personality{}}
	speaker := func(discordID string, super bool) access.Speaker {
		db.User.Create().SetDiscordID(discordID).SetUsername("u" + discordID).SetIsSuperuser(super).ExecX(ctx)
		s, err := access.Load(ctx, db, discordID, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	w.alice, w.bob, w.carol, w.super = speaker("1", false), speaker("2", false), speaker("3", false), speaker("4", true)
	mk := func(name, display string, owner access.Speaker, public bool, aliases ...string) {
		c := db.Personality.Create().SetName(name).SetDisplayName(display).SetIsPublic(public)
		if owner.UserID != uuid.Nil {
			c.SetOwnerID(owner.UserID)
		}
		p := c.SaveX(ctx)
		for _, a := range aliases {
			db.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias(a).ExecX(ctx)
		}
		w.byName[name] = p
	}
	// The shared fixtures' shape, and private and shared names.
	mk("morrow-ash-45", "Morrow Ash", access.Speaker{}, true)
	mk("morrow-ash-18", "Morrow Ash", access.Speaker{}, true, "morrow ash")
	mk("alice-lilith", "Lilith", w.alice, true)
	mk("lilith", "Carol's", w.carol, false, "Nyx")
	mk("sable", "Sable", w.bob, true)
	mk("twin-a", "Twin", w.alice, true)
	mk("twin-c", "Twin", w.carol, false)
	mk("twin-b", "Twin", w.bob, true)
	return w
}

// Resolve (what /personality, /config and the workflow use) and the
// mention index as messages use it (Index.Mentions, what the bot routes by)
// agree on every name for every speaker, whatever follows the name in the
// message: the one rule. The world is first offered, through Clash and Unfit
// as /personality offers them, texts that would make a mention of one
// name reach another owner's personality; so a hole in Clash shows here as
// a disagreement.
func TestResolveAgreesWithMentions(t *testing.T) {
	w := newDBWorld(t)
	ctx := context.Background()
	bobs, alices := w.byName["sable"], w.byName["alice-lilith"]
	for _, tc := range []struct {
		kind access.Kind
		text string
		self *ent.Personality
	}{
		{access.ByDisplayName, "Lilith", bobs}, {access.ByDisplayName, "twin", bobs}, {access.ByDisplayName, "Morrow Ash", bobs},
		{access.ByAlias, "Lilith please", bobs}, {access.ByAlias, "Lilith,", bobs}, {access.ByAlias, "lilith!", bobs},
		{access.ByAlias, "Twin Peaks", bobs}, {access.ByAlias, "morrow", bobs}, {access.ByAlias, "Morrow Ash hi", bobs},
		{access.ByAlias, "Carol", bobs}, {access.ByAlias, "nyx please", alices}, {access.ByDisplayName, "Sable, hi", alices},
	} {
		if take(t, w.db, tc.kind, tc.text, tc.self) {
			t.Errorf("%s took the %s %q", tc.self.Name, tc.kind, tc.text)
		}
	}
	all := w.db.Personality.Query().WithAliases().AllX(ctx)
	idx := access.NewIndex(all)
	refs := []string{"morrow ash", "@Morrow Ash", "morrow-ash-45", "Lilith", "lilith", "NYX", "Carol's", "twin", "sable", "Twin", "nobody", "everyone"}
	tails := []string{"", " hi", ", hi", " please help", "! look", ": hi", " hi @nobody"}
	stranger := access.Speaker{DiscordID: "99"}
	operator := access.Speaker{DiscordID: "98", Operator: true}
	for _, s := range []access.Speaker{w.alice, w.bob, w.carol, w.super, stranger, operator} {
		for _, ref := range refs {
			m, err := access.Resolve(ctx, w.db, s, ref)
			if err != nil && !errors.Is(err, access.ErrNotFound) {
				t.Fatalf("speaker %s, %q: %v", s.DiscordID, ref, err)
			}
			for _, tail := range tails {
				msg := "@" + access.Normalize(ref) + tail
				got := idx.Mentions(s, msg, 5)
				switch {
				case err != nil && len(got) != 0:
					t.Errorf("speaker %s: %q reaches %s, but Resolve(%q) finds nothing", s.DiscordID, msg, got[0].Name, ref)
				case err == nil && (len(got) != 1 || got[0].ID != m.Personality.ID):
					t.Errorf("speaker %s: %q reaches %v, but Resolve(%q) is %s", s.DiscordID, msg, names(got), ref, m.Personality.Name)
				}
			}
		}
	}
	// And the values themselves.
	want := []struct {
		s    access.Speaker
		ref  string
		name string // "" for not found
	}{
		{stranger, "@Morrow Ash", "morrow-ash-18"},
		{stranger, "lilith", "alice-lilith"}, // the private name does not exist for a stranger
		{w.carol, "lilith", "lilith"},
		{w.super, "lilith", "lilith"},
		{operator, "Nyx", "lilith"},
		{w.bob, "nyx", ""},
		{w.bob, w.byName["lilith"].ID.String(), ""},
		{w.bob, "twin", "twin-b"},
		{w.carol, "twin", "twin-c"},
		{stranger, "twin", "twin-a"},
		{stranger, "everyone", ""},
	}
	for _, tc := range want {
		m, err := access.Resolve(ctx, w.db, tc.s, tc.ref)
		got := ""
		if err == nil {
			got = m.Personality.Name
		}
		if got != tc.name {
			t.Errorf("speaker %s, %q: %q, want %q", tc.s.DiscordID, tc.ref, got, tc.name)
		}
	}
}

func TestClash(t *testing.T) {
	w := newDBWorld(t)
	ctx := context.Background()
	bobs := w.byName["sable"]
	cases := []struct {
		kind  access.Kind
		term  string
		owner access.Speaker
		self  uuid.UUID
		clash string // "" for free
	}{
		{access.ByAlias, "LILITH", w.bob, bobs.ID, "alice-lilith"},                 // another owner's display name, any case
		{access.ByAlias, "LILITH", w.alice, w.byName["alice-lilith"].ID, "lilith"}, // a private name (the caller does not name it)
		{access.ByAlias, "Carol's", w.bob, bobs.ID, "lilith"},
		{access.ByAlias, "nyx", w.bob, bobs.ID, "lilith"},
		{access.ByAlias, "Morrow Ash", w.bob, bobs.ID, "morrow-ash-45"}, // the oldest display name first
		{access.ByAlias, "twin", w.bob, bobs.ID, "twin-a"},              // another owner's display name
		{access.ByAlias, "Sable", w.bob, bobs.ID, ""},                   // its own display name
		{access.ByAlias, "Nightshade", w.bob, bobs.ID, ""},
		{access.ByName, "alice-lilith", w.bob, uuid.Nil, "alice-lilith"},
		{access.ByName, "twin", w.alice, uuid.Nil, "twin-c"}, // Bob's and Carol's display names; the oldest first
		{access.ByName, "nyx", w.carol, uuid.Nil, "lilith"},  // an alias, even one's own
		{access.ByDisplayName, "Sable", w.alice, uuid.Nil, "sable"},
		{access.ByDisplayName, "Nyx", w.bob, uuid.Nil, "lilith"},
		{access.ByDisplayName, "Nyx", w.carol, uuid.Nil, ""},        // one's own alias
		{access.ByDisplayName, "Twin", w.bob, uuid.Nil, "twin-a"},   // not with another owner's
		{access.ByDisplayName, "Twin", w.alice, uuid.Nil, "twin-c"}, // her own twin-a may be shared; Carol's not
		{access.ByDisplayName, "Morrow Ash", w.bob, uuid.Nil, "morrow-ash-45"},
		{access.ByDisplayName, "Morrow Ash", access.Speaker{}, uuid.Nil, ""}, // system ones share it, and the alias
		// Word-boundary prefixes, both ways, of another owner's texts.
		{access.ByAlias, "Lilith,", w.bob, bobs.ID, "alice-lilith"},
		{access.ByAlias, "lilith please", w.bob, bobs.ID, "alice-lilith"}, // and Carol's name lilith: the oldest is named
		{access.ByAlias, "Morrow", w.bob, bobs.ID, "morrow-ash-45"},
		{access.ByAlias, "Carol", w.bob, bobs.ID, "lilith"}, // Carol's display name Carol's
		{access.ByName, "twin-peaks", w.bob, uuid.Nil, ""},  // - goes on within the word
		{access.ByAlias, "Twin Peaks", w.bob, bobs.ID, "twin-a"},
		{access.ByAlias, "Sable Nights", w.bob, bobs.ID, ""}, // its own name
		{access.ByAlias, "Morrow", access.Speaker{}, uuid.Nil, ""},
	}
	for _, tc := range cases {
		var owner *uuid.UUID
		if tc.owner.UserID != uuid.Nil {
			owner = &tc.owner.UserID
		}
		p, err := access.Clash(ctx, w.db, tc.kind, tc.term, owner, tc.self)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if p != nil {
			got = p.Name
		}
		if got != tc.clash {
			t.Errorf("%s %q for %s: clash %q, want %q", tc.kind, tc.term, tc.owner.DiscordID, got, tc.clash)
		}
	}
}
