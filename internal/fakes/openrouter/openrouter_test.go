package openrouter_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
	"github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/testwait"
)

const (
	key   = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	other = "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"
)

func ptr(f float64) *float64 { return &f }

// attribution adds OpenRouter's app headers the way the product does.
type attribution struct{ base http.RoundTripper }

func (a attribution) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("HTTP-Referer", "https://github.com/tzurot/tzurot")
	r.Header.Set("X-Title", "Tzurot")
	return a.base.RoundTrip(r)
}

func setup(t *testing.T, opts openrouter.Options) (*openrouter.Server, *httptest.Server) {
	t.Helper()
	fake := openrouter.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

// setupWithKey is a strict fake that knows key, with no credit limit.
func setupWithKey(t *testing.T) (*openrouter.Server, *httptest.Server) {
	t.Helper()
	fake, srv := setup(t, openrouter.Options{})
	fake.AddKey(key, openrouter.Key{})
	return fake, srv
}

func client(srv *httptest.Server, apiKey string) *openai.Client {
	cfg := openai.DefaultConfig(apiKey)
	cfg.BaseURL = srv.URL + "/api/v1"
	cfg.HTTPClient = &http.Client{Transport: attribution{http.DefaultTransport}}
	return openai.NewClientWithConfig(cfg)
}

func chatReq(model, text string) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model: model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "You are Lilith."},
			{Role: openai.ChatMessageRoleUser, Content: text},
		},
	}
}

func apiStatus(t *testing.T, err error) *openai.APIError {
	t.Helper()
	apiErr, ok := errors.AsType[*openai.APIError](err)
	if !ok {
		t.Fatalf("want *openai.APIError, got %T: %v", err, err)
	}
	return apiErr
}

// raw sends a request with the key and decodes the JSON answer.
func raw(t *testing.T, method, url, apiKey string, body any) (*http.Response, map[string]any) {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if apiKey != "" {
		h.Set("Authorization", "Bearer "+apiKey)
	}
	resp, b, err := fakehttp.Request(method, url, h, body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, b)
	}
	return resp, out
}

func TestChatCompletionWithGoOpenAI(t *testing.T) {
	fake, srv := setupWithKey(t)

	resp, err := client(srv, key).CreateChatCompletion(context.Background(), chatReq("anthropic/claude-sonnet-4", "hello there"))
	if err != nil {
		t.Fatal(err)
	}
	if want := openrouter.EchoReply("anthropic/claude-sonnet-4", "hello there"); resp.Choices[0].Message.Content != want {
		t.Errorf("content = %q, want %q", resp.Choices[0].Message.Content, want)
	}
	if resp.Model != "anthropic/claude-sonnet-4" || resp.Object != "chat.completion" || !strings.HasPrefix(resp.ID, "gen-") {
		t.Errorf("envelope = %q %q %q", resp.Model, resp.Object, resp.ID)
	}
	if resp.Choices[0].FinishReason != openai.FinishReasonStop || resp.Choices[0].Message.Role != "assistant" {
		t.Errorf("choice = %+v", resp.Choices[0])
	}
	// "You are Lilith." is 15 chars -> 4 tokens, "hello there" 11 -> 3.
	u := resp.Usage
	if u.PromptTokens != 7 || u.CompletionTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage = %+v", u)
	}

	calls := fake.CallsFor(key)
	if len(calls) != 1 {
		t.Fatalf("calls = %d", len(calls))
	}
	c := calls[0]
	if c.Method != http.MethodPost || c.Path != "/api/v1/chat/completions" || c.Model != "anthropic/claude-sonnet-4" || c.Status != 200 {
		t.Errorf("call = %+v", c)
	}
	if c.Referer != "https://github.com/tzurot/tzurot" || c.Title != "Tzurot" || c.Headers.Get("X-Title") != "Tzurot" {
		t.Errorf("attribution not recorded: %q %q", c.Referer, c.Title)
	}
	if !bytes.Contains(c.Body, []byte("hello there")) {
		t.Errorf("body not recorded: %s", c.Body)
	}
}

