package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
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

// Indexes: besides the unique key (a retried activity's lookup), the Discord
// message id, unique among recorded posts (0022; 0015 made it plain): the
// bot routes a reply to the second or later message of a split reply by
// it, and a message is one delivery's only — PostgreSQL refuses a second
// delivery recording it, so two retries that each adopt a message they see
// in the channel can never both take the same one. The channel's pending
// posts (0016) are no longer asked for and their index is dropped.
func (Delivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("discord_message_id").Unique().StorageKey("delivery_discord_message_id").
			Annotations(entsql.IndexWhere("((discord_message_id)::text <> ''::text)")),
	}
}
