package access

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// persona builds an in-memory personality: owner nil is a system one.
func persona(name, display string, owner *uuid.UUID, public bool, age int, aliases ...string) *ent.Personality {
	p := &ent.Personality{ID: uuid.New(), Name: name, OwnerID: owner, IsPublic: public, CreatedAt: t0.Add(time.Duration(age) * time.Hour)}
	if display != "" {
		p.DisplayName = &display
	}
	for _, a := range aliases {
		p.Edges.Aliases = append(p.Edges.Aliases, &ent.PersonalityAlias{Alias: a, PersonalityID: p.ID})
	}
	return p
}

func TestMentions(t *testing.T) {
	lilith := persona("lilith", "Lilith", nil, true, 0)
	sable := persona("lilith-sable", "Lilith Sable", nil, true, 1)
	kerach := persona("cold-kerach", "Kerach", nil, true, 2, "K", "kerach")
	idx := NewIndex([]*ent.Personality{lilith, sable, kerach})
	anyone := Speaker{DiscordID: "1"}
	cases := []struct {
		content string
		max     int
		want    []*ent.Personality
	}{
		{"@Lilith hi", 5, []*ent.Personality{lilith}},
		{"@lilith sable, hi", 5, []*ent.Personality{sable}},  // the longest name wins
		{"@Lilith Sablefish", 5, []*ent.Personality{lilith}}, // a name ends at a word boundary
		{"hi @kerach and @LILITH", 5, []*ent.Personality{kerach, lilith}},
		{"@kerach @kerach @k", 5, []*ent.Personality{kerach}},                                   // one reply per personality
		{"@kerach @lilith @lilith sable", 2, []*ent.Personality{kerach, lilith}},                // capped
		{"(@kerach) *@lilith* ||@lilith sable||", 5, []*ent.Personality{kerach, lilith, sable}}, // brackets, markdown
		{"@kerach, @lilith; >@k", 5, []*ent.Personality{kerach, lilith}},
		{"hi @kerach.", 5, []*ent.Personality{kerach}}, // the end of a sentence
		{"@cold-kerach!", 5, []*ent.Personality{kerach}},
		{"no mentions", 5, nil},
		{"@kerachs", 5, nil},
		// Not mentions: e-mail addresses, in any shape.
		{"email me at a@kerach.com", 5, nil},
		{"my address is jane@kerach.example", 5, nil},
		{"write to jane.doe+x@kerach.example.org or jane_@kerach.example", 5, nil},
		{"(jane@kerach.example)", 5, nil},
		{"mailto:jane@kerach.example", 5, nil},
		{"me@kerach", 5, nil}, // glued to a word
		{"@kerach.example", 5, nil},
		// Not mentions: URLs of any scheme, bare domains with a path, markdown links.
		{"see https://social.example/@kerach/113456", 5, nil},
		{"see http://social.example/@kerach", 5, nil},
		{"<https://social.example/@kerach>", 5, nil},
		{"gemini://capsule.example/@kerach and ftp://x.example/@lilith", 5, nil},
		{"see social.example/@kerach/113456", 5, nil},
		{"see www.social.example/@kerach", 5, nil},
		{"social.example:8080/@kerach", 5, nil},
		{"https://x.example/?u=@kerach&v=@lilith", 5, nil},
		{"https://x.example/a,@kerach", 5, nil},
		{"[my friend](https://social.example/@kerach)", 5, nil},
		{"[@kerach](https://social.example/@kerach)", 5, nil},
		{"x=@kerach a/@lilith", 5, nil}, // glued to an address's characters
		// Not mentions: code, where Discord pings no one.
		{"try `@kerach hi` to talk", 5, nil},
		{"```\n@kerach hi\n@lilith\n```", 5, nil},
		{"``@kerach``", 5, nil},
		// …while a mention beside one still counts.
		{"see https://social.example/@kerach @lilith", 5, []*ent.Personality{lilith}},
		{"jane@kerach.example, @kerach says hi", 5, []*ent.Personality{kerach}},
		{"[a link](https://x.example) @kerach", 5, []*ent.Personality{kerach}},
		{"`code` @kerach `more`", 5, []*ent.Personality{kerach}},
	}
	for _, tc := range cases {
		got := idx.Mentions(anyone, tc.content, tc.max)
		if len(got) != len(tc.want) {
			t.Errorf("%q: %d mentions, want %d", tc.content, len(got), len(tc.want))
			continue
		}
		for i := range got {
			if got[i].ID != tc.want[i].ID {
				t.Errorf("%q: mention %d is %s, want %s", tc.content, i, got[i].Name, tc.want[i].Name)
			}
		}
	}
}

func TestReserved(t *testing.T) {
	for _, w := range []string{"everyone", "here", "Everyone", "HERE", "@here", " here ", "here we go", "Everyone!"} {
		if !IsReserved(w) {
			t.Errorf("%q is not reserved", w)
		}
	}
	for _, w := range []string{"heretic", "everyones", "nowhere", "there", "Lilith", "every one"} {
		if IsReserved(w) {
			t.Errorf("%q is reserved", w)
		}
	}
	// A personality called so anyway (imported) never answers @everyone or @here.
	everyone := persona("everyone", "Everyone", nil, true, 0)
	here := persona("here-we-go", "Here", nil, true, 0, "here")
	idx := NewIndex([]*ent.Personality{everyone, here})
	for _, msg := range []string{"@everyone hi", "@here look", "@Everyone", "hey @here we go"} {
		if got := idx.Mentions(Speaker{}, msg, 5); len(got) != 0 {
			t.Errorf("%q mentions %s", msg, got[0].Name)
		}
	}
	if _, ok := idx.Lookup(Speaker{}, "everyone"); ok {
		t.Error("everyone resolves")
	}
	// The slug here-we-go is not the keyword followed by a boundary.
	if got := idx.Mentions(Speaker{}, "@here-we-go hi", 5); len(got) != 1 {
		t.Errorf("@here-we-go: %d mentions", len(got))
	}
}

