package exitguard_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tzurot/tzurot/internal/exitguard"
	"github.com/tzurot/tzurot/internal/exitguard/exitguardtest"
	"github.com/tzurot/tzurot/internal/testwait"
)

func TestMain(m *testing.M) {
	// The child guards `touch <file>`.
	exitguardtest.Child(func(file string) (string, error) {
		_, err := exitguard.Start("", nil, "touch", file)
		return file, err
	})
	os.Exit(m.Run())
}

// However the process ends, the guard runs its command after it.
func TestTheCommandRunsWhenTheProcessEnds(t *testing.T) {
	for _, how := range []string{"exit", "panic", "kill"} {
		t.Run(how, func(t *testing.T) {
			file := exitguardtest.Run(t, how, filepath.Join(t.TempDir(), "ran"))
			testwait.Until(t, "the guard to run its command", func() bool {
				_, err := os.Stat(file)
				return err == nil
			})
		})
	}
}

// Fire runs the command at once; Release ends the guard without it.
func TestFireRunsAndReleaseDoesNot(t *testing.T) {
	dir := t.TempDir()
	fired, released := filepath.Join(dir, "fired"), filepath.Join(dir, "released")
	g, err := exitguard.Start("", nil, "touch", fired)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Fire(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fired); err != nil {
		t.Errorf("Fire did not run the command: %v", err)
	}
	g, err = exitguard.Start("", nil, "touch", released)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(released); !os.IsNotExist(err) {
		t.Errorf("Release ran the command: %v", err)
	}
}
