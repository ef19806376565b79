package itest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/internal/devstack"
	"github.com/tzurot/tzurot/internal/exitguard"
)

// devServer is the test binary's Temporal dev server.
type devServer struct {
	once sync.Once
	srv  *testsuite.DevServer
	err  error
	n    atomic.Int64
	// guard kills the server if the test binary ends without stopDev (a
	// panic, a test timeout, a kill): the SDK starts it as a plain child,
	// which would outlive the binary. dir holds the wrapper that starts it.
	guard *exitguard.Guard
	dir   string
}

var dev devServer

// startDev starts dev's server through a wrapper script that notes the
// server's process id (the SDK keeps it to itself) before it becomes the
// temporal CLI, and guards that process.
func startDev(cli string) (err error) {
	dev.dir, err = os.MkdirTemp("", "tzurot-devserver-")
	if err != nil {
		return err
	}
	dir := dev.dir
	wrapper := filepath.Join(dir, "temporal")
	quoted := "'" + strings.ReplaceAll(cli, "'", `'\''`) + "'"
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\necho $$ > \"$0.pid\"\nexec "+quoted+" \"$@\"\n"), 0o755); err != nil {
		return err
	}
	opts := testsuite.DevServerOptions{
		ExistingPath: wrapper,
		LogLevel:     "error",
		ExtraArgs:    append([]string{"--namespace", AttributesNamespace}, devstack.DevServerTuning...),
		Stdout:       io.Discard,
		Stderr:       io.Discard,
	}
	dev.srv, err = testsuite.StartDevServer(context.Background(), opts)
	if errors.Is(err, os.ErrPermission) {
		// A temporary directory mounted noexec: the server runs unguarded.
		opts.ExistingPath = cli
		dev.srv, err = testsuite.StartDevServer(context.Background(), opts)
		return err
	}
	if err != nil {
		return err
	}
	pid, err := os.ReadFile(wrapper + ".pid")
	if err != nil {
		return fmt.Errorf("the dev server's process id: %w", err)
	}
	dev.guard, err = exitguard.Start("", nil, "/bin/sh", "-c", `kill -KILL "$1"; rm -rf -- "$2"`, "kill", strings.TrimSpace(string(pid)), dir)
	return err
}

// stopDev stops the dev server, if one started, releases its guard and
// removes the wrapper.
func stopDev() {
	if dev.srv != nil {
		_ = dev.srv.Stop()
	}
	if dev.guard != nil {
		// Released, not fired: the stopped server's process id may be
		// another process's by now.
		_ = dev.guard.Release()
	}
	if dev.dir != "" {
		_ = os.RemoveAll(dev.dir)
	}
}