func TestRouterAnswersWithServingModel(t *testing.T) {
	fake, srv := setup(t, openrouter.Options{})
	fake.AddKey(key, openrouter.Key{FreeTier: true})
	resp, err := client(srv, key).CreateChatCompletion(context.Background(), chatReq("openrouter/free", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Model != "meta-llama/llama-3.3-70b-instruct:free" {
		t.Errorf("model = %q", resp.Model)
	}
}

func TestErrorStatusesWithGoOpenAI(t *testing.T) {
	fake, srv := setupWithKey(t)
	broke := "sk-or-v1-" + strings.Repeat("b", 64)
	fake.AddKey(broke, openrouter.Key{Credits: ptr(0)})
	ctx := context.Background()

	_, err := client(srv, other).CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi"))
	if e := apiStatus(t, err); e.HTTPStatusCode != 401 || e.Message != "User not found." || e.Code != 401 {
		t.Errorf("unknown key: %+v", e)
	}
	_, err = client(srv, "").CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi"))
	if e := apiStatus(t, err); e.HTTPStatusCode != 401 || e.Message != "No auth credentials found" {
		t.Errorf("no key: %+v", e)
	}
	_, err = client(srv, broke).CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi"))
	if e := apiStatus(t, err); e.HTTPStatusCode != 402 || !strings.Contains(e.Message, "https://openrouter.ai/credits") {
		t.Errorf("no credits: %+v", e)
	}
	fake.Script(key, openrouter.Fail(429))
	_, err = client(srv, key).CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi"))
	if e := apiStatus(t, err); e.HTTPStatusCode != 429 {
		t.Errorf("rate limit: %+v", e)
	}
	_, err = client(srv, key).CreateChatCompletion(ctx, chatReq("nope/missing", "hi"))
	if e := apiStatus(t, err); e.HTTPStatusCode != 404 || e.Message != "No endpoints found for nope/missing." {
		t.Errorf("unknown model: %+v", e)
	}
	fake.Revoke(key)
	_, err = client(srv, key).CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi"))
	if e := apiStatus(t, err); e.HTTPStatusCode != 401 {
		t.Errorf("revoked: %+v", e)
	}
}

func TestScriptQueueThenNormal(t *testing.T) {
	fake, srv := setupWithKey(t)
	fake.Script(key, openrouter.Fail(503), openrouter.Fail(503), openrouter.OK(), openrouter.Reply("scripted", "because"))
	c := client(srv, key)
	ctx := context.Background()
	for i := range 2 {
		_, err := c.CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi"))
		if e := apiStatus(t, err); e.HTTPStatusCode != 503 {
			t.Fatalf("call %d: %+v", i, e)
		}
	}
	resp, err := c.CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi"))
	if err != nil || resp.Choices[0].Message.Content != openrouter.EchoReply("deepseek/deepseek-r1", "hi") {
		t.Fatalf("third call: %v %+v", err, resp)
	}
	_, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, map[string]any{
		"model":    "deepseek/deepseek-r1",
		"messages": []map[string]any{{"role": "user", "content": "hi"}},
	})
	msg := body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if msg["content"] != "scripted" || msg["reasoning"] != "because" {
		t.Errorf("scripted reply = %v", msg)
	}
	// Another key's script is independent.
	fake.AddKey(other, openrouter.Key{})
	if _, err := client(srv, other).CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi")); err != nil {
		t.Fatal(err)
	}
}

