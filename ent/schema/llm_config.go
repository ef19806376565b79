package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
	"github.com/lib/pq"
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
		// Legacy columns, moved into advanced_parameters by the llm-config-jsonb
		// data migration and dropped by the contract migration after it verifies.
		field.Int("top_k").SchemaType(integer).Optional().Nillable(),
		field.Float("frequency_penalty").SchemaType(numeric(3, 2)).Optional().Nillable(),
		field.Float("presence_penalty").SchemaType(numeric(3, 2)).Optional().Nillable(),
		field.Float("repetition_penalty").SchemaType(numeric(3, 2)).Optional().Nillable(),
		field.Int("max_tokens").SchemaType(integer).Optional().Nillable(),
		field.Other("stop", pq.StringArray{}).SchemaType(textArray).Optional(),
		field.Int("seed").SchemaType(integer).Optional().Nillable(),
		field.JSON("logit_bias", map[string]any{}).SchemaType(jsonb).Optional(),
		field.JSON("response_format", map[string]any{}).SchemaType(jsonb).Optional(),
		field.Bool("stream_response").Optional().Nillable(),
		field.Text("system_fingerprint").Optional().Nillable(),
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
