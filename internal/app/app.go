// Package app wires tzurot's processes (worker, bot, codec server) from the configuration.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/bot"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/discordhttp"
	"github.com/tzurot/tzurot/internal/elevenlabs"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/telemetry"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/migrations"
	"github.com/tzurot/tzurot/worker"
)

// Deps are the long-lived clients of a process; Close releases them.
type Deps struct {
	DB         *sql.DB
	Ent        *ent.Client
	Temporal   client.Client
	Activities *activities.Activities
	Operator   *operator.Activities
}

// Open validates the master key first (the one startup error users meet most),
// then connects to the database and Temporal and builds the activities.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Deps, error) {
	keys, err := cfg.Keyring()
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		return nil, migrations.ErrNoDatabase
	}
	db, err := sql.Open("postgres", cfg.DatabaseURL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Go keeps 2 idle connections by default; under 20 concurrent replies
	// that meant a new PostgreSQL connection per reply.
	db.SetMaxIdleConns(25)
	db.SetMaxOpenConns(50)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to the database at DATABASE_URL: %w", err)
	}
	tc, known, err := DialTemporal(ctx, cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	acts, err := NewActivities(cfg, db, keys, log)
	if err != nil {
		tc.Close()
		db.Close()
		return nil, err
	}
	acts.SearchAttributes = known
	return &Deps{DB: db, Ent: acts.DB, Temporal: tc, Activities: acts, Operator: NewOperator(cfg, db, acts.DB, keys, log)}, nil
}

// DialTemporal connects to Temporal (temporalclient.Dial) with the
// process's view of the namespace's search attributes, which the worker's
// workflows ask before each upsert (activities.RegisteredSearchAttributes):
// asked again every searchattr.RecheckAfter, and at once after the server
// refused a workflow task for an attribute it lacks.
func DialTemporal(ctx context.Context, cfg config.Config, log *slog.Logger) (client.Client, *searchattr.Known, error) {
	var known atomic.Pointer[searchattr.Known]
	tc, _, err := temporalclient.Dial(ctx, cfg, log, searchattr.ForgetOnRefusal(func() {
		if k := known.Load(); k != nil {
			k.Forget()
		}
	}))
	if err != nil {
		return nil, nil, err
	}
	k := searchattr.NewKnown(tc, cfg.TemporalNamespace)
	k.Log = log
	known.Store(k)
	return tc, k, nil
}

// NewActivities builds the activities' clients from the configuration: the
// OpenRouter and Discord HTTP clients are traced with otelhttp; long-term
// memory is on, in db. Call it once per process.
func NewActivities(cfg config.Config, db *sql.DB, keys *keycrypt.Keyring, log *slog.Logger) (*activities.Activities, error) {
	discordToken := cfg.DiscordToken.Reveal()
	if discordToken == "" {
		// Without a token the worker still runs workflows; Discord calls fail
		// with Discord's own 401 and are reported per request.
		discordToken = "unset"
	}
	discord, err := discordhttp.Session(discordToken, cfg.DiscordAPIBase)
	if err != nil {
		return nil, err
	}
	return &activities.Activities{
		DB:   ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, db))),
		SQL:  db,
		Keys: keys,
		OpenRouter: openrouter.New(openrouter.Options{
			BaseURL:    cfg.OpenRouterBaseURL,
			HTTPClient: &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport)},
			Referer:    "https://github.com/tzurot/tzurot",
			Title:      "tzurot",
		}),
		ElevenLabs:            elevenlabs.New(cfg.ElevenLabsBaseURL, &http.Client{Timeout: 30 * time.Second, Transport: otelhttp.NewTransport(http.DefaultTransport)}),
		Discord:               discord,
		Log:                   log,
		GuestMode:             cfg.GuestMode,
		OperatorDiscordID:     cfg.BotOwnerDiscordID,
		OperatorKey:           cfg.OpenRouterAPIKey.Reveal(),
		ElevenLabsOperatorKey: cfg.ElevenLabsAPIKey.Reveal(),
		Limits:                activities.Limits{GuestTokensPerDay: cfg.LimitGuestTokensPerDay, GuestUSDPerDay: float64(cfg.LimitGuestUSDPerDay), ImagesPerHour: cfg.LimitImagesPerHour},
		// One index per process: it keeps the pairs' signatures in memory.
		Memory:         memory.NewPostgres(db, memory.Options{}),
		EmbeddingModel: cfg.EmbeddingModel,
		VisionModel:    cfg.VisionModel,
	}, nil
}

