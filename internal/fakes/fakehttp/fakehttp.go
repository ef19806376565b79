// Package fakehttp is what the network-edge stand-ins (internal/fakes/...)
// share: serving outside httptest (on a listener, until a context ends, then
// shut down gracefully), scripted delays, per-key script queues and call
// logs, the frame of a provider stand-in's request (Stand: read, count,
// answer, record, write), and raw requests for their protocol tests.
package fakehttp

import (
	"context"
	"errors"
	"net"
	"net/http"
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
