package openrouter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

// leakKeys are a key redact's shape rules know and one they do not, which
// only the literal removal at the client's edge can catch.
var leakKeys = []string{testKey, "custom-gateway-token-7f3a9c1e"}

// errorTexts is everything a caller could print of err: its message, and
// the %v, %+v and %#v of every error in its chain (a *url.Error's %#v shows
// its URL), plus an *Error's metadata and rate-limit name.
func errorTexts(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e.Error(), fmt.Sprintf("%v|%+v|%#v", e, e, e))
		if oe, ok := e.(*Error); ok {
			out = append(out, fmt.Sprintf("%#v", oe.Metadata))
			if oe.RateLimit != nil {
				out = append(out, fmt.Sprintf("%#v", *oe.RateLimit))
			}
		}
		switch x := e.(type) {
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		}
	}
	walk(err)
	return out
}

func assertNoKey(t *testing.T, err error, key string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	for _, s := range errorTexts(err) {
		if strings.Contains(s, key) {
			t.Errorf("the key leaked: %s", s)
		}
	}
}

// echo answers with status and body, every %[1]s in the body replaced by
// the key of the request, which the server reads from the Authorization
// header as a provider or proxy quoting it back would.
func echo(status int, body string, header ...string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, b []byte) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		answer(status, strings.ReplaceAll(body, "%[1]s", key), header...)(w, r, b)
	}
}

