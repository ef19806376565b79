package access

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/ent/personalityalias"
	"github.com/tzurot/tzurot/ent/predicate"
)

// Kind is how a text names a personality. Lower kinds win: the precedence
// is id, then name (the slug), then alias, then display name.
type Kind int

const (
	ByID Kind = iota
	ByName
	ByAlias
	ByDisplayName
)

func (k Kind) String() string {
	return [...]string{"id", "name", "alias", "display name"}[k]
}

// ErrNotFound is returned when no personality the speaker may use is called
// that. It says nothing about personalities the speaker may not see.
var ErrNotFound = errors.New("no personality is called that")

// Match is what a text means for a speaker.
type Match struct {
	Personality *ent.Personality
	Kind        Kind
	// Others are the other personalities the speaker may use that the text
	// names with the same kind (only display names can be shared), in the
	// order of the rule. Management commands refuse to guess among them.
	Others []*ent.Personality
}

// Normalize is how a typed reference is compared: without spaces around it
// or a leading @, in lower case.
func Normalize(ref string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ref), "@")))
}

// candidate is one personality a text names, and how.
type candidate struct {
	p    *ent.Personality
	kind Kind
}

// choose is THE rule, for a text that names cands: among the personalities
// the speaker may use, the lowest Kind wins (id, name, alias, display name);
// among several of the same kind (display names), the speaker's own first,
// then public ones, then — for the privileged — others' private ones; within
// each, the oldest created first, then the lowest id. Nothing depends on the
// order rows come back in, so the same message always reaches the same
// personality.
func choose(s Speaker, cands []candidate) (Match, bool) {
	var usable []candidate
	seen := map[uuid.UUID]bool{}
	for _, c := range cands {
		if s.CanUse(c.p) {
			usable = append(usable, c)
		}
	}
	if len(usable) == 0 {
		return Match{}, false
	}
	rank := func(p *ent.Personality) int {
		switch {
		case s.Owns(p):
			return 0
		case p.IsPublic:
			return 1
		}
		return 2
	}
	sort.SliceStable(usable, func(i, j int) bool {
		a, b := usable[i], usable[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if ra, rb := rank(a.p), rank(b.p); ra != rb {
			return ra < rb
		}
		if !a.p.CreatedAt.Equal(b.p.CreatedAt) {
			return a.p.CreatedAt.Before(b.p.CreatedAt)
		}
		return a.p.ID.String() < b.p.ID.String()
	})
	m := Match{Personality: usable[0].p, Kind: usable[0].kind}
	seen[m.Personality.ID] = true
	for _, c := range usable[1:] {
		if c.kind == m.Kind && !seen[c.p.ID] {
			seen[c.p.ID] = true
			m.Others = append(m.Others, c.p)
		}
	}
	return m, true
}

// candidatesFor lists how each of ps is named by the normalized text t.
func candidatesFor(ps []*ent.Personality, t string) []candidate {
	var out []candidate
	for _, p := range ps {
		if p.ID.String() == t {
			out = append(out, candidate{p, ByID})
		}
		if strings.ToLower(p.Name) == t {
			out = append(out, candidate{p, ByName})
		}
		for _, a := range p.Edges.Aliases {
			if strings.ToLower(strings.TrimSpace(a.Alias)) == t {
				out = append(out, candidate{p, ByAlias})
			}
		}
		if p.DisplayName != nil && strings.ToLower(strings.TrimSpace(*p.DisplayName)) == t {
			out = append(out, candidate{p, ByDisplayName})
		}
	}
	return out
}

// Resolve is what ref (an id, a name, an alias or a display name, any case,
// with or without a leading @) means for s, by the rule of choose. It reads
// only the rows the text names, through the lower(name), lower(alias) and
// lower(display_name) indexes. ErrNotFound when nothing s may use is called
// that; any other error is the database's.
func Resolve(ctx context.Context, db *ent.Client, s Speaker, ref string) (Match, error) {
	t := Normalize(ref)
	if t == "" || IsReserved(t) {
		return Match{}, ErrNotFound
	}
	var ids []uuid.UUID
	if id, err := uuid.Parse(t); err == nil {
		ids = append(ids, id)
	}
	ps, err := named(ctx, db, t, ids...)
	if err != nil {
		return Match{}, err
	}
	m, ok := choose(s, candidatesFor(ps, t))
	if !ok {
		return Match{}, ErrNotFound
	}
	return m, nil
}

// named loads, with their aliases, the personalities whose name, alias or
// display name is t (lower case), or whose id is among ids, oldest first.
// Two statements, each served by an index (lower(alias); then lower(name),
// lower(display_name) and the primary key, which PostgreSQL ORs in a
// bitmap), where one with an EXISTS under OR would read the whole table.
func named(ctx context.Context, db *ent.Client, t string, ids ...uuid.UUID) ([]*ent.Personality, error) {
	as, err := db.PersonalityAlias.Query().Where(predicate.PersonalityAlias(LowerEquals(personalityalias.FieldAlias, t))).
		Limit(50).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up aliases %q: %w", t, err)
	}
	for _, a := range as {
		ids = append(ids, a.PersonalityID)
	}
	where := []predicate.Personality{LowerEquals(personality.FieldName, t), LowerEquals(personality.FieldDisplayName, t)}
	if len(ids) > 0 {
		where = append(where, personality.IDIn(ids...))
	}
	ps, err := db.Personality.Query().Where(personality.Or(where...)).WithAliases().
		Order(ent.Asc(personality.FieldCreatedAt), ent.Asc(personality.FieldID)).Limit(200).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up personalities called %q: %w", t, err)
	}
	return ps, nil
}

