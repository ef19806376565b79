package elevenlabs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// maxBody caps request bodies. The longest legal text (40,000 characters
// for the Flash models) fits many times over, and an unbounded read would
// let a runaway test exhaust memory.
const maxBody = 1 << 20

// Options configures a Server. The zero value is a strict fake that only
// knows keys registered with AddKey and the built-in voices.
type Options struct {
	// AcceptAnyKey accepts any unregistered non-empty key of at least 8
	// characters (for the offline demo). A key containing "invalid" is
	// still refused with 401 invalid_api_key, one containing "quota" with
	// 401 quota_exceeded, and one containing "unusual" gets 401
	// detected_unusual_activity on text-to-speech, so the demo can show
	// those paths.
	AcceptAnyKey bool
	// AcceptAnyVoice accepts any voice id of letters/digits (length 1..64);
	// otherwise only voices added with AddVoice (and the built-in default
	// voices) exist.
	AcceptAnyVoice bool
	// Latency is added to every text-to-speech call that gets past the
	// key check, so benchmarks can subtract a known provider latency.
	Latency time.Duration
}

// Key describes a registered API key.
type Key struct {
	// CharacterLimit is the key's character quota; 0 means unlimited. TTS
	// calls that would exceed it fail with 401 quota_exceeded.
	CharacterLimit int
	// Revoked keys get 401 invalid_api_key everywhere.
	Revoked bool
	// Permissions, when non-nil, restricts the key like ElevenLabs' scoped
	// keys: "text_to_speech" for TTS, "user_read" for /v1/user,
	// "voices_read" for /v1/voices and "models_read" for /v1/models. A
	// missing permission gives 401 missing_permissions.
	Permissions []string
	// Blocked, when set, is an account-level refusal every text-to-speech
	// call with the key gets, by its detail.status or code (see [Fail]):
	// "detected_unusual_activity" for a free account ElevenLabs suspended
	// (401), "payment_issue" (401), "paid_plan_required" (402). As on the
	// live API, the key still authenticates: /v1/user and the catalogue
	// routes answer normally.
	Blocked string
}

// Call is one recorded HTTP request.
type Call struct {
	Method, Path string
	// Key is the xi-api-key header, empty when none was sent.
	Key string
	// VoiceID is the {voice_id} path segment of a TTS call.
	VoiceID string
	// Text and ModelID are the body fields as sent; ModelID is "" when the
	// request relied on the default model.
	Text, ModelID string
	// VoiceSettings is nil if the body had no voice_settings object.
	VoiceSettings *VoiceSettings
	// OutputFormat is the output_format query parameter, "" if absent.
	OutputFormat string
	Body         []byte
	Headers      http.Header
	// Status is the HTTP status answered, or 499 if the client left first.
	Status int
	Time   time.Time
}

// VoiceSettings is the voice_settings object of a TTS request. A nil field
// was absent or null.
type VoiceSettings struct {
	Stability, SimilarityBoost, Style *float64
	UseSpeakerBoost                   *bool
	Speed                             *float64
}

type keyState struct {
	Key
	used     int
	inFlight int
}

// Server is the fake. It implements http.Handler and is safe for concurrent
// use.
type Server struct {
	opts Options

	// stand holds the text-to-speech scripts, the calls answered and the
	// arrivals per xi-api-key (counted before any scripted delay).
	stand

	mu     sync.Mutex
	keys   fakehttp.Keys[keyState]
	voices []voice
	// userScripts are the steps for GET /v1/user, per key.
	userScripts fakehttp.Scripts[Step]
}

// stand is the frame shared with the other stand-ins, unexported.
type stand = fakehttp.Stand[Step, Call]

// response is an answer computed in full before anything is written.
type response = fakehttp.Response

// New returns a Server with the built-in voices and no recorded state.
func New(opts Options) *Server {
	s := &Server{opts: opts}
	fakehttp.Bind(&s.stand, s)
	s.resetLocked()
	return s
}

