package openrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Delta is the text one streamed chunk added to the reply.
type Delta struct {
	// Content is the new text of the answer, to show.
	Content string
	// Reasoning is the new text of the model's reasoning
	// (delta.reasoning, or the text of delta.reasoning_details): kept,
	// never shown.
	Reasoning string
}

// ChatStream runs one chat completion as a stream (POST /chat/completions
// with "stream": true, https://openrouter.ai/docs/api/reference/streaming)
// with apiKey, and calls onDelta (if not nil), in order and on the calling
// goroutine, for every chunk that adds content or reasoning. It returns
// the same ChatResponse [Client.Chat] would: the full content (the
// concatenation of every Delta.Content), the reasoning apart, the model,
// provider, finish reason and the usage with its cost from the last chunk.
//
// It parses the event stream itself, into go-openai's types where they
// fit (finish reason, usage), like [Client.Chat]: go-openai's
// CreateChatCompletionStream (v1.43) sends none of OpenRouter's request
// fields, drops delta.reasoning, usage.cost and provider, takes
// ": OPENROUTER PROCESSING" comments for empty messages (failing after 300
// of them, a few minutes of a reasoning model's silence) and reads an error
// event only when "error" is its first key, so the error chunk OpenRouter
// sends mid-stream (id, model, then error) would pass for a normal one.
//
// Errors are *Error, and the same as [Client.Chat]'s for the same failure:
//   - Before the stream (a non-2xx answer), classified by status.
//   - Mid-stream: an event with an error object, at the top or on the
//     choice (finish_reason "error"), which OpenRouter sends after it
//     committed to a 200 when the upstream fails; classified like an
//     error object in a 200 body (Status is its code; 429 rate limited,
//     400/413/422 bad request, 403 moderation, any other code transient),
//     with Usage and Model as the event reported them.
//   - A stream that ends without "data: [DONE]" or a finish reason (the
//     connection dropped), a chunk that does not decode, a body over
//     64 MiB, a cancelled or expired ctx: KindTransient.
//
// On an error after the stream started, the ChatResponse returned beside
// it holds what arrived before it (content, reasoning, model), so the
// caller can decide what to do with text it already showed; the error
// itself never holds the text. If onDelta returns an error, the stream is
// abandoned (which stops generation and billing at providers that support
// cancellation) and that error is returned as is, scrubbed of the key.
//
// A 2xx answer that is not an event stream (an endpoint that ignored
// "stream") is read as [Client.Chat] reads it, and its content passed to
// onDelta as one Delta.
func (c *Client) ChatStream(ctx context.Context, apiKey string, req ChatRequest, onDelta func(Delta) error) (resp ChatResponse, err error) {
	defer timed(req.Model)(&resp.Model, &err)
	return call(ctx, c, apiKey, func(ctx context.Context) (ChatResponse, error) {
		return c.chatStream(ctx, apiKey, req, onDelta)
	})
}

func (c *Client) chatStream(ctx context.Context, apiKey string, req ChatRequest, onDelta func(Delta) error) (ChatResponse, error) {
	if onDelta == nil {
		onDelta = func(Delta) error { return nil }
	}
	body, err := chatBody(req, true)
	if err != nil {
		return ChatResponse{}, encodingError(err)
	}
	resp, err := c.open(ctx, http.MethodPost, "/chat/completions", apiKey, "text/event-stream", body)
	if err != nil {
		return ChatResponse{}, err
	}
	defer resp.Body.Close()
	if !isEventStream(resp) {
		ex, err := readAnswer(resp)
		if err != nil {
			return ChatResponse{}, err
		}
		out, err := chatAnswer(ex)
		if err != nil {
			return ChatResponse{}, err
		}
		if out.Content != "" || out.Reasoning != "" {
			if err := onDelta(Delta{Content: out.Content, Reasoning: out.Reasoning}); err != nil {
				return out, err
			}
		}
		return out, nil
	}
	st := stream{ctx: ctx, header: resp.Header, onDelta: onDelta}
	err = st.read(newSSEReader(&limitedBody{r: resp.Body, left: maxResponseBody}))
	return st.out.response(), err
}

// isEventStream is whether a 2xx answer is text/event-stream; anything
// else (JSON, a non-2xx status) is read whole.
func isEventStream(resp *http.Response) bool {
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return false
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && mt == "text/event-stream"
}

// stream is the state of one ChatStream read.
type stream struct {
	ctx     context.Context
	header  http.Header
	onDelta func(Delta) error
	out     accumulated
}

// accumulated is what the chunks said so far.
type accumulated struct {
	id, model, provider  string
	content, reasoning   strings.Builder
	finish, nativeFinish string
	images               []string
	usage                Usage
}

func (a *accumulated) response() ChatResponse {
	return ChatResponse{
		ID: a.id, Model: a.model, Provider: a.provider,
		Content: a.content.String(), Reasoning: a.reasoning.String(),
		FinishReason: a.finish, NativeFinishReason: a.nativeFinish,
		Images: a.images, Usage: a.usage,
	}
}

