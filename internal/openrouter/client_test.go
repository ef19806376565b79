package openrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tzurot/tzurot/internal/llmparams"
)

// roundTripFunc lets a test stand in for the base transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportLeavesCallerRequestAlone(t *testing.T) {
	var sent []byte
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent, _ = io.ReadAll(r.Body)
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`))}, nil
	})
	tr := &transport{base: base, referer: "https://example.org", title: "T"}
	st := &callState{extra: map[string]any{"top_k": 5, "model": "override"}}
	req, _ := http.NewRequestWithContext(withState(context.Background(), st), http.MethodPost, "http://x/chat/completions",
		bytes.NewReader([]byte(`{"model":"m","stream":false}`)))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("X-Title") != "" || req.Header.Get("HTTP-Referer") != "" {
		t.Error("RoundTrip modified the caller's request headers")
	}
	var got map[string]any
	if err := json.Unmarshal(sent, &got); err != nil {
		t.Fatal(err)
	}
	if got["top_k"] != float64(5) || got["model"] != "override" || got["stream"] != false {
		t.Errorf("merged body = %s", sent)
	}
	if status, _, body := st.result(); status != 200 || string(body) != `{}` {
		t.Errorf("recorded %d %q", status, body)
	}
}

func TestTransportPassesThroughWithoutState(t *testing.T) {
	var sent []byte
	var title string
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent, _ = io.ReadAll(r.Body)
		title = r.Header.Get("X-Title")
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`streamed`))}, nil
	})
	tr := &transport{base: base, title: "T"}
	req, _ := http.NewRequest(http.MethodPost, "http://x/anything", strings.NewReader(`not json`))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(sent) != "not json" || string(b) != "streamed" || title != "T" {
		t.Errorf("sent %q, got %q, title %q", sent, b, title)
	}
}

func TestTransportRejectsNonObjectBody(t *testing.T) {
	called := false
	tr := &transport{base: roundTripFunc(func(*http.Request) (*http.Response, error) { called = true; return nil, nil })}
	st := &callState{extra: map[string]any{"top_k": 5}}
	req, _ := http.NewRequestWithContext(withState(context.Background(), st), http.MethodPost, "http://x", strings.NewReader(`[1]`))
	if _, err := tr.RoundTrip(req); err == nil || called {
		t.Errorf("err = %v, base called = %v; want an error before sending", err, called)
	}
}

// TestChatFollowsRedirectWithMergedBody makes sure the merged body, not
// go-openai's original, is what a 307 replays.
func TestChatFollowsRedirectWithMergedBody(t *testing.T) {
	var hits atomic.Int32
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if hits.Add(1) == 1 {
			http.Redirect(w, r, "/api/v1/moved/chat/completions", http.StatusTemporaryRedirect)
			return
		}
		answer(200, okBody)(w, r, body)
	})
	k := 7
	c := s.client(Options{})
	resp, err := c.Chat(context.Background(), testKey, ChatRequest{Model: "m", Params: llmparams.Params{TopK: &k}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Reasoning == "" {
		t.Error("reasoning lost after a redirect")
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("saw %d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if got := decodeObject(t, r.Body)["top_k"]; got != json.Number("7") {
			t.Errorf("%s: top_k = %v", r.Path, got)
		}
	}
}

func TestNewDoesNotModifyCallerClient(t *testing.T) {
	base := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, io.EOF })
	hc := &http.Client{Transport: base}
	c := New(Options{HTTPClient: hc})
	if _, ok := hc.Transport.(roundTripFunc); !ok {
		t.Fatal("New replaced the caller's Transport")
	}
	tr, ok := c.http.Transport.(*transport)
	if !ok {
		t.Fatalf("client transport is %T", c.http.Transport)
	}
	if _, ok := tr.base.(roundTripFunc); !ok {
		t.Errorf("base = %T, want the caller's transport", tr.base)
	}

	override := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF })
	c = New(Options{HTTPClient: hc, Transport: override})
	if _, err := c.http.Transport.RoundTrip(&http.Request{Header: http.Header{}}); err != io.ErrUnexpectedEOF {
		t.Errorf("Options.Transport did not win over HTTPClient.Transport: %v", err)
	}

	if c := New(Options{}); c.baseURL != DefaultBaseURL || c.timeout != DefaultTimeout {
		t.Errorf("defaults: base %q timeout %s", c.baseURL, c.timeout)
	}
}
