//go:build integration

package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/exitguard/exitguardtest"
	"github.com/tzurot/tzurot/internal/pgcluster"
	"github.com/tzurot/tzurot/internal/testwait"
)

func TestMain(m *testing.M) {
	// The child starts a cluster in <dir>/pg: with StopWithProcess and
	// RemoveWithProcess, or as `tzurot dev` does ("dev:<dir>": TakeOver,
	// guarded, data kept), or owned but unguarded ("owner:<dir>").
	exitguardtest.Child(func(arg string) (string, error) {
		how, dir, ok := strings.Cut(arg, ":")
		opts := pgcluster.Options{StopWithProcess: true, RemoveWithProcess: arg}
		switch {
		case ok && how == "dev":
			opts = pgcluster.Options{StopWithProcess: true, TakeOver: true}
		case ok && how == "owner":
			opts = pgcluster.Options{TakeOver: true}
		default:
			dir = arg
		}
		opts.Dir = filepath.Join(dir, "pg")
		_, err := pgcluster.Start(context.Background(), opts)
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

// `tzurot dev`'s cluster (TakeOver, guarded, no removal) is stopped when
// its process is killed, and its data is kept.
func TestDevClusterStoppedWithItsProcessKeepsItsData(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { _ = pgcluster.StopAt(context.Background(), filepath.Join(dir, "pg")) })
	exitguardtest.Run(t, "kill", "dev:"+dir)
	testwait.Until(t, "the guard to stop the server", func() bool { return !pgcluster.Running(filepath.Join(dir, "pg")) })
	if _, err := os.Stat(filepath.Join(dir, "pg", "PG_VERSION")); err != nil {
		t.Fatalf("the cluster's data is gone: %v", err)
	}
}

// A server whose owner was killed before it could stop it (no guard) is
// taken over by the next Start with TakeOver, whose Stop stops it; one
// whose owner lives is reused and left running.
func TestTakeOverAnOrphanedServer(t *testing.T) {
	dir := t.TempDir()
	pg := filepath.Join(dir, "pg")
	t.Cleanup(func() { _ = pgcluster.StopAt(context.Background(), pg) })
	exitguardtest.Run(t, "kill", "owner:"+dir)
	if !pgcluster.Running(pg) {
		t.Fatal("the unguarded server of the killed child is not running")
	}
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: pg, TakeOver: true})
	if err != nil {
		t.Fatal(err)
	}
	// A second user while this one lives: reused, not stopped by its Stop.
	other, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: pg, TakeOver: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Stop(); err != nil || !pgcluster.Running(pg) {
		t.Fatalf("the Stop of a Start that found an owned server stopped it (err %v)", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if pgcluster.Running(pg) {
		t.Error("the server taken over still runs after Stop")
	}
}
