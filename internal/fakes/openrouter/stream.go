package openrouter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// StreamRate paces a model's generation (Options.Stream for every call,
// [Step.Paced] for one): a stream sends each token when it is due, and an
// answer without "stream" comes once the last one is, as a model takes as
// long either way. The zero value sends every chunk at once.
type StreamRate struct {
	// FirstToken is the wait between the 200 (and its first
	// ": OPENROUTER PROCESSING" comment) and the first token, as a model
	// takes before it starts.
	FirstToken time.Duration
	// TokensPerSecond is the generation rate after that, by the stand-in's
	// tokenizer (four characters a token), reasoning tokens included; 0
	// sends the rest at once.
	TokensPerSecond float64
	// KeepAlive is the interval of ": OPENROUTER PROCESSING" comments while
	// nothing else is sent, as OpenRouter sends them against connection
	// timeouts; 0 means DefaultKeepAlive.
	KeepAlive time.Duration
}

// DefaultKeepAlive is the interval of keep-alive comments when
// StreamRate.KeepAlive is zero.
const DefaultKeepAlive = time.Second

// processing is OpenRouter's keep-alive comment
// (https://openrouter.ai/docs/api/reference/streaming).
const processing = ": OPENROUTER PROCESSING\n\n"

// at is when the token ending at character offset runes is due, after the
// first token's wait.
func (r StreamRate) at(runes int) time.Duration {
	d := r.FirstToken
	if r.TokensPerSecond > 0 {
		d += time.Duration(float64(runes) / 4 / r.TokensPerSecond * float64(time.Second))
	}
	return d
}

func (g generation) chunk(delta map[string]any, finish any) map[string]any {
	delta["role"] = "assistant"
	out := g.envelope("chat.completion.chunk")
	out["choices"] = []map[string]any{{
		"index":                0,
		"delta":                delta,
		"finish_reason":        finish,
		"native_finish_reason": finish,
		"logprobs":             nil,
	}}
	return out
}

// pieces splits text into the word-sized pieces a stream sends.
func pieces(s string) []string {
	if s == "" {
		return nil
	}
	return strings.SplitAfter(s, " ")
}

// truncate keeps the whole pieces of the reasoning, then of the content,
// that fit in n tokens: what a model generated before it failed.
func (g *generation) truncate(n int) {
	budget := n * 4
	keep := func(s string) string {
		var b strings.Builder
		for _, p := range pieces(s) {
			l := utf8.RuneCountInString(p)
			if l > budget {
				budget = 0
				break
			}
			b.WriteString(p)
			budget -= l
		}
		return b.String()
	}
	g.reasoning = keep(g.reasoning)
	g.content = keep(g.content)
	g.images = nil
}

// event is one SSE data payload and when it is due after the 200.
type event struct {
	data []byte
	at   time.Duration
}

// streamed is the answer as OpenRouter streams it: reasoning deltas first,
// then content deltas, each due by g.rate; then either the final chunk
// with finish_reason, a chunk with usage and "[DONE]", or (g.failure) the
// error chunk with finish_reason "error" and usage, or (g.drop) nothing
// more, the connection closed.
func (g generation) streamed() *response {
	var events []any
	var due []time.Duration
	runes := 0
	add := func(text string, delta map[string]any) {
		runes += utf8.RuneCountInString(text)
		events = append(events, g.chunk(delta, nil))
		due = append(due, g.rate.at(runes))
	}
	for _, p := range pieces(g.reasoning) {
		add(p, map[string]any{"content": "", "reasoning": p})
	}
	for _, p := range pieces(g.content) {
		add(p, map[string]any{"content": p})
	}
	last := g.rate.at(runes)
	switch {
	case g.failure != nil:
		c := g.chunk(map[string]any{"content": ""}, "error")
		c["error"] = *g.failure
		c["usage"] = g.usage()
		return sse(append(events, c), pace{due: append(due, last), keepAlive: g.rate.KeepAlive})
	case g.drop:
		return sse(events, pace{due: due, keepAlive: g.rate.KeepAlive, end: endDrop})
	}
	final := map[string]any{"content": ""}
	if len(g.images) > 0 {
		final["images"] = g.imageParts()
	}
	tail := g.envelope("chat.completion.chunk")
	tail["choices"] = []any{}
	tail["usage"] = g.usage()
	return sse(append(events, g.chunk(final, g.finish), tail), pace{due: append(due, last, last), keepAlive: g.rate.KeepAlive, end: endDone})
}