func TestTransient401WhileKeyStillValid(t *testing.T) {
	fake, srv := setupWithKey(t)
	fake.Script(key, openrouter.Fail(401))
	_, err := client(srv, key).CreateChatCompletion(context.Background(), chatReq("deepseek/deepseek-r1", "hi"))
	if e := apiStatus(t, err); e.HTTPStatusCode != 401 {
		t.Fatalf("chat: %+v", e)
	}
	resp, _ := raw(t, "GET", srv.URL+"/api/v1/key", key, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/key = %d", resp.StatusCode)
	}
	if _, err := client(srv, key).CreateChatCompletion(context.Background(), chatReq("deepseek/deepseek-r1", "hi")); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

func TestKeyEndpoint(t *testing.T) {
	fake, srv := setup(t, openrouter.Options{})
	fake.AddKey(key, openrouter.Key{Credits: ptr(1)})
	fake.AddKey(other, openrouter.Key{Credits: ptr(0), FreeTier: true})

	for _, path := range []string{"/api/v1/key", "/api/v1/auth/key"} {
		resp, body := raw(t, "GET", srv.URL+path, key, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s = %d %v", path, resp.StatusCode, body)
		}
		data := body["data"].(map[string]any)
		if data["label"] != "sk-or-v1-012...def" || data["limit"] != 1.0 || data["limit_remaining"] != 1.0 || data["usage"] != 0.0 || data["is_free_tier"] != false {
			t.Errorf("%s data = %v", path, data)
		}
		rl := data["rate_limit"].(map[string]any)
		if rl["interval"] != "10s" {
			t.Errorf("rate_limit = %v", rl)
		}
	}

	// A paid call is charged to the key.
	if _, err := client(srv, key).CreateChatCompletion(context.Background(), chatReq("anthropic/claude-sonnet-4", "hi")); err != nil {
		t.Fatal(err)
	}
	_, body := raw(t, "GET", srv.URL+"/api/v1/key", key, nil)
	data := body["data"].(map[string]any)
	if usage := data["usage"].(float64); usage <= 0 || data["limit_remaining"].(float64) != 1-usage {
		t.Errorf("after call: %v", data)
	}

	// Exhausted: /key still answers, chat refuses.
	resp, body := raw(t, "GET", srv.URL+"/api/v1/key", other, nil)
	data = body["data"].(map[string]any)
	if resp.StatusCode != 200 || data["limit_remaining"] != 0.0 || data["is_free_tier"] != true {
		t.Errorf("exhausted key = %d %v", resp.StatusCode, data)
	}

	// Unlimited keys report null limits.
	fake.AddKey(key, openrouter.Key{})
	_, body = raw(t, "GET", srv.URL+"/api/v1/key", key, nil)
	data = body["data"].(map[string]any)
	if v, ok := data["limit"]; !ok || v != nil {
		t.Errorf("limit = %v", v)
	}
	if v, ok := data["limit_remaining"]; !ok || v != nil {
		t.Errorf("limit_remaining = %v", v)
	}

	resp, body = raw(t, "GET", srv.URL+"/api/v1/key", "", nil)
	if resp.StatusCode != 401 || body["error"].(map[string]any)["message"] != "No auth credentials found" {
		t.Errorf("no key = %d %v", resp.StatusCode, body)
	}
	resp, body = raw(t, "GET", srv.URL+"/api/v1/key", "sk-or-v1-unknown", nil)
	e := body["error"].(map[string]any)
	if resp.StatusCode != 401 || e["message"] != "User not found." || e["code"] != 401.0 {
		t.Errorf("unknown key = %d %v", resp.StatusCode, body)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	fake, srv := setupWithKey(t)
	fake.Script(key, openrouter.FailWithRetryAfter(429, 7), openrouter.Fail(429), openrouter.FailWithRetryAfter(503, 3))
	chat := map[string]any{"model": "deepseek/deepseek-r1", "messages": []map[string]any{{"role": "user", "content": "hi"}}}
	for _, want := range []struct {
		status int
		retry  string
	}{{429, "7"}, {429, "1"}, {503, "3"}} {
		resp, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, chat)
		if resp.StatusCode != want.status || resp.Header.Get("Retry-After") != want.retry {
			t.Errorf("got %d Retry-After=%q, want %d %q", resp.StatusCode, resp.Header.Get("Retry-After"), want.status, want.retry)
		}
		if e := body["error"].(map[string]any); e["code"] != float64(want.status) {
			t.Errorf("error body = %v", body)
		}
	}
}

func TestDocumentedErrorBodies(t *testing.T) {
	fake, srv := setupWithKey(t)
	chat := map[string]any{"model": "anthropic/claude-sonnet-4", "messages": []map[string]any{{"role": "user", "content": "you are terrible"}}}
	for _, status := range []int{400, 402, 403, 404, 408, 502, 503} {
		fake.Script(key, openrouter.Fail(status))
		resp, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, chat)
		e := body["error"].(map[string]any)
		if resp.StatusCode != status || e["code"] != float64(status) || e["message"] == "" {
			t.Errorf("status %d: %d %v", status, resp.StatusCode, body)
		}
		if status == 403 {
			meta := e["metadata"].(map[string]any)
			if meta["flagged_input"] != "you are terrible" || len(meta["reasons"].([]any)) == 0 {
				t.Errorf("moderation metadata = %v", meta)
			}
		}
	}
	resp, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, map[string]any{"model": "deepseek/deepseek-r1", "messages": []any{}})
	if resp.StatusCode != 400 || body["error"].(map[string]any)["code"] != 400.0 {
		t.Errorf("empty messages: %d %v", resp.StatusCode, body)
	}
	resp, body = raw(t, "GET", srv.URL+"/api/v1/nope", key, nil)
	if resp.StatusCode != 404 || body["error"] == nil {
		t.Errorf("unknown route: %d %v", resp.StatusCode, body)
	}
	resp, _ = raw(t, "GET", srv.URL+"/api/v1/chat/completions", key, nil)
	if resp.StatusCode != 405 {
		t.Errorf("wrong method: %d", resp.StatusCode)
	}
}

