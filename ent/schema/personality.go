package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
)

// Personality is an AI character that answers in Discord channels. Lookups
// by name and display name in any case (lower(col) = lower($1)) use the
// expression indexes personalities_name_lower and
// personalities_display_name_lower, written by hand in migrations/0015
// because ent cannot express them.
type Personality struct{ ent.Schema }

func (Personality) Annotations() []schema.Annotation {
	return []schema.Annotation{table("personalities")}
}

func (Personality) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (Personality) Fields() []ent.Field {
	fields := []ent.Field{
		field.Text("name").NotEmpty().Unique(),
		field.Text("display_name").Optional().Nillable(),
		field.Text("avatar_url").Optional().Nillable(),
		field.Text("system_prompt").Optional().Nillable(),
		field.Text("character_info").Optional().Nillable(),
	}
	for _, card := range []string{
		"personality_traits", "personality_tone", "personality_age", "personality_appearance",
		"personality_likes", "personality_dislikes", "conversational_goals", "conversational_examples",
	} {
		fields = append(fields, field.Text(card).Optional().Nillable())
	}
	return append(fields,
		field.Bool("voice_enabled").Default(false).Annotations(entsql.Default("false")),
		// voice_settings (legacy) stays in the database until the contract
		// migration; only the custom-fields data migration reads it, in SQL.
		// Legacy grab-bag; errorMessage, aliases and birthday move to columns and tables.
		field.JSON("custom_fields", map[string]any{}).Optional().SchemaType(jsonb),
		// Expand (BYOK).
		field.Text("error_message").Optional().Nillable(),
		field.Int16("birth_month").Optional().Nillable().SchemaType(smallint).Range(1, 12),
		field.Int16("birth_day").Optional().Nillable().SchemaType(smallint).Range(1, 31),
		field.Int16("birth_year").Optional().Nillable().SchemaType(smallint),
		// A null owner is a system personality, kept when its creator leaves.
		field.UUID("owner_id", uuid.UUID{}).Optional().Nillable(),
		field.Bool("is_public").Default(true).Annotations(entsql.Default("true")),
		// Whether replies are posted as they are written (edited as the
		// text arrives) or whole once done; /config personality streaming.
		field.Bool("streaming").Default(true).Annotations(entsql.Default("true")),
	)
}

func (Personality) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("owner", User.Type).Ref("owned_personalities").Field("owner_id").Unique(),
		edge.To("llm_config", LLMConfig.Type).Unique().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("voice_config", VoiceConfig.Type).Unique().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("image_config", ImageConfig.Type).Unique().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("aliases", PersonalityAlias.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("conversation_turns", ConversationHistory.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("usage_logs", UsageLog.Type).Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("user_configs", UserPersonalityConfig.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("memories", Memory.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}
