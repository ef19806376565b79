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
		// ContentHash is the SHA-256 of the text the post carries, so that a
		// retry adopting a message it sees in the channel counts as possible
		// authors only the pending posts of the same text (0022); NULL on
		// rows begun before it, which count as possible authors of any text.
		field.Bytes("content_hash").Optional().Nillable(),
	}
}

// Indexes: besides the unique key (a retried activity's lookup), the Discord
// message id (0015), by which the bot routes a reply to the second or later
// message of a split reply; and the channel of the posts begun and not yet
// recorded (0016), which a retry checks before adopting a message that
// could be one of theirs. Only pending rows are in it, so it stays small.
func (Delivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("discord_message_id"),
		index.Fields("channel_id", "created_at").StorageKey("deliveries_pending_channel").
			Annotations(entsql.IndexWhere("((discord_message_id)::text = ''::text)")),
	}
}
