// Package pgcluster runs a project-local PostgreSQL cluster from the server
// binaries on the machine, for `tzurot dev`, the tests and the migration
// generator. As root it runs initdb and pg_ctl as the postgres user, because
// initdb refuses to run as root.
package pgcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the PostgreSQL driver
	"github.com/tzurot/tzurot/internal/exitguard"
)

// Cluster is a running local PostgreSQL server.
type Cluster struct {
	Dir  string
	Port int
	bin  string
	// started is false when the cluster was already running and is left running.
	started bool
	log     *slog.Logger
	// guard: see Options.StopWithProcess.
	guard *exitguard.Guard
}

// Options says where the cluster lives; Port 0 reuses the port a previous run
// recorded in Dir, else picks a free one.
type Options struct {
	Dir    string
	Port   int
	Logger *slog.Logger
	// StopWithProcess is for throwaway clusters (tests, generators) and
	// `tzurot dev`'s: the server this Start starts (or takes over) is stopped when this process ends however it
	// ends (Stop, a panic, a test timeout, os.Exit, SIGKILL), by an
	// exitguard. pg_ctl puts the server in a session of its own, so without
	// the guard a process that dies before Stop leaves it running.
	StopWithProcess bool
	// RemoveWithProcess, with StopWithProcess, is a directory (Dir or one
	// holding it) the guard removes once the server is stopped. Without
	// it the guard's is a fast shutdown (a checkpoint: the data is kept
	// whole), with it an immediate one.
	RemoveWithProcess string
	// TakeOver records this process as the server's owner (ownerFile in
	// Dir) and makes a server already running on Dir whose owner has ended
	// without stopping it (SIGKILL, a crash) this Cluster's: Stop stops it,
	// and StopWithProcess guards it. A server whose owner lives (another
	// `tzurot dev`) is reused and left running, as without TakeOver.
	TakeOver bool
}

// ownerFile, in a cluster directory, holds the process id of the process
// that started the server there or took it over (Options.TakeOver).
const ownerFile = "tzurot.owner"

// Start initialises the cluster directory if needed and starts the server,
// reusing one that is already running there.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve cluster dir: %w", err)
	}
	c := &Cluster{Dir: dir, Port: opts.Port, bin: bin, log: log}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create cluster dir %s: %w", dir, err)
	}
	if err := c.chown(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("initialising PostgreSQL cluster", "dir", dir)
		if out, err := c.run(ctx, "initdb", "-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
			return nil, fmt.Errorf("initdb in %s failed: %w: %s", dir, err, lastLines(out))
		}
	}
	if port, ok := c.runningPort(); ok {
		c.Port = port
		if !opts.TakeOver || c.ownerAlive() {
			log.Info("PostgreSQL already running", "dir", dir, "port", port)
			return c, c.waitReady(ctx)
		}
		log.Warn("PostgreSQL was left running by a process that ended without stopping it: taking it over", "dir", dir, "port", port)
		return c, c.own(ctx, opts)
	}
	if c.Port == 0 {
		c.Port = c.recordedPort()
	}
	if c.Port == 0 || !portFree(c.Port) {
		if c.Port, err = freePort(); err != nil {
			return nil, err
		}
	}
	serverOpts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.Port, dir)
	if out, err := c.run(ctx, "pg_ctl", "-D", dir, "-o", serverOpts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		return nil, fmt.Errorf("pg_ctl start in %s failed (see %s/log): %w: %s", dir, dir, err, lastLines(out))
	}
	_ = os.WriteFile(filepath.Join(dir, "tzurot.port"), []byte(strconv.Itoa(c.Port)), 0o644)
	log.Info("PostgreSQL started", "dir", dir, "port", c.Port)
	return c, c.own(ctx, opts)
}

