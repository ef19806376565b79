package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Delivery records a Discord message an activity posted, under a key derived
// from the workflow (reply/<request_id>/reply, …/dm), so that a retried
// activity finds its earlier post instead of posting twice.
type Delivery struct{ ent.Schema }

func (Delivery) Annotations() []schema.Annotation { return []schema.Annotation{table("deliveries")} }

func (Delivery) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, CreatedMixin{}} }

func (Delivery) Fields() []ent.Field {
	return []ent.Field{
		field.Text("key").NotEmpty().Unique(),
		field.String("channel_id").SchemaType(varchar(20)),
		field.String("discord_message_id").SchemaType(varchar(20)),
	}
}
