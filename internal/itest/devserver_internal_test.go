//go:build integration

package itest

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tzurot/tzurot/internal/testwait"
)

// childEnv, set, makes this test binary a child that starts the dev server
// and is killed (SIGKILL) without stopping it.
const childEnv = "ITEST_DEVSERVER_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		cli, err := TemporalCLI()
		if err == nil {
			err = startDev(cli)
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		pid, _ := os.ReadFile(dev.dir + "/temporal.pid")
		os.Stdout.WriteString("started " + strings.TrimSpace(string(pid)) + " " + dev.dir + "\n")
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	Main(m)
}

// A test binary killed before it stops its dev server leaves neither the
// server nor the wrapper's directory behind.
func TestADeadBinarysDevServerEnds(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var line string // the SDK logs on stdout too
	for rd := bufio.NewReader(out); !strings.HasPrefix(line, "started "); {
		if line, err = rd.ReadString('\n'); err != nil {
			break
		}
	}
	_ = cmd.Wait()
	pidText, dir, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "started ")), " ")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 {
		t.Fatalf("the child said %q:\n%s", line, stderr.String())
	}
	testwait.Until(t, "the dev server to end", func() bool {
		err := syscall.Kill(pid, 0)
		_, serr := os.Stat(dir)
		return err != nil && os.IsNotExist(serr)
	})
}
