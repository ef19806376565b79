package redact

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// handler redacts records and delegates everything else to inner. It holds no
// state of its own: attributes and groups are pushed into inner as they
// arrive, so output formatting stays entirely the inner handler's business.
type handler struct {
	inner slog.Handler
}

// NewHandler returns a handler that redacts secrets from the message and from
// every attribute value (at any group depth, including those added with
// [slog.Logger.With]) before passing the record to inner. Attribute keys and
// group names are left alone: they are chosen by the program, not by data.
func NewHandler(inner slog.Handler) slog.Handler {
	if h, ok := inner.(*handler); ok {
		// Redacting twice is harmless but costs a second pass per record.
		return h
	}
	return &handler{inner: inner}
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle builds a fresh record rather than mutating r: a Record shares attr
// storage with its copies, and other handlers (or the caller) may still hold
// one.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, redactAttr(a))
		return true
	})
	out.AddAttrs(attrs...)
	return h.inner.Handle(ctx, out)
}

// WithAttrs redacts eagerly: these attrs are formatted once by inner and then
// reused for every record, so this is the only chance to see them.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return &handler{inner: h.inner.WithAttrs(red)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{inner: h.inner.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	a.Value = redactValue(a.Value)
	return a
}

func redactValue(v slog.Value) slog.Value {
	// Resolve first: a LogValuer may return a string or group holding a
	// secret, and inner would resolve it after we have looked.
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if red := String(s); red != s {
			return slog.StringValue(red)
		}
		return v
	case slog.KindGroup:
		group := v.Group()
		red := make([]slog.Attr, len(group))
		for i, a := range group {
			red[i] = redactAttr(a)
		}
		return slog.GroupValue(red...)
	case slog.KindAny:
		return redactAny(v)
	default:
		// Numbers, bools, durations and times cannot carry a secret.
		return v
	}
}

// redactAny checks the text forms a handler might print for an arbitrary
// value. The original value is kept unless it would reveal a secret, so that
// structs, slices and the like still render natively (as JSON objects, say).
func redactAny(v slog.Value) (out slog.Value) {
	defer func() {
		// A String or Error method may panic (typically on a nil receiver).
		// The standard handlers recover from that and print a placeholder;
		// leave the value to them rather than crash the caller's log call.
		if recover() != nil {
			out = v
		}
	}()

	x := v.Any()
	if x == nil {
		return v
	}

	var text string
	switch x := x.(type) {
	case error:
		text = x.Error()
	case fmt.Stringer:
		text = x.String()
	case []byte:
		// TextHandler prints byte slices as text.
		text = string(x)
	default:
		text = fmt.Sprintf("%+v", x)
	}
	if red := String(text); red != text {
		return slog.StringValue(red)
	}

	// JSONHandler marshals values (errors only if they are json.Marshalers),
	// which can reveal what the text form hid: fields behind nested pointers
	// (%+v prints only their address) or fields a String method leaves out.
	_, isErr := x.(error)
	_, isMarshaler := x.(json.Marshaler)
	if !isErr || isMarshaler {
		if b, err := json.Marshal(x); err == nil {
			s := string(b)
			if red := String(s); red != s {
				return slog.StringValue(red)
			}
		}
	}
	return v
}
