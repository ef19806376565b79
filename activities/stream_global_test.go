//go:build integration

package activities_test

// A global 429 (the bot's 50 requests per second across every route,
// "global": true, X-RateLimit-Global, X-RateLimit-Scope global) holds
// every request of the bot for retry_after, not only the route it came on
// (https://discord.com/developers/docs/topics/rate-limits#global-rate-limit).

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/testdb"
)

// globalLimiter answers the first bot-message edit with a global 429 and
// records every later request's time.
type globalLimiter struct {
	next     http.Handler
	mu       sync.Mutex
	limited  time.Time
	requests []time.Time
}

const globalRetryAfter = time.Second

func (g *globalLimiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	first := g.limited.IsZero() && r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/channels/")
	if first {
		g.limited = time.Now()
	} else if !g.limited.IsZero() {
		g.requests = append(g.requests, time.Now())
	}
	g.mu.Unlock()
	if first {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Global", "true")
		w.Header().Set("X-RateLimit-Scope", "global")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"message":"You are being rate limited.","retry_after":1.0,"global":true}`))
		return
	}
	g.next.ServeHTTP(w, r)
}

// Two replies streaming as bot messages in two channels through one
// session: after a global 429 on one's edit, no request of the bot goes
// out before retry_after has passed.
func TestStreamGlobal429HoldsEveryRequest(t *testing.T) {
	dc := fakediscord.New(fakediscord.Options{})
	const other = "900000000000000003"
	dc.DenyWebhooks(channelID)
	dc.DenyWebhooks(other)
	g := &globalLimiter{next: dc}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	db, sqlDB := testdb.Client(t)
	s, err := discordhttp.Session("test-token", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{DB: db, SQL: sqlDB, Log: slog.New(slog.DiscardHandler), Discord: s}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, ch := range []string{channelID, other} {
		to := target("gl" + ch + "/reply")
		to.ChannelID = ch
		text := strings.TrimSpace(reply("global"+ch, 150))
		wg.Go(func() {
			w := activities.NewStreamWriter(acts, to, activities.Progress{})
			w.EditInterval = 100 * time.Millisecond
			if err := feed(ctx, w, tokens(text), time.Duration(5+i)*time.Millisecond); err != nil {
				t.Error(err)
				return
			}
			if _, err := w.Finish(ctx, text); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limited.IsZero() {
		t.Fatal("no edit was answered the global 429")
	}
	early := 0
	for _, at := range g.requests {
		if at.Sub(g.limited) < globalRetryAfter-50*time.Millisecond {
			early++
		}
	}
	if early > 0 {
		t.Errorf("%d of %d requests went out within the global 429's retry_after (%v)", early, len(g.requests), globalRetryAfter)
	}
}
