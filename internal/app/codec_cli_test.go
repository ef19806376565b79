//go:build integration

package app_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/temporalclient"
)

// The temporal CLI, as README shows it, reads an encrypted history from the
// real dev server through the codec server only with the token
// (--codec-auth); without it, or with another, the payload stays sealed.
func TestTemporalCLIDecodesThroughTheCodecWithTheToken(t *testing.T) {
	s := itest.New(t, itest.Options{NoWorker: true})
	cli, err := itest.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	const marker = "only-the-codec-shows-this-7f3a"
	const token = "c0dec0dec0dec0dec0dec0dec0dec0de"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A workflow type no worker runs: its start event alone holds the input.
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "codec-probe-" + s.TaskQueue, TaskQueue: s.TaskQueue + "-nobody"},
		"CodecProbe", map[string]string{"note": marker})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Client.TerminateWorkflow(context.Background(), run.GetID(), "", "test over") })

	var logs itest.SyncBuffer // the codec server logs from its own goroutines
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := s.Config
	cfg.CodecAuthToken = token
	codec, err := temporalclient.Codec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := app.ServeCodec(ctx, "127.0.0.1:0", codec, app.CodecServerOptions(cfg, log), log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	endpoint := "http://" + listenedOn(t, logs.String())

	show := func(extra ...string) string {
		args := append([]string{"workflow", "show", "--workflow-id", run.GetID(), "--address", cfg.TemporalAddress,
			"--namespace", cfg.TemporalNamespace, "--codec-endpoint", endpoint, "-o", "json", "--command-timeout", "5s"}, extra...)
		out, _ := exec.CommandContext(ctx, cli, args...).CombinedOutput()
		return string(out)
	}
	if out := show("--codec-auth", "Bearer "+token); !strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(`{"note":"`+marker+`"}`))) &&
		!strings.Contains(out, marker) {
		t.Errorf("with the token the CLI did not show the input:\n%s", out)
	}
	for name, extra := range map[string][]string{
		"no token":    nil,
		"wrong token": {"--codec-auth", "Bearer " + strings.Repeat("0", 32)},
	} {
		if out := show(extra...); strings.Contains(out, marker) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(`{"note":"`+marker+`"}`))) {
			t.Errorf("%s: the CLI showed the input in clear:\n%s", name, out)
		}
	}
	if !strings.Contains(logs.String(), "codec request refused") {
		t.Errorf("the refusals were not logged: %s", logs.String())
	}
}
