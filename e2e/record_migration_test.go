//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
	"github.com/tzurot/tzurot/workflows"
)

// TestRecordDataMigrationHistory records a shapes-import run of the
// fixtures for workflows' TestDataMigrationReplaysOldHistories. It is a
// tool, not a test: set TZUROT_RECORD_HISTORY to the file name to write
// under workflows/testdata, named for the version it records
// (data_migration_v0_shapes_import.json was recorded before the whole
// report); never re-record an older file.
func TestRecordDataMigrationHistory(t *testing.T) {
	file := os.Getenv("TZUROT_RECORD_HISTORY")
	if file == "" || filepath.Base(file) != file || len(file) < len("data_migration_") || file[:len("data_migration_")] != "data_migration_" {
		t.Skip("set TZUROT_RECORD_HISTORY to a data_migration_*.json file name of workflows/testdata to record it")
	}
	s := itest.New(t, itest.Options{})
	migrate(t, s, "shapes-import", opcli.DataMigrationOptions{BatchSize: 10, Dir: fixtures})
	recordHistory(t, s, workflows.DataMigrationID("shapes-import"), file)
}
