package openrouter

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	fake "github.com/tzurot/tzurot/internal/fakes/openrouter"
)

// OpenRouter's own limiter names the limit in the message and sends
// X-RateLimit-* as headers and again in error.metadata.headers
// (https://openrouter.ai/docs/api/reference/limits); a reset hours away is
// reported uncapped in RetryAt, whichever of the two places carries it.
func TestChatRateLimitDetails(t *testing.T) {
	reset := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	ms := fmt.Sprint(reset.UnixMilli())
	body := `{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day",` +
		`"metadata":{"headers":{"X-RateLimit-Limit":"50","X-RateLimit-Remaining":"0","X-RateLimit-Reset":"` + ms + `"}}}}`
	bodyNoMeta := `{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-day-high-balance."}}`
	soon := time.Now().Add(90 * time.Second).UTC().Truncate(time.Second)
	tests := []struct {
		name      string
		body      string
		header    []string
		wantAt    time.Time
		wantLimit RateLimit
		daily     bool
	}{
		{"headers and metadata", body, []string{"X-RateLimit-Limit", "50", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", ms},
			reset, RateLimit{Name: "free-models-per-day", Limit: 50, Remaining: 0, Reset: reset}, true},
		{"metadata only", body, nil,
			reset, RateLimit{Name: "free-models-per-day", Limit: 50, Remaining: 0, Reset: reset}, true},
		{"headers only", bodyNoMeta, []string{"X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", ms},
			reset, RateLimit{Name: "free-models-per-day-high-balance", Limit: 1000, Remaining: 0, Reset: reset}, true},
		{"reset in epoch seconds", bodyNoMeta, []string{"X-RateLimit-Reset", fmt.Sprint(reset.Unix())},
			reset, RateLimit{Name: "free-models-per-day-high-balance", Remaining: -1, Reset: reset}, true},
		{"Retry-After as an HTTP date wins", bodyNoMeta, []string{"Retry-After", soon.Format(http.TimeFormat), "X-RateLimit-Reset", ms},
			soon, RateLimit{Name: "free-models-per-day-high-balance", Remaining: -1, Reset: reset}, true},
		{"per-minute limit", `{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-min."}}`, []string{"Retry-After", "20"},
			time.Time{}, RateLimit{Name: "free-models-per-min", Remaining: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, answer(http.StatusTooManyRequests, tc.body, tc.header...))
			_, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m:free", Messages: []Message{{Role: "user", Content: "hi"}}})
			e := mustAsError(t, err)
			if e.Kind != KindRateLimited || !e.Retryable() {
				t.Fatalf("kind %s, want rate_limited", e.Kind)
			}
			if r := e.RateLimit; r == nil || r.Name != tc.wantLimit.Name || r.Limit != tc.wantLimit.Limit ||
				r.Remaining != tc.wantLimit.Remaining || !r.Reset.Equal(tc.wantLimit.Reset) {
				t.Errorf("RateLimit = %+v, want %+v", e.RateLimit, tc.wantLimit)
			}
			if e.RateLimit.Daily() != tc.daily {
				t.Errorf("Daily() = %v", !tc.daily)
			}
			if !tc.wantAt.IsZero() {
				if !e.RetryAt.Equal(tc.wantAt) {
					t.Errorf("RetryAt = %s, want %s", e.RetryAt, tc.wantAt)
				}
				if want := min(time.Until(tc.wantAt), maxRetryAfter); e.RetryAfter < want-5*time.Second || e.RetryAfter > want+5*time.Second {
					t.Errorf("RetryAfter = %s, want about %s", e.RetryAfter, want)
				}
			} else if e.RetryAfter != secs(20) {
				t.Errorf("RetryAfter = %s, want 20s", e.RetryAfter)
			}
		})
	}
}

