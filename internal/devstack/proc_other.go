//go:build !linux

package devstack

import (
	"os/exec"
	"syscall"
)

// setChildAttrs keeps Ctrl-C away from the child; we stop it in order.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