// NewOperator builds the operator's activities (data migrations, their
// backups and rollback, key rotation) on the same database handles as the
// reply path's.
func NewOperator(cfg config.Config, db *sql.DB, client *ent.Client, keys *keycrypt.Keyring, log *slog.Logger) *operator.Activities {
	return &operator.Activities{
		DB: client, SQL: db, Keys: keys, Log: log,
		DatabaseURL: cfg.DatabaseURL.Reveal(), BackupDir: cfg.BackupDir,
	}
}

// Close releases the clients, last opened first.
func (d *Deps) Close() {
	d.Temporal.Close()
	d.DB.Close()
}

// openTraced serves metrics and health on METRICS_ADDR (when set, and
// before anything is connected, so /readyz answers 503 meanwhile), sets up
// tracing for a long-running process named service, then Open, and hands the
// clients to ready; closeAll releases all three, the clients first.
func openTraced(ctx context.Context, cfg config.Config, log *slog.Logger, service string, ready *readiness) (*Deps, func(), error) {
	stopHealth, err := serveHealth(cfg, ready, log)
	if err != nil {
		return nil, nil, err
	}
	shutdown, err := telemetry.Setup(ctx, cfg.OTLPEndpoint, service)
	if err != nil {
		stopHealth()
		return nil, nil, err
	}
	d, err := Open(ctx, cfg, log)
	if err != nil {
		_ = shutdown(context.Background())
		stopHealth()
		return nil, nil, err
	}
	ready.deps.Store(d)
	return d, func() {
		d.Close()
		_ = shutdown(context.Background()) // best effort at exit
		stopHealth()
	}, nil
}

// RunWorker runs the Temporal worker until ctx ends, serving metrics and
// health on METRICS_ADDR when set.
func RunWorker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	ready := &readiness{}
	d, closeAll, err := openTraced(ctx, cfg, log, "tzurot-worker", ready)
	if err != nil {
		return err
	}
	defer closeAll()
	logStarted(log, "worker", cfg, "task_queue", cfg.TemporalTaskQueue)
	err = worker.Run(ctx, d.Temporal, cfg.TemporalTaskQueue, d.Activities, d.Operator)
	log.Info("worker stopped")
	return err
}

// RunBot runs the Discord bot until ctx ends, serving metrics and health on
// METRICS_ADDR when set.
func RunBot(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.DiscordToken == "" {
		return errors.New("DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications and set its token (or run `tzurot dev` for the offline chat)")
	}
	ready := &readiness{bot: true}
	d, closeAll, err := openTraced(ctx, cfg, log, "tzurot-bot", ready)
	if err != nil {
		return err
	}
	defer closeAll()
	ready.watchGateway(d.Activities.Discord)
	b := bot.New(bot.Deps{
		Session: d.Activities.Discord, Temporal: d.Temporal, DB: d.Ent, Keys: d.Activities.Keys, Config: cfg, Log: log,
		Memory: memory.NewPostgres(d.DB, memory.Options{}),
	})
	logStarted(log, "bot", cfg)
	return b.Run(ctx)
}

// RunCodecServer serves the payload codec on addr (ServeCodec) until ctx ends.
func RunCodecServer(ctx context.Context, cfg config.Config, addr string, log *slog.Logger) error {
	codec, err := temporalclient.Codec(cfg)
	if err != nil {
		return err
	}
	stop, err := ServeCodec(ctx, addr, codec, CodecServerOptions(cfg, log), log)
	if err != nil {
		return err
	}
	logStarted(log, "codec-server", cfg, "addr", addr)
	<-ctx.Done()
	stop()
	return nil
}

// logStarted is the one line every long-running process (worker, bot,
// codec-server) logs once it runs: its name, what it talks to, attrs, and
// the whole configuration with every secret masked (config.Config.LogValue),
// so an operator sees what the process was started with.
func logStarted(log *slog.Logger, process string, cfg config.Config, attrs ...any) {
	log.Info(process+" started", append([]any{"temporal", cfg.TemporalAddress}, append(attrs, "config", cfg)...)...)
}
