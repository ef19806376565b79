package openrouter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/redact"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", secs(7), true},
		{" 120 ", secs(120), true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"Sun, 01 Jun 2025 12:00:30 GMT", secs(30), true},
		{"Sunday, 01-Jun-25 12:01:00 GMT", secs(60), true},
		{"Sun Jun  1 12:00:05 2025", secs(5), true},
		{"Sun, 01 Jun 2025 11:00:00 GMT", 0, true}, // in the past: now
		{"99999999", maxRetryAfter, true},
		{"", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
		{"NaN", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRetryAfterRateLimitReset(t *testing.T) {
	now := time.UnixMilli(1_750_000_000_000)
	h := http.Header{"X-Ratelimit-Reset": {"1750000004000"}}
	if got := retryAfter(h, KindRateLimited, now); got != secs(4) {
		t.Errorf("429 with X-RateLimit-Reset: got %s, want 4s", got)
	}
	if got := retryAfter(h, KindTransient, now); got != 0 {
		t.Errorf("X-RateLimit-Reset used for a non-429: %s", got)
	}
	h.Set("Retry-After", "2")
	if got := retryAfter(h, KindRateLimited, now); got != secs(2) {
		t.Errorf("Retry-After must win: got %s", got)
	}
}

// TestTransportErrorClassification covers the failures that are not an
// HTTP answer; answers are covered through Chat in TestChatStatusClassification.
func TestTransportErrorClassification(t *testing.T) {
	timeout := &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
	const u = "https://openrouter.ai/api/v1/chat/completions"
	tests := []struct {
		name    string
		err     error
		message string
	}{
		{name: "deadline", message: "request timed out", err: &url.Error{Op: "Post", URL: u, Err: context.DeadlineExceeded}},
		{name: "net timeout", message: "request timed out", err: &url.Error{Op: "Post", URL: u, Err: timeout}},
		{name: "cancelled", message: "request cancelled", err: &url.Error{Op: "Post", URL: u, Err: context.Canceled}},
		{name: "reset", message: `request failed: Post "` + u + `": unexpected EOF`, err: &url.Error{Op: "Post", URL: u, Err: io.ErrUnexpectedEOF}},
		{name: "too large", message: errResponseTooLarge.Error(), err: errResponseTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := transportError(tc.err)
			if e.Kind != KindTransient || e.Status != 0 || e.Message != tc.message {
				t.Errorf("got kind=%s status=%d message=%q, want transient 0 %q", e.Kind, e.Status, e.Message, tc.message)
			}
			if !errors.Is(e, tc.err) {
				t.Error("the classified error does not wrap its cause")
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestKindForStatus(t *testing.T) {
	want := map[int]Kind{
		400: KindBadRequest, 401: KindInvalidKey, 402: KindNoCredits, 403: KindModeration,
		404: KindUnknownModel, 405: KindBadRequest, 408: KindTransient, 413: KindBadRequest,
		422: KindBadRequest, 429: KindRateLimited, 500: KindTransient, 502: KindTransient,
		503: KindTransient, 504: KindTransient, 524: KindTransient, 529: KindTransient,
	}
	for status, kind := range want {
		if got := kindForStatus(status); got != kind {
			t.Errorf("kindForStatus(%d) = %s, want %s", status, got, kind)
		}
	}
}

// TestErrorsNeverContainKey has the provider echo the key back in every
// place it could, in the OpenRouter shape and in one redact does not know.
func TestErrorsNeverContainKey(t *testing.T) {
	keys := []string{testKey, "custom-gateway-token-7f3a9c1e"}
	for _, key := range keys {
		for _, status := range []int{200, 400, 401, 403, 502} {
			t.Run(fmt.Sprintf("%s/%d", key[:6], status), func(t *testing.T) {
				body := fmt.Sprintf(`{"error":{"code":%d,"message":"invalid key %s (Authorization: Bearer %s)",
					"metadata":{"raw":"upstream said %s","nested":[{"key":"%s"}]}}}`, status, key, key, key, key)
				s := newStub(t, answer(status, body))
				_, err := s.client(Options{}).Chat(context.Background(), key, ChatRequest{Model: "m"})
				e := mustAsError(t, err)
				text := fmt.Sprintf("%s %+v %v %#v", err.Error(), e.Metadata, e.Metadata, e.Message)
				if strings.Contains(text, key) {
					t.Errorf("the key leaked: %s", text)
				}
				if !strings.Contains(e.Message, redact.Mask) {
					t.Errorf("message %q lost the hint that something was removed", e.Message)
				}
			})
		}
	}

}

func TestErrorMessageIsOneBoundedLine(t *testing.T) {
	long := strings.Repeat("word ", 1000)
	s := newStub(t, answer(500, `{"error":{"code":500,"message":"first line\nsecond\tline `+long+`"}}`))
	_, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m"})
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\t") {
		t.Errorf("message spans lines: %q", msg[:80])
	}
	if !strings.HasPrefix(msg, "openrouter: 500 transient: first line second line word") {
		t.Errorf("message = %q", msg[:80])
	}
	if len([]rune(mustAsError(t, err).Message)) > maxMessage+1 {
		t.Errorf("message not truncated: %d runes", len([]rune(msg)))
	}
}

func TestAsErrorAndRetryable(t *testing.T) {
	if _, ok := AsError(errors.New("plain")); ok {
		t.Error("AsError matched a plain error")
	}
	if _, ok := AsError(nil); ok {
		t.Error("AsError matched nil")
	}
	wrapped := fmt.Errorf("activity: %w", &Error{Kind: KindRateLimited})
	if e, ok := AsError(wrapped); !ok || !e.Retryable() {
		t.Error("AsError did not find a wrapped, retryable *Error")
	}
	for kind, want := range map[Kind]bool{
		KindInvalidKey: false, KindNoCredits: false, KindModeration: false, KindUnknownModel: false,
		KindBadRequest: false, KindTransient: true, KindRateLimited: true,
	} {
		if got := (&Error{Kind: kind}).Retryable(); got != want {
			t.Errorf("%s.Retryable() = %v, want %v", kind, got, want)
		}
	}
}

// X-RateLimit-Reset in the three forms limiters send: OpenRouter's epoch
// milliseconds, epoch seconds, and seconds from now.
func TestParseResetForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration // from now
	}{
		{strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10), time.Hour},
		{strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10), time.Hour},
		{"60", time.Minute},
	} {
		got, ok := parseReset(tc.in)
		if d := time.Until(got); !ok || d < tc.want-2*time.Second || d > tc.want+time.Second {
			t.Errorf("parseReset(%q) = %s from now, want about %s", tc.in, d, tc.want)
		}
	}
}
