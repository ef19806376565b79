package elevenlabs

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// documented serves one canned answer and records the request.
func documented(t *testing.T, status int, header map[string]string, body string) (*Client, *http.Request, *[]byte) {
	t.Helper()
	var got http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = *r.Clone(context.Background())
		gotBody, _ = io.ReadAll(r.Body)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return New(srv.URL+"/", nil), &got, &gotBody
}

const key = "sk_0123456789abcdef0123456789abcdef0123456789abcdef"

func TestTextToSpeechSendsTheDocumentedRequest(t *testing.T) {
	c, req, body := documented(t, 200, map[string]string{"Content-Type": "audio/mpeg", "x-character-count": "11", "request-id": "r1"}, "ID3fake-mp3")
	sp, err := c.TextToSpeech(context.Background(), key, SpeechRequest{
		VoiceID: "21m00Tcm4TlvDq8ikWAM", ModelID: "eleven_flash_v2_5", Text: "hello there",
		Settings: VoiceSettings{Stability: 0.4, SimilarityBoost: 0.8, Style: 0.1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.Path != "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM" || req.URL.Query().Get("output_format") != OutputFormat {
		t.Errorf("request %s %s", req.Method, req.URL)
	}
	if req.Header.Get("xi-api-key") != key || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", req.Header)
	}
	var sent map[string]any
	if err := json.Unmarshal(*body, &sent); err != nil {
		t.Fatal(err)
	}
	vs, _ := sent["voice_settings"].(map[string]any)
	if sent["text"] != "hello there" || sent["model_id"] != "eleven_flash_v2_5" || vs["stability"] != 0.4 || vs["similarity_boost"] != 0.8 || vs["style"] != 0.1 {
		t.Errorf("body %s", *body)
	}
	if string(sp.Audio) != "ID3fake-mp3" || sp.Characters != 11 || sp.RequestID != "r1" || sp.ContentType != "audio/mpeg" {
		t.Errorf("speech %+v", sp)
	}
}

func TestCharactersFallBackToTheTextLength(t *testing.T) {
	c, _, _ := documented(t, 200, nil, "mp3")
	sp, err := c.TextToSpeech(context.Background(), key, SpeechRequest{VoiceID: "v", Text: "héllo"})
	if err != nil || sp.Characters != 5 {
		t.Fatalf("characters = %d, %v; want 5 (code points)", sp.Characters, err)
	}
}

func TestErrorsAreClassifiedFromTheDocumentedBodies(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header map[string]string
		body   string
		kind   Kind
		code   string
		retry  time.Duration
	}{
		{"invalid key", 401, nil, `{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}`, KindInvalidKey, "invalid_api_key", 0},
		{"quota as 401", 401, nil, `{"detail":{"status":"quota_exceeded","message":"This request exceeds your quota of 10000."}}`, KindQuotaExceeded, "quota_exceeded", 0},
		{"quota as 429", 429, nil, `{"detail":{"status":"quota_exceeded","message":"over"}}`, KindQuotaExceeded, "quota_exceeded", 0},
		{"missing permission", 401, nil, `{"detail":{"status":"missing_permissions","message":"The API key you used is missing the permission text_to_speech"}}`, KindMissingPermission, "missing_permissions", 0},
		{"concurrency", 429, map[string]string{"Retry-After": "3"}, `{"detail":{"status":"too_many_concurrent_requests","message":"Too many concurrent requests."}}`, KindRateLimited, "too_many_concurrent_requests", 3 * time.Second},
		{"402 in the newer shape", 402, nil, `{"detail":{"type":"payment_required","code":"insufficient_credits","message":"not enough credits"}}`, KindQuotaExceeded, "insufficient_credits", 0},
		{"system busy", 429, nil, `{"detail":{"status":"system_busy","message":"busy"}}`, KindRateLimited, "system_busy", 0},
		{"new shape without status", 400, nil, `{"detail":{"type":"validation_error","code":"invalid_parameters","message":"bad model","param":"model_id"}}`, KindBadRequest, "invalid_parameters", 0},
		{"live key error: code unauthorized, status tells", 401, nil, `{"detail":{"type":"authentication_error","code":"unauthorized","status":"quota_exceeded","message":"over","request_id":"x"}}`, KindQuotaExceeded, "quota_exceeded", 0},
		{"live permissions error", 401, nil, `{"detail":{"type":"authentication_error","code":"unauthorized","status":"missing_permissions","message":"needs user_read"}}`, KindMissingPermission, "missing_permissions", 0},
		{"docs' concurrency code", 429, nil, `{"detail":{"type":"rate_limit_error","code":"concurrent_limit_exceeded","status":"too_many_concurrent_requests","message":"busy"}}`, KindRateLimited, "too_many_concurrent_requests", 0},
		{"voice not found", 404, nil, `{"detail":{"status":"voice_not_found","message":"A voice with the voice_id x was not found."}}`, KindBadRequest, "voice_not_found", 0},
		{"FastAPI 422", 422, nil, `{"detail":[{"type":"missing","loc":["body","text"],"msg":"Field required"}]}`, KindBadRequest, "validation_error", 0},
		{"server error without JSON", 503, nil, `<html>bad gateway</html>`, KindTransient, "", 0},
		{"plain detail", 500, nil, `{"detail":"Internal Server Error"}`, KindTransient, "", 0},
		{"free tier suspended: a real key, a blocked account", 401, nil, `{"detail":{"status":"detected_unusual_activity","message":"Unusual activity detected. Free Tier usage disabled. \nPlease purchase any Paid Subscription to continue."}}`, KindAccountBlocked, "detected_unusual_activity", 0},
		{"library voice on the free plan", 402, nil, `{"detail":{"type":"payment_required","code":"paid_plan_required","message":"Free users cannot use library voices via the API.","status":"payment_required","request_id":"0a"}}`, KindPlanRestricted, "paid_plan_required", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, _, _ := documented(t, c.status, c.header, c.body)
			_, err := cl.TextToSpeech(context.Background(), key, SpeechRequest{VoiceID: "v", Text: "hi"})
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Kind != c.kind || e.Code != c.code || e.Status != c.status || e.RetryAfter != c.retry {
				t.Errorf("got %+v, want kind %s code %q", e, c.kind, c.code)
			}
			if strings.Contains(e.Error(), "\n") || e.Message == "" {
				t.Errorf("message %q must be one non-empty line", e.Message)
			}
			if e.Retryable() != (c.kind == KindTransient || c.kind == KindRateLimited) {
				t.Errorf("retryable = %v", e.Retryable())
			}
		})
	}
}

