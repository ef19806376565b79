//go:build integration

package temporalsetup_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/internal/temporalsetup"
)

func TestMain(m *testing.M) { itest.Main(m) }

// configFor is the configuration of a process on the tests' dev server, in
// namespace.
func configFor(t *testing.T, namespace string) config.Config {
	t.Helper()
	env := map[string]string{"TEMPORAL_ADDRESS": itest.HostPort(t), "TEMPORAL_NAMESPACE": namespace, "APP_MASTER_KEY": itest.MasterKey}
	cfg, err := config.Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// `tzurot temporal setup` on a new namespace registers every attribute,
// then runs the further steps in order; run again, it adds nothing and runs
// them again; a failing step names itself.
func TestSetupRegistersThenRunsTheStepsAgainAndAgain(t *testing.T) {
	ctx := context.Background()
	cfg := configFor(t, itest.AttributesNamespace)
	log := slog.New(slog.DiscardHandler)
	var out strings.Builder
	if err := temporalsetup.Run(ctx, cfg, &out, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "registered TzurotUser, TzurotPersonality") {
		t.Errorf("first run said %q", out.String())
	}
	c, _, err := temporalclient.Dial(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	set, err := searchattr.Registered(ctx, c.OperatorService(), cfg.TemporalNamespace)
	if err != nil || len(set) != len(searchattr.All) {
		t.Fatalf("registered %v, err %v", set, err)
	}

	var ran []string
	step := func(name string, fail error) temporalsetup.Step {
		return temporalsetup.Step{Name: name, Run: func(_ context.Context, c client.Client, cfg config.Config) ([]string, error) {
			if c == nil || cfg.TemporalNamespace != itest.AttributesNamespace {
				t.Errorf("step %s got client %v, namespace %q", name, c, cfg.TemporalNamespace)
			}
			ran = append(ran, name)
			return nil, fail
		}}
	}
	out.Reset()
	steps := []temporalsetup.Step{step("retention schedules", nil), step("something else", nil)}
	if err := temporalsetup.RunSteps(ctx, c, cfg, &out, steps); err != nil {
		t.Fatal(err)
	}
	want := "search attributes on namespace tzurot-attributes: all 8 already registered\nretention schedules: done\nsomething else: done\n"
	if out.String() != want || strings.Join(ran, ",") != "retention schedules,something else" {
		t.Errorf("second run said %q, ran %v", out.String(), ran)
	}
	err = temporalsetup.RunSteps(ctx, c, cfg, &out, []temporalsetup.Step{step("broken", errors.New("no schedules here")), step("after", nil)})
	if err == nil || err.Error() != "broken: no schedules here" || ran[len(ran)-1] != "broken" {
		t.Errorf("a failing step: err %v, ran %v", err, ran)
	}
}

// `tzurot dev`'s part registers them too, and a server it cannot reach is
// only logged.
func TestDevRegistersOrLogs(t *testing.T) {
	ctx := context.Background()
	cfg := configFor(t, "default")
	var logs strings.Builder
	temporalsetup.Dev(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "search attributes on namespace default") {
		t.Fatalf("logged %q", logs.String())
	}
	c, _, err := temporalclient.Dial(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if set, err := searchattr.Registered(ctx, c.OperatorService(), "default"); err != nil || len(set) != len(searchattr.All) {
		t.Fatalf("registered %v, err %v", set, err)
	}
	logs.Reset()
	cfg.TemporalNamespace = "no-such-namespace"
	temporalsetup.Dev(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "the namespace is not fully set up") {
		t.Errorf("logged %q", logs.String())
	}
}

// Started beside a Temporal that does not listen yet (docker-compose's setup
// service and the dev server come up together), setup waits for it and then
// registers the attributes, instead of failing at the first refused
// connection.
func TestSetupWaitsForTemporal(t *testing.T) {
	cfg := configFor(t, itest.AttributesNamespace)
	late := lateAddress(t, itest.HostPort(t), 2*time.Second)
	cfg.TemporalAddress = late
	var out strings.Builder
	var logs itest.SyncBuffer
	if err := temporalsetup.Run(context.Background(), cfg, &out, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatalf("setup against a Temporal up after 2 s: %v", err)
	}
	if !strings.Contains(logs.String(), "Temporal does not answer yet; trying again") || !strings.Contains(out.String(), "search attributes on namespace") {
		t.Errorf("setup said %q, logged %q: want a retry, then the attributes", out.String(), logs.String())
	}
}

// lateAddress is a loopback address that refuses connections for delay,
// then forwards each to target.
func lateAddress(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused until the proxy listens again
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		select {
		case <-time.After(delay):
		case <-stop:
			return
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
			return
		}
		go func() { <-stop; ln.Close() }()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, in) }()
				_, _ = io.Copy(in, up)
			}()
		}
	}()
	return addr
}
