//go:build integration

package temporalclient_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/workflows"
)

// TestMain stops the dev server and the PostgreSQL cluster the tests started.
func TestMain(m *testing.M) { itest.Main(m) }

// tlsProxy terminates TLS with conf on a loopback port and passes each
// connection's bytes to upstream, the dev server's plain gRPC port: a
// Temporal frontend behind TLS as a production cluster has it.
func tlsProxy(t *testing.T, conf *tls.Config, upstream string) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return // no client certificate, or not ours
				}
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); up.Close() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String()
}

// The worker reaches a Temporal frontend that requires TLS with a client
// certificate through TEMPORAL_TLS_* alone, and runs the reply workflow
// there; without the client certificate the connection fails with one line
// saying where and how it tried.
func TestWorkerOverMutualTLS(t *testing.T) {
	const operatorKey = "sk-or-v1-7151715171517151715171517151715171517151715171517151715171517151"
	p := newPKI(t)
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey, NoWorker: true})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	bg := context.Background()
	pers := s.DB.Personality.Create().SetName("tls-kerach").SetDisplayName("Kerach").SaveX(bg)
	s.DB.LLMConfig.Create().SetPersonalityID(pers.ID).SetModel("anthropic/claude-sonnet-4").ExecX(bg)
	proxy := tlsProxy(t, p.serverTLS(true), itest.HostPort(t))

	env := map[string]string{}
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env["TEMPORAL_ADDRESS"] = proxy
	env["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] = p.CA

	// Without a client certificate: refused, in one line.
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	c, _, err := temporalclient.Dial(ctx, parse(t, env), s.Activities.Log)
	if err == nil {
		c.Close()
		t.Fatal("Dial without a client certificate succeeded against a frontend requiring one")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, proxy) || !strings.Contains(msg, "TLS without a client certificate") ||
		!strings.Contains(msg, "TEMPORAL_TLS_") {
		t.Errorf("error without a client certificate: %q, want one line naming the address, TLS and the variables to check", msg)
	}
	t.Logf("without a client certificate: %v", err)

	// With it: the real worker runs there and answers a reply.
	env["TEMPORAL_TLS_CLIENT_CERT_PATH"] = p.ClientCert
	env["TEMPORAL_TLS_CLIENT_KEY_PATH"] = p.ClientKey
	cfg := parse(t, env)
	wctx, stop := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- app.RunWorker(wctx, cfg, s.Activities.Log) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("RunWorker over mTLS: %v", err)
		}
	})
	rctx, rcancel := context.WithTimeout(bg, 2*time.Minute)
	defer rcancel()
	run, err := s.Client.ExecuteWorkflow(rctx, client.StartWorkflowOptions{ID: workflows.GenerateReplyID("tls-1"), TaskQueue: s.TaskQueue},
		workflows.GenerateReplyName, workflows.GenerateReplyInput{
			RequestID: "tls-1", DiscordUserID: "100000000000000001", Username: "alice", Personality: "tls-kerach",
			ChannelID: "900000000000000001", MessageID: "800000000000000001", Content: "hello over TLS",
		})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.GenerateReplyResult
	if err := run.Get(rctx, &res); err != nil {
		t.Fatalf("the reply through the worker over mTLS: %v\n%s", err, s.Logs.String())
	}
	if res.Outcome != workflows.ReplyReplied {
		t.Errorf("outcome %q, want replied", res.Outcome)
	}
}
