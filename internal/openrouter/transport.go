package openrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// maxResponseBody bounds what one call may buffer. Image replies arrive as
// base64 data URLs, a few MiB each, so the limit is generous; it exists so a
// misbehaving upstream cannot exhaust the worker's memory.
const maxResponseBody = 64 << 20

// errResponseTooLarge is returned by the transport, and classified transient:
// the same request may well produce a smaller answer next time.
var errResponseTooLarge = fmt.Errorf("response body larger than %d MiB", maxResponseBody>>20)

// stateKey carries a *callState in a request context.
type stateKey struct{}

// callState is one Chat call's private channel to the transport: what to add
// to the request, and what came back. It is reached only through the context
// of that call's request, so concurrent calls cannot see each other's.
type callState struct {
	// extra is read-only once the call starts.
	extra map[string]any

	mu     sync.Mutex
	status int
	header http.Header
	body   []byte
}

func withState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}

// record keeps the last response: on a redirect the transport runs again and
// only the final answer is the one go-openai decoded.
func (s *callState) record(status int, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.header, s.body = status, header, body
}

// result returns what was recorded; status is 0 when no response arrived.
func (s *callState) result() (status int, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.header, s.body
}

// transport is the OpenRouter layer between go-openai and the base
// transport (which the product wraps with otelhttp, so spans see the final
// body and headers).
type transport struct {
	base    http.RoundTripper
	referer string
	title   string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := stateFrom(req.Context())

	// A RoundTripper must not modify the caller's request.
	out := req.Clone(req.Context())
	if t.referer != "" {
		out.Header.Set("HTTP-Referer", t.referer)
	}
	if t.title != "" {
		out.Header.Set("X-Title", t.title)
	}

	if st != nil && len(st.extra) > 0 && req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading request body: %w", err)
		}
		merged, err := mergeFields(body, st.extra)
		if err != nil {
			return nil, err
		}
		out.Body = io.NopCloser(bytes.NewReader(merged))
		out.ContentLength = int64(len(merged))
		out.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(merged)), nil
		}
	}

	resp, err := t.base.RoundTrip(out)
	if err != nil || st == nil {
		return resp, err
	}

	// Buffer the whole body so go-openai can decode it and Chat can read it
	// again for the fields go-openai drops. Non-streaming replies only, which
	// is all this package sends.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > maxResponseBody {
		return nil, errResponseTooLarge
	}
	st.record(resp.StatusCode, resp.Header.Clone(), body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// mergeFields sets each extra field at the top level of a JSON object,
// replacing any field of the same name, so each parameter appears exactly
// once whatever go-openai put there.
func mergeFields(body []byte, extra map[string]any) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object: %w", err)
	}
	if obj == nil {
		return nil, errors.New("request body is not a JSON object: null")
	}
	for k, v := range extra {
		raw, err := marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encoding request field %q: %w", k, err)
		}
		obj[k] = raw
	}
	return marshal(obj)
}

// marshal is json.Marshal without HTML escaping: stop sequences like "</s>"
// should reach the provider as written, not as \u003c/s\u003e, even though
// both decode the same.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
