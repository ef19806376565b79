package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/payloadcodec"
)

// codecConfig is the configuration `tzurot codec-server` reads, from env.
func codecConfig(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The codec server as `tzurot codec-server` and `tzurot dev` run it: on a
// real listener, from the configuration.
func TestServeCodec(t *testing.T) {
	codec, err := payloadcodec.New(bytes.Repeat([]byte{3}, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := codec.DataConverter().ToPayload("the user's words")
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	post := func(t *testing.T, url, origin, auth string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url+"/decode", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}

	if !payloadcodec.IsLoopback(app.CodecAddress) {
		t.Errorf("the default codec address %s is not loopback", app.CodecAddress)
	}

	t.Run("loopback, defaults: the dev Web UI only, no token", func(t *testing.T) {
		var logs itest.SyncBuffer // the codec server logs from its own goroutines
		log := slog.New(slog.NewTextHandler(&logs, nil))
		cfg := codecConfig(t, nil)
		stop, err := app.ServeCodec(context.Background(), "127.0.0.1:0", codec, app.CodecServerOptions(cfg, log), log)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		url := "http://" + listenedOn(t, logs.String())
		if code, b, h := post(t, url, "http://127.0.0.1:8233", ""); code != 200 || !strings.Contains(b, base64.StdEncoding.EncodeToString([]byte(`"the user's words"`))) ||
			h.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8233" {
			t.Errorf("dev Web UI: %d %s %v", code, b, h)
		}
		if code, _, h := post(t, url, "https://attacker.example", ""); code != 403 || h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("another origin: %d %v, want 403 without CORS headers", code, h)
		}
		if strings.Contains(logs.String(), "listens beyond this machine") {
			t.Errorf("a loopback codec warned: %s", logs.String())
		}
	})

	t.Run("every interface without a token is refused", func(t *testing.T) {
		log := slog.New(slog.DiscardHandler)
		_, err := app.ServeCodec(context.Background(), "0.0.0.0:0", codec, app.CodecServerOptions(codecConfig(t, nil), log), log)
		if err == nil || !strings.Contains(err.Error(), "set CODEC_AUTH_TOKEN") {
			t.Fatalf("ServeCodec on 0.0.0.0 without a token: %v, want a refusal naming CODEC_AUTH_TOKEN", err)
		}
	})

	t.Run("every interface with a token: warned, and the token required", func(t *testing.T) {
		const token = "f00dfeedf00dfeedf00dfeedf00dfeed"
		var logs itest.SyncBuffer // the codec server logs from its own goroutines
		log := slog.New(slog.NewTextHandler(&logs, nil))
		cfg := codecConfig(t, map[string]string{"CODEC_AUTH_TOKEN": token, "CODEC_CORS_ORIGINS": "https://temporal.example.org"})
		stop, err := app.ServeCodec(context.Background(), "0.0.0.0:0", codec, app.CodecServerOptions(cfg, log), log)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "listens beyond this machine") {
			t.Errorf("no warning for a codec on every interface: %s", logs.String())
		}
		if strings.Contains(logs.String(), token) {
			t.Errorf("the token reached the log: %s", logs.String())
		}
		url := "http://" + strings.Replace(listenedOn(t, logs.String()), "0.0.0.0", "127.0.0.1", 1)
		if code, _, _ := post(t, url, "", ""); code != 401 {
			t.Errorf("no token: %d, want 401", code)
		}
		if code, _, _ := post(t, url, "http://127.0.0.1:8233", "Bearer "+token); code != 403 {
			t.Errorf("the dev origin when only https://temporal.example.org is configured: %d, want 403", code)
		}
		if code, b, h := post(t, url, "https://temporal.example.org", "Bearer "+token); code != 200 ||
			h.Get("Access-Control-Allow-Origin") != "https://temporal.example.org" || !strings.Contains(b, "payloads") {
			t.Errorf("configured origin with the token: %d %s %v", code, b, h)
		}
		if !strings.Contains(logs.String(), "codec request refused") {
			t.Errorf("refusals not logged: %s", logs.String())
		}
	})
}

// listenedOn is the host:port of the codec server's "payload codec" log line.
func listenedOn(t *testing.T, logs string) string {
	t.Helper()
	m := regexp.MustCompile(`msg="payload codec for the Web UI" url=http://(\S+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no listen address in the log: %s", logs)
	}
	return m[1]
}

// `tzurot codec-server`, like the worker and the bot, logs that it started
// with its whole configuration, secrets masked.
func TestRunCodecServerLogsItsConfiguration(t *testing.T) {
	const key = "0303030303030303030303030303030303030303030303030303030303030303"
	var logs itest.SyncBuffer // the codec server logs from its own goroutines
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg := codecConfig(t, map[string]string{"APP_MASTER_KEY": key})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serves, logs, and returns at once
	if err := app.RunCodecServer(ctx, cfg, "127.0.0.1:0", log); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"codec-server started"`) || !strings.Contains(out, `"app_master_key":`) || !strings.Contains(out, `"codec_cors_origins":`) {
		t.Errorf("no start line with the configuration:\n%s", out)
	}
	if strings.Contains(out, key) {
		t.Errorf("the master key is in the log:\n%s", out)
	}
}
