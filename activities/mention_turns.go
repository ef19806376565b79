package activities

// Mentions in what is kept of an exchange: the conversation history's turns
// (SaveTurns) and the long-term memory (Remember) keep the message's and the
// reply's mentions as names, as the model saw the message, so an earlier
// turn never reaches a later prompt as a bare <@id> of a user who did not
// speak in its window (the prompt can only name the current message's
// mentions and the window's speakers).

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/limits"
)

// mentionLimits are the three mention limits of lim.
func mentionLimits(lim limits.Limits) MentionLimits {
	return MentionLimits{Users: lim.MaxMentionsPerMessage, Channels: lim.MaxChannelsPerMessage, Roles: lim.MaxRolesPerMessage}
}

// mentionLimitsOf are cfg's mention limits (llm_configs' max_mentions_per_message,
// max_channels_per_message, max_roles_per_message), each unset or
// out-of-range one at its default; the defaults for a nil cfg.
func mentionLimitsOf(cfg *ent.LLMConfig) MentionLimits {
	var o limits.Overrides
	if cfg != nil {
		o = limits.Overrides{MaxMentionsPerMessage: cfg.MaxMentionsPerMessage,
			MaxChannelsPerMessage: cfg.MaxChannelsPerMessage, MaxRolesPerMessage: cfg.MaxRolesPerMessage}
	}
	lim, _ := limits.Resolve(o) // a bad value is replaced by its default
	return mentionLimits(lim)
}

// exchangeNames are the names the mentions of one exchange are written
// with: the message's own (names, from the gateway event; may be nil), and
// the speaker by the name they spoke with, since the reply addresses them
// as <@id>.
func exchangeNames(names *MentionNames, speakerID, speaker string) MentionNames {
	var out MentionNames
	if names != nil {
		out = *names
	}
	if speakerID == "" || speaker == "" {
		return out
	}
	if _, ok := out.Users[speakerID]; ok {
		return out
	}
	users := make(map[string]string, len(out.Users)+1)
	for id, n := range out.Users {
		users[id] = n
	}
	users[speakerID] = speaker
	out.Users = users
	return out
}

// hasMention reports whether any of texts holds a Discord mention.
func hasMention(texts ...string) bool {
	for _, s := range texts {
		if mentionRE.MatchString(s) {
			return true
		}
	}
	return false
}

// namedExchange is the user's message and the reply with their mentions
// written as names (ReplaceMentions, each text within the limits of the
// personality pid), for keeping. Texts without a mention are returned as
// they are, without a query; a personality deleted since is named within
// the default limits. An error is the database's.
func (a *Activities) namedExchange(ctx context.Context, pid uuid.UUID, names MentionNames, user, reply string) (string, string, error) {
	if !hasMention(user, reply) {
		return user, reply, nil
	}
	var cfg *ent.LLMConfig
	p, err := a.store().PersonalityWithModel(ctx, pid)
	switch {
	case err == nil:
		cfg = p.Edges.LlmConfig
	case !ent.IsNotFound(err):
		return "", "", fmt.Errorf("load the personality's mention limits: %w", err)
	}
	lim := mentionLimitsOf(cfg)
	return ReplaceMentions(user, names, lim), ReplaceMentions(reply, names, lim), nil
}
