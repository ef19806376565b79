package discordhttp

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
