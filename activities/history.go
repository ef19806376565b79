package activities

import (
	"context"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/internal/store"
)

// SaveTurnsInput is both sides of one exchange. Username is the name the
// user showed in Discord (guild nickname, else display name, else
// username), stored as the user turn's author_name.
type SaveTurnsInput struct {
	// Mentions name the mentions in UserContent, as GenerateInput's do
	// (optional: histories before it have none; the speaker's own mention
	// is named by Username either way).
	Mentions       *MentionNames `json:"mentions,omitempty"`
	PersonalityID  uuid.UUID     `json:"personality_id"`
	ChannelID      string        `json:"channel_id"`
	GuildID        string        `json:"guild_id,omitempty"`
	DiscordUserID  string        `json:"discord_user_id"`
	Username       string        `json:"username,omitempty"`
	UserContent    string        `json:"user_content"`
	UserMessageID  string        `json:"user_message_id"`
	ReplyContent   string        `json:"reply_content"`
	ReplyReasoning string        `json:"reply_reasoning,omitempty"`
	ReplyMessageID string        `json:"reply_message_id"`
}

// SaveTurns writes the user's message and the reply to conversation_history in
// one transaction; a retry finds the user's turn and writes nothing. Both
// are kept with their mentions as names (namedExchange: Mentions, and the
// speaker as Username, within the personality's mention limits), as the
// model saw them: a later prompt cannot name a user who is not speaking
// in its window.
func (a *Activities) SaveTurns(ctx context.Context, in SaveTurnsInput) error {
	userID, err := a.ensureUser(ctx, in.DiscordUserID, in.Username)
	if err != nil {
		return err
	}
	user, reply, err := a.namedExchange(ctx, in.PersonalityID, exchangeNames(in.Mentions, in.DiscordUserID, in.Username), in.UserContent, in.ReplyContent)
	if err != nil {
		return err
	}
	return a.store().SaveExchange(ctx, store.Exchange{
		PersonalityID: in.PersonalityID, ChannelID: in.ChannelID, GuildID: in.GuildID, UserID: userID,
		UserContent: user, UserMessageID: in.UserMessageID, AuthorName: in.Username,
		ReplyContent: reply, ReplyReasoning: in.ReplyReasoning, ReplyMessageID: in.ReplyMessageID,
	})
}
