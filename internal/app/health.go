package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/metrics"
)

// readiness is what /readyz of a worker or a bot asks: Temporal answers its
// health check, PostgreSQL a ping, and — for the bot — the Discord gateway
// is connected. Until Open returns, nothing is.
type readiness struct {
	deps    atomic.Pointer[Deps]
	bot     bool
	gateway atomic.Bool // READY or RESUMED since the last disconnect
}

var errNotConnected = errors.New("not connected yet")

func (r *readiness) checks() []metrics.Check {
	out := []metrics.Check{
		{Name: "temporal", Probe: func(ctx context.Context) error {
			d := r.deps.Load()
			if d == nil {
				return errNotConnected
			}
			_, err := d.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return oneLine(err)
		}},
		{Name: "postgres", Probe: func(ctx context.Context) error {
			d := r.deps.Load()
			if d == nil {
				return errNotConnected
			}
			return oneLine(d.DB.PingContext(ctx))
		}},
	}
	if r.bot {
		out = append(out, metrics.Check{Name: "discord_gateway", Probe: func(context.Context) error {
			if !r.gateway.Load() {
				return errors.New("not connected: no READY or RESUMED since the last disconnect")
			}
			return nil
		}})
	}
	return out
}

// watchGateway follows s's gateway connection for the discord_gateway check.
func (r *readiness) watchGateway(s *discordgo.Session) {
	s.AddHandler(func(*discordgo.Session, *discordgo.Ready) { r.gateway.Store(true) })
	s.AddHandler(func(*discordgo.Session, *discordgo.Resumed) { r.gateway.Store(true) })
	s.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) { r.gateway.Store(false) })
}

// serveHealth serves metrics and health on METRICS_ADDR, when set, until
// stop; before the process's clients exist, so /readyz says 503 meanwhile.
func serveHealth(cfg config.Config, r *readiness, log *slog.Logger) (stop func(), err error) {
	if cfg.MetricsAddr == "" {
		return func() {}, nil
	}
	return metrics.Serve(cfg.MetricsAddr, r.checks(), log)
}

// oneLine keeps a probe's error on one line for the /readyz body.
func oneLine(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(strings.Join(strings.Fields(err.Error()), " "))
}
