package redact

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret holds a credential the program knows about (an API key loaded from
// the environment, a bot token). Pattern matching in [String] is a safety net
// for secrets nobody planned for; Secret is the first line of defence for the
// ones we did plan for, including keys of unknown shape that no pattern would
// catch.
//
// Every way of printing or serialising a Secret yields [Mask]. Code that truly
// needs the value calls [Secret.Reveal], which keeps such places easy to find.
type Secret string

// Reveal returns the underlying value, for the few places that must send it
// (an HTTP header, a client constructor).
func (s Secret) Reveal() string { return string(s) }

// LogValue makes slog print Mask wherever the Secret appears, including inside
// groups and With attributes.
func (Secret) LogValue() slog.Value { return slog.StringValue(Mask) }

// String covers callers that use the Stringer interface directly.
func (Secret) String() string { return Mask }

// GoString covers %#v, which would otherwise print the raw string.
func (Secret) GoString() string { return Mask }

// Format overrides every fmt verb, not only %v and %s: %q, %x and %X would
// otherwise quote or hex-encode the underlying string.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Mask) }

// MarshalText keeps the value out of JSON, YAML and slog's text output when a
// Secret sits inside a struct that is serialised as a whole. Unmarshalling is
// unaffected, so config structs can still load a Secret.
func (Secret) MarshalText() ([]byte, error) { return []byte(Mask), nil }