// LowerEquals is the predicate lower(column) = lower(value): a match in any
// case that the expression indexes on lower(…) serve (personalities' name and
// display_name, personality_aliases' alias). ent's EqualFold is ILIKE on
// PostgreSQL, which no B-tree index serves, so it reads the whole table.
func LowerEquals(column, value string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("lower(").Ident(s.C(column)).WriteString(") = lower(").Arg(value).WriteString(")")
		}))
	}
}

// Clash is the personality that term, given as a new kind (ByName, ByAlias
// or ByDisplayName) of the personality self (uuid.Nil for one being created)
// owned by owner (nil: a system personality), would collide with; nil when
// it is free. The rule, so that no text can take another owner's mentions
// (at each @ the longest text wins, and among equal display names the
// oldest personality):
//
//   - a name or an alias may not equal, in any case, another personality's
//     name or alias (of any owner);
//   - nothing may equal another owner's name, alias or display name: a
//     display name too is refused when another owner's personality already
//     has it, so an edit cannot take over another owner's @Lilith (the
//     personalities of one owner may share a display name);
//   - nothing may begin with another owner's name, alias or display name at
//     a word boundary ("Lilith," or "Lilith please" while another owner has
//     "Lilith"), nor be what another owner's term begins with at a word
//     boundary ("Lilith" while another owner has "Lilith Sable"); a word
//     boundary is the end of the text or a character that is not a letter,
//     a digit, - or _ (as for mentions);
//   - shapes are refused before this (Unfit).
//
// Texts are compared as mentions are: trimmed, lower case. The clashing
// personality is the oldest; it may be one the asker cannot see: callers
// name it only when Speaker.CanSee allows. The word-boundary look-up of
// longer texts (lower(…) LIKE 'term%') reads the personalities and aliases
// tables whole: it runs only when a name is being chosen.
func Clash(ctx context.Context, db *ent.Client, kind Kind, term string, owner *uuid.UUID, self uuid.UUID) (*ent.Personality, error) {
	t := Normalize(term)
	if t == "" {
		return nil, nil
	}
	ps, err := overlapping(ctx, db, t)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.ID == self {
			continue
		}
		other := !sameOwner(owner, p.OwnerID)
		for _, c := range termsOf(p) {
			switch overlap(t, c.text) {
			case same:
				if other || (c.kind != ByDisplayName && kind != ByDisplayName) {
					return p, nil
				}
			case wordPrefix:
				if other {
					return p, nil
				}
			}
		}
	}
	return nil, nil
}

// Unfit says why term cannot be a kind (ByName, ByAlias, ByDisplayName) of
// name for its shape alone, "" when it can:
//
//   - reserved words (IsReserved), for every kind;
//   - for names and aliases, all digits: the shape of a Discord user, role
//     or channel id (a snowflake, https://discord.com/developers/docs/reference#snowflakes),
//     which in <@id> pings a Discord user;
//   - for names and aliases, a last character that is punctuation ("Lilith,",
//     "Kerach!"): a mention is followed by punctuation, it does not end in
//     it.
func Unfit(kind Kind, term string) string {
	t := Normalize(term)
	switch {
	case IsReserved(t):
		return "@everyone and @here are Discord's own mentions, so no personality may be called everyone or here, or begin with those words"
	case kind == ByDisplayName || t == "":
		return ""
	case strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' }) < 0:
		return "all digits is the shape of a Discord id, which pings a Discord user; add a letter"
	}
	if r, _ := utf8.DecodeLastRuneInString(t); unicode.IsPunct(r) {
		return fmt.Sprintf("it ends in %q; a mention is followed by punctuation, so a name does not end in it", string(r))
	}
	return ""
}

