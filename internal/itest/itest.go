// Package itest runs tzurot's workflows end to end for tests: a real Temporal
// dev server (the temporal CLI in ./bin, or TEMPORAL_CLI), a real PostgreSQL
// database migrated with the real migrations, the real worker, and the fakes
// at the network edge. A package that uses it calls Main from its TestMain.
package itest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/telemetry"
	"github.com/tzurot/tzurot/internal/testdb"
	"github.com/tzurot/tzurot/worker"
)

// MasterKey is the tests' APP_MASTER_KEY.
var MasterKey = strings.Repeat("5a", 32)

// AttributesNamespace is a second namespace of the dev server, made at its
// start, for tests that register tzurot's search attributes: the default
// namespace never gets them, so every other test runs where they are
// missing, as on a namespace nobody set up.
const AttributesNamespace = "tzurot-attributes"

// Main runs the tests, then stops the dev server and the database cluster.
func Main(m *testing.M) {
	code := m.Run()
	stopDev()
	testdb.Stop()
	os.Exit(code)
}

// TemporalCLI is the temporal binary the tests run.
func TemporalCLI() (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	// Walk up to the module root's bin/temporal, so `go test` from a package
	// directory finds the binary `make tools` built.
	dir, _ := os.Getwd()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		p := filepath.Join(d, "bin", "temporal")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			break
		}
	}
	return "", fmt.Errorf("no temporal CLI: run `make tools` (builds bin/temporal) or set TEMPORAL_CLI")
}

// HostPort returns the frontend of the test binary's dev server, starting it.
func HostPort(t testing.TB) string {
	t.Helper()
	dev.once.Do(func() {
		cli, err := TemporalCLI()
		if err != nil {
			dev.err = err
			return
		}
		dev.err = startDev(cli)
	})
	if dev.err != nil {
		t.Fatalf("temporal dev server: %v", dev.err)
	}
	return dev.srv.FrontendHostPort()
}

// Stack is one test's world.
type Stack struct {
	Config     config.Config
	Client     client.Client
	TaskQueue  string
	DB         *ent.Client
	Keys       *keycrypt.Keyring
	OpenRouter *fakeopenrouter.Server
	Discord    *fakediscord.Server
	ElevenLabs *fakeelevenlabs.Server
	Activities *activities.Activities
	// Operator is the operator's activities (migrations, rollback,
	// rotation) on the same database.
	Operator *operator.Activities
	// Logs is everything the worker logged, through the redacting handler.
	Logs *SyncBuffer
	// Spans, with Options.RecordSpans, holds every span exported while the
	// stack runs, through the product's exporter redaction.
	Spans *tracetest.InMemoryExporter
	// ORURL, DiscordURL and ElevenLabsURL are the fakes' base URLs.
	ORURL, DiscordURL, ElevenLabsURL string
	// DatabaseURL is the test's own database.
	DatabaseURL string
	// env is what Config was parsed from.
	env map[string]string
}

// Options tune a Stack.
type Options struct {
	GuestMode   config.GuestMode
	OperatorKey string
	// ElevenLabsOperatorKey is ELEVENLABS_API_KEY.
	ElevenLabsOperatorKey string
	// NoWorker leaves the worker to the test (to run it as a process and kill it).
	NoWorker bool
	// LongTermMemory leaves long-term memory on, as the worker has it:
	// each reply then embeds its query and each exchange its memory with
	// the reply's key. Off otherwise, so that tests scripting the
	// provider's answers call by call meet only the calls they script.
	LongTermMemory bool
	// RecordSpans installs, for the test's duration, a global tracer
	// provider exporting through telemetry.Redact into Stack.Spans. Tests
	// using it must not run in parallel with others that trace.
	RecordSpans bool
	// Namespace is TEMPORAL_NAMESPACE: "default" when empty, else
	// AttributesNamespace.
	Namespace string
}

// New builds a Stack with its own database, task queue, fakes and worker.
func New(t testing.TB, opts Options) *Stack {
	t.Helper()
	hostPort := HostPort(t)
	dbURL := testdb.URL(t)
	or := fakeopenrouter.New(fakeopenrouter.Options{})
	orSrv := httptest.NewServer(or)
	t.Cleanup(orSrv.Close)
	dc := fakediscord.New(fakediscord.Options{})
	dcSrv := httptest.NewServer(dc)
	t.Cleanup(dcSrv.Close)
	dc.SetBaseURL(dcSrv.URL)
	el := fakeelevenlabs.New(fakeelevenlabs.Options{})
	elSrv := httptest.NewServer(el)
	t.Cleanup(elSrv.Close)
	if opts.GuestMode == "" {
		opts.GuestMode = config.GuestFree
	}
	queue := fmt.Sprintf("tzurot-test-%d-%d", os.Getpid(), dev.n.Add(1))
	env := map[string]string{
		"DATABASE_URL": dbURL, "TEMPORAL_ADDRESS": hostPort, "TEMPORAL_TASK_QUEUE": queue,
		"APP_MASTER_KEY": MasterKey, "OPENROUTER_BASE_URL": orSrv.URL + "/api/v1",
		"OPENROUTER_API_KEY": opts.OperatorKey, "GUEST_MODE": string(opts.GuestMode),
		"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": dcSrv.URL, "LOG_FORMAT": "json",
		"MIGRATION_BACKUP_DIR": t.TempDir(),
		"ELEVENLABS_BASE_URL":  elSrv.URL, "ELEVENLABS_API_KEY": opts.ElevenLabsOperatorKey,
		"TEMPORAL_NAMESPACE": opts.Namespace,
	}
	cfg, err := config.Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" })
	if err != nil {
		t.Fatal(err)
	}
	// The test binary's own dev server, in plain text, whatever a Temporal
	// config file on this machine says.
	cfg.TemporalDevServer = true
	logs := &SyncBuffer{}
	log := slog.New(redact.NewHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	c, known, err := app.DialTemporal(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	_, sqlDB := testdb.ClientFor(t, dbURL)
	keys, err := cfg.Keyring()
	if err != nil {
		t.Fatal(err)
	}
	acts, err := app.NewActivities(cfg, sqlDB, keys, log)
	if err != nil {
		t.Fatal(err)
	}
	acts.SearchAttributes = known
	if !opts.LongTermMemory {
		acts.Memory = nil
	}
	var spans *tracetest.InMemoryExporter
	if opts.RecordSpans {
		spans = tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(telemetry.Redact(spans)))
		prev := otel.GetTracerProvider()
		otel.SetTracerProvider(tp)
		t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })
	}
	s := &Stack{Config: cfg, Spans: spans, Client: c, TaskQueue: queue, DB: acts.DB, Keys: keys, OpenRouter: or, Discord: dc,
		ElevenLabs: el, ElevenLabsURL: elSrv.URL,
		Activities: acts, Operator: app.NewOperator(cfg, sqlDB, acts.DB, keys, log), Logs: logs, ORURL: orSrv.URL + "/api/v1", DiscordURL: dcSrv.URL, DatabaseURL: dbURL, env: env}
	if !opts.NoWorker {
		w := worker.New(c, queue, acts, s.Operator)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	return s
}

// Env is the stack's configuration as environment variables, for running
// `tzurot worker` as a process against it: the same variables the stack's
// own configuration was parsed from.
func (s *Stack) Env() []string {
	out := os.Environ()
	for k, v := range s.env {
		out = append(out, k+"="+v)
	}
	return out
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
