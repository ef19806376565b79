package activities

// Mentions in what is kept of an exchange: the conversation history's turns
// (SaveTurns) and the long-term memory (Remember) keep the message's and the
// reply's mentions as names, as the model saw the message, so an earlier
// turn never reaches a later prompt as a bare <@id> of a user who did not
// speak in its window (the prompt can only name the current message's
// mentions and the window's speakers, and, for turns kept before this,
// the users rows' names: withStoredNames).

import (
	"context"
	"fmt"
	"maps"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/limits"
)

// maxStoredNames bounds the users one prompt looks up by id (withStoredNames).
const maxStoredNames = 100

// withStoredNames adds to names, for the prompt, the users mentioned as
// <@id> (or <@!id>) in history whom neither names, nor a speaker of the
// window, nor the current speaker (speakerID) names: by the name their
// users row keeps, the one they last spoke with. Turns kept before
// SaveTurns wrote names need it. One query on users' unique discord_id
// index, only when such a mention is there (at most maxStoredNames ids);
// a failure is logged and names are returned as they were.
func (a *Activities) withStoredNames(ctx context.Context, history []Turn, names MentionNames, speakerID string) MentionNames {
	known := map[string]bool{speakerID: true}
	for id := range names.Users {
		known[id] = true
	}
	for _, t := range history {
		known[t.AuthorID] = true
	}
	var ids []string
	for _, t := range history {
		for _, sub := range mentionRE.FindAllStringSubmatch(t.Content, -1) {
			if (sub[1] == "@" || sub[1] == "@!") && !known[sub[2]] && len(ids) < maxStoredNames {
				known[sub[2]] = true
				ids = append(ids, sub[2])
			}
		}
	}
	if len(ids) == 0 {
		return names
	}
	stored, err := a.store().UserNames(ctx, ids)
	if err != nil {
		a.Log.Warn("mentioned users' names not read; their mentions stay as ids", "error", err)
		return names
	}
	if len(stored) == 0 {
		return names
	}
	users := maps.Clone(names.Users)
	if users == nil {
		users = map[string]string{}
	}
	maps.Copy(users, stored)
	names.Users = users
	return names
}

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
