package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A value no pattern recognises: Secret must hide it on its own.
const plainSecret = "hunter2-fake-unpatterned"

func TestSecretNeverPrints(t *testing.T) {
	s := Secret(plainSecret)
	tests := []struct {
		name string
		got  string
	}{
		{"%v", fmt.Sprintf("%v", s)},
		{"%s", fmt.Sprintf("%s", s)},
		{"%#v", fmt.Sprintf("%#v", s)},
		{"%+v", fmt.Sprintf("%+v", s)},
		{"%q", fmt.Sprintf("%q", s)},
		{"%x", fmt.Sprintf("%x", s)},
		{"Sprint", fmt.Sprint(s)},
		{"String", s.String()},
		{"GoString", s.GoString()},
		{"field of a struct with %+v", fmt.Sprintf("%+v", struct{ Key Secret }{s})},
		{"field of a struct with %#v", fmt.Sprintf("%#v", struct{ Key Secret }{s})},
		{"JSON", mustJSON(t, struct{ Key Secret }{s})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.got, plainSecret) {
				t.Errorf("revealed the secret: %s", tt.got)
			}
			if !strings.Contains(tt.got, Mask) {
				t.Errorf("got %q, want it to contain %s", tt.got, Mask)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Secret relies on LogValuer, so it stays hidden even under a plain handler
// that does no redaction of its own.
func TestSecretAsSlogAttr(t *testing.T) {
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"redacting json": func(b *bytes.Buffer) slog.Handler {
			return NewHandler(slog.NewJSONHandler(b, nil))
		},
	}
	for name, newHandler := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(newHandler(&buf)).With("cfg", struct{ Key Secret }{plainSecret}).
				Info("m", "key", Secret(plainSecret), slog.Group("g", "key", Secret(plainSecret)))
			out := buf.String()
			if strings.Contains(out, plainSecret) {
				t.Errorf("revealed the secret:\n%s", out)
			}
			if n := strings.Count(out, Mask); n != 3 {
				t.Errorf("found %d masks, want 3:\n%s", n, out)
			}
		})
	}
}

func TestSecretRevealAndUnmarshal(t *testing.T) {
	if got := Secret(plainSecret).Reveal(); got != plainSecret {
		t.Errorf("Reveal() = %q, want %q", got, plainSecret)
	}
	// Masking on output must not break loading a Secret from config.
	var cfg struct{ Key Secret }
	if err := json.Unmarshal([]byte(`{"Key":"`+plainSecret+`"}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Key.Reveal() != plainSecret {
		t.Errorf("unmarshalled %q, want %q", cfg.Key.Reveal(), plainSecret)
	}
}
