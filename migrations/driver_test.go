//go:build integration

package migrations_test

import (
	"database/sql"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

func entsqlDriver(db *sql.DB) *entsql.Driver { return entsql.OpenDB(dialect.Postgres, db) }
