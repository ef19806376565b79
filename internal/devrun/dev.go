// Package devrun runs `tzurot dev`: the local stack with offline stand-ins, demo data and the chat.
package devrun

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devchat"
	"github.com/tzurot/tzurot/internal/devstack"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/internal/temporalsetup"
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
		buildsCLI := !cfg.Set["TEMPORAL_ADDRESS"] && !devstack.Listening(cfg.TemporalAddress) && !devstack.TemporalCLIBuilt()
		fmt.Print(startLine(buildsCLI))
	}
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	var chat atomic.Pointer[devchat.Chat] // set while the chat runs
	off, err := startStandIns(ctx, &cfg, log, offlineDiscord, &chat)
	stops = append(stops, off.stops...)
	if err != nil {
		return err
	}
	dc, openRouter := off.discord, off.openRouter

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
	// Before the bot, which asks the namespace once which ones it has.
	temporalsetup.Dev(ctx, cfg, log)

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
		go func() { errs <- runChat(ctx, cfg, log, dc, &chat, openRouter, os.Stdin, os.Stdout) }()
	} else {
		// One process, one METRICS_ADDR: the worker serves it, with the
		// bot's metrics too (one registry); /readyz leaves out the gateway.
		botCfg := cfg
		botCfg.MetricsAddr = ""
		go func() { errs <- app.RunBot(ctx, botCfg, log) }()
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

// devStreamRate paces the offline OpenRouter stand-in in `tzurot dev` as a
// model writes: half a second before the first token, then about 30 tokens
// a second, so a streamed reply is seen growing in the chat. Tests build
// their own stand-in and are not slowed.
var devStreamRate = fakeopenrouter.StreamRate{FirstToken: 500 * time.Millisecond, TokensPerSecond: 30}

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

// standIns are the offline stand-ins `tzurot dev` started, and how to stop them.
type standIns struct {
	openRouter *fakeopenrouter.Server // nil: a real OpenRouter is configured
	discord    *fakediscord.Server    // nil: a real Discord (DISCORD_TOKEN)
	stops      []func()
}

// startStandIns starts a stand-in for each provider cfg leaves unconfigured
// (OpenRouter, ElevenLabs, and Discord when offlineDiscord) and points cfg
// at them; what is posted on the Discord one is logged and shown in the
// chat *chat holds, when one runs. On an error, the result still holds the
// stops of those started.
func startStandIns(ctx context.Context, cfg *config.Config, log *slog.Logger, offlineDiscord bool, chat *atomic.Pointer[devchat.Chat]) (off standIns, err error) {
	// Offline: with no OpenRouter configured, a local stand-in that accepts any
	// well-formed key, so a newcomer can try everything without credentials.
	offlineOpenRouter := !cfg.Set["OPENROUTER_BASE_URL"] && cfg.OpenRouterAPIKey == ""
	if offlineOpenRouter {
		off.openRouter = fakeopenrouter.New(fakeopenrouter.Options{AcceptAnyKey: true, Stream: devStreamRate})
		url, stop, err := serve(ctx, off.openRouter, log)
		if err != nil {
			return off, err
		}
		off.stops = append(off.stops, stop)
		cfg.OpenRouterBaseURL = url + "/api/v1"
		log.Warn("OPENROUTER_BASE_URL and OPENROUTER_API_KEY are unset: using the offline OpenRouter stand-in", "url", cfg.OpenRouterBaseURL)
	}

	// Offline: with no ElevenLabs configured, a stand-in that accepts any key
	// and voice, so the voiced demo personality can speak.
	if !cfg.Set["ELEVENLABS_BASE_URL"] && cfg.ElevenLabsAPIKey == "" {
		url, stop, err := serve(ctx, fakeelevenlabs.New(fakeelevenlabs.Options{AcceptAnyKey: true, AcceptAnyVoice: true}), log)
		if err != nil {
			return off, err
		}
		off.stops = append(off.stops, stop)
		cfg.ElevenLabsBaseURL = url
		log.Warn("ELEVENLABS_BASE_URL and ELEVENLABS_API_KEY are unset: using the offline ElevenLabs stand-in", "url", url)
	}

	// Offline: with no bot token, Discord's REST API is a local recorder and
	// what the personalities post is shown in the chat, or logged without one.
	if offlineDiscord {
		off.discord = fakediscord.New(fakediscord.Options{Token: "offline", OnMessage: func(m fakediscord.Message) {
			log.Info("discord message", "channel", m.ChannelID, "author", m.Author.Username, "content", m.Content, "deleted", m.Deleted)
			if c := chat.Load(); c != nil {
				c.Show(m)
			}
		}})
		url, stop, err := serve(ctx, off.discord, log)
		if err != nil {
			return off, err
		}
		off.stops = append(off.stops, stop)
		cfg.DiscordAPIBase, cfg.DiscordToken = url, "offline"
		off.discord.SetBaseURL(url)
		log.Warn("DISCORD_TOKEN is unset: Discord is the offline stand-in; what personalities post is logged here", "url", url)
	}
	return off, nil
}