// TestNoErrorHoldsTheKey has every error path of Chat, ChatStream and
// CheckKey meet the key: HTTP status errors (error object, plain text, a 429
// naming it as the limit), error objects in a 200 (top level and on the
// choice) and in a stream's events, bodies and chunks that do not decode, a
// dropped stream, transport errors whose URL or message quote it, before
// the answer or while reading a stream, and a ChatStream callback's error.
func TestNoErrorHoldsTheKey(t *testing.T) {
	envelope := func(code int) string {
		return fmt.Sprintf(`{"error":{"code":%d,"message":"bad key %%[1]s (Authorization: Bearer %%[1]s)",`+
			`"metadata":{"raw":"upstream said %%[1]s","nested":[{"key":"%%[1]s"}],"headers":{"X-Key":"%%[1]s"}}}}`, code)
	}
	answers := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, []byte)
	}{
		{"400 error object", echo(400, envelope(400))},
		{"401 error object", echo(401, envelope(401))},
		{"402 error string", echo(402, `{"error":"no credits on %[1]s"}`)},
		{"429 names the key as the limit", echo(429, `{"error":{"code":429,"message":"Rate limit exceeded: %[1]s"}}`, "Retry-After", "3")},
		{"502 plain text", echo(502, "gateway refused %[1]s", "Content-Type", "text/plain")},
		{"200 error at the top", echo(200, "\n"+envelope(502))},
		{"200 error on the choice", echo(200, `{"id":"gen-1","model":"m","choices":[{"index":0,"finish_reason":"error",`+
			`"message":{"role":"assistant","content":""},"error":{"code":500,"message":"stream for %[1]s ended"}}],"data":null}`)},
		{"200 truncated", echo(200, `{"id":"%[1]s","data":{"label":"%[1]s`)},
		{"200 wrong types", echo(200, `{"id":"%[1]s","choices":[{"message":{"content":{"%[1]s":1}}}],"data":"%[1]s"}`)},
		{"200 without data or choices", echo(200, `{"id":"%[1]s"}`)},
		{"stream error event", echo(200, sseOf(chunkOf(`{"content":"a"}`, "null"),
			`{"id":"%[1]s","model":"m",`+strings.TrimPrefix(envelope(502), "{")), "Content-Type", "text/event-stream")},
		{"stream error on the choice", echo(200, sseOf(`{"id":"gen-1","model":"m","choices":[{"index":0,"finish_reason":"error",`+
			`"delta":{"content":""},"error":{"code":429,"message":"limit %[1]s","metadata":{"headers":{"X-Key":"%[1]s"}}}}]}`), "Content-Type", "text/event-stream")},
		{"stream chunk that does not decode", echo(200, sseOf(`{"id":"%[1]s","choices":[{"delta":{"content":{"%[1]s":1}}}]}`), "Content-Type", "text/event-stream")},
		{"stream dropped", echo(200, sseOf(`{"id":"%[1]s","choices":[{"delta":{"content":"%[1]s"}}]}`), "Content-Type", "text/event-stream")},
	}
	for _, key := range leakKeys {
		for _, tc := range answers {
			t.Run(key[:6]+"/"+tc.name, func(t *testing.T) {
				s := newStub(t, tc.handler)
				c := s.client(Options{})
				_, err := c.Chat(context.Background(), key, ChatRequest{Model: "m"})
				assertNoKey(t, err, key)
				_, err = c.CheckKey(context.Background(), key)
				assertNoKey(t, err, key)
				_, err = c.ChatStream(context.Background(), key, ChatRequest{Model: "m"}, func(Delta) error { return nil })
				assertNoKey(t, err, key)
			})
		}

		t.Run(key[:6]+"/base URL holding the key", func(t *testing.T) {
			s := newStub(t, answer(200, okBody))
			base := s.srv.URL + "/" + key + "/api/v1"
			s.srv.Close()
			c := New(Options{BaseURL: base})
			_, err := c.Chat(context.Background(), key, ChatRequest{Model: "m"})
			assertNoKey(t, err, key)
			if e := mustAsError(t, err); !strings.HasPrefix(e.Message, "request failed: ") {
				t.Errorf("message = %q, want the connection failure", e.Message)
			}
			_, err = c.CheckKey(context.Background(), key)
			assertNoKey(t, err, key)
			_, err = c.ChatStream(context.Background(), key, ChatRequest{Model: "m"}, func(Delta) error { return nil })
			assertNoKey(t, err, key)
		})

		t.Run(key[:6]+"/transport quoting the request", func(t *testing.T) {
			proxy := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				var body []byte
				if r.Body != nil {
					body, _ = io.ReadAll(r.Body)
				}
				return nil, &quotingError{msg: fmt.Sprintf("proxy refused %s %s with %s: %s",
					r.Method, r.URL, r.Header.Get("Authorization"), body), cause: io.ErrUnexpectedEOF}
			})
			c := New(Options{BaseURL: "https://openrouter.invalid/api/v1", Transport: proxy})
			_, err := c.Chat(context.Background(), key, ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
			assertNoKey(t, err, key)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Error("scrubbing lost the cause that held no key")
			}
			_, err = c.CheckKey(context.Background(), key)
			assertNoKey(t, err, key)
			_, err = c.ChatStream(context.Background(), key, ChatRequest{Model: "m"}, func(Delta) error { return nil })
			assertNoKey(t, err, key)
		})

		t.Run(key[:6]+"/stream failing mid-read, quoting the key", func(t *testing.T) {
			proxy := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				body := io.MultiReader(strings.NewReader(sseOf(chunkOf(`{"content":"a"}`, "null"))),
					iotest.ErrReader(&quotingError{msg: "proxy reset " + r.Header.Get("Authorization"), cause: io.ErrUnexpectedEOF}))
				return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
					Body: io.NopCloser(body), Request: r}, nil
			})
			c := New(Options{BaseURL: "https://openrouter.invalid/api/v1", Transport: proxy})
			_, err := c.ChatStream(context.Background(), key, ChatRequest{Model: "m"}, func(Delta) error { return nil })
			assertNoKey(t, err, key)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Error("scrubbing lost the cause that held no key")
			}
		})

		t.Run(key[:6]+"/callback error quoting the key", func(t *testing.T) {
			c := newStub(t, streamed(okStream)).client(Options{})
			_, err := c.ChatStream(context.Background(), key, ChatRequest{Model: "m"}, func(Delta) error {
				return fmt.Errorf("delivery with %s failed", key)
			})
			assertNoKey(t, err, key)
		})
	}
}

// quoting is a transport's error that repeats what it was sent.
type quotingError struct {
	msg   string
	cause error
}

func (e *quotingError) Error() string { return e.msg }
func (e *quotingError) Unwrap() error { return e.cause }
