package openrouter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/tzurot/tzurot/internal/llmparams"
)

// roundTripFunc lets a test stand in for the base transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestChatFollowsRedirectWithMergedBody makes sure the whole body, with
// OpenRouter's fields, is what a 307 replays.
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
	if _, ok := c.http.Transport.(roundTripFunc); !ok || c.http == hc {
		t.Fatalf("client transport is %T (shared client: %v), want a copy using the caller's transport", c.http.Transport, c.http == hc)
	}

	override := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF })
	c = New(Options{HTTPClient: hc, Transport: override})
	if _, err := c.http.Transport.RoundTrip(&http.Request{Header: http.Header{}}); err != io.ErrUnexpectedEOF {
		t.Errorf("Options.Transport did not win over HTTPClient.Transport: %v", err)
	}
	if _, ok := hc.Transport.(roundTripFunc); !ok {
		t.Fatal("New replaced the caller's Transport")
	}
	if _, err := hc.Transport.RoundTrip(&http.Request{Header: http.Header{}}); err != io.EOF {
		t.Error("New replaced the caller's Transport")
	}

	if c := New(Options{}); c.baseURL != DefaultBaseURL || c.timeout != DefaultTimeout || c.http.Transport == nil {
		t.Errorf("defaults: base %q timeout %s transport %T", c.baseURL, c.timeout, c.http.Transport)
	}
}