func (s *Server) resetLocked() {
	s.keys = fakehttp.Keys[keyState]{}
	s.voices = defaultVoices()
	fakehttp.Reset(&s.stand)
	s.userScripts.Reset()
}

// Reset forgets registered keys, their usage, added voices, pending
// scripts, recorded calls and arrivals, returning the server to its state
// after New.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// AddKey registers key, replacing any earlier registration and its usage.
// Registered keys take precedence over AcceptAnyKey and its magic words.
func (s *Server) AddKey(key string, k Key) {
	if k.Permissions != nil {
		k.Permissions = slices.Clone(k.Permissions)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = &keyState{Key: k}
}

// RevokeKey makes key invalid from now on, as deleting it in the
// ElevenLabs dashboard does. Its recorded usage is kept.
func (s *Server) RevokeKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys.Revoke(key, func(ks *keyState) { ks.Revoked = true })
}

// Script appends steps to key's queue. Each text-to-speech call made with
// key that passes the body and key checks consumes one step; once the queue
// is empty calls behave normally.
func (s *Server) Script(key string, steps ...Step) { fakehttp.AddSteps(&s.stand, key, steps...) }

// ScriptUser appends steps to key's queue for GET /v1/user (the key check):
// each such call with key that passes the key check consumes one. Only
// [Fail] and [FailWithRetryAfter] change the answer there.
func (s *Server) ScriptUser(key string, steps ...Step) { s.userScripts.Add(key, steps...) }

// TTSCalls returns the recorded text-to-speech requests (both the plain and
// the /stream route), whatever their outcome.
func (s *Server) TTSCalls() []Call {
	return fakehttp.CallsWhere(&s.stand, func(c Call) bool {
		_, _, ok := ttsPath(c.Path)
		return ok
	})
}

// CharactersUsed is how many characters successful TTS calls have charged
// to key.
func (s *Server) CharactersUsed(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ks, ok := s.keys[key]; ok {
		return ks.used
	}
	return 0
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := Call{
		Method:       r.Method,
		Path:         r.URL.Path,
		Key:          apiKey(r),
		OutputFormat: r.URL.Query().Get("output_format"),
		Headers:      r.Header.Clone(),
		Time:         time.Now(),
	}
	// api.elevenlabs.io answers every origin, so browsers can call it with
	// a key; mirrored so a product that relies on it behaves the same.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	fakehttp.Answer(&s.stand, w, r, maxBody, apiKey, func(body []byte, readErr error) *response {
		call.Body = body
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(readErr, &tooBig):
			return jsonResponse(http.StatusRequestEntityTooLarge, map[string]any{"detail": "Request Entity Too Large"})
		case readErr != nil:
			return jsonResponse(http.StatusBadRequest, map[string]any{"detail": "There was an error parsing the body"})
		}
		return s.route(r, body, &call)
	}, func(status int) {
		call.Status = status
		fakehttp.Record(&s.stand, call)
	})
}

func apiKey(r *http.Request) string { return r.Header.Get("xi-api-key") }

// chunked writes body in flushed pieces without a Content-Length, as the
// /stream route does.
func chunked(body []byte) func(context.Context, http.ResponseWriter) {
	return func(_ context.Context, w http.ResponseWriter) {
		rc := http.NewResponseController(w)
		const chunk = 4 * mp3FrameSize
		for off := 0; off < len(body); off += chunk {
			if _, err := w.Write(body[off:min(off+chunk, len(body))]); err != nil {
				return
			}
			_ = rc.Flush()
		}
	}
}

// ttsPath splits /v1/text-to-speech/{voice_id}[/stream].
func ttsPath(path string) (voiceID string, stream, ok bool) {
	rest, found := strings.CutPrefix(path, "/v1/text-to-speech/")
	if !found {
		return "", false, false
	}
	voiceID, tail, _ := strings.Cut(rest, "/")
	if voiceID == "" || (tail != "" && tail != "stream") {
		return "", false, false
	}
	return voiceID, tail == "stream", true
}

