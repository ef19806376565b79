package openrouter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// chunkOf is a chat.completion.chunk in the shape OpenRouter streams
// (https://openrouter.ai/docs/api/reference/streaming), with the given
// delta object and finish reason (JSON, e.g. null or "stop").
func chunkOf(delta, finish string) string {
	return `{"id":"gen-1735689600-abc123","provider":"DeepInfra","model":"deepseek/deepseek-r1",` +
		`"object":"chat.completion.chunk","created":1735689600,"system_fingerprint":null,` +
		`"choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + finish +
		`,"native_finish_reason":` + finish + `,"logprobs":null}]}`
}

// usageChunk is the last chunk: no choices, the usage of okBody.
const usageChunk = `{"id":"gen-1735689600-abc123","provider":"DeepInfra","model":"deepseek/deepseek-r1",` +
	`"object":"chat.completion.chunk","created":1735689600,"choices":[],"usage":{"prompt_tokens":12,` +
	`"completion_tokens":30,"total_tokens":42,"cost":0.000084,"prompt_tokens_details":{"cached_tokens":0},` +
	`"completion_tokens_details":{"reasoning_tokens":11}}}`

// sseOf is an event stream of data events, with OpenRouter's keep-alive
// comment first and between the events.
func sseOf(data ...string) string {
	var b strings.Builder
	b.WriteString(": OPENROUTER PROCESSING\n\n")
	for _, d := range data {
		fmt.Fprintf(&b, "data: %s\n\n: OPENROUTER PROCESSING\n\n", d)
	}
	return b.String()
}

// okStream is okBody streamed: reasoning deltas, content deltas, the
// finish, the usage, [DONE].
var okStream = sseOf(
	chunkOf(`{"role":"assistant","content":"","reasoning":"The user greeted me, "}`, "null"),
	chunkOf(`{"role":"assistant","content":"","reasoning":"so I greet them back."}`, "null"),
	chunkOf(`{"role":"assistant","content":"Hello"}`, "null"),
	chunkOf(`{"role":"assistant","content":" there!"}`, "null"),
	chunkOf(`{"role":"assistant","content":""}`, `"stop"`),
	usageChunk,
	"[DONE]",
)

func streamed(body string) func(http.ResponseWriter, *http.Request, []byte) {
	return answer(http.StatusOK, body, "Content-Type", "text/event-stream")
}

// collect runs ChatStream and returns the deltas it was given.
func collect(t *testing.T, c *Client, key string, req ChatRequest) (ChatResponse, []Delta, error) {
	t.Helper()
	var deltas []Delta
	resp, err := c.ChatStream(context.Background(), key, req, func(d Delta) error {
		deltas = append(deltas, d)
		return nil
	})
	return resp, deltas, err
}

func joined(deltas []Delta) (content, reasoning string) {
	var c, r strings.Builder
	for _, d := range deltas {
		c.WriteString(d.Content)
		r.WriteString(d.Reasoning)
	}
	return c.String(), r.String()
}

func TestChatStreamMatchesChat(t *testing.T) {
	want, err := newStub(t, answer(200, okBody)).client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	got, deltas, err := collect(t, newStub(t, streamed(okStream)).client(Options{}), testKey, ChatRequest{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ChatStream = %+v\nChat       = %+v", got, want)
	}
	if got.Usage.Cost == nil || *got.Usage.Cost != 0.000084 {
		t.Errorf("cost = %v, want the last chunk's", got.Usage.Cost)
	}
	if len(deltas) != 4 || deltas[0].Content != "" || deltas[0].Reasoning == "" || deltas[2].Reasoning != "" {
		t.Errorf("deltas = %+v, want two of reasoning then two of content", deltas)
	}
	if c, r := joined(deltas); c != got.Content || r != got.Reasoning {
		t.Errorf("deltas join to %q / %q, response has %q / %q", c, r, got.Content, got.Reasoning)
	}
}

func TestChatStreamRequest(t *testing.T) {
	s := newStub(t, streamed(okStream))
	if _, _, err := collect(t, s.client(Options{}), testKey, userSays("m", "hi")); err != nil {
		t.Fatal(err)
	}
	r := s.last()
	body := decodeObject(t, r.Body)
	if body["stream"] != true {
		t.Errorf("stream = %v, want true", body["stream"])
	}
	if so, _ := body["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Errorf("stream_options = %v, want include_usage", body["stream_options"])
	}
	if u, _ := body["usage"].(map[string]any); u["include"] != true {
		t.Errorf("usage = %v, want include", body["usage"])
	}
	if r.Header.Get("Accept") != "text/event-stream" || r.Header.Get("Authorization") != "Bearer "+testKey ||
		r.Header.Get("X-Title") != "tzurot" || r.Path != "/api/v1/chat/completions" {
		t.Errorf("request = %s %v", r.Path, r.Header)
	}
}

func TestChatStreamReasoningShapes(t *testing.T) {
	body := sseOf(
		chunkOf(`{"content":"","reasoning_details":[{"type":"reasoning.text","text":"think "},{"type":"reasoning.encrypted","data":"xyz"}]}`, "null"),
		chunkOf(`{"content":"","reasoning_details":[{"type":"reasoning.summary","summary":"summed "}]}`, "null"),
		chunkOf(`{"content":"","reasoning_content":"deep "}`, "null"),
		chunkOf(`{"content":"","reasoning":"said","reasoning_details":[{"type":"reasoning.text","text":"said"}]}`, "null"),
		chunkOf(`{"content":"ok"}`, `"stop"`),
		"[DONE]",
	)
	got, _, err := collect(t, newStub(t, streamed(body)).client(Options{}), testKey, ChatRequest{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Reasoning != "think summed deep said" || got.Content != "ok" {
		t.Errorf("reasoning %q content %q", got.Reasoning, got.Content)
	}
}

// TestChatStreamBeforeStreamErrors: a non-2xx answer to a stream request
// is the same *Error Chat makes of it.
func TestChatStreamBeforeStreamErrors(t *testing.T) {
	for _, status := range []int{400, 401, 402, 403, 404, 408, 413, 429, 500, 502, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := newStub(t, answer(status, fmt.Sprintf(`{"error":{"code":%d,"message":"said %d"}}`, status, status), "Retry-After", "7"))
			c := s.client(Options{})
			_, chatErr := c.Chat(context.Background(), testKey, ChatRequest{Model: "m"})
			_, deltas, err := collect(t, c, testKey, ChatRequest{Model: "m"})
			want, got := mustAsError(t, chatErr), mustAsError(t, err)
			if got.Kind != want.Kind || got.Status != want.Status || got.Message != want.Message || got.RetryAfter != want.RetryAfter {
				t.Errorf("ChatStream: %v (retry after %v), Chat: %v (%v)", got, got.RetryAfter, want, want.RetryAfter)
			}
			if len(deltas) != 0 {
				t.Errorf("deltas = %v", deltas)
			}
		})
	}
}

// TestChatStreamMidStreamError: the error event OpenRouter sends after a
// 200 ends the stream as an *Error classified like the same error object
// in a 200 body (Chat), with the text so far returned beside it.
func TestChatStreamMidStreamError(t *testing.T) {
	before := []string{
		chunkOf(`{"role":"assistant","content":"","reasoning":"hm "}`, "null"),
		chunkOf(`{"role":"assistant","content":"Hello"}`, "null"),
	}
	cases := []struct {
		name    string
		event   string
		kind    Kind
		status  int
		message string
	}{
		{"documented shape, string code",
			`{"id":"cmpl-abc123","object":"chat.completion.chunk","created":1234567890,"model":"gpt-3.5-turbo","provider":"openai",` +
				`"error":{"code":"server_error","message":"Provider disconnected unexpectedly"},` +
				`"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}`,
			KindTransient, 0, "Provider disconnected unexpectedly"},
		{"502 at the top with usage",
			`{"id":"gen-1","model":"deepseek/deepseek-r1","error":{"code":502,"message":"Provider returned error","metadata":{"provider_name":"DeepInfra"}},` +
				`"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"cost":0.00001}}`,
			KindTransient, 502, "Provider returned error"},
		{"429 on the choice",
			`{"id":"gen-1","model":"deepseek/deepseek-r1","choices":[{"index":0,"delta":{"content":""},"finish_reason":"error",` +
				`"error":{"code":429,"message":"Rate limit exceeded"}}]}`,
			KindRateLimited, 429, "Rate limit exceeded"},
		{"bare error event", `{"error":{"code":403,"message":"flagged"}}`, KindModeration, 403, "flagged"},
		{"error event that does not decode otherwise", `{"error":{"code":400,"message":"bad"},"choices":7}`, KindBadRequest, 400, "bad"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := sseOf(append(before, tc.event, chunkOf(`{"content":"never"}`, "null"), "[DONE]")...)
			got, deltas, err := collect(t, newStub(t, streamed(body)).client(Options{}), testKey, ChatRequest{Model: "m"})
			e := mustAsError(t, err)
			if e.Kind != tc.kind || e.Status != tc.status || e.Message != tc.message {
				t.Errorf("err = %v (kind %s status %d), want %s %d %q", e, e.Kind, e.Status, tc.kind, tc.status, tc.message)
			}
			if got.Content != "Hello" || got.Reasoning != "hm " || got.FinishReason != "error" {
				t.Errorf("partial = %+v, want the text before the error", got)
			}
			if c, _ := joined(deltas); c != "Hello" {
				t.Errorf("deltas = %+v", deltas)
			}
			if e.Model == "" {
				t.Error("the error does not name the model")
			}
			if strings.Contains(e.Error(), "Hello") {
				t.Errorf("the error holds the reply's text: %v", e)
			}
		})
	}
}