func TestErrorInsideOKBody(t *testing.T) {
	fake, srv := setupWithKey(t)
	fake.Script(key, openrouter.FailInBody(502), openrouter.FailInChoice(502))
	chat := map[string]any{"model": "deepseek/deepseek-r1", "messages": []map[string]any{{"role": "user", "content": "hi"}}}

	resp, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, chat)
	e, ok := body["error"].(map[string]any)
	if resp.StatusCode != 200 || !ok || e["code"] != 502.0 || body["choices"] != nil {
		t.Errorf("error in body = %d %v", resp.StatusCode, body)
	}

	// go-openai sees success with a failed choice; the product must check
	// finish_reason.
	got, err := client(srv, key).CreateChatCompletion(context.Background(), chatReq("deepseek/deepseek-r1", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Choices) != 1 || got.Choices[0].FinishReason != "error" {
		t.Errorf("error in choice = %+v", got.Choices)
	}
}

func TestReasoningOnlyWhenAsked(t *testing.T) {
	_, srv := setupWithKey(t)
	msgs := []map[string]any{{"role": "user", "content": "why?"}}
	cases := []struct {
		name string
		req  map[string]any
		want bool
	}{
		{"none", map[string]any{"model": "deepseek/deepseek-r1", "messages": msgs}, false},
		{"object", map[string]any{"model": "deepseek/deepseek-r1", "messages": msgs, "reasoning": map[string]any{"effort": "high"}}, true},
		{"legacy", map[string]any{"model": "deepseek/deepseek-r1", "messages": msgs, "include_reasoning": true}, true},
		{"excluded", map[string]any{"model": "deepseek/deepseek-r1", "messages": msgs, "reasoning": map[string]any{"exclude": true}}, false},
		{"unsupported model", map[string]any{"model": "meta-llama/llama-3.3-70b-instruct:free", "messages": msgs, "reasoning": map[string]any{}}, false},
	}
	for _, tc := range cases {
		_, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, tc.req)
		msg := body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
		r, has := msg["reasoning"]
		if has != tc.want {
			t.Errorf("%s: reasoning = %v", tc.name, r)
		}
		if tc.want && r != openrouter.EchoReasoning("why?") {
			t.Errorf("%s: reasoning = %q", tc.name, r)
		}
		details := body["usage"].(map[string]any)["completion_tokens_details"].(map[string]any)
		if (details["reasoning_tokens"].(float64) > 0) != tc.want {
			t.Errorf("%s: reasoning tokens = %v", tc.name, details)
		}
	}
}

