package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
)

// personalityAccess is what the invoking user may do with personalities:
// access.Speaker, the one rule, with the bot's refusals.
type personalityAccess struct{ access.Speaker }

func (b *Bot) personalityAccessOf(ctx context.Context, in *Interaction) (personalityAccess, error) {
	s, err := b.store.Speaker(ctx, in.UserID, b.Config.BotOwnerDiscordID)
	return personalityAccess{s}, err
}

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

// personalityOption is the caller's access and the personality their
// "personality" option names, found by findPersonality.
func (b *Bot) personalityOption(ctx context.Context, in *Interaction) (personalityAccess, *ent.Personality, error) {
	acc, err := b.personalityAccessOf(ctx, in)
	if err != nil {
		return acc, nil, err
	}
	p, err := b.findPersonality(ctx, acc, in.String("personality"))
	return acc, p, err
}

func (b *Bot) findMatch(ctx context.Context, acc personalityAccess, ref string) (access.Match, error) {
	ref = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ref), "@"))
	if ref == "" {
		return access.Match{}, UserError("Name a personality, e.g. name:cold-kerach.")
	}
	m, err := b.store.Resolve(ctx, acc.Speaker, ref)
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
		as, err := b.store.Aliases(ctx, p.ID)
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
	ps, err := b.store.Suggest(ctx, acc.Speaker, typed, maxChoices)
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
