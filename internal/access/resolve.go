package access

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

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
// it is free. The rule, so that no alias or name shadows another owner's
// personality:
//
//   - a name or an alias may not equal, in any case, another personality's
//     name or alias (of any owner), nor another owner's display name;
//   - a display name may not equal another owner's name or alias (display
//     names of different owners may be the same; choose orders them);
//   - reserved words are refused before this (IsReserved).
//
// The clashing personality may be one the asker cannot see: callers name
// it only when Speaker.CanSee allows.
func Clash(ctx context.Context, db *ent.Client, kind Kind, term string, owner *uuid.UUID, self uuid.UUID) (*ent.Personality, error) {
	t := Normalize(term)
	ps, err := named(ctx, db, t)
	if err != nil {
		return nil, err
	}
	for _, c := range candidatesFor(ps, t) {
		if c.p.ID == self {
			continue
		}
		other := !sameOwner(owner, c.p.OwnerID)
		switch {
		case c.kind == ByName || c.kind == ByAlias:
			if kind != ByDisplayName || other {
				return c.p, nil
			}
		case c.kind == ByDisplayName:
			if kind != ByDisplayName && other {
				return c.p, nil
			}
		}
	}
	return nil, nil
}
