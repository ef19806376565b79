package elevenlabs_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
	"github.com/tzurot/tzurot/internal/testwait"
)

const (
	key    = "sk_0123456789abcdef0123456789abcdef0123456789abcdef"
	other  = "sk_fedcba9876543210fedcba9876543210fedcba9876543210"
	rachel = "21m00Tcm4TlvDq8ikWAM"
	george = "JBFqnCBsd6RMkjVDRZzb"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func setup(t *testing.T, opts elevenlabs.Options) (*elevenlabs.Server, *httptest.Server) {
	t.Helper()
	fake := elevenlabs.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

// do sends a request; body is sent as is when it is a string, marshalled
// otherwise.
func do(t *testing.T, method, url, apiKey string, body any) (*http.Response, []byte) {
	t.Helper()
	h := http.Header{}
	if apiKey != "" {
		h.Set("xi-api-key", apiKey)
	}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	resp, b, err := fakehttp.Request(method, url, h, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func tts(t *testing.T, srv *httptest.Server, apiKey, voice string, body any) (*http.Response, []byte) {
	t.Helper()
	return do(t, http.MethodPost, srv.URL+"/v1/text-to-speech/"+voice, apiKey, body)
}

func say(text string) map[string]any { return map[string]any{"text": text} }

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, b)
	}
	return out
}

// detail returns the object-shaped error detail and checks the parts every
// such error has: a request_id echoed in x-trace-id.
func detail(t *testing.T, resp *http.Response, b []byte) map[string]any {
	t.Helper()
	d, ok := decode(t, b)["detail"].(map[string]any)
	if !ok {
		t.Fatalf("detail is not an object: %s", b)
	}
	id, _ := d["request_id"].(string)
	legacy := len(d) == 2 && d["status"] != nil && d["message"] != nil
	switch {
	case legacy && !hex32.MatchString(resp.Header.Get("x-trace-id")):
		// The older shape has no request_id; the header is still sent.
		t.Errorf("x-trace-id %q", resp.Header.Get("x-trace-id"))
	case !legacy && (!hex32.MatchString(id) || resp.Header.Get("x-trace-id") != id):
		t.Errorf("request_id %q, x-trace-id %q", id, resp.Header.Get("x-trace-id"))
	}
	if resp.Header.Get("request-id") != "" {
		t.Errorf("error carries request-id header %q", resp.Header.Get("request-id"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return d
}

// wantDetail checks an object-shaped error exactly, except request_id.
func wantDetail(t *testing.T, resp *http.Response, b []byte, status int, want map[string]any) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d: %s", resp.StatusCode, status, b)
	}
	d := detail(t, resp, b)
	delete(d, "request_id")
	if !reflect.DeepEqual(d, want) {
		t.Errorf("detail = %v\nwant     %v", d, want)
	}
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %q", got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %q", want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
}

func TestTextToSpeechSuccess(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	text := "Héllo wörld ✓ — שלום"
	body := map[string]any{
		"text":     text,
		"model_id": "eleven_flash_v2_5",
		"voice_settings": map[string]any{
			"stability": 0.4, "similarity_boost": 0.8, "style": 0.1, "use_speaker_boost": true, "speed": 1.1,
		},
	}
	resp, audio := do(t, http.MethodPost, srv.URL+"/v1/text-to-speech/"+rachel+"?output_format=mp3_44100_128", key, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, audio)
	}
	if !bytes.Equal(audio, elevenlabs.MP3(text)) {
		t.Errorf("audio is not MP3(text): %d bytes", len(audio))
	}
	chars := len([]rune(text))
	h := resp.Header
	for name, want := range map[string]string{
		"Content-Type":                "audio/mpeg",
		"Content-Length":              strconv.Itoa(len(audio)),
		"x-character-count":           strconv.Itoa(chars),
		"character-cost":              strconv.Itoa(chars),
		"current-concurrent-requests": "1",
		// Unlimited keys are on the creator plan: 5, doubled for Flash.
		"maximum-concurrent-requests": "10",
		"Access-Control-Allow-Origin": "*",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !hex32.MatchString(h.Get("request-id")) || len(h.Get("history-item-id")) != 20 {
		t.Errorf("ids: request-id %q history-item-id %q", h.Get("request-id"), h.Get("history-item-id"))
	}
	if got := fake.CharactersUsed(key); got != chars {
		t.Errorf("characters used = %d, want %d", got, chars)
	}

	calls := fake.TTSCalls()
	if len(calls) != 1 {
		t.Fatalf("tts calls = %d", len(calls))
	}
	c := calls[0]
	if c.Method != http.MethodPost || c.Path != "/v1/text-to-speech/"+rachel || c.Key != key || c.VoiceID != rachel ||
		c.Text != text || c.ModelID != "eleven_flash_v2_5" || c.OutputFormat != "mp3_44100_128" || c.Status != http.StatusOK {
		t.Errorf("call = %+v", c)
	}
	vs := c.VoiceSettings
	if vs == nil || *vs.Stability != 0.4 || *vs.SimilarityBoost != 0.8 || *vs.Style != 0.1 || !*vs.UseSpeakerBoost || *vs.Speed != 1.1 {
		t.Errorf("voice settings = %+v", vs)
	}
	if !bytes.Contains(c.Body, []byte("eleven_flash_v2_5")) || c.Headers.Get("xi-api-key") != key || c.Time.IsZero() {
		t.Errorf("body/headers/time not recorded: %s", c.Body)
	}
}

func TestDefaultsAndAbsentFields(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	resp, audio := tts(t, srv, key, george, say("hi"))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(audio, elevenlabs.MP3("hi")) {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// eleven_multilingual_v2 is the default: 5 concurrent on creator.
	if got := resp.Header.Get("maximum-concurrent-requests"); got != "5" {
		t.Errorf("maximum-concurrent-requests = %q", got)
	}
	c := fake.TTSCalls()[0]
	if c.ModelID != "" || c.VoiceSettings != nil || c.OutputFormat != "" {
		t.Errorf("absent fields recorded as %q %+v %q", c.ModelID, c.VoiceSettings, c.OutputFormat)
	}

	// A partial or null settings object keeps the absent fields nil.
	tts(t, srv, key, george, map[string]any{"text": "hi", "voice_settings": map[string]any{"stability": 0.3, "speed": nil}})
	vs := fake.TTSCalls()[1].VoiceSettings
	if vs == nil || *vs.Stability != 0.3 || vs.SimilarityBoost != nil || vs.Style != nil || vs.UseSpeakerBoost != nil || vs.Speed != nil {
		t.Errorf("partial settings = %+v", vs)
	}
	tts(t, srv, key, george, map[string]any{"text": "hi", "voice_settings": nil})
	if vs := fake.TTSCalls()[2].VoiceSettings; vs != nil {
		t.Errorf("null settings = %+v", vs)
	}
}

func TestStreamRoute(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	text := strings.Repeat("a longer sentence to stream. ", 10)
	resp, audio := do(t, http.MethodPost, srv.URL+"/v1/text-to-speech/"+rachel+"/stream", key, say(text))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("status %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(audio, elevenlabs.MP3(text)) {
		t.Errorf("streamed %d bytes, want MP3(text)", len(audio))
	}
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("not chunked: length %d, encoding %v", resp.ContentLength, resp.TransferEncoding)
	}
	if resp.Header.Get("x-character-count") != strconv.Itoa(len(text)) {
		t.Errorf("x-character-count = %q", resp.Header.Get("x-character-count"))
	}
	calls := fake.TTSCalls()
	if len(calls) != 1 || calls[0].VoiceID != rachel || calls[0].Path != "/v1/text-to-speech/"+rachel+"/stream" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestValidationErrors(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	cases := []struct {
		name, body, want string
	}{
		{"missing text", `{"model_id":"eleven_v3"}`,
			`[{"type":"missing","loc":["body","text"],"msg":"Field required","input":null}]`},
		{"text not a string", `{"text":42}`,
			`[{"type":"string_type","loc":["body","text"],"msg":"Input should be a valid string","input":42}]`},
		{"text null", `{"text":null}`,
			`[{"type":"string_type","loc":["body","text"],"msg":"Input should be a valid string","input":null}]`},
		{"model_id not a string", `{"text":"hi","model_id":7}`,
			`[{"type":"string_type","loc":["body","model_id"],"msg":"Input should be a valid string","input":7}]`},
		{"stability above 1", `{"text":"hi","voice_settings":{"stability":2}}`,
			`[{"type":"less_than_equal","loc":["body","voice_settings","stability"],"msg":"Input should be less than or equal to 1","input":2,"ctx":{"le":1.0}}]`},
		{"similarity below 0", `{"text":"hi","voice_settings":{"similarity_boost":-0.5}}`,
			`[{"type":"greater_than_equal","loc":["body","voice_settings","similarity_boost"],"msg":"Input should be greater than or equal to 0","input":-0.5,"ctx":{"ge":0.0}}]`},
		{"stability not a number", `{"text":"hi","voice_settings":{"stability":"high"}}`,
			`[{"type":"float_parsing","loc":["body","voice_settings","stability"],"msg":"Input should be a valid number, unable to parse string as a number","input":"high"}]`},
		{"similarity an object", `{"text":"hi","voice_settings":{"similarity_boost":{}}}`,
			`[{"type":"float_type","loc":["body","voice_settings","similarity_boost"],"msg":"Input should be a valid number","input":{}}]`},
		{"speaker boost not a boolean", `{"text":"hi","voice_settings":{"use_speaker_boost":"maybe"}}`,
			`[{"type":"bool_parsing","loc":["body","voice_settings","use_speaker_boost"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]`},
		{"voice_settings not an object", `{"text":"hi","voice_settings":[1]}`,
			`[{"type":"model_attributes_type","loc":["body","voice_settings"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1]}]`},
		{"seed with a fraction", `{"text":"hi","seed":1.5}`,
			`[{"type":"int_from_float","loc":["body","seed"],"msg":"Input should be a valid integer, got a number with a fractional part","input":1.5}]`},
		{"bad normalization", `{"text":"hi","apply_text_normalization":"always"}`,
			`[{"type":"enum","loc":["body","apply_text_normalization"],"msg":"Input should be 'auto', 'on' or 'off'","input":"always","ctx":{"expected":"'auto', 'on' or 'off'"}}]`},
		{"one entry per problem, in schema order", `{"voice_settings":{"similarity_boost":3,"stability":-1},"model_id":false}`,
			`[{"type":"missing","loc":["body","text"],"msg":"Field required","input":null},
			  {"type":"string_type","loc":["body","model_id"],"msg":"Input should be a valid string","input":false},
			  {"type":"greater_than_equal","loc":["body","voice_settings","stability"],"msg":"Input should be greater than or equal to 0","input":-1,"ctx":{"ge":0.0}},
			  {"type":"less_than_equal","loc":["body","voice_settings","similarity_boost"],"msg":"Input should be less than or equal to 1","input":3,"ctx":{"le":1.0}}]`},
		{"malformed JSON", `{"text": "hi",}`,
			`[{"type":"json_invalid","loc":["body",14],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]`},
		{"not JSON at all", `hello`,
			`[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]`},
		{"body is an array", `["hi"]`,
			`[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":["hi"]}]`},
		{"empty body", ``,
			`[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]`},
		{"null body", `null`,
			`[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The schema check comes before the key check: no key needed.
			for _, k := range []string{key, ""} {
				resp, b := tts(t, srv, k, rachel, tc.body)
				if resp.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("key %q: status %d: %s", k, resp.StatusCode, b)
				}
				var got struct{ Detail json.RawMessage }
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				jsonEqual(t, got.Detail, tc.want)
			}
		})
	}
	if fake.CharactersUsed(key) != 0 {
		t.Error("failed validation charged characters")
	}
	calls := fake.TTSCalls()
	if len(calls) != 2*len(cases) || calls[0].Status != http.StatusUnprocessableEntity {
		t.Errorf("validation failures not recorded: %d calls", len(calls))
	}

	// A non-JSON content type leaves the raw text to fail validation.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/text-to-speech/"+rachel, strings.NewReader(`{"text":"hi"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("xi-api-key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("text/plain: %d %s", resp.StatusCode, b)
	}
	jsonEqual(t, b, `{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"{\"text\":\"hi\"}"}]}`)

	// enable_logging is a query boolean, checked before the body.
	resp, b = do(t, http.MethodPost, srv.URL+"/v1/text-to-speech/"+rachel+"?enable_logging=perhaps", key, `{}`)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("enable_logging: %d", resp.StatusCode)
	}
	jsonEqual(t, b, `{"detail":[
		{"type":"bool_parsing","loc":["query","enable_logging"],"msg":"Input should be a valid boolean, unable to interpret input","input":"perhaps"},
		{"type":"missing","loc":["body","text"],"msg":"Field required","input":null}]}`)
}

func TestLaxValuesAndUnboundedSettingsAreAccepted(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	// Pydantic's lax mode coerces these, and the live API does not bound
	// style or speed.
	resp, b := do(t, http.MethodPost, srv.URL+"/v1/text-to-speech/"+rachel+"?enable_logging=false", key, map[string]any{
		"text":                     "hi",
		"seed":                     "12",
		"language_code":            nil,
		"apply_text_normalization": "off",
		"unknown_field":            true,
		"voice_settings": map[string]any{
			"stability": "0.5", "similarity_boost": 1, "style": 1.5, "speed": 3, "use_speaker_boost": "yes",
		},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	vs := fake.TTSCalls()[0].VoiceSettings
	if *vs.Stability != 0.5 || *vs.SimilarityBoost != 1 || *vs.Style != 1.5 || *vs.Speed != 3 || !*vs.UseSpeakerBoost {
		t.Errorf("coerced settings = %+v", vs)
	}
}

func TestKeyErrors(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	fake.AddKey(other, elevenlabs.Key{})
	fake.RevokeKey(other)

	needsAuth := map[string]any{
		"type": "authentication_error", "code": "unauthorized", "status": "needs_authorization",
		"message": "Neither authorization header nor xi-api-key received, please provide one.",
	}
	invalid := map[string]any{
		"type": "authentication_error", "code": "unauthorized", "status": "invalid_api_key", "message": "Invalid API key",
	}
	routes := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/v1/text-to-speech/" + rachel, say("hi")},
		{http.MethodPost, "/v1/text-to-speech/" + rachel + "/stream", say("hi")},
		{http.MethodGet, "/v1/user", nil},
		{http.MethodGet, "/v1/user/subscription", nil},
		{http.MethodGet, "/v1/voices", nil},
		{http.MethodGet, "/v1/voices/" + rachel, nil},
	}
	for _, rt := range routes {
		resp, b := do(t, rt.method, srv.URL+rt.path, "", rt.body)
		wantDetail(t, resp, b, http.StatusUnauthorized, needsAuth)
		for _, k := range []string{"sk_not_registered", other} {
			resp, b := do(t, rt.method, srv.URL+rt.path, k, rt.body)
			wantDetail(t, resp, b, http.StatusUnauthorized, invalid)
		}
	}

	// Only xi-api-key authenticates; a bearer token is refused as such.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/user", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantDetail(t, resp, b, http.StatusUnauthorized, map[string]any{
		"type": "authentication_error", "code": "unauthorized", "status": "invalid_authorization_header",
		"message": "Provided authorization header was invalid.",
	})

	// /v1/models without credentials looks for an anonymous workspace.
	resp, b = do(t, http.MethodGet, srv.URL+"/v1/models", "", nil)
	wantDetail(t, resp, b, http.StatusNotFound, map[string]any{
		"type": "not_found", "code": "workspace_not_found", "status": "workspace_not_found",
		"message": "Workspace 1anonymous1 not found.",
	})

	// Revoking a key that worked.
	if resp, _ := tts(t, srv, key, rachel, say("hi")); resp.StatusCode != http.StatusOK {
		t.Fatalf("before revoke: %d", resp.StatusCode)
	}
	fake.RevokeKey(key)
	resp, b = tts(t, srv, key, rachel, say("hi"))
	wantDetail(t, resp, b, http.StatusUnauthorized, invalid)
}

func TestPermissions(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{Permissions: []string{"text_to_speech"}})
	fake.AddKey(other, elevenlabs.Key{Permissions: []string{"user_read", "voices_read", "models_read"}})
	missing := func(perm string) map[string]any {
		return map[string]any{
			"type": "authentication_error", "code": "unauthorized", "status": "missing_permissions",
			"message": "The API key you used is missing the permission " + perm + " to execute this operation.",
		}
	}

	if resp, b := tts(t, srv, key, rachel, say("hi")); resp.StatusCode != http.StatusOK {
		t.Errorf("tts with text_to_speech: %d %s", resp.StatusCode, b)
	}
	for path, perm := range map[string]string{
		"/v1/user": "user_read", "/v1/user/subscription": "user_read",
		"/v1/voices": "voices_read", "/v1/voices/" + rachel: "voices_read", "/v1/models": "models_read",
	} {
		resp, b := do(t, http.MethodGet, srv.URL+path, key, nil)
		wantDetail(t, resp, b, http.StatusUnauthorized, missing(perm))
		if resp, b := do(t, http.MethodGet, srv.URL+path, other, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with %s: %d %s", path, perm, resp.StatusCode, b)
		}
	}
	resp, b := tts(t, srv, other, rachel, say("hi"))
	wantDetail(t, resp, b, http.StatusUnauthorized, missing("text_to_speech"))

	// The slice is copied: changing it afterwards does not widen the key.
	perms := []string{"user_read"}
	fake.AddKey("sk_scoped_key", elevenlabs.Key{Permissions: perms})
	perms[0] = "text_to_speech"
	if resp, _ := tts(t, srv, "sk_scoped_key", rachel, say("hi")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("permissions aliased: %d", resp.StatusCode)
	}
}

func TestQuota(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{CharacterLimit: 20})

	if resp, _ := tts(t, srv, key, rachel, say("twelve chars")); resp.StatusCode != http.StatusOK {
		t.Fatalf("first call: %d", resp.StatusCode)
	}
	resp, b := tts(t, srv, key, rachel, say("twelve again"))
	wantDetail(t, resp, b, http.StatusUnauthorized, map[string]any{
		"type": "authentication_error", "code": "quota_exceeded", "status": "quota_exceeded",
		"message": "This request exceeds your quota of 20. You have 8 credits remaining, while 12 credits are required for this request.",
	})
	if got := fake.CharactersUsed(key); got != 12 {
		t.Errorf("refused call was charged: used %d", got)
	}
	// Exactly the rest still fits.
	if resp, _ := tts(t, srv, key, rachel, say("ééééééé✓")); resp.StatusCode != http.StatusOK {
		t.Fatalf("exact fit: %d", resp.StatusCode)
	}
	if got := fake.CharactersUsed(key); got != 20 {
		t.Errorf("used %d, want 20", got)
	}
	resp, b = tts(t, srv, key, rachel, say("x"))
	if d := detail(t, resp, b); resp.StatusCode != http.StatusUnauthorized ||
		d["message"] != "This request exceeds your quota of 20. You have 0 credits remaining, while 1 credits are required for this request." {
		t.Errorf("exhausted: %d %v", resp.StatusCode, d)
	}

	_, b = do(t, http.MethodGet, srv.URL+"/v1/user/subscription", key, nil)
	sub := decode(t, b)
	if sub["tier"] != "free" || sub["character_count"] != 20.0 || sub["character_limit"] != 20.0 || sub["status"] != "active" {
		t.Errorf("subscription = %v", sub)
	}
	// The free tier allows 2 concurrent requests (4 on Flash).
	fake.AddKey(other, elevenlabs.Key{CharacterLimit: 100})
	resp, _ = tts(t, srv, other, rachel, map[string]any{"text": "hi", "model_id": "eleven_turbo_v2"})
	if resp.Header.Get("maximum-concurrent-requests") != "4" {
		t.Errorf("free flash concurrency = %q", resp.Header.Get("maximum-concurrent-requests"))
	}
}

func TestRequestErrors(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	post := func(path string, body any) (*http.Response, []byte) {
		return do(t, http.MethodPost, srv.URL+path, key, body)
	}

	resp, b := post("/v1/text-to-speech/NoSuchVoice123", say("hi"))
	wantDetail(t, resp, b, http.StatusNotFound, map[string]any{
		"type": "not_found", "code": "voice_not_found", "status": "voice_not_found",
		"message": "A voice with voice_id 'NoSuchVoice123' was not found.",
	})

	resp, b = post("/v1/text-to-speech/"+rachel, map[string]any{"text": "hi", "model_id": "eleven_v9"})
	wantDetail(t, resp, b, http.StatusBadRequest, map[string]any{
		"type": "invalid_request", "code": "model_not_found", "status": "model_not_found",
		"message": "A model with model ID eleven_v9 does not exist.",
	})

	resp, b = post("/v1/text-to-speech/"+rachel+"?output_format=mp3_99", say("hi"))
	wantDetail(t, resp, b, http.StatusBadRequest, map[string]any{
		"type": "validation_error", "code": "invalid_output_format", "status": "invalid_output_format",
		"message": "Invalid output format mp3_99.", "param": "output_format",
	})

	resp, b = post("/v1/text-to-speech/"+rachel, say("  \n"))
	wantDetail(t, resp, b, http.StatusBadRequest, map[string]any{
		"type": "validation_error", "code": "empty_text", "status": "empty_text",
		"message": "The text must not be empty.", "param": "text",
	})

	limits := map[string]int{
		"eleven_multilingual_v2": 10_000, "eleven_multilingual_v1": 10_000, "eleven_monolingual_v1": 10_000,
		"eleven_flash_v2_5": 40_000, "eleven_turbo_v2_5": 40_000,
		"eleven_flash_v2": 30_000, "eleven_turbo_v2": 30_000,
		"eleven_v3": 5_000,
	}
	for model, limit := range limits {
		resp, b := post("/v1/text-to-speech/"+rachel, map[string]any{"text": strings.Repeat("é", limit), "model_id": model})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s at its limit: %d %.200s", model, resp.StatusCode, b)
		}
		resp, b = post("/v1/text-to-speech/"+rachel, map[string]any{"text": strings.Repeat("é", limit+1), "model_id": model})
		wantDetail(t, resp, b, http.StatusBadRequest, map[string]any{
			"type": "validation_error", "code": "text_too_long", "status": "max_character_limit_exceeded", "param": "text",
			"message": fmt.Sprintf("This request's text has %d characters and exceeds the character limit of %d characters.", limit+1, limit),
		})
	}
	if fake.CharactersUsed(key) == 0 {
		t.Error("successful calls at the limit were not charged")
	}

	// Nothing that failed was charged.
	fake.AddKey(other, elevenlabs.Key{})
	for _, path := range []string{"/v1/text-to-speech/NoSuchVoice123", "/v1/text-to-speech/" + rachel + "?output_format=bogus"} {
		do(t, http.MethodPost, srv.URL+path, other, say("hello"))
	}
	if got := fake.CharactersUsed(other); got != 0 {
		t.Errorf("failed calls charged %d characters", got)
	}
}

func TestOutputFormats(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	text := "twenty characters!!!" // 11 frames = 12672 samples at 44.1 kHz
	get := func(format string) (*http.Response, []byte) {
		return do(t, http.MethodPost, srv.URL+"/v1/text-to-speech/"+rachel+"?output_format="+format, key, say(text))
	}
	for _, f := range []string{"mp3_22050_32", "mp3_44100_192"} {
		resp, b := get(f)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/mpeg" || !bytes.Equal(b, elevenlabs.MP3(text)) {
			t.Errorf("%s: %d %q", f, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	resp, b := get("pcm_16000")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/pcm" || len(b) != 2*(11*1152*16000/44100) || bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) {
		t.Errorf("pcm_16000: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	resp, b = get("wav_24000")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" || string(b[:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " ||
		binary.LittleEndian.Uint32(b[24:]) != 24000 || int(binary.LittleEndian.Uint32(b[40:])) != len(b)-44 {
		t.Errorf("wav_24000: %d %q % x", resp.StatusCode, resp.Header.Get("Content-Type"), b[:min(len(b), 44)])
	}
	resp, b = get("ulaw_8000")
	if resp.StatusCode != http.StatusOK || len(b) != 11*1152*8000/44100 || b[0] != 0xFF {
		t.Errorf("ulaw_8000: %d %d bytes", resp.StatusCode, len(b))
	}
	resp, b = get("opus_48000_64")
	if d := detail(t, resp, b); resp.StatusCode != http.StatusBadRequest || d["status"] != "invalid_output_format" ||
		!strings.Contains(d["message"].(string), "does not generate") {
		t.Errorf("opus: %d %v", resp.StatusCode, d)
	}
}

func TestScriptsConsumedInOrder(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	fake.AddKey(other, elevenlabs.Key{})
	fake.Script(key,
		elevenlabs.Fail(429, "too_many_concurrent_requests"),
		elevenlabs.FailWithRetryAfter(429, "system_busy", 7),
		elevenlabs.Fail(503, ""),
		elevenlabs.OK(),
		elevenlabs.Fail(401, ""),
	)
	// Routes other than TTS and calls that fail validation do not consume
	// steps, and neither do other keys.
	do(t, http.MethodGet, srv.URL+"/v1/user", key, nil)
	tts(t, srv, key, rachel, `{}`)
	if resp, _ := tts(t, srv, other, rachel, say("hi")); resp.StatusCode != http.StatusOK {
		t.Fatalf("other key: %d", resp.StatusCode)
	}

	want := []struct {
		status              int
		typ, code, legacy   string
		message, retryAfter string
	}{
		{429, "rate_limit_error", "concurrent_limit_exceeded", "too_many_concurrent_requests",
			"Too many concurrent requests. Your current subscription is associated with a maximum of 5 concurrent requests (running in parallel), please upgrade your subscription or contact sales if you want to increase this limit.", ""},
		{429, "rate_limit_error", "system_busy", "system_busy",
			"Our services are experiencing high levels of traffic and your request could not be processed at this time, please try again later.", "7"},
		{503, "service_unavailable", "service_unavailable", "internal_server_error",
			"An internal server error occurred, please try again later.", ""},
		{200, "", "", "", "", ""},
		{401, "authentication_error", "unauthorized", "invalid_api_key", "Invalid API key", ""},
		{200, "", "", "", "", ""},
	}
	for i, w := range want {
		resp, b := tts(t, srv, key, rachel, say("hello"))
		if w.status == http.StatusOK {
			if resp.StatusCode != http.StatusOK || !bytes.Equal(b, elevenlabs.MP3("hello")) {
				t.Errorf("step %d: %d %s", i, resp.StatusCode, b)
			}
			continue
		}
		wantDetail(t, resp, b, w.status, map[string]any{"type": w.typ, "code": w.code, "status": w.legacy, "message": w.message})
		if got := resp.Header.Get("Retry-After"); got != w.retryAfter {
			t.Errorf("step %d: Retry-After = %q, want %q", i, got, w.retryAfter)
		}
	}
	// Only the two OK steps were charged.
	if got := fake.CharactersUsed(key); got != 10 {
		t.Errorf("characters used = %d, want 10", got)
	}
}

func TestFailBodies(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{CharacterLimit: 10_000})
	cases := []struct {
		step   elevenlabs.Step
		status int
		want   map[string]any
	}{
		{elevenlabs.Fail(401, "quota_exceeded"), 401, map[string]any{
			"type": "authentication_error", "code": "quota_exceeded", "status": "quota_exceeded",
			"message": "This request exceeds your quota of 10000. You have 4 credits remaining, while 5 credits are required for this request.",
		}},
		{elevenlabs.Fail(401, "needs_authorization"), 401, map[string]any{
			"type": "authentication_error", "code": "unauthorized", "status": "needs_authorization",
			"message": "Neither authorization header nor xi-api-key received, please provide one.",
		}},
		{elevenlabs.Fail(429, ""), 429, map[string]any{
			"type": "rate_limit_error", "code": "concurrent_limit_exceeded", "status": "too_many_concurrent_requests",
			// A free-tier key on the default model: 2 concurrent requests.
			"message": "Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests (running in parallel), please upgrade your subscription or contact sales if you want to increase this limit.",
		}},
		{elevenlabs.Fail(429, "concurrent_limit_exceeded"), 429, map[string]any{
			"type": "rate_limit_error", "code": "concurrent_limit_exceeded", "status": "too_many_concurrent_requests",
			"message": "Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests (running in parallel), please upgrade your subscription or contact sales if you want to increase this limit.",
		}},
		{elevenlabs.Fail(404, ""), 404, map[string]any{
			"type": "not_found", "code": "voice_not_found", "status": "voice_not_found",
			"message": "A voice with voice_id '" + rachel + "' was not found.",
		}},
		{elevenlabs.Fail(400, "max_character_limit_exceeded"), 400, map[string]any{
			"type": "validation_error", "code": "text_too_long", "status": "max_character_limit_exceeded", "param": "text",
			"message": "This request's text has 5 characters and exceeds the character limit of 10000 characters.",
		}},
		{elevenlabs.Fail(422, "invalid_voice_settings"), 422, map[string]any{
			"type": "validation_error", "code": "invalid_voice_settings", "status": "invalid_voice_settings",
			"message": "Invalid voice settings.", "param": "voice_settings",
		}},
		{elevenlabs.Fail(422, "weird_thing"), 422, map[string]any{
			"type": "validation_error", "code": "weird_thing", "status": "weird_thing",
			"message": "Unprocessable Entity", "param": nil,
		}},
		{elevenlabs.Fail(500, ""), 500, map[string]any{
			"type": "internal_error", "code": "internal_error", "status": "internal_server_error",
			"message": "An internal server error occurred, please try again later.",
		}},
		{elevenlabs.Fail(402, ""), 402, map[string]any{
			"type": "payment_required", "code": "insufficient_credits", "status": "insufficient_credits",
			"message": "Insufficient credits to complete this request.",
		}},
		{elevenlabs.Fail(403, ""), 403, map[string]any{
			"type": "authorization_error", "code": "forbidden", "status": "forbidden", "message": "Forbidden",
		}},
		// Asking for a non-error "failure" is a test bug: it becomes a 500.
		{elevenlabs.Fail(200, ""), 500, map[string]any{
			"type": "internal_error", "code": "internal_error", "status": "internal_server_error",
			"message": "An internal server error occurred, please try again later.",
		}},
	}
	for _, tc := range cases {
		fake.Script(key, tc.step)
		resp, b := tts(t, srv, key, rachel, say("hello"))
		wantDetail(t, resp, b, tc.status, tc.want)
		if resp.Header.Get("Retry-After") != "" {
			t.Errorf("%v: unexpected Retry-After", tc.want["status"])
		}
	}

	// 422 without a code is FastAPI's list shape, quoting the body.
	fake.Script(key, elevenlabs.Fail(422, ""))
	resp, b := tts(t, srv, key, rachel, `{"text":"hello"}`)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("422: %d", resp.StatusCode)
	}
	jsonEqual(t, b, `{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, invalid request","input":{"text":"hello"},"ctx":{"error":{}}}]}`)

	// Scripted failures bypass the voice check and charge nothing.
	fake.Script(key, elevenlabs.Fail(500, ""))
	if resp, _ := tts(t, srv, key, "NoSuchVoice", say("hello")); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("scripted failure on unknown voice: %d", resp.StatusCode)
	}
	if got := fake.CharactersUsed(key); got != 0 {
		t.Errorf("scripted failures charged %d", got)
	}
}

func TestAcceptAnyKey(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{AcceptAnyKey: true})
	for _, k := range []string{"demo-key", "sk_anything_goes_here"} {
		if resp, b := tts(t, srv, k, rachel, say("hi")); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", k, resp.StatusCode, b)
		}
	}
	invalid := map[string]any{"type": "authentication_error", "code": "unauthorized", "status": "invalid_api_key", "message": "Invalid API key"}
	for _, k := range []string{"short", "demo-INVALID-key"} {
		resp, b := tts(t, srv, k, rachel, say("hi"))
		wantDetail(t, resp, b, http.StatusUnauthorized, invalid)
		resp, b = do(t, http.MethodGet, srv.URL+"/v1/user", k, nil)
		wantDetail(t, resp, b, http.StatusUnauthorized, invalid)
	}

	quota := "demo-quota-key"
	resp, b := tts(t, srv, quota, rachel, say("hi"))
	wantDetail(t, resp, b, http.StatusUnauthorized, map[string]any{
		"type": "authentication_error", "code": "quota_exceeded", "status": "quota_exceeded",
		"message": "This request exceeds your quota of 10000. You have 0 credits remaining, while 2 credits are required for this request.",
	})
	resp, b = do(t, http.MethodGet, srv.URL+"/v1/user", quota, nil)
	sub, _ := decode(t, b)["subscription"].(map[string]any)
	if resp.StatusCode != http.StatusOK || sub["tier"] != "free" || sub["character_count"] != 10000.0 || sub["character_limit"] != 10000.0 {
		t.Errorf("quota key /v1/user: %d %v", resp.StatusCode, sub)
	}

	// Accepted keys accumulate usage like registered ones.
	tts(t, srv, "demo-key", rachel, say("hello"))
	if got := fake.CharactersUsed("demo-key"); got != 7 {
		t.Errorf("demo-key used %d, want 7", got)
	}

	// Registered keys beat the magic words; revoked ones stay refused.
	fake.AddKey(quota, elevenlabs.Key{})
	if resp, _ := tts(t, srv, quota, rachel, say("hi")); resp.StatusCode != http.StatusOK {
		t.Errorf("registered quota-looking key: %d", resp.StatusCode)
	}
	fake.RevokeKey("demo-revoked")
	if resp, _ := tts(t, srv, "demo-revoked", rachel, say("hi")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked any-key: %d", resp.StatusCode)
	}
}

func TestVoices(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	custom := "Lilith0123456789abcd"

	if resp, _ := tts(t, srv, key, custom, say("hi")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown voice: %d", resp.StatusCode)
	}
	fake.AddVoice(custom, "Lilith")
	if resp, _ := tts(t, srv, key, custom, say("hi")); resp.StatusCode != http.StatusOK {
		t.Errorf("added voice: %d", resp.StatusCode)
	}

	_, b := do(t, http.MethodGet, srv.URL+"/v1/voices", key, nil)
	var list struct {
		Voices []struct {
			VoiceID  string            `json:"voice_id"`
			Name     string            `json:"name"`
			Category string            `json:"category"`
			Labels   map[string]string `json:"labels"`
		} `json:"voices"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range list.Voices {
		got[v.VoiceID] = v.Name + "/" + v.Category
		if v.Labels == nil {
			t.Errorf("%s has null labels", v.VoiceID)
		}
	}
	for id, want := range map[string]string{rachel: "Rachel/premade", george: "George/premade", custom: "Lilith/cloned"} {
		if got[id] != want {
			t.Errorf("voice %s = %q, want %q", id, got[id], want)
		}
	}

	fake.AddVoice(custom, "Lilith v2")
	resp, b := do(t, http.MethodGet, srv.URL+"/v1/voices/"+custom, key, nil)
	if v := decode(t, b); resp.StatusCode != http.StatusOK || v["name"] != "Lilith v2" || v["voice_id"] != custom {
		t.Errorf("get voice: %d %v", resp.StatusCode, v)
	}
	resp, b = do(t, http.MethodGet, srv.URL+"/v1/voices/nope", key, nil)
	wantDetail(t, resp, b, http.StatusNotFound, map[string]any{
		"type": "not_found", "code": "voice_not_found", "status": "voice_not_found",
		"message": "A voice with voice_id 'nope' was not found.",
	})
}

func TestAcceptAnyVoice(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{AcceptAnyVoice: true})
	fake.AddKey(key, elevenlabs.Key{})
	cases := []struct {
		voice string
		want  int
	}{
		{"abcDEF123", http.StatusOK},
		{"x", http.StatusOK},
		{strings.Repeat("a", 64), http.StatusOK},
		{strings.Repeat("a", 65), http.StatusNotFound},
		{"bad-voice", http.StatusNotFound},
		{"voix_é", http.StatusNotFound},
	}
	for _, tc := range cases {
		if resp, b := tts(t, srv, key, tc.voice, say("hi")); resp.StatusCode != tc.want {
			t.Errorf("%q: %d, want %d: %s", tc.voice, resp.StatusCode, tc.want, b)
		}
	}
	// Accepted ids are not listed: only real voices are.
	_, b := do(t, http.MethodGet, srv.URL+"/v1/voices", key, nil)
	if bytes.Contains(b, []byte("abcDEF123")) {
		t.Error("/v1/voices lists an accepted-but-unknown voice")
	}
}

func TestUser(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	tts(t, srv, key, rachel, say("hello"))

	resp, b := do(t, http.MethodGet, srv.URL+"/v1/user", key, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	u := decode(t, b)
	sub := u["subscription"].(map[string]any)
	if sub["tier"] != "creator" || sub["character_count"] != 5.0 || sub["character_limit"] != 1_000_000.0 || sub["status"] != "active" {
		t.Errorf("subscription = %v", sub)
	}
	if reset, _ := sub["next_character_count_reset_unix"].(float64); time.Unix(int64(reset), 0).Before(time.Now()) {
		t.Errorf("reset in the past: %v", sub["next_character_count_reset_unix"])
	}
	masked, _ := u["xi_api_key"].(string)
	if masked == "" || strings.Contains(string(b), key) || !strings.HasPrefix(masked, key[:4]) || !strings.HasSuffix(masked, key[len(key)-4:]) {
		t.Errorf("xi_api_key = %q (body must not contain the key)", masked)
	}
	if u["is_new_user"] != false || u["can_use_delayed_payment_methods"] != false || u["first_name"] == "" || len(u["user_id"].(string)) != 28 {
		t.Errorf("user = %v", u)
	}
	_, b2 := do(t, http.MethodGet, srv.URL+"/v1/user", key, nil)
	if decode(t, b2)["user_id"] != u["user_id"] {
		t.Error("user_id is not stable")
	}
}

func TestModels(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	resp, b := do(t, http.MethodGet, srv.URL+"/v1/models", key, nil)
	var models []map[string]any
	if err := json.Unmarshal(b, &models); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v %s", resp.StatusCode, err, b)
	}
	limits := map[string]float64{}
	for _, m := range models {
		limits[m["model_id"].(string)] = m["maximum_text_length_per_request"].(float64)
	}
	if len(limits) != 8 || limits["eleven_v3"] != 5000 || limits["eleven_flash_v2_5"] != 40000 || limits["eleven_multilingual_v2"] != 10000 {
		t.Errorf("models = %v", limits)
	}
}

func TestRouting(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	for _, path := range []string{"/", "/v1/nope", "/v2/voices", "/v1/text-to-speech/", "/v1/text-to-speech/" + rachel + "/with-timestamps", "/v1/voices/a/b"} {
		resp, b := do(t, http.MethodGet, srv.URL+path, key, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		jsonEqual(t, b, `{"detail":"Not Found"}`)
	}
	cases := []struct{ method, path, allow string }{
		{http.MethodGet, "/v1/text-to-speech/" + rachel, "POST"},
		{http.MethodPut, "/v1/text-to-speech/" + rachel + "/stream", "POST"},
		{http.MethodPost, "/v1/user", "GET"},
		{http.MethodDelete, "/v1/voices", "GET"},
	}
	for _, tc := range cases {
		resp, b := do(t, tc.method, srv.URL+tc.path, key, nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow=%q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
		jsonEqual(t, b, `{"detail":"Method Not Allowed"}`)
	}

	resp, b := tts(t, srv, key, rachel, `{"text":"`+strings.Repeat("a", 1<<20)+`"}`)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", resp.StatusCode)
	}
	jsonEqual(t, b, `{"detail":"Request Entity Too Large"}`)

	// Every request is recorded; TTSCalls keeps only the TTS routes.
	if all, ttsOnly := len(fake.Calls()), len(fake.TTSCalls()); all != 11 || ttsOnly != 3 {
		t.Errorf("calls = %d, tts calls = %d", all, ttsOnly)
	}
}

func TestMP3(t *testing.T) {
	var prev int
	for _, n := range []int{0, 1, 2, 10, 100, 398, 399, 1000, 10_000} {
		text := strings.Repeat("x", n)
		audio := elevenlabs.MP3(text)
		if len(audio) == 0 || len(audio)%417 != 0 {
			t.Fatalf("%d chars: length %d is not whole frames", n, len(audio))
		}
		frames := len(audio) / 417
		if frames < 1 || frames > 200 || frames < prev {
			t.Errorf("%d chars: %d frames (previous %d)", n, frames, prev)
		}
		prev = frames
		for i := 0; i < len(audio); i += 417 {
			if !bytes.Equal(audio[i:i+4], []byte{0xFF, 0xFB, 0x90, 0x64}) {
				t.Fatalf("%d chars: frame %d header % x", n, i/417, audio[i:i+4])
			}
			if bytes.ContainsFunc(audio[i+4:i+417], func(r rune) bool { return r != 0 }) {
				t.Fatalf("%d chars: frame %d is not silent", n, i/417)
			}
		}
		if !bytes.Equal(audio, elevenlabs.MP3(text)) {
			t.Errorf("%d chars: not deterministic", n)
		}
	}
	if len(elevenlabs.MP3("a sentence")) <= len(elevenlabs.MP3("a")) {
		t.Error("longer text does not give longer audio")
	}
	if len(elevenlabs.MP3(strings.Repeat("x", 10_000))) != 200*417 {
		t.Error("long audio is not capped at 200 frames")
	}
	// Characters, not bytes, set the length.
	if !bytes.Equal(elevenlabs.MP3("éééé"), elevenlabs.MP3("eeee")) {
		t.Error("length depends on bytes, not characters")
	}
}

func TestLatencyDelayAndCancellation(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{Latency: 30 * time.Millisecond})
	fake.AddKey(key, elevenlabs.Key{})
	start := time.Now()
	if resp, _ := tts(t, srv, key, rachel, say("hi")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("latency not applied: %v", d)
	}

	fake.Script(key, elevenlabs.Delay(60*time.Millisecond))
	start = time.Now()
	if resp, _ := tts(t, srv, key, rachel, say("hi")); resp.StatusCode != http.StatusOK {
		t.Fatalf("delayed: %d", resp.StatusCode)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("delay not applied: %v", d)
	}

	fake.Script(key, elevenlabs.Delay(5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/text-to-speech/"+rachel, strings.NewReader(`{"text":"hi"}`))
	req.Header.Set("xi-api-key", key)
	req.Header.Set("Content-Type", "application/json")
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	testwait.Until(t, "the cancelled call to be recorded as 499", func() bool {
		calls := fake.TTSCalls()
		return len(calls) == 3 && calls[2].Status == 499
	})
	if got := fake.CharactersUsed(key); got != 4 {
		t.Errorf("cancelled call charged: used %d", got)
	}
}

func TestConcurrentCalls(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{Latency: 20 * time.Millisecond})
	fake.AddKey(key, elevenlabs.Key{CharacterLimit: 100})
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	maxCurrent := 0
	for range n {
		wg.Go(func() {
			// Not tts: its t.Fatal must not run on this goroutine.
			resp, _, err := fakehttp.Request(http.MethodPost, srv.URL+"/v1/text-to-speech/"+rachel,
				http.Header{"xi-api-key": {key}, "Content-Type": {"application/json"}}, say("five!"))
			if err != nil {
				t.Error(err)
				return
			}
			cur, _ := strconv.Atoi(resp.Header.Get("current-concurrent-requests"))
			mu.Lock()
			statuses[resp.StatusCode]++
			maxCurrent = max(maxCurrent, cur)
			mu.Unlock()
			_ = fake.Calls()
		})
	}
	wg.Wait()
	// 100 characters fit exactly 20 calls of 5; no call overspends.
	if statuses[http.StatusOK] != 20 || statuses[http.StatusUnauthorized] != 10 || fake.CharactersUsed(key) != 100 {
		t.Errorf("statuses = %v, used = %d", statuses, fake.CharactersUsed(key))
	}
	if maxCurrent < 2 {
		t.Errorf("current-concurrent-requests never above %d", maxCurrent)
	}
	if len(fake.TTSCalls()) != n {
		t.Errorf("calls = %d", len(fake.TTSCalls()))
	}
	fake.Reset()
	if len(fake.Calls()) != 0 || fake.CharactersUsed(key) != 0 {
		t.Error("reset kept calls or usage")
	}
	if resp, _ := tts(t, srv, key, rachel, say("hi")); resp.StatusCode != http.StatusUnauthorized {
		t.Error("reset kept keys")
	}
}

func TestInFlightCountDrops(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	for range 3 {
		resp, _ := tts(t, srv, key, rachel, say("hi"))
		if got := resp.Header.Get("current-concurrent-requests"); got != "1" {
			t.Errorf("sequential call sees %q in flight", got)
		}
	}
}

// documentedErrors is every error the stand-in knows: the legacy status (or
// current code) a test passes to Fail, the HTTP status ElevenLabs sends it
// with, and the detail it answers: "legacy" for the older
// {"status","message"} shape, else the type and code of the current shape.
var documentedErrors = []struct {
	id, status  string // what Fail takes; the detail.status sent
	http        int
	typ, code   string // "" for the legacy shape
	messageHint string
}{
	{"invalid_api_key", "invalid_api_key", 401, "authentication_error", "unauthorized", "Invalid API key"},
	{"needs_authorization", "needs_authorization", 401, "authentication_error", "unauthorized", "xi-api-key"},
	{"invalid_authorization_header", "invalid_authorization_header", 401, "authentication_error", "unauthorized", "authorization header"},
	{"missing_api_key", "missing_api_key", 401, "authentication_error", "missing_api_key", "No API key"},
	{"sign_in_required", "sign_in_required", 401, "authentication_error", "sign_in_required", "signed in"},
	{"missing_permissions", "missing_permissions", 401, "authentication_error", "unauthorized", "missing the permission"},
	{"quota_exceeded", "quota_exceeded", 401, "authentication_error", "quota_exceeded", "exceeds your quota"},
	{"detected_unusual_activity", "detected_unusual_activity", 401, "", "", "Unusual activity detected"},
	{"payment_issue", "payment_issue", 401, "payment_required", "payment_issue", "failed or incomplete payment"},
	{"insufficient_credits", "insufficient_credits", 402, "payment_required", "insufficient_credits", "Insufficient credits"},
	{"paid_plan_required", "payment_required", 402, "payment_required", "paid_plan_required", "library voices"},
	{"free_users_not_allowed", "free_users_not_allowed", 400, "", "", "creator tier"},
	{"voice_limit_reached", "voice_limit_reached", 400, "", "", "maximum amount of custom voices"},
	{"forbidden", "forbidden", 403, "authorization_error", "forbidden", "Forbidden"},
	{"insufficient_permissions", "insufficient_permissions", 403, "authorization_error", "insufficient_permissions", "permissions"},
	{"workspace_access_denied", "workspace_access_denied", 403, "authorization_error", "workspace_access_denied", "workspace"},
	{"feature_not_available", "feature_not_available", 403, "authorization_error", "feature_not_available", "current plan"},
	{"subscription_required", "subscription_required", 403, "authorization_error", "subscription_required", "paid subscription"},
	{"voice_access_denied", "voice_access_denied", 403, "authorization_error", "voice_access_denied", rachel},
	{"model_access_denied", "model_access_denied", 403, "authorization_error", "model_access_denied", "model"},
	{"voice_not_found", "voice_not_found", 404, "not_found", "voice_not_found", rachel},
	{"workspace_not_found", "workspace_not_found", 404, "not_found", "workspace_not_found", "Workspace"},
	{"model_not_found", "model_not_found", 400, "invalid_request", "model_not_found", "model"},
	{"invalid_parameters", "invalid_parameters", 400, "invalid_request", "invalid_parameters", "Invalid parameters"},
	{"empty_text", "empty_text", 400, "validation_error", "empty_text", "empty"},
	{"max_character_limit_exceeded", "max_character_limit_exceeded", 400, "validation_error", "text_too_long", "character limit"},
	{"text_too_long", "max_character_limit_exceeded", 400, "validation_error", "text_too_long", "character limit"},
	{"invalid_output_format", "invalid_output_format", 400, "validation_error", "invalid_output_format", "output format"},
	{"invalid_voice_settings", "invalid_voice_settings", 400, "validation_error", "invalid_voice_settings", "voice settings"},
	{"invalid_voice_id", "invalid_voice_id", 400, "validation_error", "invalid_voice_id", "Bad Request"},
	{"unsupported_model", "unsupported_model", 400, "validation_error", "unsupported_model", "Bad Request"},
	{"text_too_short", "text_too_short", 400, "validation_error", "text_too_short", "Bad Request"},
	{"invalid_text", "invalid_text", 400, "validation_error", "invalid_text", "Bad Request"},
	{"missing_required_field", "missing_required_field", 400, "validation_error", "missing_required_field", "Bad Request"},
	{"bad_request", "bad_request", 400, "invalid_request", "bad_request", "Bad Request"},
	{"malformed_json", "malformed_json", 400, "invalid_request", "malformed_json", "Bad Request"},
	{"invalid_content_type", "invalid_content_type", 400, "invalid_request", "invalid_content_type", "Bad Request"},
	{"request_too_large", "request_too_large", 400, "invalid_request", "request_too_large", "Bad Request"},
	{"too_many_concurrent_requests", "too_many_concurrent_requests", 429, "rate_limit_error", "concurrent_limit_exceeded", "concurrent"},
	{"concurrent_limit_exceeded", "too_many_concurrent_requests", 429, "rate_limit_error", "concurrent_limit_exceeded", "concurrent"},
	{"rate_limit_exceeded", "rate_limit_exceeded", 429, "rate_limit_error", "rate_limit_exceeded", "slow down"},
	{"system_busy", "system_busy", 429, "rate_limit_error", "system_busy", "high levels of traffic"},
	{"internal_server_error", "internal_server_error", 500, "internal_error", "internal_error", "internal server error"},
	{"maintenance", "maintenance", 503, "service_unavailable", "maintenance", "maintenance"},
}

// Fail(0, x) answers each documented error with its own HTTP status and in
// the shape ElevenLabs sends it.
func TestEveryDocumentedErrorInItsShape(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	for _, e := range documentedErrors {
		t.Run(e.id, func(t *testing.T) {
			fake.Script(key, elevenlabs.Fail(0, e.id))
			resp, b := tts(t, srv, key, rachel, say("hello"))
			if resp.StatusCode != e.http {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, e.http, b)
			}
			d := detail(t, resp, b)
			msg, _ := d["message"].(string)
			if d["status"] != e.status || !strings.Contains(msg, e.messageHint) {
				t.Errorf("detail %v: want status %q and a message about %q", d, e.status, e.messageHint)
			}
			if e.typ == "" {
				if len(d) != 2 {
					t.Errorf("detail %v: want only status and message, the older shape", d)
				}
				return
			}
			if d["type"] != e.typ || d["code"] != e.code || d["request_id"] == "" || d["request_id"] != resp.Header.Get("x-trace-id") {
				t.Errorf("detail %v: want type %q code %q and a request id", d, e.typ, e.code)
			}
		})
	}
	if got := fake.CharactersUsed(key); got != 0 {
		t.Errorf("failures charged %d characters", got)
	}
}

// A blocked account's key still authenticates: /v1/user answers, every TTS
// call gets the refusal, and nothing is charged. The demo's "unusual" keys
// behave the same.
func TestBlockedKeys(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{AcceptAnyKey: true})
	fake.AddKey(key, elevenlabs.Key{Blocked: "detected_unusual_activity"})
	fake.AddKey(other, elevenlabs.Key{Blocked: "paid_plan_required"})
	for k, want := range map[string]struct {
		http   int
		status string
	}{
		key:                 {401, "detected_unusual_activity"},
		"demo-unusual-key1": {401, "detected_unusual_activity"},
		other:               {402, "payment_required"},
	} {
		for range 2 {
			resp, b := tts(t, srv, k, rachel, say("hello"))
			if d := detail(t, resp, b); resp.StatusCode != want.http || d["status"] != want.status {
				t.Errorf("%.12s: TTS %d %v, want %d %s", k, resp.StatusCode, d, want.http, want.status)
			}
		}
		if resp, b := do(t, http.MethodGet, srv.URL+"/v1/user", k, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%.12s: /v1/user %d %s, want the user", k, resp.StatusCode, b)
		}
		if fake.CharactersUsed(k) != 0 {
			t.Errorf("%.12s charged", k)
		}
	}
}

// ScriptUser scripts the key check: steps are consumed by GET /v1/user
// alone, in order, and never by TTS calls.
func TestScriptUser(t *testing.T) {
	fake, srv := setup(t, elevenlabs.Options{})
	fake.AddKey(key, elevenlabs.Key{})
	fake.ScriptUser(key, elevenlabs.Fail(0, "detected_unusual_activity"), elevenlabs.FailWithRetryAfter(429, "system_busy", 2))
	if resp, _ := tts(t, srv, key, rachel, say("hi")); resp.StatusCode != http.StatusOK {
		t.Fatalf("TTS consumed a user step: %d", resp.StatusCode)
	}
	resp, b := do(t, http.MethodGet, srv.URL+"/v1/user", key, nil)
	if d := detail(t, resp, b); resp.StatusCode != 401 || d["status"] != "detected_unusual_activity" {
		t.Errorf("first /v1/user: %d %v", resp.StatusCode, d)
	}
	resp, b = do(t, http.MethodGet, srv.URL+"/v1/user", key, nil)
	if d := detail(t, resp, b); resp.StatusCode != 429 || d["code"] != "system_busy" || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("second /v1/user: %d %v", resp.StatusCode, d)
	}
	if resp, _ := do(t, http.MethodGet, srv.URL+"/v1/user", key, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("third /v1/user: %d, want the script used up", resp.StatusCode)
	}
}