func TestImageGeneration(t *testing.T) {
	_, srv := setupWithKey(t)
	req := map[string]any{
		"model":      "google/gemini-2.5-flash-image-preview",
		"modalities": []string{"image", "text"},
		"messages":   []map[string]any{{"role": "user", "content": []map[string]any{{"type": "text", "text": "a red fox"}}}},
	}
	var urls []string
	for range 2 {
		resp, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, req)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d %v", resp.StatusCode, body)
		}
		msg := body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
		img := msg["images"].([]any)[0].(map[string]any)
		if img["type"] != "image_url" {
			t.Errorf("image = %v", img)
		}
		urls = append(urls, img["image_url"].(map[string]any)["url"].(string))
		if !strings.Contains(msg["content"].(string), "a red fox") {
			t.Errorf("content = %v", msg["content"])
		}
	}
	if urls[0] != urls[1] {
		t.Error("image is not deterministic")
	}
	b64, ok := strings.CutPrefix(urls[0], "data:image/png;base64,")
	if !ok {
		t.Fatalf("url = %.40s", urls[0])
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}

	req["model"] = "deepseek/deepseek-r1"
	resp, _ := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, req)
	if resp.StatusCode != 404 {
		t.Errorf("text-only model asked for images: %d", resp.StatusCode)
	}
}

func TestStreaming(t *testing.T) {
	fake, srv := setupWithKey(t)
	req := chatReq("anthropic/claude-sonnet-4", "stream me please")
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	stream, err := client(srv, key).CreateChatCompletionStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var content strings.Builder
	var finish openai.FinishReason
	var usage *openai.Usage
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chunk.Choices {
			content.WriteString(c.Delta.Content)
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
		}
		if chunk.Usage != nil {
			usage = chunk.Usage
		}
	}
	if want := openrouter.EchoReply("anthropic/claude-sonnet-4", "stream me please"); content.String() != want {
		t.Errorf("streamed %q, want %q", content.String(), want)
	}
	if finish != openai.FinishReasonStop || usage == nil || usage.TotalTokens == 0 {
		t.Errorf("finish=%q usage=%+v", finish, usage)
	}

	fake.Script(key, openrouter.FailInBody(502))
	stream, err = client(srv, key).CreateChatCompletionStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if _, err := stream.Recv(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("mid-stream error not surfaced: %v", err)
	}
}

func TestMaxTokensTruncates(t *testing.T) {
	_, srv := setupWithKey(t)
	req := chatReq("deepseek/deepseek-r1", strings.Repeat("long ", 50))
	req.MaxTokens = 2 //nolint:staticcheck // OpenRouter takes max_tokens (openrouter.ai/docs/api-reference/parameters), so the fake honours it
	resp, err := client(srv, key).CreateChatCompletion(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].FinishReason != openai.FinishReasonLength || len([]rune(resp.Choices[0].Message.Content)) != 8 {
		t.Errorf("choice = %+v", resp.Choices[0])
	}
}

