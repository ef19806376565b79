//go:build integration

package itest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tzurot/tzurot/internal/exitguard/exitguardtest"
	"github.com/tzurot/tzurot/internal/testwait"
)

func TestMain(m *testing.M) {
	// The child starts the dev server and says its process id and the
	// wrapper's directory.
	exitguardtest.Child(func(string) (string, error) {
		cli, err := TemporalCLI()
		if err == nil {
			err = startDev(cli)
		}
		pid, _ := os.ReadFile(dev.dir + "/temporal.pid")
		return strings.TrimSpace(string(pid)) + " " + dev.dir, err
	})
	Main(m)
}

// A test binary killed before it stops its dev server leaves neither the
// server nor the wrapper's directory behind.
func TestADeadBinarysDevServerEnds(t *testing.T) {
	pidText, dir, _ := strings.Cut(exitguardtest.Run(t, "kill", "-"), " ")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || dir == "" {
		t.Fatalf("the child said %q %q", pidText, dir)
	}
	testwait.Until(t, "the dev server to end", func() bool {
		err := syscall.Kill(pid, 0)
		_, serr := os.Stat(dir)
		return err != nil && os.IsNotExist(serr)
	})
}