// namedText is one text a personality answers to, trimmed and lower case.
type namedText struct {
	text string
	kind Kind
}

// termsOf is every text p answers to in a mention: its name, aliases and
// display name, as NewIndex indexes them.
func termsOf(p *ent.Personality) []namedText {
	out := []namedText{{strings.ToLower(p.Name), ByName}}
	for _, a := range p.Edges.Aliases {
		out = append(out, namedText{strings.ToLower(strings.TrimSpace(a.Alias)), ByAlias})
	}
	if p.DisplayName != nil {
		out = append(out, namedText{strings.ToLower(strings.TrimSpace(*p.DisplayName)), ByDisplayName})
	}
	return out
}

type overlapKind int

const (
	apart      overlapKind = iota
	same                   // equal
	wordPrefix             // one begins with the other at a word boundary
)

// overlap is how two lower-case texts overlap for mentions.
func overlap(a, b string) overlapKind {
	switch {
	case a == "" || b == "":
		return apart
	case a == b:
		return same
	case strings.HasPrefix(a, b) && boundary(a[len(b):]), strings.HasPrefix(b, a) && boundary(b[len(a):]):
		return wordPrefix
	}
	return apart
}

// wordPrefixes are the texts t begins with at a word boundary, t included:
// "lilith please" gives "lilith" and "lilith please".
func wordPrefixes(t string) []string {
	var out []string
	for i := range t {
		if i > 0 && boundary(t[i:]) {
			if p := strings.TrimSpace(t[:i]); p != "" {
				out = append(out, p)
			}
		}
	}
	return append(out, t)
}

// overlapping loads, with their aliases and oldest first, the personalities
// with a name, alias or display name that t (lower case) equals, begins with
// at a word boundary, or that begins with t: a superset of what overlap
// finds, which Clash then applies.
func overlapping(ctx context.Context, db *ent.Client, t string) ([]*ent.Personality, error) {
	prefixes := wordPrefixes(t)
	like := likePrefix(t)
	as, err := db.PersonalityAlias.Query().Where(predicate.PersonalityAlias(func(s *sql.Selector) {
		s.Where(sql.Or(lowerIn(s.C(personalityalias.FieldAlias), prefixes), lowerLike(s.C(personalityalias.FieldAlias), like)))
	})).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up aliases near %q: %w", t, err)
	}
	var ids []uuid.UUID
	for _, a := range as {
		ids = append(ids, a.PersonalityID)
	}
	ps, err := db.Personality.Query().Where(predicate.Personality(func(s *sql.Selector) {
		ors := []*sql.Predicate{}
		for _, c := range []string{personality.FieldName, personality.FieldDisplayName} {
			ors = append(ors, lowerIn(s.C(c), prefixes), lowerLike(s.C(c), like))
		}
		if len(ids) > 0 {
			vs := make([]any, len(ids))
			for i, id := range ids {
				vs[i] = id
			}
			ors = append(ors, sql.In(s.C(personality.FieldID), vs...))
		}
		s.Where(sql.Or(ors...))
	})).WithAliases().Order(ent.Asc(personality.FieldCreatedAt), ent.Asc(personality.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up personalities near %q: %w", t, err)
	}
	return ps, nil
}

// lowerIn is lower(column) IN (lower(v)…), served by the lower(…) indexes.
func lowerIn(column string, vs []string) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		b.WriteString("lower(").Ident(column).WriteString(") IN (")
		for i, v := range vs {
			if i > 0 {
				b.Comma()
			}
			b.WriteString("lower(").Arg(v).WriteString(")")
		}
		b.WriteString(")")
	})
}

// lowerLike is lower(column) LIKE pattern ESCAPE '\'.
func lowerLike(column, pattern string) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		b.WriteString("lower(").Ident(column).WriteString(") LIKE ").Arg(pattern).WriteString(` ESCAPE '\'`)
	})
}

// LowerLike is the predicate lower(column) LIKE pattern ESCAPE '\': pattern
// is lower case, with EscapeLike around the typed text. No B-tree index on
// lower(…) serves a LIKE under PostgreSQL's default collation: it reads the
// whole table (fine for personalities and aliases, thousands of rows; not
// for history).
func LowerLike(column, pattern string) func(*sql.Selector) {
	return func(s *sql.Selector) { s.Where(lowerLike(s.C(column), pattern)) }
}

// EscapeLike escapes LIKE's wildcards % and _, and its escape \, in text.
func EscapeLike(text string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
}

// likePrefix is the LIKE pattern for texts that begin with t and go on.
func likePrefix(t string) string { return EscapeLike(t) + "_%" }