func (s *Server) route(r *http.Request, body []byte, call *Call) *response {
	if voiceID, stream, ok := ttsPath(r.URL.Path); ok {
		if r.Method != http.MethodPost {
			return methodNotAllowed(http.MethodPost)
		}
		call.VoiceID = voiceID
		return s.textToSpeech(r, body, call, stream)
	}
	var handler func(*http.Request) *response
	switch p := r.URL.Path; {
	case p == "/v1/user":
		handler = s.user
	case p == "/v1/user/subscription":
		handler = s.subscription
	case p == "/v1/voices":
		handler = s.listVoices
	case p == "/v1/models":
		handler = s.models
	case strings.HasPrefix(p, "/v1/voices/") && !strings.Contains(p[len("/v1/voices/"):], "/") && len(p) > len("/v1/voices/"):
		handler = s.getVoice
	default:
		return jsonResponse(http.StatusNotFound, map[string]any{"detail": "Not Found"})
	}
	if r.Method != http.MethodGet {
		return methodNotAllowed(http.MethodGet)
	}
	return handler(r)
}

func methodNotAllowed(allow string) *response {
	resp := jsonResponse(http.StatusMethodNotAllowed, map[string]any{"detail": "Method Not Allowed"})
	resp.Header.Set("Allow", allow)
	return resp
}

// lookupLocked resolves a key to its state, materialising AcceptAnyKey keys
// on first use so their usage accumulates like a real key's. It returns nil
// for keys ElevenLabs would refuse.
func (s *Server) lookupLocked(key string) *keyState {
	if ks, ok := s.keys[key]; ok {
		if ks.Revoked {
			return nil
		}
		return ks
	}
	if !s.opts.AcceptAnyKey || utf8.RuneCountInString(key) < 8 {
		return nil
	}
	lower := strings.ToLower(key)
	if strings.Contains(lower, "invalid") {
		return nil
	}
	ks := &keyState{}
	if strings.Contains(lower, "unusual") {
		ks.Blocked = "detected_unusual_activity"
	}
	if strings.Contains(lower, "quota") {
		// A free-tier key that has used its whole allowance: /v1/user
		// still answers, every TTS call is over quota.
		ks.CharacterLimit = freeTierLimit
		ks.used = freeTierLimit
	}
	s.keys[key] = ks
	return ks
}

// authenticate returns the key state, or the 401 ElevenLabs gives for a
// missing, unknown, revoked or under-scoped key.
func (s *Server) authenticate(r *http.Request, permission string) (*keyState, *response) {
	key := r.Header.Get("xi-api-key")
	if key == "" {
		if r.Header.Get("Authorization") != "" {
			return nil, apiError(http.StatusUnauthorized, "invalid_authorization_header", failure{})
		}
		return nil, apiError(http.StatusUnauthorized, "needs_authorization", failure{})
	}
	s.mu.Lock()
	ks := s.lookupLocked(key)
	allowed := ks != nil && (ks.Permissions == nil || slices.Contains(ks.Permissions, permission))
	s.mu.Unlock()
	switch {
	case ks == nil:
		return nil, apiError(http.StatusUnauthorized, "invalid_api_key", failure{})
	case !allowed:
		return nil, apiError(http.StatusUnauthorized, "missing_permissions", failure{permission: permission})
	}
	return ks, nil
}

// next is a queue's next scripted step, or [OK] once it is empty.
func next(step Step, ok bool) Step {
	if ok {
		return step
	}
	return OK()
}

// newRequestID mimics ElevenLabs' request ids: 32 random hex digits.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newItemID mimics ElevenLabs' 20-character alphanumeric ids (voices,
// history items).
func newItemID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [20]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

func jsonResponse(status int, v any) *response {
	return fakehttp.JSON(status, v, `{"detail":{"type":"internal_error","code":"internal_error","message":"internal error in fake","status":"internal_server_error"}}`)
}
