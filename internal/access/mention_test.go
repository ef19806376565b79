package access

import (
	"fmt"
	"strings"
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

// Which @ may begin a mention, offset by offset: a URL ends where RFC 3986
// says one cannot go on (white space, < > " { } | \ ^ `), so an @ right after
// a link wrapped in Discord's <…> or ||…|| begins a mention; Discord's own
// user, member and role mentions never do.
func TestMentionStartsEndURLsAtExcludedCharacters(t *testing.T) {
	cases := []struct {
		content string
		want    []int
	}{
		{"<https://a.example>@kerach", []int{19}},
		{"||https://a.example||@kerach", []int{21}},
		{"https://a.example/||@kerach||", []int{20}},
		{"https://a.example/\"@kerach\"", []int{19}},
		{"||secret||@kerach", []int{10}},
		{"`https://a.example`@kerach", nil}, // glued to the code span's `
		{"`https://a.example` @kerach", []int{20}},
		{"{https://a.example}@kerach", nil}, // } is not a place a mention begins
		{"see social.example/x>@kerach", []int{21}},
		{"<mailto:jane@kerach.example>@kerach", []int{28}},
		// Still inside the URL: characters a URL may hold.
		{"<https://social.example/@kerach>", nil},
		{"https://a.example,@kerach", nil},
		{"(https://a.example)@kerach", nil},
		{"https://x.example/(@kerach)", nil},
		{"see: https://a.example/x?y=@kerach", nil},
		{"[x](<https://a.example/@kerach>)", nil},
		{"HTTPS://X/@kerach", nil},
		{"x.com/@kerach", nil},
		{"192.168.0.1/@kerach", nil},
		// Beside a URL.
		{"https://x.example/a\n@kerach", []int{20}},
		{"\"https://a.example\" @kerach", []int{20}},
		{"[link](https://x.example/@kerach) @kerach", []int{34}},
		// Discord's message formatting is not a mention of a personality.
		{"<@80351110224678912>", nil},
		{"<@!80351110224678912> hi", nil},
		{"<@&165511591545143296> role ping", nil},
		{"<#103735883630395392>@kerach", []int{21}},
		{"<t:1618953630:d> @kerach", []int{17}},
		{"</airhorn:816437322781949972> @kerach", []int{30}},
		{"<:mmLol:216154654256398347>@kerach", []int{27}},
		{"<@kerach>", []int{1}}, // not Discord's syntax: a name in brackets
		{"<@80351110224678912x>", []int{1}},
		{"hi <@80351110224678912> and @kerach", []int{28}},
	}
	for _, tc := range cases {
		got := MentionStarts(tc.content)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("MentionStarts(%q) = %v, want %v", tc.content, got, tc.want)
		}
	}
	kerach := persona("kerach", "Kerach", nil, true, 0)
	idx := NewIndex([]*ent.Personality{kerach})
	for _, msg := range []string{"<https://a.example>@kerach hi", "||https://a.example||@kerach", "||spoiler https://a.example/x||@kerach"} {
		if got := idx.Mentions(Speaker{}, msg, 5); len(got) != 1 {
			t.Errorf("%q: %d mentions, want kerach", msg, len(got))
		}
	}
}

// A personality named or aliased like a Discord user or role id never
// answers Discord's own mention of that user or role (<@id>, <@!id>,
// <@&id>), which is how the gateway delivers a ping.
func TestDiscordUserMentionsNeverReachAPersonality(t *testing.T) {
	bob := uuid.New()
	evil := persona("80351110224678912", "Nelly", &bob, true, 0)
	evil2 := persona("evil", "Evil", &bob, true, 1, "175928847299117063", "!80351110224678912", "&165511591545143296")
	idx := NewIndex([]*ent.Personality{evil, evil2})
	alice := Speaker{DiscordID: "42"}
	for _, c := range []string{
		"<@80351110224678912> hi", "hey <@175928847299117063>, look", "<@&80351110224678912> role ping",
		"<@!80351110224678912> hi", "<@&165511591545143296>", "(<@!175928847299117063>)",
	} {
		if got := idx.Mentions(alice, c, 5); len(got) != 0 {
			t.Errorf("%q (a Discord user/role mention) reached personality %s", c, got[0].Name)
		}
	}
	// Typed as text, @ and the name, it is still a mention.
	if got := idx.Mentions(alice, "@evil and <@80351110224678912>", 5); len(got) != 1 || got[0].ID != evil2.ID {
		t.Errorf("@evil beside a user mention: %v", got)
	}
}

// Routing a message costs little whatever is in it: a 2,000-character
// message (Discord's limit for most users) of @s against 30,000 terms, and
// 100 URLs with 100 @. The bound is generous (a shared machine); it fails on
// a blow-up, not on a slow run.
func TestMentionsCostIsBounded(t *testing.T) {
	var ps []*ent.Personality
	for i := 0; i < 10000; i++ {
		ps = append(ps, persona(fmt.Sprintf("name-%05d", i), fmt.Sprintf("Display %d", i), nil, true, i, fmt.Sprintf("alias %d", i)))
	}
	idx := NewIndex(ps)
	start := time.Now()
	idx.Mentions(Speaker{DiscordID: "1"}, strings.Repeat("@a ", 666), 5)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("2,000 chars of '@a ' over 30,000 terms: %v", d)
	}
	start = time.Now()
	if got := MentionStarts(strings.Repeat("https://a.example/ @", 100)); len(got) != 100 {
		t.Errorf("100 URLs + 100 @: %d starts, want 100", len(got))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 URLs + 100 @: %v", d)
	}
}
