package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devstack"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/temporalclient"
)

// CodecAddress is where `tzurot dev` serves the payload codec for the Web UI.
const CodecAddress = "127.0.0.1:8234"

// RunDev runs the whole stack on this machine until ctx ends.
func RunDev(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	port, err := devstack.PostgresPort()
	if err != nil {
		return err
	}
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	// Offline: with no OpenRouter configured, a local stand-in that accepts any
	// well-formed key, so a newcomer can try everything without credentials.
	if !cfg.Set["OPENROUTER_BASE_URL"] && cfg.OpenRouterAPIKey == "" {
		url, stop, err := serve(ctx, fakeopenrouter.New(fakeopenrouter.Options{AcceptAnyKey: true}), log)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
		cfg.OpenRouterBaseURL = url + "/api/v1"
		log.Warn("OPENROUTER_BASE_URL and OPENROUTER_API_KEY are unset: using the offline OpenRouter stand-in", "url", cfg.OpenRouterBaseURL)
	}

	// Offline: with no bot token, Discord's REST API is a local recorder and
	// what the personalities post is shown in this terminal.
	offlineDiscord := cfg.DiscordToken == ""
	if offlineDiscord {
		dc := fakediscord.New(fakediscord.Options{Token: "offline", OnMessage: func(m fakediscord.Message) {
			log.Info("discord message", "channel", m.ChannelID, "author", m.Author.Username, "content", m.Content)
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
		CodecEndpoint: "http://" + CodecAddress,
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
	stopCodec, err := ServeCodec(ctx, CodecAddress, codec, log)
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
	if offlineDiscord {
		log.Info("the bot is not started without DISCORD_TOKEN; start workflows with bin/temporal (see README)")
		return RunWorker(ctx, cfg, log)
	}
	// The worker and the bot side by side; either one failing stops both.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- RunWorker(ctx, cfg, log) }()
	go func() { errs <- RunBot(ctx, cfg, log) }()
	err = <-errs
	cancel()
	if err2 := <-errs; err == nil {
		err = err2
	}
	return err
}

// ServeCodec serves the payload codec over HTTP with the CORS headers the
// Temporal Web UI needs to call it from the browser.
func ServeCodec(ctx context.Context, addr string, codec converter.PayloadCodec, log *slog.Logger) (stop func(), err error) {
	h := converter.NewPayloadCodecHTTPHandler(codec)
	cors := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type,X-Namespace,Authorization")
		w.Header().Set("Access-Control-Allow-Methods", "POST,OPTIONS")
		if r.Method == http.MethodOptions {
			return
		}
		h.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("codec server on %s: %w (is another tzurot dev running?)", addr, err)
	}
	srv := &http.Server{Handler: cors, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("payload codec for the Web UI", "url", "http://"+addr)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
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
