package redact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
)

// noTime drops the timestamp so outputs of two handlers can be compared.
func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// logJSON runs log against a redacting handler over a JSON handler and
// returns the raw output.
func logJSON(t *testing.T, log func(*slog.Logger)) string {
	t.Helper()
	var buf bytes.Buffer
	log(slog.New(NewHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: noTime}))))
	return buf.String()
}

// field walks nested JSON objects along path.
func field(t *testing.T, line string, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, line)
	}
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no object at %q in %s", key, line)
		}
		if v, ok = m[key]; !ok {
			t.Fatalf("missing key %q in %s", key, line)
		}
	}
	return v
}

// credentials logs as a group, the way a config type would via LogValuer.
type credentials struct{ Provider, Key string }

func (c credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("provider", c.Provider), slog.String("key", c.Key))
}

// upstreamRequest hides its token behind a pointer, which %+v prints only as
// an address but JSONHandler marshals in full.
type upstreamRequest struct {
	Model string
	Auth  *struct{ Token string }
}

func TestHandlerRedactsEverywhere(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		path []string // where the redacted value lands in the JSON output
		want any
	}{
		{"message",
			func(l *slog.Logger) { l.Info("retrying with " + openRouterKey) },
			[]string{"msg"}, "retrying with [REDACTED]"},
		{"string attribute",
			func(l *slog.Logger) { l.Info("m", "key", openRouterKey) },
			[]string{"key"}, Mask},
		{"nested groups",
			func(l *slog.Logger) {
				l.Info("m", slog.Group("req", slog.Group("auth", slog.String("key", openRouterKey))))
			},
			[]string{"req", "auth", "key"}, Mask},
		{"WithGroup then WithAttrs",
			func(l *slog.Logger) { l.WithGroup("openrouter").With("key", openRouterKey).Info("m") },
			[]string{"openrouter", "key"}, Mask},
		{"WithAttrs group then WithGroup",
			func(l *slog.Logger) {
				l.With(slog.Group("cfg", "key", openRouterKey)).WithGroup("call").Info("m", "n", 1)
			},
			[]string{"cfg", "key"}, Mask},
		{"wrapped error",
			func(l *slog.Logger) {
				err := fmt.Errorf("call failed: %w", errors.New("invalid key "+openRouterKey))
				l.Error("m", slog.Any("err", err))
			},
			[]string{"err"}, "call failed: invalid key [REDACTED]"},
		{"Stringer",
			func(l *slog.Logger) {
				u := &url.URL{Scheme: "https", Host: "example.test", Path: "/v1", RawQuery: "key=" + googleKey}
				l.Info("m", "url", u)
			},
			[]string{"url"}, "https://example.test/v1?key=[REDACTED]"},
		{"LogValuer resolving to a group",
			func(l *slog.Logger) { l.Info("m", "creds", credentials{"openrouter", openRouterKey}) },
			[]string{"creds", "key"}, Mask},
		{"struct printed with %+v",
			func(l *slog.Logger) {
				l.Info("m", "cfg", struct{ Model, APIKey string }{"gpt", openAIKey})
			},
			[]string{"cfg"}, "{Model:gpt APIKey:[REDACTED]}"},
		{"struct hiding the key behind a pointer",
			func(l *slog.Logger) {
				req := upstreamRequest{Model: "gpt", Auth: &struct{ Token string }{openRouterKey}}
				l.Info("m", "req", req)
			},
			// %+v shows only the pointer, so the JSON form is what gets
			// redacted, and it is kept as text rather than re-nested.
			[]string{"req"}, `{"Model":"gpt","Auth":{"Token":"[REDACTED]"}}`},
		{"slice",
			func(l *slog.Logger) { l.Info("m", "args", []string{"--key", anthropicKey}) },
			[]string{"args"}, "[--key [REDACTED]]"},
		{"byte slice",
			func(l *slog.Logger) { l.Info("m", "body", []byte(`{"key":"`+elevenLabsKey+`"}`)) },
			[]string{"body"}, `{"key":"[REDACTED]"}`},
		{"Secret",
			func(l *slog.Logger) { l.Info("m", "key", Secret(openRouterKey)) },
			[]string{"key"}, Mask},
		{"attribute key is kept, value masked",
			func(l *slog.Logger) { l.Info("m", "authorization", "Bot "+discordToken) },
			[]string{"authorization"}, "Bot [REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := logJSON(t, tt.log)
			for _, secret := range allFakes() {
				if strings.Contains(out, secret) {
					t.Errorf("output contains secret %q:\n%s", secret, out)
				}
			}
			if !strings.Contains(out, Mask) {
				t.Errorf("output lacks %s:\n%s", Mask, out)
			}
			if tt.path != nil {
				if got := field(t, out, tt.path...); got != tt.want {
					t.Errorf("%v = %#v, want %#v", tt.path, got, tt.want)
				}
			}
		})
	}
}

// A record with no secret must come out exactly as the inner handler would
// write it: values are only rewritten when that hides something, so numbers,
// times, slices and structs keep their native JSON form.
func TestHandlerLeavesCleanRecordsUntouched(t *testing.T) {
	log := func(l *slog.Logger) {
		l.With("service", "gateway").WithGroup("req").Info("completed",
			"status", 200,
			"ok", true,
			"latency", 1500*time.Millisecond,
			"at", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
			"ids", []int{1, 2},
			"user", struct{ Name string }{"alice"},
			"err", errors.New("rate limited"),
			slog.Group("model", "name", "openai/gpt-4o-mini", "version", "1.2.3"),
		)
	}
	var plain bytes.Buffer
	log(slog.New(slog.NewJSONHandler(&plain, &slog.HandlerOptions{ReplaceAttr: noTime})))

	if got := logJSON(t, log); got != plain.String() {
		t.Errorf("redacting handler changed a clean record\n got %s\nwant %s", got, plain.String())
	}
}

type panickyStringer struct{ name string }

func (p *panickyStringer) String() string { return p.name } // panics on nil

// The standard handlers survive a String method that panics; wrapping them
// must not turn that into a crash at the log call site.
func TestHandlerSurvivesPanickingStringer(t *testing.T) {
	out := logJSON(t, func(l *slog.Logger) {
		l.Info("m", "x", (*panickyStringer)(nil), "key", openRouterKey)
	})
	if got := field(t, out, "key"); got != Mask {
		t.Errorf("key = %v, want %s", got, Mask)
	}
}

func TestHandlerEnabledDelegates(t *testing.T) {
	h := NewHandler(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	if h.Enabled(ctx, slog.LevelInfo) {
		t.Error("Info enabled, want the inner handler's Warn threshold")
	}
	if !h.Enabled(ctx, slog.LevelError) {
		t.Error("Error disabled, want enabled")
	}
}

func TestNewHandlerDoesNotDoubleWrap(t *testing.T) {
	h := NewHandler(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	if NewHandler(h) != h {
		t.Error("wrapping a redacting handler again should return it as is")
	}
}

// slogtest checks the handler rules every slog.Handler must follow (resolve
// values, inline empty-key groups, drop empty groups, and so on).
func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	newHandler := func(*testing.T) slog.Handler {
		buf.Reset()
		return NewHandler(slog.NewJSONHandler(&buf, nil))
	}
	result := func(t *testing.T) map[string]any {
		m := map[string]any{}
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	slogtest.Run(t, newHandler, result)
}
