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

// PersonalityAlias is another name a personality answers to. Aliases keep the
// case they were written in and are unique regardless of case: the unique index
// on lower(alias) is written by hand in migrations/, because ent cannot express
// an expression index.
type PersonalityAlias struct{ ent.Schema }

// LowerAliasIndex is the hand-written unique index on lower(alias).
const LowerAliasIndex = "personality_aliases_alias_lower_key"

func (PersonalityAlias) Annotations() []schema.Annotation {
	return []schema.Annotation{table("personality_aliases")}
}

func (PersonalityAlias) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (PersonalityAlias) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("personality_id", uuid.UUID{}),
		field.Text("alias").NotEmpty(),
	}
}

func (PersonalityAlias) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("personality", Personality.Type).Ref("aliases").Field("personality_id").Unique().Required().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (PersonalityAlias) Indexes() []ent.Index {
	return []ent.Index{index.Fields("personality_id")}
}
