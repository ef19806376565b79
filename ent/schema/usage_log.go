package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// UsageLog is one provider call that returned usage; limits and /usage count
// tokens and US dollars from here.
type UsageLog struct{ ent.Schema }

func (UsageLog) Annotations() []schema.Annotation {
	return []schema.Annotation{table("usage_logs")}
}

func (UsageLog) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

func (UsageLog) Fields() []ent.Field {
	return []ent.Field{
		// Null once the user's data was deleted (DeleteUserData): the row
		// stays in the totals, no longer anyone's.
		field.UUID("user_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("personality_id", uuid.UUID{}).Optional().Nillable(),
		field.String("provider").SchemaType(varchar(32)),
		field.String("model").SchemaType(varchar(100)),
		field.Int("tokens_in").SchemaType(integer).Default(0).NonNegative().Annotations(entsql.Default("0")),
		field.Int("tokens_out").SchemaType(integer).Default(0).NonNegative().Annotations(entsql.Default("0")),
		field.Int("tokens_total").SchemaType(integer).Default(0).NonNegative().Annotations(entsql.Default("0")),
		field.Enum("request_type").Values("text", "voice", "image", "embedding").SchemaType(varchar(10)),
		// What the call cost in US dollars, as the provider reported it
		// (OpenRouter's usage.cost, in credits, which are USD); null when it
		// reported none (ElevenLabs, rows from before the column).
		field.Float("cost_usd").SchemaType(numeric(16, 10)).Optional().Nillable(),
		// Append-only: the seeds name this column timestamp and keep no updated_at.
		field.Time("timestamp").Default(time.Now).Immutable().SchemaType(timestamptz).
			Annotations(entsql.DefaultExpr("now()")),
	}
}

func (UsageLog) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("usage_logs").Field("user_id").Unique(),
		edge.From("personality", Personality.Type).Ref("usage_logs").Field("personality_id").Unique(),
	}
}

func (UsageLog) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "timestamp"),
		index.Fields("provider"),
		index.Fields("request_type"),
	}
}
