package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Denial is one entry of the moderation deny list: a Discord user the bot
// ignores (no replies, no commands) or a guild it leaves. Written and removed
// by /admin deny and /admin allow.
type Denial struct{ ent.Schema }

func (Denial) Annotations() []schema.Annotation {
	return []schema.Annotation{table("denials")}
}

func (Denial) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, CreatedMixin{}} }

func (Denial) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("user", "guild").SchemaType(varchar(8)),
		// The denied user's or guild's Discord id (a snowflake).
		field.String("discord_id").SchemaType(varchar(20)),
		// The Discord id of the superuser or operator who denied it.
		field.String("denied_by").SchemaType(varchar(20)),
		field.Text("reason").Optional().Nillable(),
	}
}

func (Denial) Indexes() []ent.Index {
	return []ent.Index{index.Fields("kind", "discord_id").Unique()}
}
