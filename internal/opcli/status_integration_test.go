//go:build integration

package opcli

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// `tzurot migrate data status` has a row for every migration start takes,
// the guarded schema changes too, with Temporal down.
func TestDataMigrationStatusListsEveryMigration(t *testing.T) {
	cfg := config.Config{DatabaseURL: redact.Secret(testdb.URL(t)), TemporalAddress: "127.0.0.1:1", TemporalNamespace: "default"}
	var out bytes.Buffer
	if err := DataMigrationStatus(context.Background(), cfg, "", &out, slog.Default()); err != nil {
		t.Fatal(err)
	}
	for _, name := range MigrationNames() {
		if !strings.Contains(out.String(), "\n"+name+" ") {
			t.Errorf("no row for %s:\n%s", name, out.String())
		}
	}
	if !strings.Contains(out.String(), "contract-llm-configs  never") {
		t.Errorf("contract-llm-configs is not shown as never applied:\n%s", out.String())
	}
}