// own makes the running server this Cluster's to stop: its guard
// (StopWithProcess) and owner record (TakeOver); then waits until it is ready.
func (c *Cluster) own(ctx context.Context, opts Options) error {
	c.started = true
	if opts.StopWithProcess {
		if err := c.startGuard(opts.RemoveWithProcess); err != nil {
			return errors.Join(err, c.Stop())
		}
	}
	if opts.TakeOver {
		if err := os.WriteFile(filepath.Join(c.Dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return errors.Join(fmt.Errorf("record the owner of PostgreSQL in %s: %w", c.Dir, err), c.Stop())
		}
	}
	return c.waitReady(ctx)
}

// ownerAlive reports whether the server's recorded owner is a live
// process (this one's other Cluster too). With no record, a server Start started
// before owners were recorded (its port file is there) has none; one
// started otherwise (pg_ctl by hand) is taken as owned.
func (c *Cluster) ownerAlive() bool {
	b, err := os.ReadFile(filepath.Join(c.Dir, ownerFile))
	if err != nil {
		return c.recordedPort() == 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && processAlive(pid)
}

// URL is the connection URL of database name on this cluster.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, database)
}

// EnsureDatabase creates database name if it does not exist.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("check database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Stop stops the server if this Cluster started it, and then its guard
// (Options.StopWithProcess), which removes what it was told to.
func (c *Cluster) Stop() error {
	if !c.started {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop")
	if err != nil {
		err = fmt.Errorf("pg_ctl stop: %w: %s", err, lastLines(out))
	} else {
		c.started = false
		c.log.Info("PostgreSQL stopped", "dir", c.Dir)
	}
	if c.guard != nil {
		// The guard's own pg_ctl stop then finds no server (or stops the one
		// a failed fast stop left), and it removes what it was told to.
		_ = c.guard.Fire()
		c.guard = nil
	}
	return err
}

// startGuard starts the exitguard that stops the server and removes
// remove; see Options.StopWithProcess and RemoveWithProcess.
func (c *Cluster) startGuard(remove string) error {
	mode := "fast"
	if remove != "" {
		mode = "immediate"
	}
	stop := c.command(context.Background(), "pg_ctl", "-D", c.Dir, "-m", mode, "-w", "stop")
	argv := append([]string{"/bin/sh", "-c", `"$@"; if [ -n "$REMOVE" ]; then rm -rf -- "$REMOVE"; fi`, "stop"}, stop.Args...)
	// In Dir: pg_ctl runs as the postgres user, who may enter it.
	g, err := exitguard.Start(c.Dir, []string{"REMOVE=" + remove}, argv...)
	if err != nil {
		return fmt.Errorf("guard the cluster in %s: %w", c.Dir, err)
	}
	c.guard = g
	return nil
}

// Running reports whether a PostgreSQL server runs on the cluster
// directory dir (its postmaster.pid names a live process).
func Running(dir string) bool {
	_, ok := (&Cluster{Dir: dir}).runningPort()
	return ok
}

// StopAt stops (immediate shutdown) the server running on the cluster
// directory dir, if one does: for clusters an ended process left behind.
func StopAt(ctx context.Context, dir string) error {
	if !Running(dir) {
		return nil
	}
	bin, err := binDir()
	if err != nil {
		return err
	}
	c := &Cluster{Dir: dir, bin: bin}
	if out, err := c.run(ctx, "pg_ctl", "-D", dir, "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop in %s: %w: %s", dir, err, lastLines(out))
	}
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("postgres", c.URL("postgres"))
		if err == nil {
			err = db.PingContext(ctx)
			db.Close()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL on port %d did not accept connections (see %s/log): %w", c.Port, c.Dir, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runningPort reports the port of a server already running on Dir.
func (c *Cluster) runningPort() (int, bool) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err1 != nil || err2 != nil || !processAlive(pid) {
		return 0, false
	}
	return port, true
}

func (c *Cluster) recordedPort() int {
	b, err := os.ReadFile(filepath.Join(c.Dir, "tzurot.port"))
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return p
}

// run runs a PostgreSQL program, as the postgres user when we are root.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	// The server must outlive a cancelled context of the caller only when pg_ctl
	// daemonises it, which it does; CommandContext only bounds pg_ctl itself.
	return c.command(ctx, prog, args...).CombinedOutput()
}

// command is a PostgreSQL program's command, as the postgres user when we are root.
func (c *Cluster) command(ctx context.Context, prog string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.Dir
	return cmd
}

// chown gives the cluster directory to the postgres user when we are root.
func (c *Cluster) chown() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user to own the cluster (initdb refuses root): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The postgres user must be able to reach the directory: give its ancestors
	// the traverse bit (not read) where they lack it, e.g. a 0700 temp dir.
	for p := filepath.Dir(c.Dir); p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("let the postgres user traverse %s: %w", p, err)
			}
		}
	}
	return filepath.Walk(c.Dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// binDir finds the directory holding initdb and pg_ctl: PG_BIN, then PATH, then
// Debian's /usr/lib/postgresql/<version>/bin (newest first).
func binDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install them (apt-get install postgresql) or set PG_BIN or DATABASE_URL")
}

func versionOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// processAlive reports whether pid is a live process; EPERM (another
// user's, e.g. the postgres user's server seen by a non-root caller) is one.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func lastLines(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}
