// Package access is the one rule for who may do what with a personality and
// what a name means for a given speaker. The bot (mentions, replies, DMs,
// /personality, /config, /imagine, autocomplete), the workflows'
// ResolvePersonality activity and the dev chat (which runs the bot's
// handlers) all call it, so they cannot disagree.
//
// Who may do what (README, "Who may do what"):
//
//   - anyone (any Discord user, with or without a users row) may use and see
//     public personalities;
//   - a personality's owner may also use, see, edit, delete and alias their
//     private ones;
//   - superusers (users.is_superuser) and the operator (BOT_OWNER_DISCORD_ID)
//     may use, see, edit, delete and alias every personality, system ones
//     (no owner) included.
//
// A personality the speaker may not use does not exist for them: it is
// never resolved, suggested or named in a refusal.
package access

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/user"
)

// Speaker is who is asking: a Discord user, what their users row says, and
// whether they are the operator.
type Speaker struct {
	// DiscordID is the Discord user id (a snowflake), "" for nobody.
	DiscordID string
	// UserID is their users row, uuid.Nil when they have none yet.
	UserID uuid.UUID
	// Superuser is users.is_superuser.
	Superuser bool
	// Operator is true for BOT_OWNER_DISCORD_ID, who needs no users row.
	Operator bool
}

// Load builds the speaker for discordID: one lookup of the users row.
// operatorID is BOT_OWNER_DISCORD_ID ("" when unset: nobody is operator).
func Load(ctx context.Context, db *ent.Client, discordID, operatorID string) (Speaker, error) {
	s := Speaker{DiscordID: discordID, Operator: discordID != "" && discordID == operatorID}
	if discordID == "" {
		return s, nil
	}
	u, err := db.User.Query().Where(user.DiscordID(discordID)).Only(ctx)
	if ent.IsNotFound(err) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("look up user %s: %w", discordID, err)
	}
	s.UserID, s.Superuser = u.ID, u.IsSuperuser
	return s, nil
}

// Privileged is a superuser or the operator.
func (s Speaker) Privileged() bool { return s.Operator || s.Superuser }

// Owns reports whether p belongs to the speaker. System personalities (no
// owner) belong to nobody.
func (s Speaker) Owns(p *ent.Personality) bool {
	return s.UserID != uuid.Nil && p.OwnerID != nil && *p.OwnerID == s.UserID
}

// CanUse reports whether the speaker may talk to p (mention, reply, DM,
// /imagine, /config for themselves): public ones, their own, or any when
// privileged.
func (s Speaker) CanUse(p *ent.Personality) bool { return p.IsPublic || s.Owns(p) || s.Privileged() }

// CanSee reports whether p exists for the speaker (view, autocomplete,
// naming it in a refusal). The same set as CanUse.
func (s Speaker) CanSee(p *ent.Personality) bool { return s.CanUse(p) }

// CanEdit reports whether the speaker may edit, delete or alias p, or change
// its own model: its owner, or the privileged.
func (s Speaker) CanEdit(p *ent.Personality) bool { return s.Owns(p) || s.Privileged() }

// sameOwner reports whether two personalities have the same owner (two
// system personalities count as the same owner).
func sameOwner(a *uuid.UUID, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
