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

// UserAPIKey is a user's own provider key, AES-256-GCM sealed (see internal/keycrypt).
type UserAPIKey struct{ ent.Schema }

func (UserAPIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{table("user_api_keys")}
}

func (UserAPIKey) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (UserAPIKey) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}),
		field.String("provider").SchemaType(varchar(32)).Default("openrouter").Annotations(entsql.Default("openrouter")),
		// iv, content and tag are lower-case hex; a 16-byte IV (32 hex) is the legacy Node format.
		field.String("iv").SchemaType(varchar(32)).NotEmpty().Sensitive(),
		field.Text("content").Sensitive(),
		field.String("tag").SchemaType(varchar(32)).NotEmpty().Sensitive(),
		field.Bool("is_active").Default(true).Annotations(entsql.Default("true")),
		field.Time("last_used_at").Optional().Nillable().SchemaType(timestamptz),
		// deactivated_by is the Temporal workflow ID of the execution whose
		// DeactivateKey switched the key off, so that exactly one workflow
		// (and its retries) tells the user; NULL while the key is on.
		field.Text("deactivated_by").Optional().Nillable(),
	}
}

func (UserAPIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("api_keys").Field("user_id").Unique().Required(),
	}
}

func (UserAPIKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "provider").Unique()}
}
