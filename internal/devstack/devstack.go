// Package devstack brings up everything tzurot needs on one machine for
// `tzurot dev`: a project-local PostgreSQL cluster (unless DATABASE_URL is set),
// a Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS or TEMPORAL_PROFILE is set), the
// migrations, and a development master key — all kept under .data/.
package devstack

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/pgcluster"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/migrations"
)

// DataDir holds the dev stack's state: the cluster, the Temporal SQLite file,
// the dev master key, logs.
const DataDir = ".data"

// MasterKeyFile is the development master key `tzurot dev` makes when
// APP_MASTER_KEY is unset.
var MasterKeyFile = filepath.Join(DataDir, "dev-master-key")

// clusterDir is the local PostgreSQL cluster's data directory.
var clusterDir = filepath.Join(DataDir, "postgres")

// UIPort is where the Temporal Web UI answers.
const UIPort = 8233

// Stack is a running dev stack; Close stops what it started, in reverse order.
type Stack struct {
	Config config.Config // with DatabaseURL and MasterKey filled in
	stops  []func()
}

// Options are the dev-only settings.
type Options struct {
	// PostgresPort is DEV_POSTGRES_PORT: 0 reuses the last port or picks a free one.
	PostgresPort int
	// CodecEndpoint is given to the Web UI so it can show decoded payloads.
	CodecEndpoint string
	// TemporalExtra are more `temporal server start-dev` flags (search attributes).
	TemporalExtra []string
}

// Up starts the stack. On error, whatever was started is stopped again.
func Up(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger) (_ *Stack, err error) {
	s := &Stack{Config: cfg}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", DataDir, err)
	}

	url, stop, err := Database(ctx, cfg, opts.PostgresPort, log)
	if err != nil {
		return nil, err
	}
	s.stops = append(s.stops, stop)
	s.Config.DatabaseURL = redact.Secret(url)

	if cfg.MasterKey == "" {
		key, err := DevMasterKey(MasterKeyFile)
		if err != nil {
			return nil, err
		}
		s.Config.MasterKey = redact.Secret(key)
		log.Warn("APP_MASTER_KEY is unset: using the development key in .data/dev-master-key; set your own for anything but local development")
	}

	// A server named by TEMPORAL_ADDRESS or TEMPORAL_PROFILE is reached as
	// internal/temporalclient reads the settings (TLS, API key); otherwise
	// the local one, plainly, whatever the Temporal config file says.
	s.Config.TemporalDevServer = !cfg.Set["TEMPORAL_ADDRESS"] && !cfg.Set["TEMPORAL_PROFILE"]
	if !s.Config.TemporalDevServer {
		log.Info("using the Temporal server at TEMPORAL_ADDRESS or of TEMPORAL_PROFILE", "address", cfg.TemporalAddress, "profile", cfg.TemporalProfile)
	} else if Listening(cfg.TemporalAddress) {
		log.Info("a Temporal server already answers; using it", "address", cfg.TemporalAddress)
	} else {
		cli, err := TemporalCLI(ctx, log)
		if err != nil {
			return nil, err
		}
		log.Info("starting the Temporal dev server", "address", cfg.TemporalAddress)
		srv, err := StartTemporal(ctx, TemporalOptions{
			CLI: cli, Address: cfg.TemporalAddress, UIPort: UIPort,
			DBFile: filepath.Join(DataDir, "temporal.db"), Namespace: cfg.TemporalNamespace,
			CodecEndpoint: opts.CodecEndpoint, Extra: opts.TemporalExtra,
			LogFile: filepath.Join(DataDir, "temporal.log"),
		}, log)
		if err != nil {
			return nil, err
		}
		s.stops = append(s.stops, srv.Stop)
	}

	if err := Migrate(ctx, url, log); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops everything Up started, last first.
func (s *Stack) Close() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

// Database returns DATABASE_URL, or starts (or reuses) the local cluster under
// .data/postgres and returns its URL; stop stops a cluster it started or
// took over (pgcluster.Options.TakeOver), as this process's end does.
func Database(ctx context.Context, cfg config.Config, port int, log *slog.Logger) (url string, stop func(), err error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL.Reveal(), func() {}, nil
	}
	// Stopped however this process ends (a kill -9 too), its data kept; one
	// a killed process left running is taken over and stopped at the end.
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: clusterDir, Port: port, Logger: log,
		StopWithProcess: true, TakeOver: true})
	if err != nil {
		return "", nil, err
	}
	if err := c.EnsureDatabase(ctx, "tzurot"); err != nil {
		_ = c.Stop()
		return "", nil, err
	}
	return c.URL("tzurot"), func() {
		if err := c.Stop(); err != nil {
			log.Error("stop PostgreSQL", "err", err)
		}
	}, nil
}

// Existing checks that the working directory holds the dev stack an
// operator command falls back to when the configuration leaves DATABASE_URL
// (and, with needKey, APP_MASTER_KEY) unset: its initialised cluster and its
// master key. An operator command never creates either: run elsewhere, a new
// cluster is empty and a new key opens nothing the worker sealed. The error
// says what is missing and what to do.
func Existing(cfg config.Config, needKey bool) error {
	var unset []string
	if cfg.DatabaseURL == "" {
		if _, err := os.Stat(filepath.Join(clusterDir, "PG_VERSION")); err != nil {
			unset = append(unset, "DATABASE_URL")
		}
	}
	if needKey && cfg.MasterKey == "" {
		if _, err := os.Stat(MasterKeyFile); err != nil {
			unset = append(unset, "APP_MASTER_KEY")
		}
	}
	if len(unset) == 0 {
		return nil
	}
	wd, err := os.Getwd()
	if err != nil {
		wd = "the working directory"
	}
	verb := "is"
	if len(unset) > 1 {
		verb = "are"
	}
	return fmt.Errorf("%s %s unset and %s has no dev stack (%s/) to fall back to: run this from the clone where `make dev` runs, or set DATABASE_URL and APP_MASTER_KEY",
		strings.Join(unset, " and "), verb, wd, DataDir)
}

// Migrate applies the embedded migrations to url.
func Migrate(ctx context.Context, url string, log *slog.Logger) error {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := migrations.Up(ctx, db, log)
	if err != nil {
		return err
	}
	log.Info("database schema is current", "applied_now", len(applied))
	return nil
}

// DevMasterKey reads the development master key at path, creating it first.
func DevMasterKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	h := hex.EncodeToString(key)
	if err := os.WriteFile(path, []byte(h+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write dev master key: %w", err)
	}
	return h, nil
}

// PostgresPort reads DEV_POSTGRES_PORT.
func PostgresPort() (int, error) {
	v := os.Getenv("DEV_POSTGRES_PORT")
	if v == "" {
		return 0, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p <= 0 || p > 65535 {
		return 0, fmt.Errorf("DEV_POSTGRES_PORT must be a port number, got %q", v)
	}
	return p, nil
}
