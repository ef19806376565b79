package openrouter

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	fake "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/memory"
)

// embedBody is an embeddings answer as OpenRouter documents it, its data
// out of input order as the index field allows.
const embedBody = `{
  "id": "embd-1234567890",
  "object": "list",
  "model": "openai/text-embedding-3-small",
  "data": [
    {"object": "embedding", "index": 1, "embedding": [0.25, -0.5, 1]},
    {"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, 0.015797347]}
  ],
  "usage": {"prompt_tokens": 9, "total_tokens": 9, "cost": 0.00000018}
}`

func TestEmbedRequestAndAnswer(t *testing.T) {
	s := newStub(t, answer(200, embedBody))
	got, err := s.client(Options{}).Embed(context.Background(), testKey, "openai/text-embedding-3-small",
		[]string{"my cat is called Pixel", "what is my cat called?"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Model != "openai/text-embedding-3-small" || got.Usage.PromptTokens != 9 || got.Usage.TotalTokens != 9 || got.Usage.Cost == nil || *got.Usage.Cost != 0.00000018 {
		t.Errorf("embeddings = %+v", got)
	}
	if len(got.Vectors) != 2 || got.Vectors[0][0] != float32(0.0023064255) || got.Vectors[1][2] != 1 {
		t.Errorf("vectors not in input order: %v", got.Vectors)
	}

	req := s.last()
	if req.Method != http.MethodPost || req.Path != "/api/v1/embeddings" {
		t.Errorf("request %s %s", req.Method, req.Path)
	}
	if req.Header.Get("Authorization") != "Bearer "+testKey || req.Header.Get("X-Title") != "tzurot" {
		t.Errorf("headers %v", req.Header)
	}
	body := decodeObject(t, req.Body)
	inputs, _ := body["input"].([]any)
	if body["model"] != "openai/text-embedding-3-small" || len(inputs) != 2 || inputs[1] != "what is my cat called?" ||
		body["encoding_format"] != "float" {
		t.Errorf("body = %s", req.Body)
	}
	if _, ok := body["extra_body"]; ok {
		t.Errorf("body sends go-openai's extra_body: %s", req.Body)
	}
}

func TestEmbedFailures(t *testing.T) {
	// wait is the Retry-After the answer carries, in seconds; 0 for none.
	tests := []struct {
		name, body   string
		status, wait int
		kind         Kind
	}{
		{"bad key", `{"error":{"code":401,"message":"User not found."}}`, 401, 0, KindInvalidKey},
		{"no credits", `{"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/credits"}}`, 402, 0, KindNoCredits},
		{"rate limited", `{"error":{"code":429,"message":"Rate limit exceeded"}}`, 429, 7, KindRateLimited},
		{"unknown model", `{"error":{"code":400,"message":"acme/nothing is not a valid model ID"}}`, 400, 0, KindBadRequest},
		{"upstream down", `{"error":{"code":502,"message":"Provider returned error"}}`, 502, 0, KindTransient},
		{"error in a 200", `{"error":{"code":503,"message":"No available provider"}}`, 200, 0, KindTransient},
		{"too few vectors", `{"model":"m","data":[{"index":0,"embedding":[1]}],"usage":{"prompt_tokens":1,"total_tokens":1}}`, 200, 0, KindTransient},
		{"repeated index", `{"model":"m","data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}`, 200, 0, KindTransient},
		{"index out of range", `{"model":"m","data":[{"index":0,"embedding":[1]},{"index":2,"embedding":[1]}]}`, 200, 0, KindTransient},
		{"empty vector", `{"model":"m","data":[{"index":0,"embedding":[]},{"index":1,"embedding":[1]}]}`, 200, 0, KindTransient},
		{"not JSON", `<html>busy</html>`, 200, 0, KindTransient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var header []string
			if tc.wait > 0 {
				header = []string{"Retry-After", fmt.Sprint(tc.wait)}
			}
			s := newStub(t, answer(tc.status, tc.body, header...))
			_, err := s.client(Options{}).Embed(context.Background(), testKey, "openai/text-embedding-3-small", []string{"a", "b"})
			e := mustAsError(t, err)
			if e.Kind != tc.kind || e.RetryAfter != secs(tc.wait) || e.Message == "" {
				t.Errorf("got %v (retry after %s), want %s after %ds", e, e.RetryAfter, tc.kind, tc.wait)
			}
		})
	}
}

// The key never leaves in an error, even when the provider echoes it.
func TestEmbedErrorsHoldNoKey(t *testing.T) {
	s := newStub(t, answer(400, fmt.Sprintf(`{"error":{"code":400,"message":"bad input for key %s","metadata":{"raw":"%s"}}}`, testKey, testKey)))
	_, err := s.client(Options{}).Embed(context.Background(), testKey, "m", []string{"a"})
	e := mustAsError(t, err)
	if strings.Contains(err.Error(), testKey) || strings.Contains(fmt.Sprint(e.Metadata), testKey) {
		t.Errorf("error holds the key: %v %v", err, e.Metadata)
	}
}

func TestEmbedRefusesNothingToEmbed(t *testing.T) {
	s := newStub(t, answer(200, embedBody))
	c := s.client(Options{})
	for _, inputs := range [][]string{nil, {"a", ""}} {
		_, err := c.Embed(context.Background(), testKey, "m", inputs)
		if e := mustAsError(t, err); e.Kind != KindBadRequest {
			t.Errorf("Embed(%q) = %v", inputs, e)
		}
	}
	if _, err := c.Embed(context.Background(), "", "m", []string{"a"}); mustAsError(t, err).Kind != KindInvalidKey {
		t.Errorf("no key: %v", err)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent for calls that cannot succeed", n)
	}
}

// Against the shared stand-in: vectors of the model's length in which a
// question is near the statement it asks about, usage billed, and the
// documented failures classified.
func TestFakeEmbeddings(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	got, err := c.Embed(context.Background(), testKey, "openai/text-embedding-3-small",
		[]string{"my cat is called Pixel", "what is my cat called?", "I work night shifts in Leeds"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Vectors) != 3 || len(got.Vectors[0]) != 1536 || got.Usage.PromptTokens == 0 || got.Usage.Cost == nil || *got.Usage.Cost <= 0 {
		t.Fatalf("got %d vectors of %d, usage %+v", len(got.Vectors), len(got.Vectors[0]), got.Usage)
	}
	near, far := memory.Cosine(got.Vectors[0], got.Vectors[1]), memory.Cosine(got.Vectors[0], got.Vectors[2])
	if near < 0.6 || far > 0.2 {
		t.Errorf("cosine to the question %.3f, to the unrelated text %.3f", near, far)
	}
	if calls := f.CallsFor(testKey); len(calls) != 1 || calls[0].Model != "openai/text-embedding-3-small" {
		t.Errorf("calls = %+v", calls)
	}

	for _, tc := range []struct {
		step fake.Step
		kind Kind
		wait time.Duration
	}{
		{fake.Fail(401), KindInvalidKey, 0},
		{fake.Fail(402), KindNoCredits, 0},
		{fake.FailWithRetryAfter(429, 3), KindRateLimited, 3 * time.Second},
		{fake.Fail(502), KindTransient, 0},
	} {
		f.Script(testKey, tc.step)
		_, err := c.Embed(context.Background(), testKey, "openai/text-embedding-3-small", []string{"hi"})
		if e := mustAsError(t, err); e.Kind != tc.kind || e.RetryAfter != tc.wait {
			t.Errorf("scripted %v: got %v after %s", tc.kind, e, e.RetryAfter)
		}
	}
	_, err = c.Embed(context.Background(), testKey, "acme/nothing", []string{"hi"})
	if e := mustAsError(t, err); e.Kind != KindBadRequest || !strings.Contains(e.Message, "acme/nothing") {
		t.Errorf("unknown model: %v", e)
	}
	broke := "sk-or-v1-" + strings.Repeat("e", 64)
	zero := 0.0
	f.AddKey(broke, fake.Key{Credits: &zero})
	if _, err := c.Embed(context.Background(), broke, "openai/text-embedding-3-small", []string{"hi"}); mustAsError(t, err).Kind != KindNoCredits {
		t.Errorf("no credits: %v", err)
	}
}
