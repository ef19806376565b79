// Package operator is the operator's work on tzurot's data, apart from the
// reply path: data migrations (each backed up with pg_dump first, and rolled
// back from that backup) and master-key rotation. Activities is one struct of
// injected dependencies, registered by the worker beside the reply path's
// activities.Activities; workflows name its methods through a nil
// *Activities. Activity names are the method names.
package operator

import (
	"context"
	"database/sql"
	"log/slog"

	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/keycrypt"
)

// Activities holds what the operator's activities use. Build it once in the
// worker; the command line builds one for Rollback.
type Activities struct {
	DB *ent.Client
	// SQL is the same database, for the migrations' set-based statements,
	// the rollback's transaction and the rotation's conditional updates.
	SQL *sql.DB
	// Keys seals and opens user_api_keys: rotation re-seals rows that only
	// the previous master key opens.
	Keys *keycrypt.Keyring
	Log  *slog.Logger

	// DatabaseURL is what pg_dump connects to (through the environment,
	// never its argv: see pgEnv).
	DatabaseURL string
	// BackupDir is MIGRATION_BACKUP_DIR: the migrations' backups and
	// reports, 0700.
	BackupDir string
	// PGBinDir is the folder holding pg_dump and pg_restore; empty means
	// PATH. Tests point it at wrappers that record the tools' argv.
	PGBinDir string
}

// resumed is the progress that a retried attempt's last heartbeat carried,
// so a long activity goes on where the killed attempt stopped; start when
// there is none (a first attempt) or it does not decode as T.
func resumed[T any](ctx context.Context, start T) T {
	if activity.HasHeartbeatDetails(ctx) {
		var saved T
		if err := activity.GetHeartbeatDetails(ctx, &saved); err == nil {
			return saved
		}
	}
	return start
}
