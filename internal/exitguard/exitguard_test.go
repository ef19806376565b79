package exitguard_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tzurot/tzurot/internal/exitguard"
	"github.com/tzurot/tzurot/internal/testwait"
)

// childEnv, set, makes this test binary a child that guards `touch <file>`
// and then ends as its value's first word says.
const childEnv = "EXITGUARD_CHILD"

func TestMain(m *testing.M) {
	if how, file, ok := strings.Cut(os.Getenv(childEnv), " "); ok {
		if _, err := exitguard.Start("", nil, "touch", file); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		os.Stdout.WriteString("guarded\n")
		switch how {
		case "panic":
			panic("the process ends in a panic")
		case "kill":
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		default:
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// However the process ends, the guard runs its command after it.
func TestTheCommandRunsWhenTheProcessEnds(t *testing.T) {
	for _, how := range []string{"exit", "panic", "kill"} {
		t.Run(how, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "ran")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+how+" "+file)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			_ = cmd.Wait()
			if line != "guarded\n" {
				t.Fatalf("the child said %q", line)
			}
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
