package bot

// What the workflows the bot starts show operators in the Web UI: a static
// summary and details, and the search attributes known at the start
// (internal/searchattr), set only when the namespace has them. Never a key,
// a token or message content.

import (
	"fmt"

	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/searchattr"
)

// replySummary is GenerateReply's static summary: `alice → kerach`. The
// model and whose key pays are decided in the worker (the user's /config,
// their key, GUEST_MODE), so they follow in the current details and the
// search attributes rather than here.
func replySummary(username, personality string) string {
	return username + " → " + personality
}

// replyDetails is GenerateReply's static details: the message answered, as
// a link, and who asked whom.
func replyDetails(userID, username, personality, personalityID, guildID, channelID, messageID string) string {
	return fmt.Sprintf("Reply to [message %s](%s) by user %s (%s) as personality %s (%s).\n\n"+
		"Model, key source, outcome and tokens: the current details and the Tzurot search attributes.",
		messageID, messageLink(guildID, channelID, messageID), userID, username, personality, personalityID)
}

// messageLink is Discord's link to a message (`@me` for a DM).
func messageLink(guildID, channelID, messageID string) string {
	if guildID == "" {
		guildID = "@me"
	}
	return fmt.Sprintf("https://discord.com/channels/%s/%s/%s", guildID, channelID, messageID)
}

// keyCheckSummary is ValidateAPIKey's static summary:
// `alice · /wallet set · OpenRouter key`.
func keyCheckSummary(username, providerID string, retest bool) string {
	cmd := "/wallet set"
	if retest {
		cmd = "/wallet test"
	}
	return username + " · " + cmd + " · " + provider.NameOf(providerID) + " key"
}

// imagineSummary is ImagineImage's static summary: `alice → kerach ·
// /imagine 1024x1024`; the prompt is the user's text, so it stays out.
func imagineSummary(username, personality, size string) string {
	s := username + " → " + personality + " · /imagine"
	if size != "" {
		s += " " + size
	}
	return s
}

// startValues are the search attributes known when a workflow starts: the
// user, and the personality or whose key when there is one.
func startValues(userID, personality, keySource string) []searchattr.Value {
	return []searchattr.Value{
		searchattr.Keyword(searchattr.User, userID),
		searchattr.Keyword(searchattr.Personality, personality),
		searchattr.Keyword(searchattr.KeySource, keySource),
	}
}
