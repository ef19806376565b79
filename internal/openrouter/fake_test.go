package openrouter

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	fake "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/llmparams"
)

// These tests run the client against the shared OpenRouter fake, which the
// rest of the product's tests and the offline demo use too, so the two
// cannot drift apart unnoticed.

func newFake(t *testing.T, opts Options) (*fake.Server, *Client) {
	t.Helper()
	f := fake.New(fake.Options{})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/api/v1"
	opts.Referer = "https://github.com/tzurot/tzurot"
	opts.Title = "tzurot"
	return f, New(opts)
}

func userSays(model, text string) ChatRequest {
	return ChatRequest{Model: model, Messages: []Message{{Role: "user", Content: text}}}
}

func TestFakeChat(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})

	effort := "high"
	req := userSays("deepseek/deepseek-r1", "hello")
	req.Params = llmparams.Params{Reasoning: &llmparams.Reasoning{Effort: &effort}}
	resp, err := c.Chat(context.Background(), testKey, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != fake.EchoReply("deepseek/deepseek-r1", "hello") || resp.Reasoning != fake.EchoReasoning("hello") {
		t.Errorf("got content %q reasoning %q", resp.Content, resp.Reasoning)
	}
	if resp.FinishReason != "stop" || resp.Usage.TotalTokens == 0 || resp.Usage.ReasoningTokens == 0 || resp.Provider != "DeepSeek" {
		t.Errorf("got %+v", resp)
	}

	calls := f.CallsFor(testKey)
	if len(calls) != 1 {
		t.Fatalf("fake saw %d calls", len(calls))
	}
	if calls[0].Referer != "https://github.com/tzurot/tzurot" || calls[0].Title != "tzurot" {
		t.Errorf("attribution = %q %q", calls[0].Referer, calls[0].Title)
	}
	if !strings.Contains(string(calls[0].Body), `"reasoning":{"effort":"high"}`) {
		t.Errorf("body = %s", calls[0].Body)
	}
}

func TestFakeImages(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	req := userSays("google/gemini-2.5-flash-image-preview", "a red square")
	req.Modalities = []string{"image", "text"}
	resp, err := c.Chat(context.Background(), testKey, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Images) != 1 || !strings.HasPrefix(resp.Images[0], "data:image/png;base64,") {
		t.Errorf("images = %.60q", resp.Images)
	}
}

func TestFakeScriptedFailures(t *testing.T) {
	tests := []struct {
		step       fake.Step
		kind       Kind
		status     int
		retryAfter time.Duration
	}{
		{fake.Fail(400), KindBadRequest, 400, 0},
		{fake.Fail(401), KindInvalidKey, 401, 0},
		{fake.Fail(402), KindNoCredits, 402, 0},
		{fake.Fail(403), KindModeration, 403, 0},
		{fake.Fail(404), KindUnknownModel, 404, 0},
		{fake.Fail(408), KindTransient, 408, 0},
		{fake.Fail(429), KindRateLimited, 429, secs(1)},
		{fake.FailWithRetryAfter(429, 7), KindRateLimited, 429, secs(7)},
		{fake.Fail(500), KindTransient, 500, 0},
		{fake.Fail(502), KindTransient, 502, 0},
		{fake.FailWithRetryAfter(503, 12), KindTransient, 503, secs(12)},
		{fake.FailInBody(502), KindTransient, 502, 0},
		{fake.FailInChoice(500), KindTransient, 500, 0},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i, "_", tc.kind, "_", tc.status), func(t *testing.T) {
			f, c := newFake(t, Options{})
			f.AddKey(testKey, fake.Key{})
			f.Script(testKey, tc.step)
			_, err := c.Chat(context.Background(), testKey, userSays("anthropic/claude-sonnet-4", "hi"))
			e := mustAsError(t, err)
			if e.Kind != tc.kind || e.Status != tc.status || e.RetryAfter != tc.retryAfter || e.Message == "" {
				t.Errorf("got %v (retry after %s), want %s %d after %s", e, e.RetryAfter, tc.kind, tc.status, tc.retryAfter)
			}
			// The script is used up; the next call succeeds.
			if _, err := c.Chat(context.Background(), testKey, userSays("anthropic/claude-sonnet-4", "hi")); err != nil {
				t.Errorf("call after the script: %v", err)
			}
		})
	}
}

func TestFakeModerationMetadata(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	f.Script(testKey, fake.Fail(403))
	_, err := c.Chat(context.Background(), testKey, userSays("anthropic/claude-sonnet-4", "something rude"))
	e := mustAsError(t, err)
	if reasons, _ := e.Metadata["reasons"].([]any); len(reasons) != 1 || reasons[0] != "harassment" {
		t.Errorf("metadata = %#v", e.Metadata)
	}
}

func TestFakeUnknownModelAndCredits(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	_, err := c.Chat(context.Background(), testKey, userSays("acme/nonexistent", "hi"))
	if e := mustAsError(t, err); e.Kind != KindUnknownModel {
		t.Errorf("unknown model: %v", e)
	}

	broke := "sk-or-v1-" + strings.Repeat("b", 64)
	zero := 0.0
	f.AddKey(broke, fake.Key{Credits: &zero})
	_, err = c.Chat(context.Background(), broke, userSays("deepseek/deepseek-r1", "hi"))
	if e := mustAsError(t, err); e.Kind != KindNoCredits {
		t.Errorf("no credits: %v", e)
	}
}

