package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// UserPersonalityConfig is one user's own overrides of a personality's model
// and advanced parameters (/config set), applied to that user's replies only.
type UserPersonalityConfig struct{ ent.Schema }

func (UserPersonalityConfig) Annotations() []schema.Annotation {
	return []schema.Annotation{table("user_personality_configs")}
}

func (UserPersonalityConfig) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (UserPersonalityConfig) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}),
		field.UUID("personality_id", uuid.UUID{}),
		field.String("model").SchemaType(varchar(100)).Optional().Nillable(),
		// An llmparams document merged over the personality's own.
		field.JSON("advanced_parameters", map[string]any{}).SchemaType(jsonb).
			Default(map[string]any{}).Annotations(entsql.DefaultExpr("'{}'::jsonb")),
	}
}

func (UserPersonalityConfig) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("personality_configs").Field("user_id").Unique().Required(),
		edge.From("personality", Personality.Type).Ref("user_configs").Field("personality_id").Unique().Required(),
	}
}

func (UserPersonalityConfig) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "personality_id").Unique()}
}
