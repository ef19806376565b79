package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"
)

//go:embed contract/*.sql
var contractFiles embed.FS

// Contract is a guarded schema migration: it drops what data migrations
// moved, and runs only once their runs are recorded as verified.
type Contract struct {
	Name     string   // what operators start: contract-llm-configs
	File     string   // in contract/
	Requires []string // data migrations that must have a verified run
}

// Contracts are the guarded migrations, in order.
var Contracts = []Contract{{
	Name:     "contract-llm-configs",
	File:     "contract/0100_contract_llm_configs.sql",
	Requires: []string{"llm-config-jsonb", "custom-fields"},
}}

// FindContract returns the contract called name.
func FindContract(name string) (Contract, bool) {
	for _, c := range Contracts {
		if c.Name == name {
			return c, true
		}
	}
	return Contract{}, false
}

// ApplyContract applies c after checking its prerequisites; applying it twice
// is a no-op.
func ApplyContract(ctx context.Context, db *sql.DB, c Contract) (applied bool, err error) {
	var missing []string
	for _, name := range c.Requires {
		var ok bool
		err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM migration_runs WHERE name = $1 AND outcome = 'succeeded' AND verified AND NOT dry_run)`, name).Scan(&ok)
		if err != nil {
			return false, fmt.Errorf("check %s: %w", name, err)
		}
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Errorf("%s refused: no verified run of %s yet; run `tzurot migrate data start %s` first", c.Name, strings.Join(missing, ", "), missing[0])
	}
	b, err := contractFiles.ReadFile(c.File)
	if err != nil {
		return false, err
	}
	version, desc, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(c.File, "contract/"), ".sql"), "_")
	var done bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	m := Migration{Version: version, Name: desc, SQL: string(b), Checksum: checksum(b)}
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return false, err
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", lockID) //nolint:errcheck // released with the connection anyway
	return true, apply(ctx, conn, m)
}
