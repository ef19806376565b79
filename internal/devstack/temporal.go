package devstack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
)

// TemporalCLIVersion is the one version of the Temporal CLI that builds from
// the Go module proxy (later ones carry a replace directive): server 1.29.1 with
// the Web UI embedded.
const TemporalCLIVersion = "v1.5.1"

// TemporalCLI finds the temporal binary — TEMPORAL_CLI, else ./bin/temporal —
// building it into ./bin from the Go module proxy the first time, with the
// packages being compiled shown as progress.
func TemporalCLI(ctx context.Context, log *slog.Logger) (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	bin, err := filepath.Abs("bin")
	if err != nil {
		return "", err
	}
	path := filepath.Join(bin, "temporal")
	if TemporalCLIBuilt() {
		return path, nil
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "", errors.New("the temporal CLI is not in ./bin and Go is not installed to build it: install Go, or set TEMPORAL_CLI to a temporal binary")
	}
	log.Info("building the Temporal CLI into ./bin (first run only, a few minutes)", "version", TemporalCLIVersion)
	cmd := exec.CommandContext(ctx, "go", "install", "-v", "github.com/temporalio/cli/cmd/temporal@"+TemporalCLIVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start go install: %w", err)
	}
	var tail []string
	n := 0
	sc := bufio.NewScanner(stderr)
	last := time.Now()
	for sc.Scan() {
		n++
		line := sc.Text()
		if tail = append(tail, line); len(tail) > 5 {
			tail = tail[1:]
		}
		if time.Since(last) > 5*time.Second {
			log.Info("building the Temporal CLI", "packages_done", n, "now", line)
			last = time.Now()
		}
	}
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("go install temporal CLI %s failed: %w: %s", TemporalCLIVersion, err, strings.Join(tail, " | "))
	}
	log.Info("built the Temporal CLI", "path", path)
	return path, nil
}

// TemporalCLIBuilt reports whether TemporalCLI has a binary to return
// without building one: TEMPORAL_CLI is set or ./bin/temporal exists.
func TemporalCLIBuilt() bool {
	if os.Getenv("TEMPORAL_CLI") != "" {
		return true
	}
	_, err := os.Stat(filepath.Join("bin", "temporal"))
	return err == nil
}

// DevServerTuning are the dev server settings for latency (BENCHMARKS.md):
// eager activities take ~100 ms off each activity; the transfer-queue poll
// limit (20/s by default on the one history shard) made every workflow task
// wait ~40 ms; one task-queue partition avoids rare 2 s stalls.
var DevServerTuning = []string{
	"--dynamic-config-value", "system.enableActivityEagerExecution=true",
	"--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
	"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
	"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
}

// TemporalServer is a `temporal server start-dev` child process.
type TemporalServer struct {
	cmd  *exec.Cmd
	done chan error
	log  *slog.Logger
}

// TemporalOptions configures the dev server.
type TemporalOptions struct {
	CLI           string
	Address       string // host:port of the frontend
	UIPort        int
	DBFile        string // SQLite file, so workflows survive a restart
	Namespace     string
	CodecEndpoint string   // the Web UI's remote codec, when set
	Extra         []string // more start-dev flags
	LogFile       string
}

// StartTemporal starts the dev server and waits until its frontend answers.
func StartTemporal(ctx context.Context, opts TemporalOptions, log *slog.Logger) (*TemporalServer, error) {
	host, port, err := net.SplitHostPort(opts.Address)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_ADDRESS %q is not host:port: %w", opts.Address, err)
	}
	args := []string{"server", "start-dev",
		"--ip", host, "--port", port, "--ui-port", fmt.Sprint(opts.UIPort),
		"--db-filename", opts.DBFile, "--namespace", opts.Namespace,
		"--log-level", "warn",
	}
	args = append(args, DevServerTuning...)
	if opts.CodecEndpoint != "" {
		args = append(args, "--ui-codec-endpoint", opts.CodecEndpoint)
	}
	args = append(args, opts.Extra...)
	cmd := exec.Command(opts.CLI, args...)
	setChildAttrs(cmd)
	if opts.LogFile != "" {
		f, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start temporal dev server: %w", err)
	}
	s := &TemporalServer{cmd: cmd, done: make(chan error, 1), log: log}
	go func() { s.done <- cmd.Wait() }()
	if err := WaitForTemporal(ctx, opts.Address, opts.Namespace, 60*time.Second, s.done); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w (log: %s)", err, opts.LogFile)
	}
	return s, nil
}

// Stop ends the dev server gracefully, then forcibly after 10 s.
func (s *TemporalServer) Stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Info("Temporal dev server stopped")
}

// WaitForTemporal polls the frontend until it answers a health check and the
// namespace is usable, the exited channel fires, or the timeout passes.
func WaitForTemporal(ctx context.Context, address, namespace string, timeout time.Duration, exited <-chan error) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("temporal dev server exited at start: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		c, err := client.Dial(client.Options{HostPort: address, Namespace: namespace, Logger: quietLogger{}})
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err = c.CheckHealth(cctx, &client.CheckHealthRequest{})
			cancel()
			c.Close()
			if err == nil {
				return nil
			}
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("temporal at %s did not become ready in %s: %v", address, timeout, lastErr)
}

// Listening reports whether something accepts TCP connections at address.
func Listening(address string) bool {
	c, err := net.DialTimeout("tcp", address, 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// quietLogger keeps the SDK's dial retries out of the dev stack's output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}
