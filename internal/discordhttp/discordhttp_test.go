package discordhttp

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/metrics"
)

func TestSessionSendsRESTToAPIBase(t *testing.T) {
	var gotPath, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"42","channel_id":"7","content":"hi"}`))
	}))
	defer srv.Close()
	s, err := Session("tok", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.ChannelMessageSend("7", "hi")
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/api/v9/channels/7/messages" || gotAuth != "Bot tok" || m.ID != "42" {
		t.Fatalf("request went to %q with %q, message %+v", gotPath, gotAuth, m)
	}
}

func TestSessionRejectsBadBase(t *testing.T) {
	if _, err := Session("tok", "not a url"); err == nil {
		t.Fatal("want an error for a bad DISCORD_API_BASE")
	}
}

// Each 429 Discord answers is counted by its X-RateLimit-Scope, though
// discordgo waits and retries it by itself and the caller never sees it.
func TestSessionCountsDiscordRateLimits(t *testing.T) {
	fake := fakediscord.New(fakediscord.Options{Token: "tok"})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.SetBaseURL(srv.URL)
	s, err := Session("tok", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	before := metrics.Sum("tzurot_discord_rate_limited_total", map[string]string{"scope": "user"})
	fake.RateLimitNext("POST /channels/{channel_id}/messages", 10*time.Millisecond)
	if _, err := s.ChannelMessageSend("900000000000000001", "hi"); err != nil {
		t.Fatal(err)
	}
	if got := metrics.Sum("tzurot_discord_rate_limited_total", map[string]string{"scope": "user"}) - before; got != 1 {
		t.Errorf("tzurot_discord_rate_limited_total{scope=\"user\"} grew by %v, want 1", got)
	}
}
