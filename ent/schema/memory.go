package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// Memory is one long-term memory a personality keeps about one user, with
// the embedding it is recalled by (internal/memory). Memories are scoped to
// the (personality, user) pair: every read names both.
type Memory struct{ ent.Schema }

func (Memory) Annotations() []schema.Annotation { return []schema.Annotation{table("memories")} }

func (Memory) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, CreatedMixin{}} }

var bytea = map[string]string{dialect.Postgres: "bytea"}

func (Memory) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("personality_id", uuid.UUID{}),
		field.UUID("user_id", uuid.UUID{}),
		field.Text("content").NotEmpty(),
		// The OpenRouter embedding model that made embedding; vectors of
		// different models are never compared.
		field.String("model").SchemaType(varchar(100)).NotEmpty(),
		// The embedding as little-endian float32s (4 bytes a dimension).
		field.Bytes("embedding").SchemaType(bytea).NotEmpty(),
		// The sign bit of each dimension, packed little-endian in 64-bit
		// words: the first pass of a search compares these (Hamming).
		field.Bytes("signature").SchemaType(bytea).NotEmpty(),
	}
}

func (Memory) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("personality", Personality.Type).Ref("memories").Field("personality_id").Unique().Required(),
		edge.From("user", User.Type).Ref("memories").Field("user_id").Unique().Required(),
	}
}

// Indexes: the pair, oldest to newest (id breaking ties), serves every read
// of internal/memory: its pages, newest first; the signatures a search
// loads, and those added since it last looked — an index-only scan, as the
// index carries model and signature (0025): at 1,000,000 rows the planner
// otherwise reads the first load through the user's index, the heap and a
// sort on disk, over a second for a pair of 100,000 (BENCHMARKS.md). Forgetting one memory goes
// by the primary key. The user's, oldest first (0021), serves /data export
// and DeleteUserData, which read every pair of one user. Age alone (0022)
// serves the RETENTION_DAYS purge, oldest first.
func (Memory) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("personality_id", "user_id", "created_at", "id").
			Annotations(entsql.IncludeColumns("model", "signature")),
		index.Fields("user_id", "created_at"),
		index.Fields("created_at"),
	}
}