func TestTheKeyNeverAppearsInAnError(t *testing.T) {
	c, _, _ := documented(t, 401, nil, `{"detail":{"status":"invalid_api_key","message":"Invalid API key `+key+`"}}`)
	_, err := c.TextToSpeech(context.Background(), key, SpeechRequest{VoiceID: "v", Text: "hi"})
	if err == nil || strings.Contains(err.Error(), key) {
		t.Fatalf("error %v shows the key", err)
	}
}

func TestCheckKey(t *testing.T) {
	c, req, _ := documented(t, 200, nil, `{"subscription":{"tier":"creator","character_count":120,"character_limit":100000},"first_name":"A"}`)
	acc, err := c.CheckKey(context.Background(), key)
	if err != nil || acc.Tier != "creator" || acc.CharacterCount != 120 || acc.CharacterLimit != 100000 || acc.Restricted {
		t.Fatalf("account %+v, %v", acc, err)
	}
	if req.Method != http.MethodGet || req.URL.Path != "/v1/user" || req.Header.Get("xi-api-key") != key {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	c, _, _ = documented(t, 401, nil, `{"detail":{"status":"missing_permissions","message":"The API key you used is missing the permission user_read to execute this operation."}}`)
	if acc, err := c.CheckKey(context.Background(), key); err != nil || !acc.Restricted {
		t.Errorf("a scoped key without user_read: %+v, %v; want a restricted account", acc, err)
	}
	c, _, _ = documented(t, 401, nil, `{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}`)
	if _, err := c.CheckKey(context.Background(), key); err == nil {
		t.Error("an invalid key passed the check")
	}
}

func TestUnreachableIsTransient(t *testing.T) {
	c := New("http://127.0.0.1:1", &http.Client{Timeout: time.Second})
	_, err := c.TextToSpeech(context.Background(), key, SpeechRequest{VoiceID: "v", Text: "hi"})
	if e, ok := AsError(err); !ok || e.Kind != KindTransient {
		t.Fatalf("err = %v, want transient", err)
	}
}
