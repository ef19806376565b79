package activities

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/tzurot/tzurot/internal/discordhttp"
)

// The Discord calls made for referenced messages and fresh attachment URLs
// carry the activity's context: once it is cancelled (the activity timed
// out or its workflow was cancelled) none of them is sent.
func TestReferenceCallsCarryTheContext(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		http.Error(w, `{"message": "Unknown Message", "code": 10008}`, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	session, err := discordhttp.Session("test-token", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	a := &Activities{Discord: session, Log: slog.New(slog.DiscardHandler)}
	in := GenerateInput{
		ChannelID: "900000000000000001", MessageID: "500000000000000001", GuildID: "1300000000000000009",
		Content:    "see https://discord.com/channels/1300000000000000009/900000000000000002/500000000000000002",
		References: &References{Forward: true, ReplyTo: &MessageRef{ChannelID: "900000000000000001", MessageID: "500000000000000003"}},
	}
	run := func(ctx context.Context) int32 {
		requests.Store(0)
		a.withReferences(ctx, in, in.Content, 5, MentionNames{}, MentionLimits{})
		_, _ = a.freshURLs(ctx, in.ChannelID, in.MessageID)
		return requests.Load()
	}
	if n := run(context.Background()); n < 3 {
		t.Fatalf("%d requests with a live context; want the forward, the reply and the link's checks at least", n)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if n := run(cancelled); n != 0 {
		t.Errorf("%d requests sent after the context was cancelled; want none", n)
	}
}
