package redact_test

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/tzurot/tzurot/internal/redact"
)

func ExampleNewHandler() {
	// Drop the timestamp so the output is stable.
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	logger := slog.New(redact.NewHandler(slog.NewTextHandler(os.Stdout, opts)))

	logger.Warn("openrouter request failed",
		"status", 401,
		slog.Group("req", "authorization", "Bearer fake-token-0123456789"))
	// Output:
	// level=WARN msg="openrouter request failed" status=401 req.authorization="Bearer [REDACTED]"
}

func ExampleString() {
	key := "sk-or-v1-" + strings.Repeat("0", 64) // fake
	fmt.Println(redact.String("invalid API key " + key + ", check your settings"))
	// Output:
	// invalid API key [REDACTED], check your settings
}

func ExampleSecret() {
	key := redact.Secret("fake-key")
	fmt.Printf("%v %s %#v\n", key, key, key)
	// Output:
	// [REDACTED] [REDACTED] [REDACTED]
}