// droppedBody is a non-streaming answer whose connection drops halfway
// through the body: the Content-Length promises more than arrives.
func (g generation) droppedBody() *response {
	full := jsonResponse(http.StatusOK, g.completion())
	body := full.Body[:len(full.Body)/2]
	full.Header.Set("Content-Length", strconv.Itoa(len(full.Body)))
	full.Stream = func(_ context.Context, w http.ResponseWriter) {
		_, _ = w.Write(body)
		panic(http.ErrAbortHandler)
	}
	return full
}

// errorInBody is OpenRouter's failure after a 200 was committed: the
// non-streaming body is just the error envelope (after keep-alive
// whitespace); a stream gets a single error event and ends.
func (g generation) errorInBody(stream bool, e errorBody) *response {
	if stream {
		return sse([]any{map[string]any{"error": e}}, pace{})
	}
	resp := jsonResponse(http.StatusOK, map[string]any{"error": e})
	resp.Body = append([]byte("\n"), resp.Body...)
	return resp
}

func (g generation) errorInChoice(stream bool, e errorBody) *response {
	if stream {
		c := g.chunk(map[string]any{"content": ""}, "error")
		c["error"] = e
		return sse([]any{c}, pace{})
	}
	out := g.envelope("chat.completion")
	out["choices"] = []map[string]any{{
		"index":                0,
		"logprobs":             nil,
		"finish_reason":        "error",
		"native_finish_reason": "error",
		"message":              map[string]any{"role": "assistant", "content": g.content},
		"error":                e,
	}}
	out["usage"] = g.usage()
	return jsonResponse(http.StatusOK, out)
}

// pace is how sse sends its events: due[i] is when event i is due after
// the 200 (missing: at once), keepAlive the interval of keep-alive
// comments meanwhile (0: DefaultKeepAlive), end what follows the last.
type pace struct {
	due       []time.Duration
	keepAlive time.Duration
	end       streamEnd
}

type streamEnd int

// The zero streamEnd just ends the stream, after an error event.
const (
	// endDone: "data: [DONE]".
	endDone streamEnd = iota + 1
	// endDrop: the connection closes without ending the body, as a
	// dropped upstream does.
	endDrop
)

// sse pre-encodes every event so encoding cannot fail after the 200 went
// out, then streams them by p: OpenRouter's keep-alive comment first and
// again every keep-alive interval while an event is not yet due. It stops
// when the client leaves.
func sse(events []any, p pace) *response {
	out := make([]event, 0, len(events))
	for i, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			return apiError(http.StatusInternalServerError, "internal error in fake", nil)
		}
		e := event{data: b}
		if i < len(p.due) {
			e.at = p.due[i]
		}
		out = append(out, e)
	}
	if p.keepAlive <= 0 {
		p.keepAlive = DefaultKeepAlive
	}
	return &response{
		Status: http.StatusOK,
		Header: http.Header{
			"Content-Type":  {"text/event-stream"},
			"Cache-Control": {"no-cache"},
		},
		Stream: func(ctx context.Context, w http.ResponseWriter) {
			writeSSE(ctx, w, out, p)
		},
	}
}

func writeSSE(ctx context.Context, w http.ResponseWriter, events []event, p pace) {
	flusher, _ := w.(http.Flusher)
	write := func(s string) {
		_, _ = io.WriteString(w, s)
		if flusher != nil {
			flusher.Flush()
		}
	}
	start := time.Now()
	write(processing)
	nextComment := p.keepAlive
	for _, ev := range events {
		for {
			now := time.Since(start)
			if now >= ev.at {
				break
			}
			if now >= nextComment {
				write(processing)
				nextComment += p.keepAlive
				continue
			}
			if !fakehttp.Wait(ctx, min(ev.at, nextComment)-now) {
				return
			}
		}
		write(fmt.Sprintf("data: %s\n\n", ev.data))
	}
	switch p.end {
	case endDone:
		write("data: [DONE]\n\n")
	case endDrop:
		panic(http.ErrAbortHandler)
	}
}
