package fakehttp

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// Stand is the frame the provider stand-ins (OpenRouter's, ElevenLabs') share:
// per-key scripts of steps S, the log of calls C they answered, the requests
// per key as they arrive, and serving. A stand-in embeds it, which gives it
// the methods below (its public surface), Binds itself to it, and answers
// each request through Answer; the other functions taking a *Stand are for
// the stand-in alone.
type Stand[S, C any] struct {
	handler http.Handler
	scripts Scripts[S]
	calls   Log[C]

	mu      sync.Mutex
	arrived map[string]int
}

// Bind makes h (the stand-in embedding st) what st serves.
func Bind[S, C any](st *Stand[S, C], h http.Handler) { st.handler = h }

// AddSteps appends steps to key's queue.
func AddSteps[S, C any](st *Stand[S, C], key string, steps ...S) { st.scripts.Add(key, steps...) }

// NextStep removes and returns the first step of key's queue; ok is false
// when the queue is empty.
func NextStep[S, C any](st *Stand[S, C], key string) (step S, ok bool) { return st.scripts.Next(key) }

// Calls returns every request received so far, in the order they were
// answered.
func (st *Stand[S, C]) Calls() []C { return st.calls.All() }

// CallsWhere returns the calls st recorded that keep accepts, in order.
func CallsWhere[S, C any](st *Stand[S, C], keep func(C) bool) []C { return st.calls.Where(keep) }

// Arrived counts the requests that carried key as soon as they arrive,
// answered or not: a test can act while a scripted delay holds the answer.
func (st *Stand[S, C]) Arrived(key string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.arrived[key]
}

// Reset forgets st's pending scripts, recorded calls and arrivals.
func Reset[S, C any](st *Stand[S, C]) {
	st.scripts.Reset()
	st.calls.Reset()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.arrived = nil
}

// ListenAndServe serves on addr until ctx is cancelled, then shuts down
// gracefully. It returns nil after a cancellation-triggered shutdown.
func (st *Stand[S, C]) ListenAndServe(ctx context.Context, addr string) error {
	return ListenAndServe(ctx, addr, st.handler)
}

// Serve is ListenAndServe on an existing listener, for callers that bind
// ":0" and need the port before serving.
func (st *Stand[S, C]) Serve(ctx context.Context, ln net.Listener) error {
	return Serve(ctx, ln, st.handler)
}

// Response is a stand-in's whole answer, computed before anything is
// written, so the call is recorded before the client can observe the
// answer: a test reading the calls right after its request returns would
// otherwise miss it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Stream, when set, writes the body itself after the status and
	// headers (SSE events, chunked audio); no Content-Length is set for it.
	Stream func(ctx context.Context, w http.ResponseWriter)
	// Done, when set, runs once the body has been written.
	Done func()
}

// JSON is a Response of status with v as its JSON body, or of a 500 with
// fallback when v does not encode.
func JSON(status int, v any, fallback string) *Response {
	b, err := json.Marshal(v)
	if err != nil {
		b, status = []byte(fallback), http.StatusInternalServerError
	}
	return &Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

// Answer is the frame of a stand-in's ServeHTTP. It reads r's body, at most
// maxBody bytes, counts the request's arrival under key(r), and has answer
// compute the whole response (readErr is the read's error, an
// *http.MaxBytesError past maxBody). It has record note the status
// answered, 499 when answer gives nil (the client left first), and then
// writes the response: its headers, Content-Type application/json unless
// it names one, and its body.
func Answer[S, C any](st *Stand[S, C], w http.ResponseWriter, r *http.Request, maxBody int64, key func(*http.Request) string,
	answer func(body []byte, readErr error) *Response, record func(status int)) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	st.mu.Lock()
	if st.arrived == nil {
		st.arrived = map[string]int{}
	}
	st.arrived[key(r)]++
	st.mu.Unlock()
	resp := answer(body, readErr)
	if resp == nil {
		record(499)
		return
	}
	if resp.Done != nil {
		defer resp.Done()
	}
	record(resp.Status)
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	if resp.Stream != nil {
		w.WriteHeader(resp.Status)
		resp.Stream(r.Context(), w)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// Record appends c to the calls st answered.
func Record[S, C any](st *Stand[S, C], c C) { st.calls.Record(c) }