func TestModelsIsPublic(t *testing.T) {
	_, srv := setup(t, openrouter.Options{})
	resp, body := raw(t, "GET", srv.URL+"/api/v1/models", "", nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	ids := map[string]map[string]any{}
	for _, m := range body["data"].([]any) {
		mm := m.(map[string]any)
		ids[mm["id"].(string)] = mm
	}
	for _, id := range []string{"openrouter/free", "meta-llama/llama-3.3-70b-instruct:free", "anthropic/claude-sonnet-4", "deepseek/deepseek-r1", "google/gemini-2.5-flash-image-preview"} {
		m, ok := ids[id]
		if !ok {
			t.Errorf("missing %s", id)
			continue
		}
		if m["context_length"].(float64) <= 0 || m["pricing"].(map[string]any)["prompt"] == nil || m["name"] == "" {
			t.Errorf("%s = %v", id, m)
		}
	}
	out := ids["google/gemini-2.5-flash-image-preview"]["architecture"].(map[string]any)["output_modalities"].([]any)
	if len(out) != 2 {
		t.Errorf("image model outputs = %v", out)
	}
}

func TestAcceptAnyKeyMagicWords(t *testing.T) {
	fake, srv := setup(t, openrouter.Options{AcceptAnyKey: true})
	chat := map[string]any{"model": "openrouter/free", "messages": []map[string]any{{"role": "user", "content": "hi"}}}
	post := func(k string) (*http.Response, map[string]any) {
		return raw(t, "POST", srv.URL+"/api/v1/chat/completions", k, chat)
	}
	get := func(k string) (*http.Response, map[string]any) {
		return raw(t, "GET", srv.URL+"/api/v1/key", k, nil)
	}

	if resp, _ := post(key); resp.StatusCode != 200 {
		t.Errorf("hex key: %d", resp.StatusCode)
	}
	if resp, _ := post("sk-or-v1-demo1234"); resp.StatusCode != 200 {
		t.Errorf("short demo key: %d", resp.StatusCode)
	}
	for _, bad := range []string{"sk-or-v1-short", "sk-or-v1-UPPERCASE1", "not-a-key-at-all"} {
		if resp, _ := post(bad); resp.StatusCode != 401 {
			t.Errorf("%s: %d", bad, resp.StatusCode)
		}
	}

	daily := "sk-or-v1-daily12345"
	if resp, body := post(daily); resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-Remaining") != "0" ||
		!strings.Contains(fmt.Sprint(body), "free-models-per-day") {
		t.Errorf("daily, free model: %d %v %v", resp.StatusCode, resp.Header, body)
	}
	paid := map[string]any{"model": "anthropic/claude-sonnet-4", "messages": []map[string]any{{"role": "user", "content": "hi"}}}
	if resp, _ := raw(t, "POST", srv.URL+"/api/v1/chat/completions", daily, paid); resp.StatusCode != 200 {
		t.Errorf("daily, paid model: %d, want the cap to spare paid models", resp.StatusCode)
	}
	if resp, _ := get(daily); resp.StatusCode != 200 {
		t.Errorf("daily /key: %d", resp.StatusCode)
	}

	dead := "sk-or-v1-deadbeef00"
	if resp, _ := get(dead); resp.StatusCode != 401 {
		t.Errorf("dead /key: %d", resp.StatusCode)
	}
	if resp, _ := post(dead); resp.StatusCode != 401 {
		t.Errorf("dead chat: %d", resp.StatusCode)
	}

	broke := "sk-or-v1-broke12345"
	resp, body := get(broke)
	if resp.StatusCode != 200 || body["data"].(map[string]any)["limit_remaining"] != 0.0 {
		t.Errorf("broke /key: %d %v", resp.StatusCode, body)
	}
	if resp, _ := post(broke); resp.StatusCode != 402 {
		t.Errorf("broke chat: %d", resp.StatusCode)
	}

	busy := "sk-or-v1-busy12345"
	for _, resp := range []*http.Response{
		func() *http.Response { r, _ := get(busy); return r }(),
		func() *http.Response { r, _ := post(busy); return r }(),
		func() *http.Response { r, _ := raw(t, "GET", srv.URL+"/api/v1/models", busy, nil); return r }(),
	} {
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("busy %s: %d %q", resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}

	// A registered key beats the magic words.
	fake.AddKey(dead, openrouter.Key{})
	if resp, _ := post(dead); resp.StatusCode != 200 {
		t.Errorf("registered dead-looking key: %d", resp.StatusCode)
	}
}

func TestLatencyAndCancellation(t *testing.T) {
	fake, srv := setup(t, openrouter.Options{Latency: 30 * time.Millisecond})
	fake.AddKey(key, openrouter.Key{})
	start := time.Now()
	if _, err := client(srv, key).CreateChatCompletion(context.Background(), chatReq("openrouter/free", "hi")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("latency not applied: %v", d)
	}

	fake.Script(key, openrouter.Delay(5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := client(srv, key).CreateChatCompletion(ctx, chatReq("openrouter/free", "hi")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	testwait.Until(t, "the cancelled call to be recorded as 499", func() bool {
		calls := fake.Calls()
		return len(calls) == 2 && calls[1].Status == 499
	})
}

func TestConcurrentCallsAndReset(t *testing.T) {
	fake, srv := setupWithKey(t)
	fake.AddKey(other, openrouter.Key{})
	const n = 40
	fake.Script(key, openrouter.Fail(503), openrouter.Fail(503))
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := key
			if i%2 == 1 {
				k = other
			}
			_, err := client(srv, k).CreateChatCompletion(context.Background(), chatReq("openrouter/free", fmt.Sprint("msg ", i)))
			if err != nil {
				mu.Lock()
				failures++
				mu.Unlock()
			}
			_ = fake.Calls()
		}()
	}
	wg.Wait()
	if got := len(fake.Calls()); got != n {
		t.Errorf("calls = %d, want %d", got, n)
	}
	if len(fake.CallsFor(key)) != n/2 || failures != 2 {
		t.Errorf("calls for key = %d, failures = %d", len(fake.CallsFor(key)), failures)
	}

	fake.Reset()
	if len(fake.Calls()) != 0 {
		t.Error("reset kept calls")
	}
	if _, err := client(srv, key).CreateChatCompletion(context.Background(), chatReq("openrouter/free", "hi")); err == nil {
		t.Error("reset kept keys")
	}
}

// OpenRouter's daily free-model cap: 429, X-RateLimit-* headers with the
// reset at the next 00:00 UTC in epoch milliseconds, no Retry-After, and the
// same headers in error.metadata.headers under a message naming the limit.
func TestFreeModelsPerDay(t *testing.T) {
	fake, srv := setupWithKey(t)
	at := time.Date(2026, 12, 24, 15, 0, 0, 0, time.UTC)
	fake.Script(key, openrouter.FreeModelsPerDay(50), openrouter.FreeModelsPerDay(1000), openrouter.RateLimitedUntil("free-models-per-min", 20, at))
	chat := map[string]any{"model": "meta-llama/llama-3.3-70b-instruct:free", "messages": []map[string]any{{"role": "user", "content": "hi"}}}
	reset := fmt.Sprint(openrouter.FreeDailyReset(time.Now()).UnixMilli())
	for _, want := range []struct{ limit, message, reset string }{
		{"50", "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day", reset},
		{"1000", "Rate limit exceeded: free-models-per-day-high-balance.", reset},
		{"20", "Rate limit exceeded: free-models-per-min.", fmt.Sprint(at.UnixMilli())},
	} {
		resp, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, chat)
		h := resp.Header
		if resp.StatusCode != 429 || h.Get("Retry-After") != "" || h.Get("X-RateLimit-Limit") != want.limit ||
			h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Reset") != want.reset {
			t.Errorf("got %d %v, want 429 limit %s reset %s", resp.StatusCode, h, want.limit, want.reset)
		}
		e := body["error"].(map[string]any)
		meta, _ := e["metadata"].(map[string]any)
		mh, _ := meta["headers"].(map[string]any)
		if e["code"] != 429.0 || e["message"] != want.message || mh["X-RateLimit-Limit"] != want.limit ||
			mh["X-RateLimit-Remaining"] != "0" || mh["X-RateLimit-Reset"] != want.reset {
			t.Errorf("body = %v", body)
		}
	}
	if d := openrouter.FreeDailyReset(time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC)); !d.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("FreeDailyReset = %s", d)
	}
}

