package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// ConversationHistory is one turn in a channel's conversation with a personality.
type ConversationHistory struct{ ent.Schema }

func (ConversationHistory) Annotations() []schema.Annotation {
	return []schema.Annotation{table("conversation_history")}
}

func (ConversationHistory) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, CreatedMixin{}} }

func (ConversationHistory) Fields() []ent.Field {
	return []ent.Field{
		field.String("channel_id").SchemaType(varchar(20)),
		field.String("guild_id").SchemaType(varchar(20)).Optional().Nillable(),
		field.UUID("personality_id", uuid.UUID{}),
		// Null for the personality's own turns.
		field.UUID("user_id", uuid.UUID{}).Optional().Nillable(),
		field.String("role").SchemaType(varchar(16)),
		field.Text("content"),
		field.String("discord_message_id").SchemaType(varchar(20)).Optional().Nillable(),
		// Expand (BYOK): the model's reasoning, kept out of the visible reply.
		field.Text("reasoning").Optional().Nillable(),
		// Expand (issue 14): the name the author of a user turn showed in
		// Discord when they said it (guild nickname, else display name, else
		// username), so the model sees who said each turn as it was then.
		// Null for the personality's own turns and for turns saved before it.
		field.Text("author_name").Optional().Nillable(),
		// Expand (issue 14): on the personality's turns, the users row of
		// the user whose turn it answered (SaveExchange writes both), so
		// /data export lists it and DeleteUserData removes it with the
		// user's own turns, in guild channels as in DMs. Null on user turns;
		// migration 0028 fills it for older turns from the user turn just
		// before each in its channel with that personality.
		field.UUID("answered_user_id", uuid.UUID{}).Optional().Nillable(),
	}
}

func (ConversationHistory) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("personality", Personality.Type).Ref("conversation_turns").Field("personality_id").Unique().Required(),
		edge.From("user", User.Type).Ref("conversation_turns").Field("user_id").Unique(),
	}
}

// Indexes serve every lookup of the reply path and of message routing
// (bot/replydb_test.go fails when one of them plans a scan that grows with the
// table):
//   - channel, personality, newest first: the history a reply is built from;
//   - Discord message id (0015): SaveTurns' "already saved" check and the
//     bot's reply-to routing, which personality wrote the message replied to;
//   - channel, newest first (0015): the personality that spoke last in a DM;
//   - user, oldest first (0021): a user's turns for /data export and
//     DeleteUserData;
//   - age (0022): the RETENTION_DAYS purge, oldest first;
//   - answered user (0028): the personality's turns answering a user, for
//     /data export and DeleteUserData.
func (ConversationHistory) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("channel_id", "personality_id", "created_at"),
		index.Fields("discord_message_id"),
		index.Fields("channel_id", "created_at"),
		index.Fields("user_id", "created_at"),
		index.Fields("created_at"),
		index.Fields("answered_user_id", "created_at"),
	}
}
