//go:build integration

package devrun

import (
	"testing"

	"github.com/tzurot/tzurot/internal/itest"
)

// TestMain stops the PostgreSQL cluster the tests started.
func TestMain(m *testing.M) { itest.Main(m) }