// A reasoning model thinks first and its reasoning tokens spend max_tokens:
// with a budget below the thinking, the answer is a 200 with empty content,
// the reasoning cut at the budget, finish_reason "length", and every token
// billed; with room to spare it answers in full.
func TestThinkSpendsMaxTokens(t *testing.T) {
	fake, srv := setupWithKey(t)
	msgs := []map[string]any{{"role": "user", "content": "why?"}}
	cases := []struct {
		name        string
		req         map[string]any
		content     string
		finish      string
		reasoningTk float64
		shown       bool
	}{
		{"budget spent", map[string]any{"model": "deepseek/deepseek-r1", "messages": msgs, "max_tokens": 256}, "", "length", 256, true},
		{"excluded but billed", map[string]any{"model": "deepseek/deepseek-r1", "messages": msgs, "max_tokens": 256, "reasoning": map[string]any{"exclude": true}}, "", "length", 256, false},
		{"room to answer", map[string]any{"model": "deepseek/deepseek-r1", "messages": msgs, "max_tokens": 2000}, openrouter.EchoReply("deepseek/deepseek-r1", "why?"), "stop", 1000, true},
		{"reasoning off", map[string]any{"model": "deepseek/deepseek-r1", "messages": msgs, "max_tokens": 256, "reasoning": map[string]any{"enabled": false}}, openrouter.EchoReply("deepseek/deepseek-r1", "why?"), "stop", 0, false},
		{"model without reasoning", map[string]any{"model": "meta-llama/llama-3.3-70b-instruct:free", "messages": msgs, "max_tokens": 256}, openrouter.EchoReply("meta-llama/llama-3.3-70b-instruct:free", "why?"), "stop", 0, false},
	}
	for _, tc := range cases {
		fake.Script(key, openrouter.Think(1000))
		resp, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, tc.req)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", tc.name, resp.StatusCode, body)
		}
		choice := body["choices"].([]any)[0].(map[string]any)
		msg := choice["message"].(map[string]any)
		usage := body["usage"].(map[string]any)
		details := usage["completion_tokens_details"].(map[string]any)
		r, shown := msg["reasoning"].(string)
		if msg["content"] != tc.content || choice["finish_reason"] != tc.finish || choice["native_finish_reason"] != tc.finish ||
			details["reasoning_tokens"] != tc.reasoningTk || shown != tc.shown {
			t.Errorf("%s: content %q finish %v reasoning tokens %v shown %v", tc.name, msg["content"], choice["finish_reason"], details["reasoning_tokens"], shown)
		}
		if tc.shown && len([]rune(r)) != int(tc.reasoningTk)*4 {
			t.Errorf("%s: reasoning of %d runes", tc.name, len([]rune(r)))
		}
		if tc.finish == "length" && usage["completion_tokens"] != tc.reasoningTk {
			t.Errorf("%s: completion_tokens %v, want every reasoning token billed", tc.name, usage["completion_tokens"])
		}
	}
}

