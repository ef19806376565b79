package store

import (
	"context"
	"fmt"

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
