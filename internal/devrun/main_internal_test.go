//go:build integration

package devrun

import (
	"testing"

	"github.com/tzurot/tzurot/internal/testdb"
)

// TestMain stops the PostgreSQL cluster the tests started.
func TestMain(m *testing.M) { testdb.Main(m) }
