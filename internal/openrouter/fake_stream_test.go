package openrouter

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	fake "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/llmparams"
)

// These run ChatStream against the shared OpenRouter stand-in.

func reasoningReq(text string) ChatRequest {
	effort := "high"
	req := userSays("deepseek/deepseek-r1", text)
	req.Params = llmparams.Params{Reasoning: &llmparams.Reasoning{Effort: &effort}}
	return req
}

func TestFakeChatStream(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	req := reasoningReq("hello there, how are you")

	want, err := c.Chat(context.Background(), testKey, req)
	if err != nil {
		t.Fatal(err)
	}
	got, deltas, err := collect(t, c, testKey, req)
	if err != nil {
		t.Fatal(err)
	}
	if got.Content != fake.EchoReply("deepseek/deepseek-r1", "hello there, how are you") || got.Reasoning != want.Reasoning {
		t.Errorf("content %q reasoning %q", got.Content, got.Reasoning)
	}
	if content, reasoning := joined(deltas); content != got.Content || reasoning != got.Reasoning {
		t.Errorf("deltas join to %q / %q", content, reasoning)
	}
	if len(deltas) < 4 {
		t.Errorf("%d deltas, want the reply in pieces", len(deltas))
	}
	seenContent := false
	for _, d := range deltas {
		if d.Content != "" {
			seenContent = true
		} else if seenContent {
			t.Errorf("reasoning %q after content", d.Reasoning)
		}
	}
	// The stand-in makes both with new ids.
	got.ID, want.ID = "", ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ChatStream = %+v\nChat       = %+v", got, want)
	}
	if got.Usage.Cost == nil || *got.Usage.Cost <= 0 || got.Usage.ReasoningTokens == 0 || got.FinishReason != "stop" {
		t.Errorf("usage %+v finish %q", got.Usage, got.FinishReason)
	}
}

// TestFakeChatStreamMidStreamError: a stream failing after some tokens
// ends in the same *Error as the same failure before the stream, with the
// text so far and its usage.
func TestFakeChatStreamMidStreamError(t *testing.T) {
	for _, code := range []int{429, 502} {
		f, c := newFake(t, Options{})
		f.AddKey(testKey, fake.Key{})
		long := strings.Repeat("word ", 40)
		f.Script(testKey, fake.Fail(code), fake.FailMidStream(code, 5))

		_, before := c.Chat(context.Background(), testKey, userSays("anthropic/claude-sonnet-4", long))
		got, deltas, err := collect(t, c, testKey, userSays("anthropic/claude-sonnet-4", long))
		want, e := mustAsError(t, before), mustAsError(t, err)
		if e.Kind != want.Kind || e.Status != want.Status || e.Message != want.Message || e.Retryable() != want.Retryable() {
			t.Errorf("%d: mid-stream %v, before the stream %v", code, e, want)
		}
		full := fake.EchoReply("anthropic/claude-sonnet-4", long)
		if got.Content == "" || !strings.HasPrefix(full, got.Content) || len(got.Content) > 20 {
			t.Errorf("%d: partial content %q, want the first 5 tokens of %q", code, got.Content, full)
		}
		if content, _ := joined(deltas); content != got.Content {
			t.Errorf("%d: deltas join to %q", code, content)
		}
		if e.Usage.CompletionTokens == 0 || e.Usage.Cost == nil || e.Model == "" {
			t.Errorf("%d: error usage %+v model %q, want what was billed", code, e.Usage, e.Model)
		}
	}
}

func TestFakeChatStreamDropped(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	f.Script(testKey, fake.DropMidStream(3), fake.DropMidStream(3))
	got, _, err := collect(t, c, testKey, userSays("anthropic/claude-sonnet-4", "a long enough message to cut"))
	if e := mustAsError(t, err); !e.Retryable() || got.Content == "" {
		t.Errorf("stream: err %v, partial %q", err, got.Content)
	}
	if _, err := c.Chat(context.Background(), testKey, userSays("anthropic/claude-sonnet-4", "x")); !mustAsError(t, err).Retryable() {
		t.Errorf("chat: err %v, want retryable", err)
	}
}

// TestFakeChatStreamPaced: the first delta waits for the scripted start,
// and the last (and a Chat's answer) for the scripted rate. Only lower bounds are asserted: the
// stand-in cannot be early, only late, so a loaded machine cannot fail it.
func TestFakeChatStreamPaced(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	const first = 150 * time.Millisecond
	// 40 tokens at 400 tokens/s: 100 ms after the first.
	paced := fake.Reply(strings.Repeat("tok ", 40), "").Paced(
		fake.StreamRate{FirstToken: first, TokensPerSecond: 400, KeepAlive: 20 * time.Millisecond})
	f.Script(testKey, paced, paced)

	start := time.Now()
	var at []time.Duration
	got, err := c.ChatStream(context.Background(), testKey, userSays("anthropic/claude-sonnet-4", "hi"), func(Delta) error {
		at = append(at, time.Since(start))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Content != strings.Repeat("tok ", 40) || len(at) != 40 {
		t.Fatalf("content %q in %d deltas", got.Content, len(at))
	}
	if at[0] < first {
		t.Errorf("first delta after %v, before the scripted %v", at[0], first)
	}
	if last := at[len(at)-1]; last < first+100*time.Millisecond {
		t.Errorf("the last delta after %v, before the scripted %v", last, first+100*time.Millisecond)
	}

	// Not streamed, the same generation answers once it is all there.
	start = time.Now()
	if _, err := c.Chat(context.Background(), testKey, userSays("anthropic/claude-sonnet-4", "hi")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < first+100*time.Millisecond {
		t.Errorf("Chat answered after %v, before the generation's %v", took, first+100*time.Millisecond)
	}
}

// TestFakeChatStreamWithoutFinishReason: a stream that ends with its usage
// and "[DONE]" but no finish reason (a model warming up) is whole, as
// Chat's answer is: its usage is returned, to be billed, not lost as a drop.
func TestFakeChatStreamWithoutFinishReason(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	f.Script(testKey, fake.Finish("", ""))
	got, _, err := collect(t, c, testKey, userSays("anthropic/claude-sonnet-4", "hi"))
	if err != nil || got.Usage.TotalTokens == 0 || got.FinishReason != "" {
		t.Errorf("stream: err %v, usage %+v, finish %q; want no error and the usage", err, got.Usage, got.FinishReason)
	}
}
