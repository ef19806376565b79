package discord_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// A webhook takes WebhookLimit executions, edits and deletions per
// WebhookWindow; the next is a 429 with Discord's body and headers, and a
// request before its retry_after is counted as not backing off.
func TestWebhookEditsAreRateLimited(t *testing.T) {
	fake, srv, s := setup(t, discord.Options{WebhookLimit: 3, WebhookWindow: 400 * time.Millisecond})
	hook := newWebhook(t, s, "Tzurot")
	m, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "a"})
	if err != nil {
		t.Fatal(err)
	}
	uri := srv.URL + "/api/v9/webhooks/" + hook.ID + "/" + hook.Token + "/messages/" + m.ID
	edit := func(content string) (*http.Response, map[string]any) {
		t.Helper()
		resp, b, err := fakehttp.Request(http.MethodPatch, uri, http.Header{"Content-Type": {"application/json"}}, map[string]any{"content": content})
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		return resp, body
	}
	resp, _ := edit("ab")
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "3" || resp.Header.Get("X-RateLimit-Remaining") != "1" ||
		resp.Header.Get("X-RateLimit-Bucket") == "" || resp.Header.Get("X-RateLimit-Reset-After") == "" {
		t.Errorf("edit within the limit = %d %v", resp.StatusCode, resp.Header)
	}
	edit("abc")
	resp, body := edit("abcd")
	retry, _ := strconv.ParseFloat(resp.Header.Get("X-RateLimit-Reset-After"), 64)
	if resp.StatusCode != 429 || body["message"] != "You are being rate limited." || body["global"] != false ||
		resp.Header.Get("Retry-After") != "1" || resp.Header.Get("X-RateLimit-Scope") != "user" || retry <= 0 || retry > 0.4 {
		t.Errorf("edit past the limit = %d %v %v", resp.StatusCode, resp.Header, body)
	}
	if fake.EarlyRetries() != 0 {
		t.Errorf("early retries before any retry = %d", fake.EarlyRetries())
	}
	edit("abcd") // at once, as a client that ignores retry_after
	if fake.EarlyRetries() != 1 {
		t.Errorf("early retries = %d, want 1", fake.EarlyRetries())
	}
	got := fake.Messages(chanID)
	if len(got) != 1 || got[0].Content != "abc" || len(got[0].History) != 3 || got[0].History[0] != "a" || got[0].History[1] != "ab" {
		t.Errorf("message = %+v", got)
	}

	// discordgo reads the headers and waits: no early retry, the edit lands.
	time.Sleep(400 * time.Millisecond)
	for i := range 8 {
		c := "edit " + strconv.Itoa(i)
		if _, err := s.WebhookMessageEdit(hook.ID, hook.Token, m.ID, &discordgo.WebhookEdit{Content: &c}); err != nil {
			t.Fatal(err)
		}
	}
	if fake.EarlyRetries() != 1 || fake.Messages(chanID)[0].Content != "edit 7" {
		t.Errorf("after discordgo's edits: early retries %d, content %q", fake.EarlyRetries(), fake.Messages(chanID)[0].Content)
	}
}
