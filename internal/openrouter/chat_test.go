package openrouter

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tzurot/tzurot/internal/llmparams"
)

// paramNames is every field llmparams can set, by its OpenRouter name.
var paramNames = []string{
	"temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty",
	"repetition_penalty", "min_p", "top_a", "seed", "reasoning", "max_tokens",
	"stop", "logit_bias", "response_format", "transforms", "route", "verbosity",
}

func TestChatSendsParams(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		modalities []string
	}{
		{
			name: "every parameter",
			doc: `{
				"temperature": 0.7, "top_p": 0.9, "top_k": 40,
				"frequency_penalty": 0.3, "presence_penalty": -0.2, "repetition_penalty": 1.1,
				"min_p": 0.05, "top_a": 0.1, "seed": 42,
				"reasoning": {"effort": "high", "max_tokens": 2048, "exclude": false, "enabled": true},
				"max_tokens": 4096, "stop": ["</s>", "User:"], "logit_bias": {"50256": -100, "1639": 2.5},
				"response_format": {"type": "json_object"},
				"transforms": ["middle-out"], "route": "fallback", "verbosity": "low"
			}`,
		},
		{
			// go-openai's float32 omitempty fields would drop these.
			name: "explicit zeros",
			doc:  `{"temperature": 0, "top_k": 0, "frequency_penalty": 0, "seed": 0}`,
		},
		{
			// [] is how OpenRouter's default middle-out is switched off.
			name: "empty transforms and stop",
			doc:  `{"transforms": [], "stop": []}`,
		},
		{
			name: "reasoning alone",
			doc:  `{"reasoning": {"effort": "none"}}`,
		},
		{
			name:       "modalities",
			doc:        `{}`,
			modalities: []string{"image", "text"},
		},
		{name: "nothing set", doc: `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params, err := llmparams.Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			s := newStub(t, answer(http.StatusOK, okBody))
			_, err = s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{
				Model:      "deepseek/deepseek-r1",
				Messages:   []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "hi", Name: "alice"}},
				Params:     params,
				Modalities: tc.modalities,
			})
			if err != nil {
				t.Fatal(err)
			}
			raw := s.last().Body

			keys := topLevelKeys(t, raw)
			for i, k := range keys {
				if slices.Contains(keys[:i], k) {
					t.Errorf("field %q appears more than once in %s", k, raw)
				}
			}

			body := decodeObject(t, raw)
			want := decodeObject(t, []byte(tc.doc))
			if tc.modalities != nil {
				want["modalities"] = []any{"image", "text"}
			}
			for k, v := range want {
				if !reflect.DeepEqual(body[k], v) {
					t.Errorf("%s = %#v, want %#v", k, body[k], v)
				}
			}
			for _, k := range paramNames {
				if _, set := want[k]; !set {
					if v, ok := body[k]; ok {
						t.Errorf("unset %s sent as %#v", k, v)
					}
				}
			}
			// Usage accounting is asked for on every request.
			if u := body["usage"]; !reflect.DeepEqual(u, map[string]any{"include": true}) {
				t.Errorf("usage = %#v, want {\"include\": true}", u)
			}
			if _, ok := want["modalities"]; !ok {
				if _, ok := body["modalities"]; ok {
					t.Error("modalities sent though none were asked for")
				}
			}
			if r, ok := want["reasoning"]; ok {
				if _, isObject := body["reasoning"].(map[string]any); !isObject {
					t.Errorf("reasoning = %#v, want the nested object %#v", body["reasoning"], r)
				}
			}

			if body["model"] != "deepseek/deepseek-r1" {
				t.Errorf("model = %v", body["model"])
			}
			wantMsgs := []any{
				map[string]any{"role": "system", "content": "Be brief."},
				map[string]any{"role": "user", "content": "hi", "name": "alice"},
			}
			if !reflect.DeepEqual(body["messages"], wantMsgs) {
				t.Errorf("messages = %#v, want %#v", body["messages"], wantMsgs)
			}
			if strings.Contains(string(raw), `\u003c`) {
				t.Errorf("stop sequences were HTML-escaped: %s", raw)
			}
		})
	}
}

func TestChatHeaders(t *testing.T) {
	s := newStub(t, answer(http.StatusOK, okBody))
	c := s.client(Options{Referer: "https://example.org/bot", Title: "Example Bot"})
	if _, err := c.Chat(context.Background(), testKey, ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	r := s.last()
	if r.Method != http.MethodPost || r.Path != "/api/v1/chat/completions" {
		t.Errorf("request = %s %s, want POST /api/v1/chat/completions", r.Method, r.Path)
	}
	for name, want := range map[string]string{
		"Authorization": "Bearer " + testKey,
		"HTTP-Referer":  "https://example.org/bot",
		"X-Title":       "Example Bot",
		"Content-Type":  "application/json",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestChatOmitsEmptyAttribution(t *testing.T) {
	s := newStub(t, answer(http.StatusOK, okBody))
	c := New(Options{BaseURL: s.srv.URL + "/api/v1"})
	if _, err := c.Chat(context.Background(), testKey, ChatRequest{Model: "m"}); err != nil {
		t.Fatal(err)
	}
	h := s.last().Header
	if _, ok := h["Http-Referer"]; ok {
		t.Errorf("HTTP-Referer sent though unset: %q", h.Get("HTTP-Referer"))
	}
	if _, ok := h["X-Title"]; ok {
		t.Errorf("X-Title sent though unset: %q", h.Get("X-Title"))
	}
}

func TestChatParsesResponse(t *testing.T) {
	const png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	tests := []struct {
		name string
		body string
		want ChatResponse
	}{
		{
			name: "reasoning",
			body: okBody,
			want: ChatResponse{
				ID: "gen-1735689600-abc123", Model: "deepseek/deepseek-r1", Provider: "DeepInfra",
				Content: "Hello there!", Reasoning: "The user greeted me, so I greet them back.", FinishReason: "stop", NativeFinishReason: "stop",
				Usage: Usage{PromptTokens: 12, CompletionTokens: 30, TotalTokens: 42, ReasoningTokens: 11, Cost: ptr(0.000084)},
			},
		},
		{
			name: "images",
			body: `{"id":"gen-2","provider":"Google AI Studio","model":"google/gemini-2.5-flash-image-preview","object":"chat.completion","created":1756218977,
				"choices":[{"index":0,"finish_reason":"stop","native_finish_reason":"STOP","message":{"role":"assistant","content":"Here is a cat.",
				"images":[{"type":"image_url","image_url":{"url":"` + png + `"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}}],
				"usage":{"prompt_tokens":5,"completion_tokens":1295,"total_tokens":1300}}`,
			want: ChatResponse{
				ID: "gen-2", Model: "google/gemini-2.5-flash-image-preview", Provider: "Google AI Studio",
				Content: "Here is a cat.", FinishReason: "stop", NativeFinishReason: "STOP",
				Images: []string{png, "data:image/png;base64,AAAA"},
				Usage:  Usage{PromptTokens: 5, CompletionTokens: 1295, TotalTokens: 1300},
			},
		},
		{
			name: "image only, null content",
			body: `{"id":"gen-3","model":"google/gemini-2.5-flash-image-preview","choices":[{"index":0,"finish_reason":"stop",
				"message":{"role":"assistant","content":null,"images":[{"type":"image_url","image_url":{"url":"` + png + `"}}]}}]}`,
			want: ChatResponse{ID: "gen-3", Model: "google/gemini-2.5-flash-image-preview", FinishReason: "stop", Images: []string{png}},
		},
		{
			name: "length cut",
			body: `{"id":"gen-4","model":"m","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"Once upon"}}],
				"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`,
			want: ChatResponse{ID: "gen-4", Model: "m", Content: "Once upon", FinishReason: "length",
				Usage: Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}},
		},
		{
			// DeepSeek's own field name, which some providers pass through.
			name: "reasoning_content",
			body: `{"id":"gen-5","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"42","reasoning_content":"6 times 7"}}]}`,
			want: ChatResponse{ID: "gen-5", Model: "m", Content: "42", Reasoning: "6 times 7", FinishReason: "stop"},
		},
		{
			name: "content parts",
			body: `{"id":"gen-6","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":[{"type":"text","text":"Hel"},{"type":"text","text":"lo"}]}}]}`,
			want: ChatResponse{ID: "gen-6", Model: "m", Content: "Hello", FinishReason: "stop"},
		},
		{
			// An odd type in a field only this package reads must not
			// throw away the reply go-openai decoded.
			name: "unexpected extra type",
			body: `{"id":"gen-7","model":"m","usage":{"cost":"0.1"},"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"ok"}}]}`,
			want: ChatResponse{ID: "gen-7", Model: "m", Content: "ok", FinishReason: "stop"},
		},
		{
			// The same for every field OpenRouter adds, and a null error
			// (on the choice or at the top) is no error.
			name: "unexpected extra types and null errors",
			body: `{"id":"gen-8","model":"m","provider":5,"error":null,"usage":{"total_tokens":3,"cost":[1]},"choices":[{"index":0,"finish_reason":"stop",
				"native_finish_reason":{},"error":null,"message":{"role":"assistant","content":"ok","reasoning":7,"images":"none"}}]}`,
			want: ChatResponse{ID: "gen-8", Model: "m", Content: "ok", FinishReason: "stop", Usage: Usage{TotalTokens: 3}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, answer(http.StatusOK, tc.body))
			got, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestChatWithoutKey(t *testing.T) {
	s := newStub(t, answer(http.StatusOK, okBody))
	_, err := s.client(Options{}).Chat(context.Background(), "", ChatRequest{Model: "m"})
	if e := mustAsError(t, err); e.Kind != KindInvalidKey {
		t.Errorf("kind = %s, want invalid_key", e.Kind)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("sent %d requests without a key", n)
	}
}

// TestChatConcurrent runs many calls at once through one Client, each with
// its own key, parameters and outcome, so that any per-call state leaking
// through the shared transport shows up as a mismatch (and, under -race, as
// a data race).
func TestChatConcurrent(t *testing.T) {
	const n = 48
	keyFor := func(i int) string { return fmt.Sprintf("sk-or-v1-%064d", i) }
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct {
			Seed      int `json:"seed"`
			Reasoning struct {
				MaxTokens int `json:"max_tokens"`
			} `json:"reasoning"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			answer(400, `{"error":{"code":400,"message":"bad json"}}`)(w, r, body)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+keyFor(req.Seed) || req.Reasoning.MaxTokens != 1024+req.Seed {
			answer(400, `{"error":{"code":400,"message":"mixed-up request"}}`)(w, r, body)
			return
		}
		if req.Seed%3 == 0 {
			answer(429, `{"error":{"code":429,"message":"slow down `+fmt.Sprint(req.Seed)+`"}}`, "Retry-After", fmt.Sprint(req.Seed+1))(w, r, body)
			return
		}
		answer(200, fmt.Sprintf(`{"id":"gen-%d","model":"m","choices":[{"index":0,"finish_reason":"stop",
			"message":{"role":"assistant","content":"reply %d","reasoning":"thought %d","images":[{"type":"image_url","image_url":{"url":"data:image/png;base64,%d"}}]}}]}`,
			req.Seed, req.Seed, req.Seed, req.Seed))(w, r, body)
	})
	c := s.client(Options{})

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			maxTokens := 1024 + i
			resp, err := c.Chat(context.Background(), keyFor(i), ChatRequest{
				Model:    "m",
				Messages: []Message{{Role: "user", Content: fmt.Sprint(i)}},
				Params:   llmparams.Params{Seed: &i, Reasoning: &llmparams.Reasoning{MaxTokens: &maxTokens}},
			})
			if i%3 == 0 {
				e, ok := AsError(err)
				if !ok || e.Kind != KindRateLimited || e.RetryAfter != secs(i+1) || e.Message != fmt.Sprintf("slow down %d", i) {
					errs <- fmt.Errorf("call %d: got %v (%+v), want its own 429", i, err, e)
				}
				return
			}
			want := ChatResponse{ID: fmt.Sprintf("gen-%d", i), Model: "m", Content: fmt.Sprintf("reply %d", i),
				Reasoning: fmt.Sprintf("thought %d", i), FinishReason: "stop", Images: []string{fmt.Sprintf("data:image/png;base64,%d", i)}}
			if err != nil || !reflect.DeepEqual(resp, want) {
				errs <- fmt.Errorf("call %d: got %+v, %v; want %+v", i, resp, err, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(s.requests()); got != n {
		t.Errorf("server saw %d requests, want %d", got, n)
	}
}

func TestChatParamsNotShared(t *testing.T) {
	// The caller's Params and Modalities must come back untouched, since
	// personality documents are cached and shared.
	temp := 0.5
	p := llmparams.Params{Temperature: &temp, Stop: []string{"x"}}
	before := p.Clone()
	mods := []string{"image", "text"}
	s := newStub(t, answer(http.StatusOK, okBody))
	if _, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m", Params: p, Modalities: mods}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, before) || !slices.Equal(mods, []string{"image", "text"}) {
		t.Error("Chat modified its input")
	}
	if got := decodeObject(t, s.last().Body); got["temperature"] != json.Number("0.5") {
		t.Errorf("temperature = %v", got["temperature"])
	}
}

// A message with images is sent as content parts, text first.
func TestChatBodyImageParts(t *testing.T) {
	body, err := chatBody(ChatRequest{Model: "m", Messages: []Message{
		{Role: "system", Content: "be kind"},
		{Role: "user", Content: "what is this?", Images: []string{"data:image/png;base64,AAAA"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if got := string(doc.Messages[0].Content); got != `"be kind"` {
		t.Errorf("text-only message sent as %s", got)
	}
	want := `[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]`
	if got := string(doc.Messages[1].Content); got != want {
		t.Errorf("image message sent as\n%s\nwant\n%s", got, want)
	}
}

// TestChatCostOfUsageAccounting reads usage.cost, is_byok and
// cost_details.upstream_inference_cost as OpenRouter's usage accounting
// documents them (https://openrouter.ai/docs/use-cases/usage-accounting):
// the cost is what the key's credits paid, in USD; on a BYOK call the
// upstream provider bills its part directly, and USD adds it.
func TestChatCostOfUsageAccounting(t *testing.T) {
	const head = `{"id":"gen-9","model":"openai/gpt-4o","choices":[{"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":`
	tests := []struct {
		name      string
		usage     string
		cost, usd *float64
		byok      bool
		upstream  *float64
	}{
		{"credits", `{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"cost":0.0042,"is_byok":false,"cost_details":{"upstream_inference_cost":null}}`,
			ptr(0.0042), ptr(0.0042), false, nil},
		{"free model", `{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"cost":0}`, ptr(0.0), ptr(0.0), false, nil},
		{"byok", `{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"cost":0.0001,"is_byok":true,"cost_details":{"upstream_inference_cost":0.002}}`,
			ptr(0.0001), ptr(0.0021), true, ptr(0.002)},
		{"not reported", `{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}`, nil, nil, false, nil},
		{"null", `{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"cost":null}`, nil, nil, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, answer(http.StatusOK, head+tc.usage+`}`))
			got, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "openai/gpt-4o"})
			if err != nil {
				t.Fatal(err)
			}
			u := got.Usage
			if !reflect.DeepEqual(u.Cost, tc.cost) || u.BYOK != tc.byok || !reflect.DeepEqual(u.UpstreamCost, tc.upstream) {
				t.Errorf("usage = %+v, want cost %v byok %v upstream %v", u, tc.cost, tc.byok, tc.upstream)
			}
			usd := u.USD()
			if (usd == nil) != (tc.usd == nil) || (usd != nil && math.Abs(*usd-*tc.usd) > 1e-12) {
				t.Errorf("USD() = %v, want %v", usd, tc.usd)
			}
		})
	}
}
