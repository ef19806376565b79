// Package schema is the hand-written ent schema of tzurot's database: the legacy
// baseline tables plus the bring-your-own-key target model.
package schema

import (
	"strconv"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"
)

// IDMixin gives every table a uuid primary key that the database can also fill,
// because the legacy system inserted rows without ids.
type IDMixin struct{ mixin.Schema }

func (IDMixin) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).
			Default(uuid.New).
			Immutable().
			Annotations(entsql.DefaultExpr("gen_random_uuid()")),
	}
}

// CreatedMixin is for append-only tables.
type CreatedMixin struct{ mixin.Schema }

func (CreatedMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			SchemaType(timestamptz).
			Annotations(entsql.DefaultExpr("now()")),
	}
}

// TimeMixin is created_at plus updated_at, as every legacy table has.
type TimeMixin struct{ mixin.Schema }

func (TimeMixin) Fields() []ent.Field {
	return append(CreatedMixin{}.Fields(),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			SchemaType(timestamptz).
			Annotations(entsql.DefaultExpr("now()")),
	)
}

var (
	timestamptz = map[string]string{dialect.Postgres: "timestamptz"}
	integer     = map[string]string{dialect.Postgres: "integer"}
	smallint    = map[string]string{dialect.Postgres: "smallint"}
	jsonb       = map[string]string{dialect.Postgres: "jsonb"}
)

func numeric(precision, scale int) map[string]string {
	return map[string]string{dialect.Postgres: "numeric(" + strconv.Itoa(precision) + "," + strconv.Itoa(scale) + ")"}
}

func varchar(n int) map[string]string {
	return map[string]string{dialect.Postgres: "varchar(" + strconv.Itoa(n) + ")"}
}

// table names the SQL table explicitly; ent would otherwise pluralise differently
// (conversation_histories) from the legacy database.
func table(name string) entsql.Annotation { return entsql.Annotation{Table: name} }

// between01 is a check for the 0..1 voice sliders stored as numeric(3,2).
func between01(cols ...string) map[string]string {
	checks := map[string]string{}
	for _, c := range cols {
		checks["voice_configs_"+c+"_range"] = c + " >= 0 AND " + c + " <= 1"
	}
	return checks
}
