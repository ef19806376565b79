package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
)

// VoiceConfig is a personality's ElevenLabs voice.
type VoiceConfig struct{ ent.Schema }

func (VoiceConfig) Annotations() []schema.Annotation {
	return []schema.Annotation{
		table("voice_configs"),
		entsql.Checks(between01("stability", "similarity", "style", "frequency")),
	}
}

func (VoiceConfig) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (VoiceConfig) Fields() []ent.Field {
	slider := func(name string, def float64, sqlDef string) ent.Field {
		return field.Float(name).SchemaType(numeric(3, 2)).Default(def).Range(0, 1).Annotations(entsql.Default(sqlDef))
	}
	return []ent.Field{
		field.UUID("personality_id", uuid.UUID{}).Unique(),
		field.Text("voice_id").NotEmpty(),
		field.Text("voice_model").Default("eleven_flash_v2_5").Annotations(entsql.Default("eleven_flash_v2_5")),
		slider("stability", 0.5, "0.5"),
		slider("similarity", 0.75, "0.75"),
		slider("style", 0, "0"),
		// The share of replies that are also spoken: 0 never, 1 always.
		slider("frequency", 0, "0"),
	}
}

func (VoiceConfig) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("personality", Personality.Type).Ref("voice_config").Field("personality_id").Unique().Required(),
	}
}
