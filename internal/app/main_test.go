//go:build integration

package app_test

import (
	"testing"

	"github.com/tzurot/tzurot/internal/itest"
)

// TestMain stops the dev server and the PostgreSQL cluster the tests started.
func TestMain(m *testing.M) { itest.Main(m) }
