package activities

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent/conversationhistory"
)

// SaveTurnsInput is both sides of one exchange.
type SaveTurnsInput struct {
	PersonalityID  uuid.UUID `json:"personality_id"`
	ChannelID      string    `json:"channel_id"`
	GuildID        string    `json:"guild_id,omitempty"`
	DiscordUserID  string    `json:"discord_user_id"`
	Username       string    `json:"username,omitempty"`
	UserContent    string    `json:"user_content"`
	UserMessageID  string    `json:"user_message_id"`
	ReplyContent   string    `json:"reply_content"`
	ReplyReasoning string    `json:"reply_reasoning,omitempty"`
	ReplyMessageID string    `json:"reply_message_id"`
}

// SaveTurns writes the user's message and the reply to conversation_history in
// one transaction; a retry finds the user's turn and writes nothing.
func (a *Activities) SaveTurns(ctx context.Context, in SaveTurnsInput) error {
	userID, err := a.ensureUser(ctx, in.DiscordUserID)
	if err != nil {
		return err
	}
	if in.Username != "" {
		_ = a.DB.User.UpdateOneID(userID).SetUsername(in.Username).Exec(ctx)
	}
	tx, err := a.DB.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	exists, err := tx.ConversationHistory.Query().Where(
		conversationhistory.PersonalityID(in.PersonalityID),
		conversationhistory.DiscordMessageID(in.UserMessageID),
		conversationhistory.Role("user"),
	).Exist(ctx)
	if err != nil {
		return fmt.Errorf("check history: %w", err)
	}
	if exists && in.UserMessageID != "" {
		return nil
	}
	guild := nilIfEmpty(in.GuildID)
	err = tx.ConversationHistory.CreateBulk(
		tx.ConversationHistory.Create().SetChannelID(in.ChannelID).SetNillableGuildID(guild).
			SetPersonalityID(in.PersonalityID).SetUserID(userID).SetRole("user").
			SetContent(in.UserContent).SetNillableDiscordMessageID(nilIfEmpty(in.UserMessageID)),
		tx.ConversationHistory.Create().SetChannelID(in.ChannelID).SetNillableGuildID(guild).
			SetPersonalityID(in.PersonalityID).SetRole("assistant").
			SetContent(in.ReplyContent).SetNillableReasoning(nilIfEmpty(in.ReplyReasoning)).
			SetNillableDiscordMessageID(nilIfEmpty(in.ReplyMessageID)),
	).Exec(ctx)
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return tx.Commit()
}