// TestChatStreamMidStreamLikeInBody: every code is classified as Chat
// classifies the same error object inside a 200 body.
func TestChatStreamMidStreamLikeInBody(t *testing.T) {
	for _, code := range []int{400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 502, 503} {
		obj := fmt.Sprintf(`{"code":%d,"message":"m%d"}`, code, code)
		_, chatErr := newStub(t, answer(200, `{"error":`+obj+`}`)).client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m"})
		body := sseOf(chunkOf(`{"content":"a"}`, "null"), `{"error":`+obj+`,"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}`)
		_, _, err := collect(t, newStub(t, streamed(body)).client(Options{}), testKey, ChatRequest{Model: "m"})
		want, got := mustAsError(t, chatErr), mustAsError(t, err)
		if got.Kind != want.Kind || got.Status != want.Status || got.Message != want.Message {
			t.Errorf("%d: ChatStream %v, Chat %v", code, got, want)
		}
	}
}

func TestChatStreamEndings(t *testing.T) {
	hello := chunkOf(`{"content":"Hello"}`, "null")
	stop := chunkOf(`{"content":""}`, `"stop"`)
	cases := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"dropped before the finish", sseOf(hello), true},
		{"dropped inside an event", sseOf(hello) + `data: {"id":"gen-1","choices":[{"delta":{"content":" th`, true},
		{"[DONE] without a finish reason", sseOf(hello, "[DONE]"), true},
		{"finish reason without [DONE]", sseOf(hello, stop), false},
		{"finish reason and usage without [DONE]", sseOf(hello, stop, usageChunk), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := collect(t, newStub(t, streamed(tc.body)).client(Options{}), testKey, ChatRequest{Model: "m"})
			if got.Content != "Hello" {
				t.Errorf("content = %q", got.Content)
			}
			if !tc.wantErr {
				if err != nil {
					t.Errorf("err = %v", err)
				}
				return
			}
			if e := mustAsError(t, err); e.Kind != KindTransient || !e.Retryable() || !strings.Contains(e.Message, "stream ended") {
				t.Errorf("err = %v, want a retryable dropped stream", e)
			}
		})
	}
}

