package bot

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
)

func (b *Bot) personalityAliasAdd(ctx context.Context, in *Interaction, p *ent.Personality) error {
	alias := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in.String("alias")), "@"))
	if alias == "" || utf8.RuneCountInString(alias) > maxAlias || strings.ContainsAny(alias, "@\n\r\t") {
		return UserError("An alias is 1–%d characters without @ or line breaks, e.g. Kerach.", maxAlias)
	}
	if why := access.Unfit(access.ByAlias, alias); why != "" {
		return UserError("“%s” cannot be an alias: %s.", alias, why)
	}
	acc, err := b.personalityAccessOf(ctx, in)
	if err != nil {
		return err
	}
	if err := b.personalityAliasFree(ctx, acc, p, alias); err != nil {
		return err
	}
	err = b.store.AddAlias(ctx, p.ID, alias)
	if ent.IsConstraintError(err) {
		// Another alias of the same letters was added since the check; name
		// its holder if it is still there.
		if ferr := b.personalityAliasFree(ctx, acc, p, alias); ferr != nil {
			return ferr
		}
		return UserError("The alias “%s” is already taken.", alias)
	}
	if err != nil {
		return err
	}
	b.personalities.invalidate()
	return in.Reply(fmt.Sprintf("%s now also answers to @%s.", personaName(p), alias))
}

// personalityAliasFree explains why alias cannot be added to p: p already
// answers to it, or it is another personality's name or alias, or equals,
// extends or begins another owner's text at a word boundary (access.Clash).
// The holder is named only when acc may see it.
func (b *Bot) personalityAliasFree(ctx context.Context, acc personalityAccess, p *ent.Personality, alias string) error {
	lower := access.Normalize(alias)
	if strings.ToLower(p.Name) == lower {
		return UserError("“%s” is already the name of %s.", alias, personaName(p))
	}
	own, err := b.store.Alias(ctx, p.ID, alias)
	switch {
	case err != nil:
		return err
	case own != nil:
		return UserError("%s already answers to “%s”.", personaName(p), own.Alias)
	}
	return b.clash(ctx, acc, access.ByAlias, alias, p.OwnerID, p.ID, "The alias “%s” is already taken%s.")
}

func (b *Bot) personalityAliasRemove(ctx context.Context, in *Interaction, p *ent.Personality) error {
	alias := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in.String("alias")), "@"))
	n, err := b.store.RemoveAlias(ctx, p.ID, alias)
	if err != nil {
		return err
	}
	if n == 0 {
		return UserError("%s has no alias “%s”; /personality view shows the ones it has.", personaName(p), alias)
	}
	b.personalities.invalidate()
	return in.Reply(fmt.Sprintf("%s no longer answers to @%s.", personaName(p), alias))
}
