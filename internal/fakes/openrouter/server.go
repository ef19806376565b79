package openrouter

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// maxBody caps request bodies: OpenRouter rejects huge payloads too, and an
// unbounded read would let a runaway test exhaust memory.
const maxBody = 32 << 20

// Options configures a Server. The zero value is a strict fake that only
// knows keys registered with AddKey.
type Options struct {
	// Latency is added to every chat completion call, so benchmarks can
	// subtract a known provider latency.
	Latency time.Duration
	// AcceptAnyKey accepts any unregistered key shaped like
	// "sk-or-v1-[0-9a-z]{8,}", with the magic words described in the package
	// documentation. Meant for the offline demo.
	AcceptAnyKey bool
	// Stream paces the generation of every chat completion whose step
	// does not (Step.Paced); the zero value answers at once.
	Stream StreamRate
}

// Key describes a registered API key.
type Key struct {
	// Credits is the key's spending limit in USD; nil means unlimited.
	// Chat completions are refused with 402 once it is used up.
	Credits *float64
	// Revoked keys are unknown to OpenRouter: 401 everywhere.
	Revoked bool
	// Label overrides the masked key shown by /key.
	Label string
	// FreeTier is reported as is_free_tier by /key.
	FreeTier bool
}

// Call is one recorded HTTP request.
type Call struct {
	Method string
	Path   string
	// Key is the bearer token, empty when none was sent.
	Key string
	// Model is the "model" field of a chat completion or embeddings body,
	// if any.
	Model string
	// Images are the image_url URLs of a chat request's content parts
	// (data URLs as tzurot sends them), in order.
	Images  []string
	Body    []byte
	Headers http.Header
	// Referer and Title are OpenRouter's app attribution headers
	// (HTTP-Referer and X-Title), copied out because tests check them often.
	Referer string
	Title   string
	// Status is the HTTP status answered, or 499 if the client left first.
	Status int
	Time   time.Time
}

type keyState struct {
	Key
	usage float64
	magic string
}

// Server is the fake. It implements http.Handler and is safe for concurrent
// use.
type Server struct {
	opts Options

	// stand holds the scripts, the calls answered and the arrivals per
	// bearer key (counted before any scripted delay).
	stand

	mu   sync.Mutex
	keys fakehttp.Keys[keyState]
	seq  uint64
}

// stand is the frame shared with the other stand-ins, unexported.
type stand = fakehttp.Stand[Step, Call]

// response is an answer computed in full before anything is written.
type response = fakehttp.Response

// New returns a Server with no recorded state.
func New(opts Options) *Server {
	s := &Server{opts: opts}
	fakehttp.Bind(&s.stand, s)
	s.resetLocked()
	return s
}

func (s *Server) resetLocked() {
	s.keys = fakehttp.Keys[keyState]{}
	fakehttp.Reset(&s.stand)
}

// Reset forgets registered keys, their usage, pending scripts, recorded
// calls and arrivals, returning the server to its state after New.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// AddKey registers key, replacing any earlier registration and its usage.
// Registered keys take precedence over AcceptAnyKey and its magic words.
func (s *Server) AddKey(key string, k Key) {
	if k.Credits != nil {
		c := *k.Credits
		k.Credits = &c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = &keyState{Key: k}
}

// Revoke makes key unknown to the API from now on, as deleting it on
// openrouter.ai does.
func (s *Server) Revoke(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys.Revoke(key, func(ks *keyState) { ks.Revoked = true })
}

// Script appends steps to key's queue. Each chat completion or embeddings
// call by key consumes one step; once the queue is empty calls behave
// normally.
func (s *Server) Script(key string, steps ...Step) { fakehttp.AddSteps(&s.stand, key, steps...) }

// CallsFor returns the recorded requests that carried key as bearer token.
func (s *Server) CallsFor(key string) []Call {
	return fakehttp.CallsWhere(&s.stand, func(c Call) bool { return c.Key == key })
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := Call{
		Method:  r.Method,
		Path:    r.URL.Path,
		Key:     bearer(r),
		Headers: r.Header.Clone(),
		Referer: r.Header.Get("HTTP-Referer"),
		Title:   r.Header.Get("X-Title"),
		Time:    time.Now(),
	}
	fakehttp.Answer(&s.stand, w, r, maxBody, bearer, func(body []byte, readErr error) *response {
		call.Body = body
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(readErr, &tooBig):
			return apiError(http.StatusRequestEntityTooLarge, "request body too large", nil)
		case readErr != nil:
			return apiError(http.StatusBadRequest, "could not read request body", nil)
		}
		return s.route(r, body, &call)
	}, func(status int) {
		call.Status = status
		fakehttp.Record(&s.stand, call)
	})
}

