package openrouter

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func fp(f float64) *float64 { return &f }

func TestCheckKey(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		header     []string
		want       KeyInfo
		kind       Kind // "" for success
		retryAfter time.Duration
	}{
		{
			name: "limited key", status: 200,
			body: `{"data":{"label":"sk-or-v1-012...def","limit":25,"limit_reset":null,"limit_remaining":12.5,
				"include_byok_in_limit":false,"usage":12.5,"usage_daily":0.5,"usage_weekly":3,"usage_monthly":12.5,
				"is_free_tier":false,"is_provisioning_key":false,"rate_limit":{"requests":20,"interval":"10s"}}}`,
			want: KeyInfo{Label: "sk-or-v1-012...def", Limit: fp(25), LimitRemaining: fp(12.5), Usage: 12.5},
		},
		{
			name: "unlimited key", status: 200,
			body: `{"data":{"label":"my bot","limit":null,"limit_remaining":null,"usage":3.25,"is_free_tier":true}}`,
			want: KeyInfo{Label: "my bot", Usage: 3.25, IsFreeTier: true},
		},
		{
			name: "used up", status: 200,
			body: `{"data":{"label":"sk-or-v1-012...def","limit":10,"limit_remaining":0,"usage":10,"is_free_tier":false}}`,
			want: KeyInfo{Label: "sk-or-v1-012...def", Limit: fp(10), LimitRemaining: fp(0), Usage: 10},
			kind: KindNoCredits,
		},
		{
			name: "overdrawn", status: 200,
			body: `{"data":{"label":"x","limit":10,"limit_remaining":-0.02,"usage":10.02}}`,
			want: KeyInfo{Label: "x", Limit: fp(10), LimitRemaining: fp(-0.02), Usage: 10.02},
			kind: KindNoCredits,
		},
		{
			name: "invalid", status: 401,
			body: `{"error":{"code":401,"message":"User not found."}}`,
			kind: KindInvalidKey,
		},
		{
			name: "rate limited", status: 429,
			body:   `{"error":{"code":429,"message":"Rate limit exceeded: too many requests for this key."}}`,
			header: []string{"Retry-After", "7"},
			kind:   KindRateLimited, retryAfter: secs(7),
		},
		{
			name: "server error", status: 500,
			body: `{"error":{"code":500,"message":"Internal Server Error"}}`,
			kind: KindTransient,
		},
		{
			name: "no data", status: 200, body: `{}`,
			kind: KindTransient,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, answer(tc.status, tc.body, tc.header...))
			info, err := s.client(Options{}).CheckKey(context.Background(), testKey)
			if !reflect.DeepEqual(info, tc.want) {
				t.Errorf("info = %+v, want %+v", info, tc.want)
			}
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
			} else {
				e := mustAsError(t, err)
				if e.Kind != tc.kind || e.RetryAfter != tc.retryAfter {
					t.Errorf("got kind=%s retryAfter=%s, want %s %s", e.Kind, e.RetryAfter, tc.kind, tc.retryAfter)
				}
			}

			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("sent %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != "/api/v1/key" {
				t.Errorf("request = %s %s, want GET /api/v1/key (the model list is public and proves nothing)", r.Method, r.Path)
			}
			if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
				t.Errorf("Authorization = %q", got)
			}
			if got := r.Header.Get("X-Title"); got != "tzurot" {
				t.Errorf("X-Title = %q", got)
			}
		})
	}
}

func TestCheckKeyNoCreditsError(t *testing.T) {
	s := newStub(t, answer(200, `{"data":{"label":"x","limit":5,"limit_remaining":0,"usage":5}}`))
	_, err := s.client(Options{}).CheckKey(context.Background(), testKey)
	e := mustAsError(t, err)
	if e.Retryable() {
		t.Error("no credits must not be retryable")
	}
	if want := "openrouter: no_credits: the key has no credits left"; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestCheckKeyTrailingSlashAndEmptyKey(t *testing.T) {
	s := newStub(t, answer(200, `{"data":{"label":"x","usage":0}}`))
	c := New(Options{BaseURL: s.srv.URL + "/api/v1/"})
	if _, err := c.CheckKey(context.Background(), testKey); err != nil {
		t.Fatal(err)
	}
	if p := s.last().Path; p != "/api/v1/key" {
		t.Errorf("path = %q", p)
	}
	if _, err := c.CheckKey(context.Background(), ""); mustAsError(t, err).Kind != KindInvalidKey {
		t.Errorf("empty key: %v", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("an empty key reached the server (%d requests)", n)
	}
}

func TestCheckKeyTimeout(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { <-r.Context().Done() })
	_, err := s.client(Options{Timeout: 50 * time.Millisecond}).CheckKey(context.Background(), testKey)
	if e := mustAsError(t, err); e.Kind != KindTransient || e.Message != "request timed out" {
		t.Errorf("got %v, want a transient timeout", e)
	}
}
