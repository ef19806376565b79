package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
)

// LLMConfig is a personality's model and generation settings.
type LLMConfig struct{ ent.Schema }

func (LLMConfig) Annotations() []schema.Annotation {
	return []schema.Annotation{table("llm_configs")}
}

func (LLMConfig) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (LLMConfig) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("personality_id", uuid.UUID{}).Unique(),
		field.String("model").SchemaType(varchar(100)).NotEmpty(),
		field.String("vision_model").SchemaType(varchar(100)).Optional().Nillable(),
		field.Float("temperature").SchemaType(numeric(3, 2)).Optional().Nillable(),
		field.Float("top_p").SchemaType(numeric(4, 3)).Optional().Nillable(),
		// The legacy columns (top_k, frequency_penalty, presence_penalty,
		// repetition_penalty, stop, seed, logit_bias, response_format,
		// stream_response, system_fingerprint) stay in the database until the
		// contract migration, but no code reads them through ent: only the
		// llm-config-jsonb data migration, in SQL. See migrations.ContractColumns.
		field.Int("max_tokens").SchemaType(integer).Optional().Nillable(),
		field.Float("memory_score_threshold").SchemaType(numeric(4, 3)).Optional().Nillable(),
		field.Int("memory_limit").SchemaType(integer).Optional().Nillable().Default(20).Annotations(entsql.Default("20")),
		field.Int("max_conversation_history").SchemaType(integer).Optional().Nillable().Default(50).Annotations(entsql.Default("50")),
		// Expand (BYOK).
		field.String("provider").SchemaType(varchar(32)).Default("openrouter").Annotations(entsql.Default("openrouter")),
		// The llmparams document (snake_case OpenRouter parameters), validated on write.
		field.JSON("advanced_parameters", map[string]any{}).SchemaType(jsonb).
			Default(map[string]any{}).Annotations(entsql.DefaultExpr("'{}'::jsonb")),
		field.Int("max_referenced_messages").SchemaType(integer).Optional().Nillable(),
		field.Int("max_mentions_per_message").SchemaType(integer).Optional().Nillable(),
		field.Int("max_channels_per_message").SchemaType(integer).Optional().Nillable(),
		field.Int("max_roles_per_message").SchemaType(integer).Optional().Nillable(),
		field.Int("ltm_search_history_turns").SchemaType(integer).Optional().Nillable(),
	}
}

func (LLMConfig) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("personality", Personality.Type).Ref("llm_config").Field("personality_id").Unique().Required(),
	}
}