func (s *Server) route(r *http.Request, body []byte, call *Call) *response {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/")
	if !ok {
		return apiError(http.StatusNotFound, "Not Found", nil)
	}
	rest = strings.TrimSuffix(rest, "/")
	switch rest {
	case "models":
		if r.Method != http.MethodGet {
			return methodNotAllowed(http.MethodGet)
		}
		return s.models(call.Key)
	case "key", "auth/key":
		if r.Method != http.MethodGet {
			return methodNotAllowed(http.MethodGet)
		}
		return s.keyInfo(call.Key)
	case "chat/completions":
		if r.Method != http.MethodPost {
			return methodNotAllowed(http.MethodPost)
		}
		return s.chat(r.Context(), body, call)
	case "embeddings":
		if r.Method != http.MethodPost {
			return methodNotAllowed(http.MethodPost)
		}
		return s.embeddings(r.Context(), body, call)
	}
	return apiError(http.StatusNotFound, "Not Found", nil)
}

func methodNotAllowed(allow string) *response {
	resp := apiError(http.StatusMethodNotAllowed, "Method Not Allowed", nil)
	resp.Header.Set("Allow", allow)
	return resp
}

func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

var anyKey = regexp.MustCompile(`^sk-or-v1-[0-9a-z]{8,}$`)

// lookupLocked resolves a bearer token to its state, materialising
// AcceptAnyKey keys on first use so their usage accumulates like a real
// key's. It returns nil for keys OpenRouter would not know.
func (s *Server) lookupLocked(token string) *keyState {
	if token == "" {
		return nil
	}
	if ks, ok := s.keys[token]; ok {
		if ks.Revoked {
			return nil
		}
		return ks
	}
	if !s.opts.AcceptAnyKey || !anyKey.MatchString(token) {
		return nil
	}
	ks := &keyState{}
	tail := strings.TrimPrefix(token, "sk-or-v1-")
	switch {
	case strings.Contains(tail, "dead"):
		ks.magic = "dead"
	case strings.Contains(tail, "busy"):
		ks.magic = "busy"
	case strings.Contains(tail, "daily"):
		ks.magic = "daily"
	case strings.Contains(tail, "broke"):
		ks.magic = "broke"
		zero := 0.0
		ks.Credits = &zero
		ks.FreeTier = true
	}
	s.keys[token] = ks
	return ks
}

// authenticate returns the key state or the error OpenRouter gives for a
// missing, unknown, dead or rate-limited key.
func (s *Server) authenticate(token string) (*keyState, *response) {
	if token == "" {
		return nil, apiError(http.StatusUnauthorized, "No auth credentials found", nil)
	}
	s.mu.Lock()
	ks := s.lookupLocked(token)
	var magic string
	if ks != nil {
		magic = ks.magic
	}
	s.mu.Unlock()
	switch {
	case ks == nil || magic == "dead":
		return nil, apiError(http.StatusUnauthorized, "User not found.", nil)
	case magic == "busy":
		return nil, rateLimited(1, "")
	}
	return ks, nil
}

func (s *Server) models(token string) *response {
	// /models is public, so credentials are ignored, except that a "busy"
	// key is still rate limited: OpenRouter limits per key wherever a key
	// is presented.
	if token != "" {
		s.mu.Lock()
		ks := s.lookupLocked(token)
		busy := ks != nil && ks.magic == "busy"
		s.mu.Unlock()
		if busy {
			return rateLimited(1, "")
		}
	}
	data := make([]map[string]any, 0, len(catalogue))
	for _, m := range catalogue {
		data = append(data, m.json())
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": data})
}

func (s *Server) keyInfo(token string) *response {
	ks, errResp := s.authenticate(token)
	if errResp != nil {
		return errResp
	}
	s.mu.Lock()
	label := ks.Label
	usage := ks.usage
	freeTier := ks.FreeTier
	var limit, remaining any
	if ks.Credits != nil {
		limit = *ks.Credits
		remaining = max(*ks.Credits-ks.usage, 0)
	}
	s.mu.Unlock()
	if label == "" {
		label = maskKey(token)
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": map[string]any{
		"label":                 label,
		"limit":                 limit,
		"limit_reset":           nil,
		"limit_remaining":       remaining,
		"include_byok_in_limit": false,
		"usage":                 usage,
		"usage_daily":           usage,
		"usage_weekly":          usage,
		"usage_monthly":         usage,
		"is_free_tier":          freeTier,
		"is_provisioning_key":   false,
		"rate_limit":            map[string]any{"requests": 20, "interval": "10s"},
	}})
}

// maskKey mirrors how openrouter.ai shows keys: the prefix and three
// characters either side of an ellipsis.
func maskKey(key string) string {
	const prefix = len("sk-or-v1-") + 3
	if len(key) <= prefix+3 {
		return key
	}
	return key[:prefix] + "..." + key[len(key)-3:]
}

func jsonResponse(status int, v any) *response {
	return fakehttp.JSON(status, v, `{"error":{"code":500,"message":"internal error in fake"}}`)
}
