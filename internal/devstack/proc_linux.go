package devstack

import (
	"os/exec"
	"syscall"
)

// setChildAttrs keeps Ctrl-C away from the child (we stop it in order) and has
// the kernel kill it if we die without stopping it.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
