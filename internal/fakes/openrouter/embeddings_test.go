package openrouter_test

import (
	"context"
	"math"
	"net/http"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/memory"
)

// Texts that share words are near each other, texts that share none are
// not; every vector has length 1 and the same text always gets the same
// vector.
func TestEmbeddingMeaning(t *testing.T) {
	pixel := openrouter.Embedding("my cat is called Pixel", 1536)
	for _, tc := range []struct {
		text     string
		min, max float64
	}{
		{"what is my cat called?", 0.75, 0.9},     // cat, called of cat, called, pixel
		{"My CAT is called PIXEL!", 0.999, 1.001}, // case and punctuation do not count
		{"Pixel", 0.5, 0.65},                      // one word of three
		{"I work night shifts in Leeds", -0.1, 0.1},
		{"my favourite colour is green", -0.1, 0.1}, // only stopwords shared
	} {
		v := openrouter.Embedding(tc.text, 1536)
		if c := memory.Cosine(pixel, v); c < tc.min || c > tc.max {
			t.Errorf("cosine(%q) = %.3f, want %.2f to %.2f", tc.text, c, tc.min, tc.max)
		}
	}
	var norm float64
	for _, x := range pixel {
		norm += float64(x) * float64(x)
	}
	if math.Abs(norm-1) > 1e-5 {
		t.Errorf("|v|² = %v, want 1", norm)
	}
	if again := openrouter.Embedding("my cat is called Pixel", 1536); memory.Cosine(pixel, again) != 1 || len(openrouter.Embedding("???", 8)) != 8 {
		t.Error("embeddings are not deterministic, or a text without words has none")
	}
}

// The stand-in answers go-openai's own embeddings client: one vector per
// input in order, the model's length or the one asked for, usage billed.
func TestEmbeddingsEndpoint(t *testing.T) {
	fake, srv := setupWithKey(t)
	c := client(srv, key)
	resp, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{
		Model: "openai/text-embedding-3-small", Input: []string{"my cat is called Pixel", "hello there"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 2 || resp.Data[1].Index != 1 || len(resp.Data[0].Embedding) != 1536 ||
		resp.Usage.PromptTokens == 0 || resp.Usage.TotalTokens != resp.Usage.PromptTokens {
		t.Fatalf("answer = %d vectors, usage %+v", len(resp.Data), resp.Usage)
	}
	if memory.Cosine(resp.Data[0].Embedding, openrouter.Embedding("my cat is called Pixel", 1536)) < 0.9999 {
		t.Error("the endpoint's vector is not Embedding's")
	}
	if calls := fake.CallsFor(key); len(calls) != 1 || calls[0].Path != "/api/v1/embeddings" || calls[0].Model != "openai/text-embedding-3-small" {
		t.Errorf("calls = %+v", calls)
	}

	small, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequest{
		Model: "openai/text-embedding-3-large", Input: "one string", Dimensions: 256,
	})
	if err != nil || len(small.Data) != 1 || len(small.Data[0].Embedding) != 256 {
		t.Fatalf("dimensions 256: %v", err)
	}

	r, _ := raw(t, http.MethodGet, srv.URL+"/api/v1/embeddings", key, nil)
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /embeddings = %d", r.StatusCode)
	}
}

// The documented failures: a bad or missing key, no credits, a scripted
// rate limit with its wait, an unknown model, and inputs it cannot embed.
func TestEmbeddingsFailures(t *testing.T) {
	fake, srv := setupWithKey(t)
	zero := 0.0
	fake.AddKey(other, openrouter.Key{Credits: &zero})
	fake.Script(key, openrouter.FailWithRetryAfter(429, 4))
	url := srv.URL + "/api/v1/embeddings"
	ok := map[string]any{"model": "openai/text-embedding-3-small", "input": "hi"}
	for _, tc := range []struct {
		name   string
		key    string
		body   any
		status int
		header string
	}{
		{"scripted rate limit", key, ok, 429, "4"},
		{"no key", "", ok, 401, ""},
		{"unknown key", "sk-or-v1-unknown0000", ok, 401, ""},
		{"no credits", other, ok, 402, ""},
		{"unknown model", key, map[string]any{"model": "acme/nothing", "input": "hi"}, 400, ""},
		{"chat model", key, map[string]any{"model": "anthropic/claude-sonnet-4", "input": "hi"}, 400, ""},
		{"empty input", key, map[string]any{"model": "openai/text-embedding-3-small", "input": []string{"a", " "}}, 400, ""},
		{"no input", key, map[string]any{"model": "openai/text-embedding-3-small"}, 400, ""},
		{"too many dimensions", key, map[string]any{"model": "openai/text-embedding-3-small", "input": "hi", "dimensions": 4096}, 400, ""},
		{"base64", key, map[string]any{"model": "openai/text-embedding-3-small", "input": "hi", "encoding_format": "base64"}, 400, ""},
	} {
		resp, body := raw(t, http.MethodPost, url, tc.key, tc.body)
		e, _ := body["error"].(map[string]any)
		if resp.StatusCode != tc.status || e == nil || e["code"] != float64(tc.status) || e["message"] == "" ||
			resp.Header.Get("Retry-After") != tc.header {
			t.Errorf("%s: %d %v Retry-After %q, want %d with an error object", tc.name, resp.StatusCode, body, resp.Header.Get("Retry-After"), tc.status)
		}
	}
	// After the script, the key works.
	if resp, _ := raw(t, http.MethodPost, url, key, ok); resp.StatusCode != 200 {
		t.Errorf("after the script: %d", resp.StatusCode)
	}
}
