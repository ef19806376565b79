package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
)

// ImageConfig is a personality's image model for /imagine.
type ImageConfig struct{ ent.Schema }

func (ImageConfig) Annotations() []schema.Annotation {
	return []schema.Annotation{table("image_configs")}
}

func (ImageConfig) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (ImageConfig) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("personality_id", uuid.UUID{}).Unique(),
		field.String("provider").SchemaType(varchar(32)).Default("openrouter").Annotations(entsql.Default("openrouter")),
		field.String("model").SchemaType(varchar(100)).NotEmpty(),
		field.Bool("enabled").Default(false).Annotations(entsql.Default("false")),
		field.String("default_size").SchemaType(varchar(16)).Default("1024x1024").Annotations(entsql.Default("1024x1024")),
		field.JSON("advanced_parameters", map[string]any{}).SchemaType(jsonb).
			Default(map[string]any{}).Annotations(entsql.DefaultExpr("'{}'::jsonb")),
	}
}

func (ImageConfig) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("personality", Personality.Type).Ref("image_config").Field("personality_id").Unique().Required(),
	}
}
