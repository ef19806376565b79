// Package devrun runs `tzurot dev`: the whole stack on one machine with
// offline stand-ins for OpenRouter, ElevenLabs and Discord, the demo
// personalities seeded, and the offline chat on the terminal.
package devrun

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tzurot/tzurot/bot"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devchat"
	"github.com/tzurot/tzurot/internal/devstack"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/opcli"
	"github.com/tzurot/tzurot/internal/temporalclient"
)

// Run runs the whole stack on this machine until ctx ends. With no
// DISCORD_TOKEN and a terminal on stdin (or TZUROT_CHAT=1), it also runs the
// offline chat there, and the stack stops when the chat ends.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	port, err := devstack.PostgresPort()
	if err != nil {
		return err
	}
	offlineDiscord := cfg.DiscordToken == ""
	chatting := offlineDiscord && wantChat(os.Stdin)
	if chatting {
		// The terminal is the chat's: logs would bury the conversation.
		f, err := openDevLog()
		if err != nil {
			return err
		}
		defer f.Close()
		log = cfg.NewLogger(f)
		prev := slog.Default()
		slog.SetDefault(log)
		defer slog.SetDefault(prev)
		fmt.Printf("Starting PostgreSQL, Temporal and the worker (the first run also builds the Temporal CLI: a few minutes).\nLogs go to %s.\n", devLogPath)
	}
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	// Offline: with no OpenRouter configured, a local stand-in that accepts any
	// well-formed key, so a newcomer can try everything without credentials.
	offlineOpenRouter := !cfg.Set["OPENROUTER_BASE_URL"] && cfg.OpenRouterAPIKey == ""
	if offlineOpenRouter {
		url, stop, err := serve(ctx, fakeopenrouter.New(fakeopenrouter.Options{AcceptAnyKey: true}), log)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
		cfg.OpenRouterBaseURL = url + "/api/v1"
		log.Warn("OPENROUTER_BASE_URL and OPENROUTER_API_KEY are unset: using the offline OpenRouter stand-in", "url", cfg.OpenRouterBaseURL)
	}

	// Offline: with no ElevenLabs configured, a stand-in that accepts any key
	// and voice, so the voiced demo personality can speak.
	if !cfg.Set["ELEVENLABS_BASE_URL"] && cfg.ElevenLabsAPIKey == "" {
		url, stop, err := serve(ctx, fakeelevenlabs.New(fakeelevenlabs.Options{AcceptAnyKey: true, AcceptAnyVoice: true}), log)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
		cfg.ElevenLabsBaseURL = url
		log.Warn("ELEVENLABS_BASE_URL and ELEVENLABS_API_KEY are unset: using the offline ElevenLabs stand-in", "url", url)
	}

	// Offline: with no bot token, Discord's REST API is a local recorder and
	// what the personalities post is shown in the chat, or logged without one.
	var dc *fakediscord.Server
	var chat atomic.Pointer[devchat.Chat] // set while the chat runs
	if offlineDiscord {
		dc = fakediscord.New(fakediscord.Options{Token: "offline", OnMessage: func(m fakediscord.Message) {
			log.Info("discord message", "channel", m.ChannelID, "author", m.Author.Username, "content", m.Content)
			if c := chat.Load(); c != nil {
				c.Show(m)
			}
		}})
		url, stop, err := serve(ctx, dc, log)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
		cfg.DiscordAPIBase, cfg.DiscordToken = url, "offline"
		log.Warn("DISCORD_TOKEN is unset: Discord is the offline stand-in; what personalities post is logged here", "url", url)
	}

	stack, err := devstack.Up(ctx, cfg, devstack.Options{
		PostgresPort:  port,
		CodecEndpoint: "http://" + app.CodecAddress,
	}, log)
	if err != nil {
		return err
	}
	stops = append(stops, stack.Close)
	cfg = stack.Config

	codec, err := temporalclient.Codec(cfg)
	if err != nil {
		return err
	}
	stopCodec, err := app.ServeCodec(ctx, app.CodecAddress, codec, app.CodecServerOptions(cfg, log), log)
	if err != nil {
		return err
	}
	stops = append(stops, stopCodec)

	log.Info("tzurot dev is up",
		"temporal_ui", fmt.Sprintf("http://127.0.0.1:%d", devstack.UIPort),
		"temporal", cfg.TemporalAddress,
		"database", "local cluster in .data/postgres (tzurot migrate status shows its migrations)",
		"stop", "Ctrl-C")
	if err := seedDemo(ctx, cfg, log); err != nil {
		return err
	}
	importFixtures(ctx, cfg, log)
	if offlineDiscord && !chatting {
		log.Info("the bot is not started without DISCORD_TOKEN; start workflows with bin/temporal (see README), or run tzurot dev in a terminal (or with TZUROT_CHAT=1) for the offline chat")
		return app.RunWorker(ctx, cfg, log)
	}
	// The worker and the bot (or the chat, which runs the bot's handlers) side
	// by side; either one ending stops both.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	workerCfg := cfg
	if chatting && workerCfg.BotOwnerDiscordID == "" {
		// The chat's user is the operator (runChat) for the workflows'
		// re-check of who may use a personality too (internal/access).
		workerCfg.BotOwnerDiscordID = devchat.ChatUserID
	}
	go func() { errs <- app.RunWorker(ctx, workerCfg, log) }()
	if chatting {
		go func() { errs <- runChat(ctx, cfg, log, dc, &chat, offlineOpenRouter) }()
	} else {
		go func() { errs <- app.RunBot(ctx, cfg, log) }()
	}
	err = <-errs
	cancel()
	if err2 := <-errs; err == nil {
		err = err2
	}
	return err
}