// The rule: name, then alias, then display name; among display names own,
// public, others' private; oldest first; private ones only for the owner and
// the privileged. Every case is tried with the rows in both orders.
func TestChoose(t *testing.T) {
	alice, bob, carol := uuid.New(), uuid.New(), uuid.New()
	asAlice := Speaker{DiscordID: "a", UserID: alice}
	asBob := Speaker{DiscordID: "b", UserID: bob}
	asStranger := Speaker{DiscordID: "s"}
	asSuper := Speaker{DiscordID: "x", UserID: uuid.New(), Superuser: true}
	asOperator := Speaker{DiscordID: "o", Operator: true}

	// Two personalities displayed "Morrow Ash" (the shared fixtures' shape);
	// the alias "morrow ash" belongs to the younger one.
	older := persona("morrow-ash", "Morrow Ash", nil, true, 0)
	younger := persona("morrow-ash-2", "Morrow Ash", nil, true, 5, "morrow ash")
	// Alice's public Lilith; Carol's private one named lilith; Bob's alias
	// Lilith (Clash refuses it today, but rows written before may hold it):
	// the documented order decides, whatever order the rows come in.
	aliceLilith := persona("alice-lilith", "Lilith", &alice, true, 1)
	carolLilith := persona("lilith", "Carol's", &carol, false, 2)
	bobSable := persona("sable", "Sable", &bob, true, 3, "Lilith")
	// Display names shared by Bob's own, an old public and an old private.
	twinOld := persona("twin-old", "Twin", &alice, true, 0)
	twinBob := persona("twin-bob", "Twin", &bob, true, 9)
	twinPriv := persona("twin-priv", "Twin", &carol, false, -1)
	// Only private ones.
	secret := persona("secret", "Secret", &carol, false, 0)

	all := []*ent.Personality{older, younger, aliceLilith, carolLilith, bobSable, twinOld, twinBob, twinPriv, secret}
	reversed := make([]*ent.Personality, len(all))
	for i, p := range all {
		reversed[len(all)-1-i] = p
	}
	cases := []struct {
		who  string
		s    Speaker
		ref  string
		want *ent.Personality // nil: not found
		kind Kind
	}{
		{"alias beats display name", asStranger, "@Morrow Ash", younger, ByAlias},
		{"name beats all", asStranger, "morrow-ash", older, ByName},
		{"a stranger never reaches a private name", asStranger, "lilith", bobSable, ByAlias},
		{"the owner's name beats another's alias", Speaker{DiscordID: "c", UserID: carol}, "lilith", carolLilith, ByName},
		{"a superuser reaches the private name", asSuper, "LILITH", carolLilith, ByName},
		{"the operator too", asOperator, "lilith", carolLilith, ByName},
		{"own display name first", asBob, "twin", twinBob, ByDisplayName},
		{"then the oldest public", asAlice, "twin", twinOld, ByDisplayName},
		{"a stranger gets the oldest public", asStranger, "Twin", twinOld, ByDisplayName},
		{"a superuser: public before others' private", asSuper, "twin", twinOld, ByDisplayName},
		{"private: not for strangers", asStranger, "secret", nil, 0},
		{"private: not for another user", asBob, "Secret", nil, 0},
		{"private: for its owner", Speaker{DiscordID: "c", UserID: carol}, "secret", secret, ByName},
		{"by id, private: not for strangers", asStranger, secret.ID.String(), nil, 0},
		{"by id, public", asStranger, older.ID.String(), older, ByID},
	}
	for _, order := range [][]*ent.Personality{all, reversed} {
		idx := NewIndex(order)
		for _, tc := range cases {
			m, ok := idx.Lookup(tc.s, tc.ref)
			switch {
			case tc.want == nil && ok:
				t.Errorf("%s: %q resolved to %s", tc.who, tc.ref, m.Personality.Name)
			case tc.want != nil && !ok:
				t.Errorf("%s: %q not resolved", tc.who, tc.ref)
			case tc.want != nil && (m.Personality.ID != tc.want.ID || m.Kind != tc.kind):
				t.Errorf("%s: %q resolved to %s by %s, want %s by %s", tc.who, tc.ref, m.Personality.Name, m.Kind, tc.want.Name, tc.kind)
			}
			if tc.kind == ByID {
				continue
			}
			// A mention follows the same rule.
			got := idx.Mentions(tc.s, "@"+Normalize(tc.ref)+" hi", 5)
			if tc.want == nil && len(got) != 0 || tc.want != nil && (len(got) != 1 || got[0].ID != tc.want.ID) {
				t.Errorf("%s: mention of %q reached %v", tc.who, tc.ref, got)
			}
		}
	}
	// The others called the same are listed in the rule's order.
	m, _ := NewIndex(reversed).Lookup(asSuper, "twin")
	if len(m.Others) != 2 || m.Others[0].ID != twinBob.ID || m.Others[1].ID != twinPriv.ID {
		t.Errorf("others %v", m.Others)
	}
}
