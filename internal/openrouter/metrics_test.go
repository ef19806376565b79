package openrouter

import (
	"context"
	"testing"

	"github.com/tzurot/tzurot/internal/metrics"
)

// Each chat request is timed under its model, but a model OpenRouter does
// not know (a user's free text) never becomes a label value.
func TestChatRequestsAreTimedByModel(t *testing.T) {
	count := func(model, outcome string) float64 {
		return metrics.Sum("tzurot_provider_request_duration_seconds", map[string]string{"provider": "openrouter", "model": model, "outcome": outcome})
	}
	okBefore, invalidBefore := count("test/timed-model", "ok"), count("invalid", "error")
	s := newStub(t, answer(200, `{"id":"gen-1","model":"test/timed-model","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`))
	if _, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "test/timed-model", Messages: []Message{{Role: "user", Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	bad := newStub(t, answer(404, `{"error":{"code":404,"message":"No endpoints found for made-up/model-1234."}}`))
	if _, err := bad.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "made-up/model-1234", Messages: []Message{{Role: "user", Content: "hi"}}}); err == nil {
		t.Fatal("a 404 answered no error")
	}
	if n := count("test/timed-model", "ok") - okBefore; n != 1 {
		t.Errorf("%v ok requests timed for test/timed-model, want 1", n)
	}
	if n := count("invalid", "error") - invalidBefore; n != 1 {
		t.Errorf("%v failed requests timed under model invalid, want 1", n)
	}
	if n := metrics.Sum("tzurot_provider_request_duration_seconds", map[string]string{"model": "made-up/model-1234"}); n != 0 {
		t.Errorf("an unknown model became a label value (%v series samples)", n)
	}
}

// A router (openrouter/free) is timed under the model it routed to, the
// one the usage rows' tokens and cost and TzurotModel name, so latency and
// cost per model line up; the requested one only when none answered.
func TestRoutedRequestsAreTimedByTheModelThatAnswered(t *testing.T) {
	count := func(model string) float64 {
		return metrics.Sum("tzurot_provider_request_duration_seconds", map[string]string{"provider": "openrouter", "model": model})
	}
	answeredBefore, routerBefore := count("test/routed-to:free"), count("test/router")
	s := newStub(t, answer(200, `{"id":"gen-2","model":"test/routed-to:free","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`))
	if _, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "test/router", Messages: []Message{{Role: "user", Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	if a, r := count("test/routed-to:free")-answeredBefore, count("test/router")-routerBefore; a != 1 || r != 0 {
		t.Errorf("timed %v under the model that answered and %v under the router, want 1 and 0", a, r)
	}
	down := newStub(t, answer(503, `{"error":{"code":503,"message":"no provider"}}`))
	_, _ = down.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "test/router", Messages: []Message{{Role: "user", Content: "hi"}}})
	if r := count("test/router") - routerBefore; r < 1 {
		t.Errorf("a request no model answered was not timed under the requested model")
	}
}