// devLogPath is where `tzurot dev` logs while the terminal is the chat's.
var devLogPath = filepath.Join(devstack.DataDir, "dev.log")

func openDevLog() (*os.File, error) {
	if err := os.MkdirAll(devstack.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", devstack.DataDir, err)
	}
	f, err := os.OpenFile(devLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the dev log: %w", err)
	}
	return f, nil
}

// wantChat: TZUROT_CHAT=1 or 0 decides; otherwise a person at a terminal gets
// the chat, and CI, nohup and services (stdin a pipe or /dev/null) do not.
func wantChat(stdin *os.File) bool {
	switch os.Getenv("TZUROT_CHAT") {
	case "1":
		return true
	case "0":
		return false
	}
	return isTerminal(stdin)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	// /dev/null is a character device too, and what services get as stdin.
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(st, null) {
		return false
	}
	return true
}

// runChat runs the offline chat on this terminal with the real bot handlers,
// until quit, end of input or ctx ends.
func runChat(ctx context.Context, cfg config.Config, log *slog.Logger, dc *fakediscord.Server, slot *atomic.Pointer[devchat.Chat], anyKey bool) error {
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	// On their own offline bot, the newcomer is the operator, so the seeded
	// personality and the operator commands can be tried too.
	botCfg := cfg
	if botCfg.BotOwnerDiscordID == "" {
		botCfg.BotOwnerDiscordID = devchat.ChatUserID
	}
	b := bot.New(bot.Deps{
		Session: d.Activities.Discord, Temporal: d.Temporal, DB: d.Ent, Keys: d.Activities.Keys, Config: botCfg, Log: log,
	})
	example := chatExample(ctx, d.Ent)
	// Prompts and redraws need a screen; hiding a typed key needs a keyboard.
	opts := devchat.ChatOptions{Bot: b, Discord: dc, In: os.Stdin, Out: os.Stdout, Example: example,
		Interactive: isTerminal(os.Stdin) && isTerminal(os.Stdout)}
	if isTerminal(os.Stdin) {
		opts.HideInput = func() func() { return hideEcho(os.Stdin) }
	} else {
		opts.Linger = 5 * time.Second
	}
	c := devchat.NewChat(opts)
	slot.Store(c)
	defer slot.Store(nil)
	keyHint := "paste any sk-or-v1-… key: the offline OpenRouter accepts any and echoes you"
	if !anyKey {
		keyHint = "paste your OpenRouter key (https://openrouter.ai/keys)"
	}
	fmt.Printf(`
tzurot dev is up. You are %q in %s of an offline Discord; the bot, the workflows and the database are real.
  /wallet set     store your API key first: %s
  %-15s talk to a personality; it answers in the channel
  @voice hello    a personality that speaks too, after /wallet set provider:elevenlabs
  /help           the slash commands, /dm, /reply
  quit            stop everything (Ctrl-D works too)
Watch the workflows at http://127.0.0.1:%d — logs are in %s.

`, devchat.ChatUsername, devchat.ChatChannel, keyHint, example, devstack.UIPort, devLogPath)
	err = c.Run(ctx)
	fmt.Println("Stopping tzurot dev…")
	return err
}

// chatExample is a first message that reaches a personality: the seeded demo
// one when it is there.
func chatExample(ctx context.Context, db *ent.Client) string {
	p, err := db.Personality.Query().Where(personality.Name("tzurot-demo")).WithAliases().First(ctx)
	if err != nil {
		p, err = db.Personality.Query().Order(ent.Asc(personality.FieldCreatedAt)).WithAliases().First(ctx)
	}
	if err != nil {
		return "@name hello"
	}
	name := p.Name
	if len(p.Edges.Aliases) > 0 && !strings.Contains(p.Edges.Aliases[0].Alias, " ") {
		name = strings.ToLower(p.Edges.Aliases[0].Alias)
	}
	return "@" + name + " hello"
}

// hideEcho stops the terminal echoing typed characters, through stty so that
// no terminal library is needed; without stty the typing stays visible.
func hideEcho(f *os.File) (restore func()) {
	off := exec.Command("stty", "-echo")
	off.Stdin = f
	if off.Run() != nil {
		return func() {}
	}
	return func() {
		on := exec.Command("stty", "echo")
		on.Stdin = f
		_ = on.Run()
	}
}

// serve runs h on a free loopback port until stop.
func serve(ctx context.Context, h http.Handler, log *slog.Logger) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// devFixtures is the shapes.inc backup a fresh dev database imports once, so
// a newcomer has the fixtures' personalities to talk to (DEV_FIXTURES_DIR, or
// the shared fixtures beside the clone; skipped when neither exists).
func devFixtures() string {
	if d := os.Getenv("DEV_FIXTURES_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "fixtures", "shapes-backup")
}

// importFixtures starts the shapes-import migration, as an operator would,
// the first time the dev database sees the fixtures; the worker runs it and
// the Web UI shows it.
func importFixtures(ctx context.Context, cfg config.Config, log *slog.Logger) {
	dir := devFixtures()
	if _, err := os.Stat(filepath.Join(dir, "personalities.json")); err != nil {
		return
	}
	db, err := sql.Open("postgres", cfg.DatabaseURL.Reveal())
	if err != nil {
		return
	}
	defer db.Close()
	var done bool
	if db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM migration_runs WHERE name = 'shapes-import')`).Scan(&done); done {
		return
	}
	var out strings.Builder
	err = opcli.StartDataMigration(ctx, cfg, "shapes-import", opcli.DataMigrationOptions{Dir: dir, BatchSize: 20, Detach: true}, &out, log)
	if err != nil {
		log.Warn("could not import the fixtures", "dir", dir, "err", err)
		return
	}
	log.Info("importing the fixtures' personalities (data migration shapes-import)", "dir", dir)
}
