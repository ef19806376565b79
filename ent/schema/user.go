package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User is a Discord user who has talked to the bot.
type User struct{ ent.Schema }

func (User) Annotations() []schema.Annotation { return []schema.Annotation{table("users")} }

func (User) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("discord_id").SchemaType(varchar(20)).NotEmpty().Unique(),
		field.Text("username").Optional().Nillable(),
		// Expand (BYOK): the user's IANA zone for the prompt's local time.
		field.Text("timezone").Default("UTC").Annotations(entsql.Default("UTC")),
		field.Bool("is_superuser").Default(false).Annotations(entsql.Default("false")),
		// /memory incognito: while true, nothing new is remembered about the
		// user (store.Incognito).
		field.Bool("incognito").Default(false).Annotations(entsql.Default("false")),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("api_keys", UserAPIKey.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("owned_personalities", Personality.Type).Annotations(entsql.OnDelete(entsql.SetNull)),
		// Usage outlives its user as anonymous totals (DeleteUserData).
		edge.To("usage_logs", UsageLog.Type).Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("conversation_turns", ConversationHistory.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("personality_configs", UserPersonalityConfig.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("memories", Memory.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("image_descriptions", ImageDescription.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}
