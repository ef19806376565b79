package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/conversationhistory"
)

// Roles of conversation turns.
const (
	roleUser      = "user"
	roleAssistant = "assistant"
)

// Answered is the personality whose reply the Discord message messageID is
// (the first message of a reply: later parts are only in deliveries).
func (s *Store) Answered(ctx context.Context, messageID string) (uuid.UUID, bool) {
	return s.turnOf(ctx, messageID, roleAssistant)
}

// AskedOf is the personality the user's Discord message messageID was sent to.
func (s *Store) AskedOf(ctx context.Context, messageID string) (uuid.UUID, bool) {
	return s.turnOf(ctx, messageID, roleUser)
}

func (s *Store) turnOf(ctx context.Context, messageID, role string) (uuid.UUID, bool) {
	row, err := s.db.ConversationHistory.Query().Where(
		conversationhistory.DiscordMessageID(messageID), conversationhistory.Role(role),
	).First(ctx)
	if err != nil {
		return uuid.Nil, false
	}
	return row.PersonalityID, true
}

// LastInChannel is the personality that spoke last in the channel; ok is
// false when none has.
func (s *Store) LastInChannel(ctx context.Context, channelID string) (id uuid.UUID, ok bool, err error) {
	row, err := s.db.ConversationHistory.Query().Where(conversationhistory.ChannelID(channelID)).
		Order(ent.Desc(conversationhistory.FieldCreatedAt)).First(ctx)
	if ent.IsNotFound(err) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("find the channel's last personality: %w", err)
	}
	return row.PersonalityID, true, nil
}

// History is the last limit turns of the personality in the channel,
// oldest first, newest last (by created_at), each user turn with its user
// (Edges.User: Discord id and last known username) for naming its author.
func (s *Store) History(ctx context.Context, channelID string, personalityID uuid.UUID, limit int) ([]*ent.ConversationHistory, error) {
	rows, err := s.db.ConversationHistory.Query().
		Where(conversationhistory.ChannelID(channelID), conversationhistory.PersonalityID(personalityID)).
		WithUser().
		Order(ent.Desc(conversationhistory.FieldCreatedAt)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, err
	}
	slices.Reverse(rows)
	return rows, nil
}

// Exchange is one user message to a personality in a channel and the reply
// to it, as SaveExchange stores them; empty optional fields are stored NULL.
type Exchange struct {
	PersonalityID uuid.UUID
	// ChannelID and GuildID ("" in a DM) are where it was said.
	ChannelID, GuildID string
	// UserID is the user's row id (UpsertUser).
	UserID uuid.UUID
	// UserContent and UserMessageID are the user's message and its Discord id.
	UserContent, UserMessageID string
	// AuthorName is the name the user showed in Discord when they said it
	// (conversation_history.author_name); "" stores NULL.
	AuthorName string
	// ReplyContent, ReplyReasoning and ReplyMessageID are the reply, its
	// reasoning and its first Discord message's id.
	ReplyContent, ReplyReasoning, ReplyMessageID string
}

// SaveExchange writes the user's turn and the reply's to
// conversation_history in one transaction, the reply's turn naming the
// user it answered (answered_user_id). When the user's turn with that
// message id is stored already (a retry), it writes nothing and returns nil.
func (s *Store) SaveExchange(ctx context.Context, e Exchange) error {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	exists, err := tx.ConversationHistory.Query().Where(
		conversationhistory.PersonalityID(e.PersonalityID),
		conversationhistory.DiscordMessageID(e.UserMessageID),
		conversationhistory.Role(roleUser),
	).Exist(ctx)
	if err != nil {
		return fmt.Errorf("check history: %w", err)
	}
	if exists && e.UserMessageID != "" {
		return nil
	}
	guild := nilIfEmpty(e.GuildID)
	err = tx.ConversationHistory.CreateBulk(
		tx.ConversationHistory.Create().SetChannelID(e.ChannelID).SetNillableGuildID(guild).
			SetPersonalityID(e.PersonalityID).SetUserID(e.UserID).SetRole(roleUser).
			SetContent(e.UserContent).SetNillableDiscordMessageID(nilIfEmpty(e.UserMessageID)).
			SetNillableAuthorName(nilIfEmpty(e.AuthorName)),
		tx.ConversationHistory.Create().SetChannelID(e.ChannelID).SetNillableGuildID(guild).
			SetPersonalityID(e.PersonalityID).SetAnsweredUserID(e.UserID).SetRole(roleAssistant).
			SetContent(e.ReplyContent).SetNillableReasoning(nilIfEmpty(e.ReplyReasoning)).
			SetNillableDiscordMessageID(nilIfEmpty(e.ReplyMessageID)),
	).Exec(ctx)
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return tx.Commit()
}

// nilIfEmpty is nil for "", so an optional column stays NULL.
func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
