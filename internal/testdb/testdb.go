// Package testdb hands each test a clean PostgreSQL database migrated with the
// real migrations: it uses TEST_DATABASE_URL's server when set, else starts a
// throwaway cluster for the test binary. A package that uses it calls Main from
// its TestMain so the cluster is stopped at the end; a binary that dies first
// (a panic, a test timeout, a kill) has it stopped by pgcluster's guard, and
// the next test binary removes what is left of a cluster whose owner is gone.
package testdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/pgcluster"
	"github.com/tzurot/tzurot/migrations"
)

// server is the one PostgreSQL server of this test binary; test helpers are the
// one place where process-wide state is worth it (a cluster per test is slow).
type server struct {
	once     sync.Once
	err      error
	admin    string // URL of a maintenance database on the server
	template string // name of the migrated template database
	cluster  *pgcluster.Cluster
	tmpDir   string
	n        atomic.Int64
	// create serialises CREATE DATABASE … TEMPLATE, which fails when two
	// copies of one template overlap.
	create sync.Mutex
}

var srv server

// Main runs the tests and then stops the cluster if one was started.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop drops the template and stops the cluster; for TestMains that do more
// than Main.
func Stop() { srv.stop() }

// URL returns the URL of a new empty-but-migrated database, dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	name := Create(t, true)
	return dbURL(srv.admin, name)
}

// DB returns a connection pool to a new migrated database.
func DB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Client returns an ent client on a new migrated database, and its pool.
func Client(t testing.TB) (*ent.Client, *sql.DB) {
	t.Helper()
	return ClientFor(t, URL(t))
}

// ClientFor returns an ent client on the database at url, closed when t ends.
func ClientFor(t testing.TB, url string) (*ent.Client, *sql.DB) {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(25)
	t.Cleanup(func() { db.Close() })
	return ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, db))), db
}

// EmptyURL returns the URL of a new database with no tables at all, for tests
// of the migrations themselves.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return dbURL(srv.admin, Create(t, false))
}

// Create makes a database (a copy of the migrated template when migrated is
// true) and registers its removal; it returns the database name.
func Create(t testing.TB, migrated bool) string {
	t.Helper()
	srv.once.Do(srv.start)
	if srv.err != nil {
		t.Fatalf("test database: %v", srv.err)
	}
	name := fmt.Sprintf("tzurot_t%d_%d", os.Getpid(), srv.n.Add(1))
	stmt := `CREATE DATABASE "` + name + `"`
	if migrated {
		stmt += ` TEMPLATE "` + srv.template + `"`
	}
	srv.create.Lock()
	err := exec(srv.admin, stmt)
	srv.create.Unlock()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_ = exec(srv.admin, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
	})
	return name
}

func (s *server) start() {
	ctx := context.Background()
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		s.admin = u
	} else {
		reapStale(ctx)
		s.tmpDir, s.err = os.MkdirTemp("", clusterPrefix)
		if s.err != nil {
			return
		}
		if s.err = os.WriteFile(filepath.Join(s.tmpDir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); s.err != nil {
			return
		}
		s.cluster, s.err = pgcluster.Start(ctx, pgcluster.Options{
			Dir: filepath.Join(s.tmpDir, "pg"), StopWithProcess: true, RemoveWithProcess: s.tmpDir,
		})
		if s.err != nil {
			return
		}
		s.admin = s.cluster.URL("postgres")
	}
	s.template = fmt.Sprintf("tzurot_tpl%d", os.Getpid())
	if s.err = exec(s.admin, `CREATE DATABASE "`+s.template+`"`); s.err != nil {
		return
	}
	db, err := sql.Open("postgres", dbURL(s.admin, s.template))
	if err != nil {
		s.err = err
		return
	}
	defer db.Close()
	if _, err := migrations.Up(ctx, db, nil); err != nil {
		s.err = fmt.Errorf("migrate the template database: %w", err)
	}
}

func (s *server) stop() {
	if s.admin != "" && s.template != "" {
		_ = exec(s.admin, `DROP DATABASE IF EXISTS "`+s.template+`" WITH (FORCE)`)
	}
	if s.cluster != nil {
		_ = s.cluster.Stop()
	}
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
	}
}

const (
	// clusterPrefix names the temporary directory of a test binary's cluster
	// (its data directory is pg/ inside).
	clusterPrefix = "tzurot-testdb-"
	// ownerFile, in that directory, holds the test binary's process id.
	ownerFile = "owner.pid"
	// deadOrphanAge and liveOrphanAge are how old a directory without an
	// owner file (made before there were any) must be to be taken for a
	// crashed run's: with its server gone, far longer than a start takes;
	// with it running, longer than any test binary runs (CI's -timeout is 30m).
	deadOrphanAge, liveOrphanAge = 10 * time.Minute, 2 * time.Hour
)

// reapStale stops and removes the clusters earlier test binaries left in
// the temporary directory: those whose owner process is gone (its guard
// killed too, or the machine restarted), and owner-less ones per
// deadOrphanAge and liveOrphanAge.
func reapStale(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), clusterPrefix+"*"))
	for _, dir := range dirs {
		if !stale(dir) {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := pgcluster.StopAt(sctx, filepath.Join(dir, "pg"))
		cancel()
		if err == nil {
			_ = os.RemoveAll(dir)
		}
	}
}

// stale reports whether the cluster directory dir belongs to no running
// test binary; see reapStale.
func stale(dir string) bool {
	if b, err := os.ReadFile(filepath.Join(dir, ownerFile)); err == nil {
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			return false
		}
		err = syscall.Kill(pid, 0)
		return err != nil && !errors.Is(err, syscall.EPERM)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return false
	}
	age := time.Since(fi.ModTime())
	if pgcluster.Running(filepath.Join(dir, "pg")) {
		return age > liveOrphanAge
	}
	return age > deadOrphanAge
}

func exec(admin, stmt string) error {
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(stmt)
	return err
}

// dbURL swaps the database name in a postgres URL.
func dbURL(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}

// Outage makes the database of target (a URL) unreachable as a PostgreSQL restart
// does: every open connection to it is ended and new ones are refused
// until the returned func is called (also at the test's end).
func Outage(t testing.TB, target string) (end func()) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin := dbURL(srv.admin, "postgres")
	if err := exec(admin, `ALTER DATABASE "`+name+`" ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	if err := exec(admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '`+name+`'`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	end = func() {
		once.Do(func() {
			if err := exec(admin, `ALTER DATABASE "`+name+`" ALLOW_CONNECTIONS true`); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(end)
	return end
}
