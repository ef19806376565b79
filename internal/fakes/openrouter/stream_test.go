package openrouter_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
	"github.com/tzurot/tzurot/internal/fakes/openrouter"
)

// streamChunk is what these tests read of a chunk.
type streamChunk struct {
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Choices []struct {
		Delta struct {
			Content   string `json:"content"`
			Reasoning string `json:"reasoning"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int      `json:"completion_tokens"`
		Cost             *float64 `json:"cost"`
	} `json:"usage"`
}

// rawStream posts a streamed chat completion for text and returns the
// response, its comment lines and its data payloads, in order.
func rawStream(t *testing.T, url, text string) (*http.Response, []string, []string) {
	t.Helper()
	resp, body, err := fakehttp.Request(http.MethodPost, url+"/api/v1/chat/completions",
		http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}},
		map[string]any{"model": "anthropic/claude-sonnet-4", "stream": true,
			"messages": []map[string]any{{"role": "user", "content": text}}})
	if err != nil {
		t.Fatal(err)
	}
	var comments, data []string
	for line := range strings.SplitSeq(string(body), "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			comments = append(comments, line)
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		case line != "":
			t.Errorf("unexpected line %q", line)
		}
	}
	return resp, comments, data
}

func decodeChunk(t *testing.T, data string) streamChunk {
	t.Helper()
	var c streamChunk
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		t.Fatalf("chunk %q: %v", data, err)
	}
	return c
}

// contentOf joins the content deltas of chunks.
func contentOf(t *testing.T, chunks []string) string {
	t.Helper()
	var b strings.Builder
	for _, d := range chunks {
		b.WriteString(decodeChunk(t, d).Choices[0].Delta.Content)
	}
	return b.String()
}

func TestStreamPacedShape(t *testing.T) {
	const first = 100 * time.Millisecond
	fake, srv := setup(t, openrouter.Options{Stream: openrouter.StreamRate{
		FirstToken: first, TokensPerSecond: 1000, KeepAlive: 20 * time.Millisecond}})
	fake.AddKey(key, openrouter.Key{})

	start := time.Now()
	resp, comments, data := rawStream(t, srv.URL, "stream me please")
	if elapsed := time.Since(start); elapsed < first {
		t.Errorf("the stream took %v, less than its first-token wait %v", elapsed, first)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// One at the start and one every 20 ms of the 100 ms wait at least.
	if len(comments) < 4 || comments[0] != ": OPENROUTER PROCESSING" {
		t.Errorf("comments = %q, want the keep-alive repeated while waiting", comments)
	}
	n := len(data)
	if n < 4 || data[n-1] != "[DONE]" {
		t.Fatalf("data = %q, want chunks then [DONE]", data)
	}
	tail, final := decodeChunk(t, data[n-2]), decodeChunk(t, data[n-3])
	if len(tail.Choices) != 0 || tail.Usage == nil || tail.Usage.Cost == nil || *tail.Usage.Cost <= 0 {
		t.Errorf("last chunk %s, want usage with cost and no choices", data[n-2])
	}
	if len(final.Choices) != 1 || final.Choices[0].FinishReason == nil || *final.Choices[0].FinishReason != "stop" {
		t.Errorf("finish chunk %s", data[n-3])
	}
	if content, want := contentOf(t, data[:n-3]), openrouter.EchoReply("anthropic/claude-sonnet-4", "stream me please"); content != want {
		t.Errorf("streamed %q, want %q", content, want)
	}
}

func TestStreamFailMidStreamShape(t *testing.T) {
	fake, srv := setupWithKey(t)
	fake.Script(key, openrouter.FailMidStream(502, 3))
	_, _, data := rawStream(t, srv.URL, "a message long enough to be cut short")
	n := len(data)
	if n < 2 || data[n-1] == "[DONE]" {
		t.Fatalf("data = %q, want chunks then the error without [DONE]", data)
	}
	last := decodeChunk(t, data[n-1])
	if last.Error == nil || last.Error.Code != 502 || last.Error.Message != "Provider returned error" {
		t.Errorf("error event %s", data[n-1])
	}
	if len(last.Choices) != 1 || last.Choices[0].FinishReason == nil || *last.Choices[0].FinishReason != "error" {
		t.Errorf("error event's choice %s, want finish_reason error", data[n-1])
	}
	sent := contentOf(t, data[:n-1])
	if sent == "" || len(sent) > 12 || !strings.HasPrefix(openrouter.EchoReply("anthropic/claude-sonnet-4", "x"), sent[:4]) {
		t.Errorf("sent %q before failing, want at most 3 tokens of the reply", sent)
	}
	if last.Usage == nil || last.Usage.CompletionTokens != (len(sent)+3)/4 || last.Usage.Cost == nil {
		t.Errorf("usage of the error event %s, want the %d characters sent billed", data[n-1], len(sent))
	}
}

func TestStreamDropMidStream(t *testing.T) {
	fake, srv := setupWithKey(t)
	fake.Script(key, openrouter.DropMidStream(2), openrouter.DropMidStream(2))
	body := map[string]any{"model": "anthropic/claude-sonnet-4", "stream": true,
		"messages": []map[string]any{{"role": "user", "content": "hello there"}}}
	hdr := http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
	if _, got, err := fakehttp.Request(http.MethodPost, srv.URL+"/api/v1/chat/completions", hdr, body); err == nil {
		t.Errorf("a dropped stream read whole: %s", got)
	}
	body["stream"] = false
	if _, got, err := fakehttp.Request(http.MethodPost, srv.URL+"/api/v1/chat/completions", hdr, body); err == nil {
		t.Errorf("a dropped body read whole: %s", got)
	}
}
