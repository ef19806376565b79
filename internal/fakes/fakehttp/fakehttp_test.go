package fakehttp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// A stand-in served on a listener answers until its context ends, then
// shuts down and reports no error.
func TestServeUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	go func() { done <- fakehttp.Serve(ctx, ln, h) }()
	resp, _, err := fakehttp.Request(http.MethodGet, "http://"+ln.Addr().String()+"/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// Request sends strings as they are and anything else as JSON, with the
// headers given, and returns the whole answer.
func TestRequestSendsBodyAndHeaders(t *testing.T) {
	seen := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- r.Header.Get("X-Test") + " " + string(b)
		_, _ = w.Write([]byte("answer"))
	}))
	t.Cleanup(srv.Close)
	for _, body := range []any{`{"raw":1}`, map[string]int{"json": 2}} {
		_, b, err := fakehttp.Request(http.MethodPost, srv.URL, http.Header{"X-Test": {"h"}}, body)
		if err != nil || string(b) != "answer" {
			t.Fatalf("Request = %q, %v", b, err)
		}
	}
	if got, want := []string{<-seen, <-seen}, []string{`h {"raw":1}`, `h {"json":2}`}; !slices.Equal(got, want) {
		t.Errorf("server saw %q, want %q", got, want)
	}
}

// Each key's steps come out in the order they were added, once each; other
// keys' queues are untouched; Reset drops them all.
func TestScriptsAreQueuedPerKey(t *testing.T) {
	var s fakehttp.Scripts[int]
	s.Add("a", 1, 2)
	s.Add("b", 9)
	s.Add("a", 3)
	var got []int
	for {
		step, ok := s.Next("a")
		if !ok {
			break
		}
		got = append(got, step)
	}
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("steps of a = %v, want [1 2 3]", got)
	}
	s.Reset()
	if _, ok := s.Next("b"); ok {
		t.Error("Reset kept b's step")
	}
}

// The log hands out copies in answer order and filters them.
func TestLogRecordsInOrder(t *testing.T) {
	var l fakehttp.Log[int]
	for i := range 4 {
		l.Record(i)
	}
	all := l.All()
	all[0] = 99
	if got := l.All(); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("All = %v after changing a copy", got)
	}
	if got := l.Where(func(i int) bool { return i%2 == 1 }); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("Where(odd) = %v", got)
	}
	l.Reset()
	if len(l.All()) != 0 {
		t.Error("Reset kept calls")
	}
}

// Wait sleeps the delay out, or reports the client's leaving first.
func TestWaitStopsWhenTheClientLeaves(t *testing.T) {
	if !fakehttp.Wait(context.Background(), time.Millisecond) {
		t.Error("Wait gave up with a live context")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if fakehttp.Wait(ctx, time.Minute) || time.Since(start) > 5*time.Second {
		t.Error("Wait did not stop when the context ended")
	}
}
