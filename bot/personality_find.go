package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

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
		as, err := b.store.AliasesLike(ctx, p.ID, typed, maxChoices)
		if err != nil {
			return nil, err
		}
		out := make([]*discordgo.ApplicationCommandOptionChoice, len(as))
		for i, a := range as {
			out[i] = &discordgo.ApplicationCommandOptionChoice{Name: a.Alias, Value: a.Alias}
		}
		return out, nil
	}
	// "name" here; "personality" in /config and /imagine.
	if focused != "name" && focused != "personality" {
		return nil, nil
	}
	// Filtered, ordered and limited to Discord's 25 choices in SQL
	// (store.Suggest), so that whatever is typed finds its personality
	// however many others there are; only the labels are made here.
	ps, err := b.store.Suggest(ctx, acc.Speaker, typed, maxChoices)
	if err != nil {
		return nil, err
	}
	out := make([]*discordgo.ApplicationCommandOptionChoice, len(ps))
	for i, p := range ps {
		out[i] = &discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(suggestionLabel(p, typed), 100), Value: p.Name}
	}
	return out, nil
}

// suggestionLabel is how a suggested personality is shown: its name, with
// its display name when that differs, or the alias that matched typed when
// neither its name nor its display name does.
func suggestionLabel(p *ent.Personality, typed string) string {
	if !personalityMatch(typed, p.Name) && (p.DisplayName == nil || !personalityMatch(typed, *p.DisplayName)) {
		if a := matchingAlias(p, typed); a != "" {
			return fmt.Sprintf("%s (alias of %s)", a, p.Name)
		}
	}
	if d := personaName(p); d != p.Name {
		return fmt.Sprintf("%s (%s)", p.Name, d)
	}
	return p.Name
}

// matchingAlias is p's first alias that typed matches, "" when none.
func matchingAlias(p *ent.Personality, typed string) string {
	for _, a := range p.Edges.Aliases {
		if personalityMatch(typed, a.Alias) {
			return a.Alias
		}
	}
	return ""
}

// personalityMatch reports whether candidate matches typed (lower case)
// as store.Suggest matches: containing it, or starting with it when typed
// is shorter than three characters.
func personalityMatch(typed, candidate string) bool {
	c := strings.ToLower(candidate)
	if utf8.RuneCountInString(typed) < 3 {
		return strings.HasPrefix(c, typed)
	}
	return strings.Contains(c, typed)
}
