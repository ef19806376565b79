// Package exitguardtest runs a test binary again as a child that starts
// something guarded and then dies, for the tests of exitguard and of the
// servers it guards.
package exitguardtest

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// Env names the environment variable that makes a test binary a child: its
// TestMain calls Child first, which acts only when it is set.
const Env = "EXITGUARDTEST_CHILD"

// Child, in a child (Env set to "<how> <arg>"), runs start with arg,
// prints "started <what start returned>" on stdout and dies as how says
// ("panic", "kill" for SIGKILL, anything else os.Exit(1)) without
// returning. In the test binary itself it does nothing.
func Child(start func(arg string) (string, error)) {
	how, arg, ok := strings.Cut(os.Getenv(Env), " ")
	if !ok {
		return
	}
	said, err := start(arg)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(3)
	}
	os.Stdout.WriteString("started " + said + "\n")
	switch how {
	case "panic": // what a failing test's panic, or `go test -timeout`, does
		panic("the test binary dies before it stops what it started")
	case "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	default: // a TestMain that exits without stopping
		os.Exit(1)
	}
}

// Run runs this test binary as a child that dies as how says after start
// ran with arg, and returns what start returned.
func Run(t *testing.T, how, arg string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), Env+"="+how+" "+arg)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var line string // other lines are the child's own logs
	for rd := bufio.NewReader(out); !strings.HasPrefix(line, "started "); {
		if line, err = rd.ReadString('\n'); err != nil {
			break
		}
	}
	_ = cmd.Wait()
	said, ok := strings.CutPrefix(strings.TrimSpace(line), "started ")
	if !ok {
		t.Fatalf("the child started nothing:\n%s", stderr.String())
	}
	return said
}
