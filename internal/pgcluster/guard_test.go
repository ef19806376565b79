//go:build integration

package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tzurot/tzurot/internal/exitguard/exitguardtest"
	"github.com/tzurot/tzurot/internal/pgcluster"
	"github.com/tzurot/tzurot/internal/testwait"
)

func TestMain(m *testing.M) {
	// The child starts a cluster with StopWithProcess in <dir>/pg.
	exitguardtest.Child(func(dir string) (string, error) {
		_, err := pgcluster.Start(context.Background(), pgcluster.Options{
			Dir: filepath.Join(dir, "pg"), StopWithProcess: true, RemoveWithProcess: dir,
		})
		return dir, err
	})
	os.Exit(m.Run())
}

// A test binary that dies before stopping its cluster (a panic, a test
// timeout, os.Exit, SIGKILL) leaves no server running and no directory:
// the guard stops the one and removes the other.
func TestGuardStopsTheServerWhenTheProcessDies(t *testing.T) {
	for _, how := range []string{"panic", "kill", "exit"} {
		t.Run(how, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "tzurot-guardtest-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = pgcluster.StopAt(context.Background(), filepath.Join(dir, "pg"))
				_ = os.RemoveAll(dir)
			})
			exitguardtest.Run(t, how, dir)
			testwait.Until(t, "the guard to stop the server and remove its directory", func() bool {
				_, err := os.Stat(dir)
				return !pgcluster.Running(filepath.Join(dir, "pg")) && os.IsNotExist(err)
			})
		})
	}
}

// Stop stops the server and ends the guard, which removes its directory.
func TestStopEndsTheGuard(t *testing.T) {
	dir, err := os.MkdirTemp("", "tzurot-guardtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{
		Dir: filepath.Join(dir, "pg"), StopWithProcess: true, RemoveWithProcess: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !pgcluster.Running(c.Dir) {
		t.Fatal("Running is false for the server just started")
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); pgcluster.Running(c.Dir) || !os.IsNotExist(err) {
		t.Errorf("after Stop: running %v, directory %v; want stopped and removed", pgcluster.Running(c.Dir), err)
	}
}
