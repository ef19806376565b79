// Package exitguard runs a command once this process has ended, however it
// ended (a return, a panic, os.Exit, a test timeout, SIGKILL): for the
// servers tests start that would otherwise outlive them (a PostgreSQL
// cluster pg_ctl detached, a Temporal dev server).
//
// A guard is a small shell in a session of its own that waits on a pipe
// only this process holds: the kernel closes the pipe when the process
// ends, whatever ends it, and the shell then runs the command. Unix only.
package exitguard

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// script waits for its standard input to close and then runs its arguments,
// unless it read the word release first.
const script = `read -r line; [ "$line" = release ] && exit 0; "$@" >/dev/null 2>&1`

// Guard is a command waiting for this process to end.
type Guard struct {
	cmd  *exec.Cmd
	pipe *os.File
}

// Start starts a guard that runs argv (in dir, with env added to this
// process's environment) when this process ends, or at Fire.
func Start(dir string, env []string, argv ...string) (*Guard, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("exitguard: no command to guard with")
	}
	r, w, err := os.Pipe() // close-on-exec: no other child inherits w
	if err != nil {
		return nil, fmt.Errorf("exitguard: pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "exitguard"}, argv...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	// Standard output and error stay /dev/null: `go test` waits for its
	// pipes' writers to close them.
	cmd.Stdin = r
	// A session of its own: a signal to this process group (Ctrl-C, a CI job
	// cancelled) does not end the guard before it has done its work.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("exitguard: start /bin/sh: %w", err)
	}
	return &Guard{cmd: cmd, pipe: w}, nil
}

// Fire runs the command now, as this process's end would, and waits for it.
func (g *Guard) Fire() error {
	g.pipe.Close()
	return g.cmd.Wait()
}

// Release ends the guard without running the command: for a server this
// process stopped itself, whose process id may be another's later.
func (g *Guard) Release() error {
	_, _ = g.pipe.WriteString("release\n")
	g.pipe.Close()
	return g.cmd.Wait()
}
