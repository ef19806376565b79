//go:build integration

package app_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
)

// A bot started before Discord answers (the stand-in comes up late at
// DISCORD_API_BASE) does not exit: it says what it dialled — the
// DISCORD_API_BASE URL, not discordgo's https://discord.com — and that
// nothing answers there (not a DISCORD_TOKEN hint, which only a 401 earns),
// /readyz names the gateway as not connected meanwhile, and once the
// stand-in listens the bot identifies and /readyz turns ready.
func TestGatewayLateIsRetried(t *testing.T) {
	s := itest.New(t, itest.Options{})
	lateAddr := freeAddr(t)
	cfg := s.Config
	cfg.DiscordAPIBase = "http://" + lateAddr
	cfg.MetricsAddr = freeAddr(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Logs.String())
		}
	})
	runBot(t, cfg, s.Activities.Log) // fails the test if RunBot returned meanwhile

	testwait.Until(t, "two failed attempts logged", func() bool {
		return strings.Count(s.Logs.String(), "the Discord gateway is not connected; retrying") >= 2
	})
	logs := s.Logs.String()
	if !strings.Contains(logs, cfg.DiscordAPIBase+"/api/v") || strings.Contains(logs, "https://discord.com/api") {
		t.Errorf("the failure does not name the URL dialled (%s/api/v…)", cfg.DiscordAPIBase)
	}
	if !strings.Contains(logs, "check DISCORD_API_BASE and the network") || strings.Contains(logs, "check DISCORD_TOKEN") {
		t.Errorf("a refused connection got the wrong hint")
	}
	if code, body := fetch(t, cfg.MetricsAddr, "/readyz"); code != 503 || !strings.Contains(body, "gateway") {
		t.Errorf("/readyz while unreachable = %d %q, want 503 naming the gateway", code, body)
	}

	ln, err := net.Listen("tcp", lateAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Discord}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	idctx, idcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer idcancel()
	if id, _ := s.Discord.WaitIdentified(idctx); !id.Accepted {
		t.Fatal("the bot did not identify after the stand-in came up")
	}
	testwait.Until(t, "/readyz to say ready", func() bool { code, _ := fetch(t, cfg.MetricsAddr, "/readyz"); return code == 200 })
}