// A 429 that says nothing about its limit (an upstream provider's) has no
// RateLimit, and one that is not a 429 never reads X-RateLimit-Reset.
func TestChatRateLimitAbsent(t *testing.T) {
	s := newStub(t, answer(http.StatusTooManyRequests, `{"error":{"code":429,"message":"Provider returned error"}}`))
	_, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
	if e := mustAsError(t, err); e.RateLimit != nil || !e.RetryAt.IsZero() || e.RetryAfter != 0 {
		t.Errorf("got RateLimit %+v RetryAt %s RetryAfter %s, want none", e.RateLimit, e.RetryAt, e.RetryAfter)
	}
	s = newStub(t, answer(http.StatusServiceUnavailable, `{"error":{"code":503,"message":"busy"}}`, "X-RateLimit-Reset", "99999999999999"))
	_, err = s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
	if e := mustAsError(t, err); e.RateLimit != nil || !e.RetryAt.IsZero() {
		t.Errorf("503 got RateLimit %+v RetryAt %s", e.RateLimit, e.RetryAt)
	}
}

// Errors inside a 200 are read by their code: a 429 is a rate limit, the
// request's own faults are final, and the rest — the key's codes included,
// since the key was accepted before the 200 — are worth another attempt.
func TestChatErrorInOKBodyByCode(t *testing.T) {
	tests := []struct {
		code int
		kind Kind
	}{
		{429, KindRateLimited}, {400, KindBadRequest}, {413, KindBadRequest}, {422, KindBadRequest},
		{403, KindModeration}, {401, KindTransient}, {402, KindTransient}, {408, KindTransient},
		{500, KindTransient}, {502, KindTransient}, {503, KindTransient}, {0, KindTransient},
	}
	for _, tc := range tests {
		for _, shape := range []string{"body", "choice"} {
			t.Run(fmt.Sprint(tc.code, shape), func(t *testing.T) {
				obj := fmt.Sprintf(`{"code":%d,"message":"upstream said %d"}`, tc.code, tc.code)
				body := `{"error":` + obj + `}`
				if shape == "choice" {
					body = `{"id":"gen-1","model":"m","object":"chat.completion","choices":[{"index":0,"finish_reason":"error",` +
						`"native_finish_reason":"error","message":{"role":"assistant","content":""},"error":` + obj + `}]}`
				}
				s := newStub(t, answer(http.StatusOK, body))
				_, err := s.client(Options{}).Chat(context.Background(), testKey, ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
				if e := mustAsError(t, err); e.Kind != tc.kind {
					t.Errorf("kind %s, want %s", e.Kind, tc.kind)
				}
			})
		}
	}
}

// The stand-in's free-model daily cap reads, through the real client, as
// the limit it is, resetting at the next 00:00 UTC.
func TestFakeFreeModelsPerDay(t *testing.T) {
	for _, limit := range []int{50, 1000} {
		f, c := newFake(t, Options{})
		f.AddKey(testKey, fake.Key{})
		f.Script(testKey, fake.FreeModelsPerDay(limit))
		_, err := c.Chat(context.Background(), testKey, userSays("meta-llama/llama-3.3-70b-instruct:free", "hi"))
		e := mustAsError(t, err)
		want := fake.FreeDailyReset(time.Now())
		if e.Kind != KindRateLimited || e.RateLimit == nil || !e.RateLimit.Daily() || e.RateLimit.Limit != limit ||
			e.RateLimit.Remaining != 0 || !e.RetryAt.Equal(want) {
			t.Errorf("limit %d: got %v %+v at %s, want the daily cap resetting at %s", limit, e, e.RateLimit, e.RetryAt, want)
		}
	}
}

// The stand-in's complete-but-empty answers keep their finish reasons.
func TestFakeFinishReasons(t *testing.T) {
	f, c := newFake(t, Options{})
	f.AddKey(testKey, fake.Key{})
	for _, reason := range []string{"stop", "length", "content_filter", "tool_calls", "error"} {
		f.Script(testKey, fake.Finish(reason, "  "))
		resp, err := c.Chat(context.Background(), testKey, userSays("deepseek/deepseek-r1", "hi"))
		if err != nil || resp.FinishReason != reason || resp.NativeFinishReason != reason || resp.Content != "  " {
			t.Errorf("%s: got %+v, %v", reason, resp, err)
		}
	}
}
