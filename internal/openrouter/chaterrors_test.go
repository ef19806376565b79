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

	openai "github.com/sashabaranov/go-openai"
)

func TestChatStatusClassification(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		header     []string
		kind       Kind
		message    string
		retryAfter time.Duration
		metadata   map[string]any
		apiError   bool // go-openai decoded it as *openai.APIError
	}{
		{
			name: "400", status: 400, kind: KindBadRequest, apiError: true,
			body:    `{"error":{"code":400,"message":"Bad Request: invalid or missing parameters"}}`,
			message: "Bad Request: invalid or missing parameters",
		},
		{
			name: "401", status: 401, kind: KindInvalidKey, apiError: true,
			body:    `{"error":{"code":401,"message":"User not found."}}`,
			message: "User not found.",
		},
		{
			name: "402", status: 402, kind: KindNoCredits, apiError: true,
			body:    `{"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/credits"}}`,
			message: "Insufficient credits. Add more using https://openrouter.ai/credits",
		},
		{
			name: "403", status: 403, kind: KindModeration, apiError: true,
			body: `{"error":{"code":403,"message":"anthropic/claude-sonnet-4 requires moderation on OpenRouter. Your input was flagged for \"harassment\"",
				"metadata":{"reasons":["harassment"],"flagged_input":"you are...","provider_name":"Anthropic","model_slug":"anthropic/claude-sonnet-4"}}}`,
			message: `anthropic/claude-sonnet-4 requires moderation on OpenRouter. Your input was flagged for "harassment"`,
			metadata: map[string]any{"reasons": []any{"harassment"}, "flagged_input": "you are...",
				"provider_name": "Anthropic", "model_slug": "anthropic/claude-sonnet-4"},
		},
		{
			name: "404", status: 404, kind: KindUnknownModel, apiError: true,
			body:    `{"error":{"code":404,"message":"No endpoints found for acme/nonexistent."}}`,
			message: "No endpoints found for acme/nonexistent.",
		},
		{
			name: "408", status: 408, kind: KindTransient, apiError: true,
			body:    `{"error":{"code":408,"message":"Request timed out"}}`,
			message: "Request timed out",
		},
		{
			name: "413", status: 413, kind: KindBadRequest, apiError: true,
			body:    `{"error":{"code":413,"message":"Payload too large"}}`,
			message: "Payload too large",
		},
		{
			name: "422", status: 422, kind: KindBadRequest, apiError: true,
			body:    `{"error":{"code":422,"message":"Unprocessable: messages must not be empty"}}`,
			message: "Unprocessable: messages must not be empty",
		},
		{
			name: "429 with Retry-After seconds", status: 429, kind: KindRateLimited, apiError: true,
			body:    `{"error":{"code":429,"message":"Rate limit exceeded: too many requests for this key."}}`,
			header:  []string{"Retry-After", "7"},
			message: "Rate limit exceeded: too many requests for this key.", retryAfter: secs(7),
		},
		{
			name: "429 upstream", status: 429, kind: KindRateLimited, apiError: true,
			body: `{"error":{"code":429,"message":"Provider returned error","metadata":{"provider_name":"Together",
				"raw":"meta-llama/llama-3.3-70b-instruct:free is temporarily rate-limited upstream. Please retry shortly."}}}`,
			message: "Provider returned error",
			metadata: map[string]any{"provider_name": "Together",
				"raw": "meta-llama/llama-3.3-70b-instruct:free is temporarily rate-limited upstream. Please retry shortly."},
		},
		{
			name: "500", status: 500, kind: KindTransient, apiError: true,
			body:    `{"error":{"code":500,"message":"Internal Server Error"}}`,
			message: "Internal Server Error",
		},
		{
			name: "502", status: 502, kind: KindTransient, apiError: true,
			body:     `{"error":{"code":502,"message":"Provider returned error","metadata":{"provider_name":"DeepInfra","raw":"upstream connection reset"}}}`,
			message:  "Provider returned error",
			metadata: map[string]any{"provider_name": "DeepInfra", "raw": "upstream connection reset"},
		},
		{
			name: "503 with Retry-After", status: 503, kind: KindTransient, apiError: true,
			body:    `{"error":{"code":503,"message":"No available model provider that meets your routing requirements"}}`,
			header:  []string{"Retry-After", "30"},
			message: "No available model provider that meets your routing requirements", retryAfter: secs(30),
		},
		{
			// A proxy's error page: go-openai returns *openai.RequestError.
			name: "502 html", status: 502, kind: KindTransient,
			body:    "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>",
			header:  []string{"Content-Type", "text/html"},
			message: "bad gateway",
		},
		{
			name: "504 plain text", status: 504, kind: KindTransient,
			body:    "upstream request timeout",
			header:  []string{"Content-Type", "text/plain"},
			message: "upstream request timeout",
		},
		{
			// go-openai returns a *openai.RequestError wrapping an empty
			// *openai.APIError (status 0) for this shape.
			name: "400 error as a string", status: 400, kind: KindBadRequest, apiError: true,
			body:    `{"error":"model is required"}`,
			message: "model is required",
		},
		{
			name: "405 other 4xx", status: 405, kind: KindBadRequest, apiError: true,
			body:    `{"error":{"code":405,"message":"Method Not Allowed"}}`,
			message: "Method Not Allowed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, answer(tc.status, tc.body, tc.header...))
			_, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
			e := mustAsError(t, err)
			if e.Kind != tc.kind || e.Status != tc.status || e.Message != tc.message || e.RetryAfter != tc.retryAfter {
				t.Errorf("got kind=%s status=%d message=%q retryAfter=%s\nwant kind=%s status=%d message=%q retryAfter=%s",
					e.Kind, e.Status, e.Message, e.RetryAfter, tc.kind, tc.status, tc.message, tc.retryAfter)
			}
			if !reflect.DeepEqual(e.Metadata, tc.metadata) {
				t.Errorf("metadata = %#v, want %#v", e.Metadata, tc.metadata)
			}
			wantRetry := tc.kind == KindTransient || tc.kind == KindRateLimited
			if e.Retryable() != wantRetry {
				t.Errorf("Retryable() = %v, want %v", e.Retryable(), wantRetry)
			}
			if want := fmt.Sprintf("openrouter: %d %s: %s", tc.status, tc.kind, tc.message); e.Error() != want {
				t.Errorf("Error() = %q, want %q", e.Error(), want)
			}
			var apiErr *openai.APIError
			if errors.As(err, &apiErr) != tc.apiError {
				t.Errorf("errors.As(*openai.APIError) = %v, want %v", !tc.apiError, tc.apiError)
			}
		})
	}
}

func TestChatErrorInOKBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		status  int
		message string
	}{
		{
			// OpenRouter sends keep-alive whitespace before committing to
			// 200, so a late upstream failure arrives as a bare error object.
			name:    "top-level error",
			body:    "\n\n" + `{"error":{"code":502,"message":"Provider returned error","metadata":{"provider_name":"DeepInfra","raw":"upstream connection reset"}}}`,
			status:  502,
			message: "Provider returned error",
		},
		{
			name: "error in the choice",
			body: `{"id":"gen-9","model":"m","object":"chat.completion","choices":[{"index":0,"finish_reason":"error","native_finish_reason":"error",
				"message":{"role":"assistant","content":""},"error":{"code":500,"message":"Upstream stream ended unexpectedly"}}]}`,
			status:  500,
			message: "Upstream stream ended unexpectedly",
		},
		{
			name:    "no choices",
			body:    `{"id":"gen-10","model":"m","object":"chat.completion","choices":[]}`,
			status:  200,
			message: "the response has no choices",
		},
		{
			name:    "error with a string code",
			body:    `{"error":{"code":"server_error","message":"The server had an error while processing your request."}}`,
			message: "The server had an error while processing your request.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, answer(http.StatusOK, tc.body))
			_, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
			e := mustAsError(t, err)
			if e.Kind != KindTransient || e.Status != tc.status || e.Message != tc.message {
				t.Errorf("got kind=%s status=%d message=%q, want transient %d %q", e.Kind, e.Status, e.Message, tc.status, tc.message)
			}
			if !e.Retryable() {
				t.Error("an error in a 200 body must be retryable")
			}
		})
	}
}

func TestChatMalformedOKBody(t *testing.T) {
	s := newStub(t, answer(http.StatusOK, `{"id":"gen-1","choices":[{"message":`))
	_, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m"})
	e := mustAsError(t, err)
	if e.Kind != KindTransient || e.Status != http.StatusOK || !strings.HasPrefix(e.Message, "malformed response: ") {
		t.Errorf("got %v, want transient malformed response", e)
	}
}

func TestChatTimeouts(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	tests := []struct {
		name string
		opts Options
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{name: "Options.Timeout", opts: Options{Timeout: 50 * time.Millisecond}},
		{name: "http.Client.Timeout", opts: Options{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}}},
		{name: "caller deadline", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, hang)
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			start := time.Now()
			_, err := s.client(tc.opts).Chat(ctx, testKey, ChatRequest{Model: "m"})
			e := mustAsError(t, err)
			if e.Kind != KindTransient || e.Message != "request timed out" || !e.Retryable() {
				t.Errorf("got %v, want transient timeout", e)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %s: the timeout did not apply", time.Since(start))
			}
		})
	}

	t.Run("timeout while reading the body", func(t *testing.T) {
		s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("\n"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		_, err := s.client(Options{Timeout: 50 * time.Millisecond}).Chat(context.Background(), testKey, ChatRequest{Model: "m"})
		e := mustAsError(t, err)
		if e.Kind != KindTransient || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v (%#v), want transient wrapping context.DeadlineExceeded", e, e.Unwrap())
		}
	})
}

func TestChatConnectionRefused(t *testing.T) {
	s := newStub(t, answer(http.StatusOK, okBody))
	url := s.srv.URL
	s.srv.Close()
	_, err := New(Options{BaseURL: url + "/api/v1"}).Chat(context.Background(), testKey, ChatRequest{Model: "m"})
	e := mustAsError(t, err)
	if e.Kind != KindTransient || e.Status != 0 || !strings.HasPrefix(e.Message, "request failed: ") {
		t.Errorf("got %v, want transient connection failure", e)
	}
}
