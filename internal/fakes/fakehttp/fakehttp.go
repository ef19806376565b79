// Package fakehttp serves the network-edge stand-ins (internal/fakes/...)
// outside httptest: on a listener, until a context ends, then shut down
// gracefully.
package fakehttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// ListenAndServe serves h on addr until ctx is cancelled. It returns nil
// after a cancellation-triggered shutdown.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, h)
}

// Serve is ListenAndServe on an existing listener, for callers that bind
// ":0" and need the port before serving. onShutdown run when ctx ends: the
// server's Shutdown leaves hijacked connections (websockets) alone.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, onShutdown ...func()) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	for _, f := range onShutdown {
		hs.RegisterOnShutdown(f)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := hs.Shutdown(shutCtx)
		if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
			err = serveErr
		}
		return err
	}
}

// Wait sleeps for d, as a scripted provider delay does, and reports false if
// ctx ended first (the client gave up). A d of zero or less only checks ctx.
func Wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Request sends one raw HTTP request, for tests that speak to a fake below
// a client library: body is sent as is when it is a string, as JSON
// otherwise (nil sends none), with header added. It returns the response
// with its body read whole (resp.Body is then closed).
func Request(method, url string, header http.Header, body any) (*http.Response, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}
