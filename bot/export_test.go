package bot

import (
	"context"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
)

// RouteTo exposes route for the reply path's database test and benchmark:
// the ids of the personalities m is for.
func (b *Bot) RouteTo(ctx context.Context, m *discordgo.Message) ([]uuid.UUID, error) {
	targets, err := b.route(ctx, m)
	ids := make([]uuid.UUID, len(targets))
	for i, t := range targets {
		ids[i] = t.ID
	}
	return ids, err
}

// KeepPersonalityNames caches the names and aliases mentions are matched
// against for d (30 s in production), so that a benchmark measures the
// per-message work without the periodic reload.
func (b *Bot) KeepPersonalityNames(d time.Duration) {
	b.personalities.mu.Lock()
	b.personalities.ttl = d
	b.personalities.mu.Unlock()
}

// FindPersonality exposes findPersonality, as the operator sees it: what
// /config and /personality resolve a typed name with.
func (b *Bot) FindPersonality(ctx context.Context, ref string) (*ent.Personality, error) {
	return b.findPersonality(ctx, personalityAccess{access.Speaker{Operator: true}}, ref)
}

// ReplyPosted exposes replyPosted, the typing indicator's once-a-second
// look-up, for the reply path's plan test.
func (b *Bot) ReplyPosted(ctx context.Context, requestID string) bool {
	return b.replyPosted(ctx, requestID)
}

// ResolveZone exposes resolveZone for the test that walks the whole zone
// database: the zone name /timezone set would store for typed.
func ResolveZone(typed string) (string, error) {
	loc, err := resolveZone(typed)
	if err != nil {
		return "", err
	}
	return loc.String(), nil
}

// IANAZones is the generated list of the embedded zone database's names.
func IANAZones() []string { return ianaZones[:] }

// ZoneAlias is the zone an abbreviation or nickname stands for.
func ZoneAlias(typed string) (string, bool) {
	z, ok := zoneAliases[strings.ToLower(typed)]
	return z, ok
}

// ZoneAbbreviations are the abbreviations resolveZone knows, lower-case.
func ZoneAbbreviations() []string { return sortedKeys(zoneAbbreviations) }

// USD exposes how /usage writes a cost.
var USD = usd
