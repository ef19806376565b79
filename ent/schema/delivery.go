package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
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
		// Expand (issue 14): the personality a reply's post spoke as, so a
		// Discord reply to it reaches that personality even when no
		// conversation turn records it (a refusal: no key, an image it
		// cannot take). Null for other posts and rows written before it.
		field.UUID("personality_id", uuid.UUID{}).Optional().Nillable(),
	}
}

// Indexes: besides the unique key (a retried activity's lookup), the Discord
// message id, unique among recorded posts (0027; 0015 made it plain): the
// bot routes a reply to the second or later message of a split reply by
// it, and a message is one delivery's only — PostgreSQL refuses a second
// delivery recording it, so two retries that each adopt a message they see
// in the channel can never both take the same one. The channel's pending
// posts (0016) are no longer asked for and their index is dropped.
// The retention purges (activities/operator/retention.go) read the rows by
// age in two halves (0022): replies' rows (key reply/<request>/reply/<n>),
// which the bot's reply-to routing needs as long as the conversation's turns
// are kept, and every other row, whose only use ends with its workflow.
func (Delivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("discord_message_id").Unique().StorageKey("delivery_discord_message_id").
			Annotations(entsql.IndexWhere("((discord_message_id)::text <> ''::text)")),
		index.Fields("created_at").StorageKey("deliveries_replies_created_at").
			Annotations(entsql.IndexWhere("(key ~~ 'reply/%/reply/%'::text)")),
		index.Fields("created_at").StorageKey("deliveries_others_created_at").
			Annotations(entsql.IndexWhere("(key !~~ 'reply/%/reply/%'::text)")),
	}
}
