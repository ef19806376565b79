//go:build integration

package pgcluster_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tzurot/tzurot/internal/pgcluster"
	"github.com/tzurot/tzurot/internal/testwait"
)

// childEnv, set, makes this test binary the child of TestGuardStopsTheServer:
// its value is "<how to die> <directory>".
const childEnv = "PGCLUSTER_GUARD_CHILD"

func TestMain(m *testing.M) {
	if how, dir, ok := strings.Cut(os.Getenv(childEnv), " "); ok {
		guardedChild(how, dir)
	}
	os.Exit(m.Run())
}

// guardedChild starts a cluster with StopWithProcess in dir/pg, says so on
// stdout, and dies without calling Stop, as how says.
func guardedChild(how, dir string) {
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{
		Dir: filepath.Join(dir, "pg"), StopWithProcess: true, RemoveWithProcess: dir,
	})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(3)
	}
	os.Stdout.WriteString(c.Dir + "\n")
	switch how {
	case "panic": // what a failing test's panic or `go test -timeout` does
		panic("the test binary dies before Stop")
	case "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	default:
		os.Exit(1) // a TestMain that exits without Stop
	}
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
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+how+" "+dir)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder // the child's panic, shown only on a failure
			cmd.Stderr = &stderr
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("the child's stderr:\n%s", stderr.String())
				}
			})
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			_ = cmd.Wait()
			if line == "" {
				t.Fatal("the child did not start its cluster")
			}
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
