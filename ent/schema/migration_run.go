package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// MigrationRun records one run of a data migration, so the same migration is
// not applied twice by accident and the contract step can see what was
// verified.
type MigrationRun struct{ ent.Schema }

func (MigrationRun) Annotations() []schema.Annotation {
	return []schema.Annotation{table("migration_runs")}
}

func (MigrationRun) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

func (MigrationRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").SchemaType(varchar(64)),
		field.String("workflow_id").SchemaType(varchar(200)),
		field.Bool("dry_run").Default(false),
		// running, succeeded, failed, cancelled
		field.String("outcome").SchemaType(varchar(16)).Default("running"),
		field.Bool("verified").Default(false),
		field.Time("finished_at").Optional().Nillable().SchemaType(timestamptz),
		field.Text("backup_path").Optional().Nillable(),
		// Rows read, changed, unchanged, reported — and the verification report.
		field.JSON("counts", map[string]int64{}).SchemaType(jsonb).Default(map[string]int64{}),
		field.JSON("report", []string{}).SchemaType(jsonb).Optional(),
	}
}

func (MigrationRun) Indexes() []ent.Index {
	return []ent.Index{index.Fields("name", "outcome")}
}
