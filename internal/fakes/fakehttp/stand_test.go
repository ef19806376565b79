package fakehttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
	"github.com/tzurot/tzurot/internal/testwait"
)

// echo is the smallest stand-in on a Stand: it answers each request with
// its key's next scripted status (200 once none is left) and the body it
// read, and records the status it answered; the key "held" it never
// answers, until the client gives up.
type echo struct {
	fakehttp.Stand[int, int]
}

func newEcho() *echo {
	e := &echo{}
	fakehttp.Bind(&e.Stand, e)
	return e
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := func(r *http.Request) string { return r.Header.Get("X-Key") }
	fakehttp.Answer(&e.Stand, w, r, 8, key, func(body []byte, readErr error) *fakehttp.Response {
		if readErr != nil {
			return fakehttp.JSON(http.StatusRequestEntityTooLarge, map[string]string{"error": "too large"}, "")
		}
		if key(r) == "held" {
			<-r.Context().Done()
			return nil
		}
		status, ok := fakehttp.NextStep(&e.Stand, key(r))
		if !ok {
			status = http.StatusOK
		}
		return &fakehttp.Response{Status: status, Body: body}
	}, func(status int) { fakehttp.Record(&e.Stand, status) })
}

// Answer reads the body within its cap, counts the arrival, records the
// status before the client sees it (499 for a client that left), and
// writes the answer as JSON unless it names another type.
func TestStandAnswersRecordsAndCounts(t *testing.T) {
	e := newEcho()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	fakehttp.AddSteps(&e.Stand, "k", http.StatusTeapot)
	send := func(key, body string) (*http.Response, string) {
		t.Helper()
		resp, b, err := fakehttp.Request(http.MethodPost, srv.URL, http.Header{"X-Key": {key}}, body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	if resp, body := send("k", "hi"); resp.StatusCode != http.StatusTeapot || body != "hi" ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Content-Length") != "2" {
		t.Errorf("scripted answer: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, _ := send("k", "hi"); resp.StatusCode != http.StatusOK {
		t.Errorf("after the script: %d, want 200", resp.StatusCode)
	}
	if resp, _ := send("other", strings.Repeat("x", 9)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a body past the cap: %d, want 413", resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	req.Header.Set("X-Key", "held")
	done := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(req)
		done <- err
	}()
	testwait.Until(t, "the held request to arrive", func() bool { return e.Arrived("held") == 1 })
	if n := len(e.Calls()); n != 3 {
		t.Errorf("%d calls recorded while one is held, want the 3 answered", n)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the held request was answered")
	}
	testwait.Until(t, "the held request to be recorded", func() bool { return len(e.Calls()) == 4 })
	if got := e.Calls(); got[0] != 418 || got[1] != 200 || got[2] != 413 || got[3] != 499 {
		t.Errorf("calls %v, want [418 200 413 499]", got)
	}
	if e.Arrived("k") != 2 || e.Arrived("other") != 1 {
		t.Errorf("arrived k=%d other=%d, want 2 and 1", e.Arrived("k"), e.Arrived("other"))
	}
	fakehttp.Reset(&e.Stand)
	if len(e.Calls()) != 0 || e.Arrived("k") != 0 {
		t.Error("Reset kept calls or arrivals")
	}
}