// Finish answers a whole completion with any documented finish reason.
func TestFinishReasons(t *testing.T) {
	fake, srv := setupWithKey(t)
	chat := map[string]any{"model": "deepseek/deepseek-r1", "messages": []map[string]any{{"role": "user", "content": "hi"}}, "max_tokens": 1}
	for _, reason := range []string{"stop", "length", "content_filter", "tool_calls", "error"} {
		fake.Script(key, openrouter.Finish(reason, " \n "))
		_, body := raw(t, "POST", srv.URL+"/api/v1/chat/completions", key, chat)
		choice := body["choices"].([]any)[0].(map[string]any)
		if choice["finish_reason"] != reason || choice["message"].(map[string]any)["content"] != " \n " || body["usage"] == nil {
			t.Errorf("%s: %v", reason, body)
		}
	}
}

// A key the offline demo accepted on sight and has been using is refused
// everywhere once revoked, as `!revoke openrouter` in tzurot dev needs.
func TestRevokeAKeyAcceptedOnSight(t *testing.T) {
	fake, srv := setup(t, openrouter.Options{AcceptAnyKey: true})
	const k = "sk-or-v1-0123456789abcdef"
	ctx := context.Background()
	if _, err := client(srv, k).CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi")); err != nil {
		t.Fatalf("before Revoke: %v", err)
	}
	fake.Revoke(k)
	_, err := client(srv, k).CreateChatCompletion(ctx, chatReq("deepseek/deepseek-r1", "hi"))
	if e := apiStatus(t, err); e.HTTPStatusCode != 401 || e.Message != "User not found." {
		t.Errorf("chat completion after Revoke: %+v", e)
	}
	if resp, _ := raw(t, "GET", srv.URL+"/api/v1/key", k, nil); resp.StatusCode != 401 {
		t.Errorf("/key after Revoke: %d, want 401", resp.StatusCode)
	}
	if resp, _ := raw(t, "GET", srv.URL+"/api/v1/key", "sk-or-v1-fedcba9876543210", nil); resp.StatusCode != 200 {
		t.Errorf("another key after Revoke: %d, want 200", resp.StatusCode)
	}
}