func TestChatStreamAbortedConnection(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fmt.Fprintf(w, "data: %s\n\n", chunkOf(`{"content":"Hello"}`, "null"))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	got, _, err := collect(t, s.client(Options{}), testKey, ChatRequest{Model: "m"})
	if e := mustAsError(t, err); !e.Retryable() || got.Content != "Hello" {
		t.Errorf("err = %v, content %q", e, got.Content)
	}
}

func TestChatStreamMalformedChunk(t *testing.T) {
	body := sseOf(chunkOf(`{"content":"Hello"}`, "null"), `{"choices":[{"delta":{"content":`, "[DONE]")
	_, _, err := collect(t, newStub(t, streamed(body)).client(Options{}), testKey, ChatRequest{Model: "m"})
	if e := mustAsError(t, err); e.Kind != KindTransient || !strings.HasPrefix(e.Message, "malformed stream chunk") {
		t.Errorf("err = %v", e)
	}
}

// TestChatStreamJSONAnswer: an endpoint that ignores "stream" and answers
// JSON is read as Chat reads it, its content one Delta.
func TestChatStreamJSONAnswer(t *testing.T) {
	got, deltas, err := collect(t, newStub(t, answer(200, okBody)).client(Options{}), testKey, ChatRequest{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if len(deltas) != 1 || deltas[0].Content != "Hello there!" || got.Content != "Hello there!" || got.Usage.TotalTokens != 42 {
		t.Errorf("got %+v, deltas %+v", got, deltas)
	}
}

func TestChatStreamCallbackError(t *testing.T) {
	stop := errors.New("delivery gave up")
	calls := 0
	got, err := newStub(t, streamed(okStream)).client(Options{}).ChatStream(context.Background(), testKey, ChatRequest{Model: "m"},
		func(Delta) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err = %v after %d calls, want the callback's after one", err, calls)
	}
	if got.Reasoning != "The user greeted me, " {
		t.Errorf("partial = %+v", got)
	}
}

// hanging streams one chunk, then keep-alive comments until the client
// leaves.
func hanging(w http.ResponseWriter, r *http.Request, _ []byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	fmt.Fprintf(w, "data: %s\n\n", chunkOf(`{"content":"Hello"}`, "null"))
	w.(http.Flusher).Flush()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": OPENROUTER PROCESSING\n\n")
			w.(http.Flusher).Flush()
		}
	}
}

func TestChatStreamCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	c := newStub(t, hanging).client(Options{})
	go func() {
		_, err := c.ChatStream(ctx, testKey, ChatRequest{Model: "m"}, func(Delta) error { cancel(); return nil })
		done <- err
	}()
	select {
	case err := <-done:
		if e := mustAsError(t, err); !errors.Is(err, context.Canceled) || e.Message != "request cancelled" {
			t.Errorf("err = %v, want the cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ChatStream kept reading after its context was cancelled")
	}
}

func TestChatStreamTimeout(t *testing.T) {
	c := newStub(t, hanging).client(Options{Timeout: 50 * time.Millisecond})
	got, _, err := collect(t, c, testKey, ChatRequest{Model: "m"})
	if e := mustAsError(t, err); !errors.Is(err, context.DeadlineExceeded) || e.Message != "request timed out" || got.Content != "Hello" {
		t.Errorf("err = %v, content %q", err, got.Content)
	}
}

func TestChatStreamWithoutCallback(t *testing.T) {
	got, err := newStub(t, streamed(okStream)).client(Options{}).ChatStream(context.Background(), testKey, ChatRequest{Model: "m"}, nil)
	if err != nil || got.Content != "Hello there!" {
		t.Errorf("got %q, %v", got.Content, err)
	}
}
