package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/ent/personalityalias"
	"github.com/tzurot/tzurot/ent/predicate"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/access"
)

// personalityAccess is what the invoking user may do with personalities:
// access.Speaker, the one rule, with the bot's refusals.
type personalityAccess struct{ access.Speaker }

func (b *Bot) personalityAccessOf(ctx context.Context, in *Interaction) (personalityAccess, error) {
	s, err := access.Load(ctx, b.DB, in.UserID, b.Config.BotOwnerDiscordID)
	return personalityAccess{s}, err
}

func (a personalityAccess) privileged() bool { return a.Privileged() }

// mayManage refuses, in one line, anyone but the owner and the privileged.
func (a personalityAccess) mayManage(p *ent.Personality, action string) error {
	if a.CanEdit(p) {
		return nil
	}
	if p.OwnerID == nil {
		return UserError("%s is a system personality; only a superuser can %s.", personaName(p), action)
	}
	return UserError("Only the owner of %s or a superuser can %s.", personaName(p), action)
}

// findPersonality resolves what a user typed by the one rule
// (access.Resolve): an id, then a name, then an alias, then a display name,
// any case; among several display names the user's own, then the oldest
// public one. Personalities the user may not use are reported as missing,
// so private ones stay private.
func (b *Bot) findPersonality(ctx context.Context, acc personalityAccess, ref string) (*ent.Personality, error) {
	m, err := b.findMatch(ctx, acc, ref)
	return m.Personality, err
}

func (b *Bot) findMatch(ctx context.Context, acc personalityAccess, ref string) (access.Match, error) {
	ref = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ref), "@"))
	if ref == "" {
		return access.Match{}, UserError("Name a personality, e.g. name:cold-kerach.")
	}
	m, err := access.Resolve(ctx, b.DB, acc.Speaker, ref)
	if errors.Is(err, access.ErrNotFound) {
		return m, UserError("No personality is called “%s”.", ref)
	}
	return m, err
}

// severalCalled refuses to change one of several personalities sharing a
// display name, listing their names.
func severalCalled(ref string, m access.Match) error {
	names := []string{m.Personality.Name}
	for _, o := range m.Others {
		names = append(names, o.Name)
	}
	return UserError("Several personalities are called “%s”; use one of their names: %s.", strings.TrimSpace(ref), strings.Join(names, ", "))
}

// personalityCommandAutocomplete suggests the personalities a user can see
// for name and personality options (any command) and,
// for alias remove, the chosen personality's aliases. Personalities are
// those whose name, display name or an alias contains the typed text (any
// case), filtered in SQL before the limit of Discord's 25 choices: what
// starts with it first, then the user's own, then by name.
func (b *Bot) personalityCommandAutocomplete(ctx context.Context, in *Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	focused, typed := in.Focused()
	acc, err := b.personalityAccessOf(ctx, in)
	if err != nil {
		return nil, err
	}
	typed = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(typed, "@")))
	if focused == "alias" {
		p, err := b.findPersonality(ctx, acc, in.String("name"))
		if err != nil {
			return nil, nil // nothing to suggest until a personality is named
		}
		as, err := b.DB.PersonalityAlias.Query().Where(personalityalias.PersonalityID(p.ID)).
			Order(ent.Asc(personalityalias.FieldAlias)).All(ctx)
		if err != nil {
			return nil, err
		}
		var out []*discordgo.ApplicationCommandOptionChoice
		for _, a := range as {
			if strings.Contains(strings.ToLower(a.Alias), typed) {
				out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: a.Alias, Value: a.Alias})
			}
		}
		return out, nil
	}
	// "name" here; "personality" in /config and /imagine.
	if focused != "name" && focused != "personality" {
		return nil, nil
	}
	// Filter on the typed text in SQL, before the limit, so that whatever
	// is typed finds its personality however many others there are; order
	// what starts with it first, then the user's own, then by name; load no
	// more than Discord shows.
	q := b.DB.Personality.Query().WithAliases().Limit(maxChoices)
	if !acc.privileged() {
		q.Where(personality.Or(personality.IsPublic(true), personality.HasOwnerWith(user.DiscordID(in.UserID))))
	}
	if typed != "" {
		within := "%" + access.EscapeLike(typed) + "%"
		q.Where(personality.Or(
			predicate.Personality(access.LowerLike(personality.FieldName, within)),
			predicate.Personality(access.LowerLike(personality.FieldDisplayName, within)),
			personality.HasAliasesWith(predicate.PersonalityAlias(access.LowerLike(personalityalias.FieldAlias, within))),
		))
	}
	prefix := access.EscapeLike(typed) + "%"
	q.Order(func(s *entsql.Selector) {
		// A predicate, not OrderExprFunc, which drops arguments.
		s.OrderExpr(entsql.P(func(b *entsql.Builder) {
			b.WriteString("(lower(").Ident(s.C(personality.FieldName)).WriteString(") LIKE ").Arg(prefix).
				WriteString(` ESCAPE '\' OR coalesce(lower(`).Ident(s.C(personality.FieldDisplayName)).WriteString(") LIKE ").Arg(prefix).
				WriteString(` ESCAPE '\', false)) DESC`)
		}))
		if acc.UserID != uuid.Nil {
			s.OrderExpr(entsql.P(func(b *entsql.Builder) {
				b.WriteString("coalesce(").Ident(s.C(personality.FieldOwnerID)).WriteString(" = ").Arg(acc.UserID).WriteString(", false) DESC")
			}))
		}
		s.OrderBy(s.C(personality.FieldName))
	})
	ps, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	type match struct {
		choice *discordgo.ApplicationCommandOptionChoice
		prefix bool
	}
	var ms []match
	for _, p := range ps {
		if !acc.CanSee(p) {
			continue
		}
		label := p.Name
		if d := personaName(p); d != p.Name {
			label = fmt.Sprintf("%s (%s)", p.Name, d)
		}
		hit, prefix := personalityMatch(typed, p.Name)
		if !hit && p.DisplayName != nil {
			hit, prefix = personalityMatch(typed, *p.DisplayName)
		}
		for _, a := range p.Edges.Aliases {
			if hit {
				break
			}
			if hit, prefix = personalityMatch(typed, a.Alias); hit {
				label = fmt.Sprintf("%s (alias of %s)", a.Alias, p.Name)
			}
		}
		if hit {
			ms = append(ms, match{&discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(label, 100), Value: p.Name}, prefix})
		}
	}
	// What starts with the typed text is likelier what the user means.
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].prefix && !ms[j].prefix })
	out := make([]*discordgo.ApplicationCommandOptionChoice, len(ms))
	for i, m := range ms {
		out[i] = m.choice
	}
	return out, nil
}

func personalityMatch(typed, candidate string) (hit, prefix bool) {
	c := strings.ToLower(candidate)
	return strings.Contains(c, typed), strings.HasPrefix(c, typed)
}