// errStreamDropped is a stream that ended before OpenRouter said it was
// done: the connection dropped mid-reply.
var errStreamDropped = errors.New("the stream ended before the reply finished")

// read consumes events until "[DONE]", an error event or the end of the
// stream.
func (s *stream) read(sr *sseReader) error {
	for {
		data, err := sr.next()
		if err != nil && s.ctx.Err() != nil {
			// The read failed because ctx ended: say that, not how
			// the closed connection looked.
			return transportError(context.Cause(s.ctx))
		}
		if errors.Is(err, io.EOF) {
			if s.out.finish != "" {
				// Finished, without the [DONE] some compatible
				// endpoints leave out.
				return nil
			}
			return transportError(errStreamDropped)
		}
		if err != nil {
			return transportError(err)
		}
		if string(bytes.TrimSpace(data)) == "[DONE]" {
			if s.out.finish == "" && s.out.usage.TotalTokens == 0 {
				return transportError(errStreamDropped)
			}
			// Finished; without a finish reason only when the usage
			// chunk came, so the answer is whole (a model warming up
			// sends none), as Chat returns it.
			return nil
		}
		if err := s.chunk(data); err != nil {
			return err
		}
	}
}

// chunk folds one chat.completion.chunk into the reply, calling onDelta
// when it adds text; an error object in it ends the stream.
func (s *stream) chunk(data []byte) error {
	var ch streamChunk
	if err := json.Unmarshal(data, &ch); err != nil {
		if ch.Error.set {
			return s.failed(ch.Error, ch)
		}
		return &Error{Kind: KindTransient, Status: http.StatusOK, Message: "malformed stream chunk: " + err.Error(), err: err}
	}
	o := &s.out
	o.id = first(o.id, ch.ID)
	o.model = first(o.model, ch.Model)
	o.provider = first(o.provider, ch.Provider.v)
	if ch.Usage != nil {
		o.usage = ch.Usage.usage()
	}
	if ch.Error.set {
		return s.failed(ch.Error, ch)
	}
	if len(ch.Choices) == 0 {
		return nil
	}
	c := ch.Choices[0]
	if c.Error.set {
		return s.failed(c.Error, ch)
	}
	d := Delta{Content: c.Delta.Content.text, Reasoning: c.Delta.reasoning()}
	o.content.WriteString(d.Content)
	o.reasoning.WriteString(d.Reasoning)
	o.images = append(o.images, imageURLs(c.Delta.Images.v)...)
	if c.FinishReason != "" {
		o.finish = string(c.FinishReason)
		o.nativeFinish = c.NativeFinishReason.v
	}
	if d.Content == "" && d.Reasoning == "" {
		return nil
	}
	return s.onDelta(d)
}

// failed is the *Error of an error object in a chunk, classified as the
// same object in a 200 body is.
func (s *stream) failed(obj errorObject, ch streamChunk) *Error {
	e := inBodyError(obj, s.header)
	e.Model = first(s.out.model, ch.Model)
	e.Usage = s.out.usage
	s.out.finish = "error"
	return e
}

func first(have, next string) string {
	if have != "" {
		return have
	}
	return next
}

// streamChunk is one chat.completion.chunk as OpenRouter streams it:
// OpenAI's fields, OpenRouter's provider and usage cost, reasoning deltas,
// and the error object of a mid-stream failure.
type streamChunk struct {
	answerHead
	Choices []struct {
		choiceHead
		Delta streamDelta `json:"delta"`
	} `json:"choices"`
	Usage *usageDoc `json:"usage"`
}

// streamDelta is a choice's delta. Reasoning arrives as delta.reasoning
// and, beside it, as delta.reasoning_details
// (https://openrouter.ai/docs/use-cases/reasoning-tokens); some providers
// pass DeepSeek's reasoning_content through.
type streamDelta struct {
	Content          content                    `json:"content"`
	Reasoning        lenient[string]            `json:"reasoning"`
	ReasoningContent lenient[string]            `json:"reasoning_content"`
	ReasoningDetails lenient[[]reasoningDetail] `json:"reasoning_details"`
	Images           lenient[[]imagePart]       `json:"images"`
}

// reasoningDetail is one entry of reasoning_details: "reasoning.text"
// carries text, "reasoning.summary" a summary, "reasoning.encrypted" only
// opaque data.
type reasoningDetail struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Summary string `json:"summary"`
}

func (d streamDelta) reasoning() string {
	if r := d.Reasoning.v; r != "" {
		return r
	}
	if r := d.ReasoningContent.v; r != "" {
		return r
	}
	var b strings.Builder
	for _, rd := range d.ReasoningDetails.v {
		switch rd.Type {
		case "reasoning.text":
			b.WriteString(rd.Text)
		case "reasoning.summary":
			b.WriteString(rd.Summary)
		}
	}
	return b.String()
}

// limitedBody fails a stream longer than left bytes with
// errResponseTooLarge, where io.LimitReader would end it quietly.
type limitedBody struct {
	r    io.Reader
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
