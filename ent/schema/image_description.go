package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// ImageDescription is what the vision model said of one request's images,
// kept so that a retried Generate (a provider 429 or 5xx after the images
// were described) does not pay for the description again
// (activities/images.go). Its id derives from the request, the vision
// model and the attachments; it is the user's, deleted with them, and
// pruned after a day.
type ImageDescription struct{ ent.Schema }

func (ImageDescription) Annotations() []schema.Annotation {
	return []schema.Annotation{table("image_descriptions")}
}

func (ImageDescription) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, CreatedMixin{}} }

func (ImageDescription) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}),
		field.Text("description"),
	}
}

func (ImageDescription) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("image_descriptions").Field("user_id").Unique().Required(),
	}
}

// Indexes: the user's, oldest first, serves the pruning of their old rows.
func (ImageDescription) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at")}
}