func TestFakeCheckKey(t *testing.T) {
	f, c := newFake(t, Options{})
	credits := 5.0
	f.AddKey(testKey, fake.Key{Credits: &credits, Label: "my key"})
	info, err := c.CheckKey(context.Background(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	if info.Label != "my key" || info.LimitRemaining == nil || *info.LimitRemaining != 5 || info.Limit == nil || *info.Limit != 5 {
		t.Errorf("info = %+v", info)
	}
	for _, call := range f.Calls() {
		if call.Path != "/api/v1/key" {
			t.Errorf("CheckKey called %s; only /key authenticates", call.Path)
		}
	}

	broke := "sk-or-v1-" + strings.Repeat("c", 64)
	zero := 0.0
	f.AddKey(broke, fake.Key{Credits: &zero, FreeTier: true})
	info, err = c.CheckKey(context.Background(), broke)
	if e := mustAsError(t, err); e.Kind != KindNoCredits || info.LimitRemaining == nil || !info.IsFreeTier {
		t.Errorf("broke key: %+v, %v", info, err)
	}

	f.Revoke(testKey)
	if _, err := c.CheckKey(context.Background(), testKey); mustAsError(t, err).Kind != KindInvalidKey {
		t.Errorf("revoked key: %v", err)
	}
	if _, err := c.CheckKey(context.Background(), "sk-or-v1-neverregistered"); mustAsError(t, err).Kind != KindInvalidKey {
		t.Errorf("unknown key: %v", err)
	}
}

func TestFakeMagicKeys(t *testing.T) {
	f := fake.New(fake.Options{AcceptAnyKey: true})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := New(Options{BaseURL: srv.URL + "/api/v1"})

	_, err := c.CheckKey(context.Background(), "sk-or-v1-busy0000")
	if e := mustAsError(t, err); e.Kind != KindRateLimited || e.RetryAfter != secs(1) {
		t.Errorf("busy: %v after %s", e, e.RetryAfter)
	}
	_, err = c.Chat(context.Background(), "sk-or-v1-deadbeef00", userSays("deepseek/deepseek-r1", "hi"))
	if e := mustAsError(t, err); e.Kind != KindInvalidKey {
		t.Errorf("dead: %v", e)
	}
}

func TestFakeTimeout(t *testing.T) {
	f, c := newFake(t, Options{Timeout: 50 * time.Millisecond})
	f.AddKey(testKey, fake.Key{})
	f.Script(testKey, fake.Delay(5*time.Second))
	_, err := c.Chat(context.Background(), testKey, userSays("deepseek/deepseek-r1", "hi"))
	if e := mustAsError(t, err); e.Kind != KindTransient || e.Message != "request timed out" {
		t.Errorf("got %v", e)
	}
}

func TestFakeConcurrentKeys(t *testing.T) {
	f, c := newFake(t, Options{})
	const n = 24
	keyFor := func(i int) string { return fmt.Sprintf("sk-or-v1-%064x", i) }
	for i := range n {
		f.AddKey(keyFor(i), fake.Key{})
		if i%2 == 1 {
			f.Script(keyFor(i), fake.FailWithRetryAfter(429, i))
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			text := fmt.Sprintf("message %d", i)
			resp, err := c.Chat(context.Background(), keyFor(i), userSays("deepseek/deepseek-r1", text))
			if i%2 == 1 {
				if e, ok := AsError(err); !ok || e.Kind != KindRateLimited || e.RetryAfter != secs(i) {
					t.Errorf("call %d: got %v, want its own 429 after %ds", i, err, i)
				}
				return
			}
			if err != nil || resp.Content != fake.EchoReply("deepseek/deepseek-r1", text) {
				t.Errorf("call %d: got %q, %v", i, resp.Content, err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		calls := f.CallsFor(keyFor(i))
		if len(calls) != 1 {
			t.Errorf("key %d: %d calls, want 1", i, len(calls))
		} else if !strings.Contains(string(calls[0].Body), fmt.Sprintf("message %d", i)) {
			t.Errorf("key %d sent another call's body: %s", i, calls[0].Body)
		}
	}
}

// The model list says which models take images; the stand-in refuses
// images to a text-only model, as OpenRouter does, and sees them otherwise.
func TestFakeModelsAndImageParts(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	models, err := c.Models(context.Background(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	takes := map[string]bool{}
	for _, m := range models {
		takes[m.ID] = m.AcceptsImages()
	}
	if !takes["anthropic/claude-sonnet-4"] || !takes["google/gemma-3-27b-it:free"] || takes["deepseek/deepseek-r1"] {
		t.Errorf("image input per model: %v", takes)
	}
	img := "data:image/png;base64,iVBORw0KGgo="
	req := ChatRequest{Model: "anthropic/claude-sonnet-4", Messages: []Message{{Role: "user", Content: "see", Images: []string{img}}}}
	resp, err := c.Chat(context.Background(), testKey, req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Content, fake.DescribeImages([]string{img})) {
		t.Errorf("reply %q does not describe the image", resp.Content)
	}
	if calls := f.CallsFor(testKey); calls[len(calls)-1].Images[0] != img {
		t.Errorf("recorded images %v", calls[len(calls)-1].Images)
	}
	req.Model = "deepseek/deepseek-r1"
	if _, err := c.Chat(context.Background(), testKey, req); err == nil {
		t.Error("a text-only model took an image")
	}
}
