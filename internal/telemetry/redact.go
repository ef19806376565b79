package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tzurot/tzurot/internal/redact"
)

// Redact wraps exp so that no span leaves the process with a secret in it:
// every span's name, string attributes, status description, and event and
// link attributes pass through [redact.String] on the way out. It is the
// one choke point for every instrumentation: otelhttp records the whole
// request URL as url.full — for a Discord webhook or interaction call, the
// token in its path — and a failed call's error text as the status and
// in an exception event; Temporal's interceptor records errors the same way.
// otelhttp has no option to rewrite url.full, and span processors only see
// a span read-only once its attributes are final, hence the exporter.
func Redact(exp sdktrace.SpanExporter) sdktrace.SpanExporter {
	return redactingExporter{exp}
}

type redactingExporter struct{ sdktrace.SpanExporter }

func (e redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		out[i] = redactedSpan{s}
	}
	return e.SpanExporter.ExportSpans(ctx, out)
}

// redactedSpan overrides the parts of a span that carry text. Embedding the
// SDK's interface keeps the rest (and its unexported method) as it is.
type redactedSpan struct{ sdktrace.ReadOnlySpan }

func (s redactedSpan) Name() string { return redact.String(s.ReadOnlySpan.Name()) }

func (s redactedSpan) Attributes() []attribute.KeyValue {
	return redactAttrs(s.ReadOnlySpan.Attributes())
}

func (s redactedSpan) Status() sdktrace.Status {
	st := s.ReadOnlySpan.Status()
	st.Description = redact.String(st.Description)
	return st
}

func (s redactedSpan) Events() []sdktrace.Event {
	in := s.ReadOnlySpan.Events()
	out := make([]sdktrace.Event, len(in))
	for i, ev := range in {
		ev.Name = redact.String(ev.Name)
		ev.Attributes = redactAttrs(ev.Attributes)
		out[i] = ev
	}
	return out
}

func (s redactedSpan) Links() []sdktrace.Link {
	in := s.ReadOnlySpan.Links()
	out := make([]sdktrace.Link, len(in))
	for i, l := range in {
		l.Attributes = redactAttrs(l.Attributes)
		out[i] = l
	}
	return out
}

// redactAttrs returns attrs with string values masked, copying only when
// one changes (the SDK may share the slice with other processors).
func redactAttrs(attrs []attribute.KeyValue) []attribute.KeyValue {
	var out []attribute.KeyValue
	for i, a := range attrs {
		v, changed := redactValue(a.Value)
		if !changed {
			continue
		}
		if out == nil {
			out = append([]attribute.KeyValue(nil), attrs...)
		}
		out[i] = attribute.KeyValue{Key: a.Key, Value: v}
	}
	if out == nil {
		return attrs
	}
	return out
}

func redactValue(v attribute.Value) (attribute.Value, bool) {
	switch v.Type() {
	case attribute.STRING:
		if s := redact.String(v.AsString()); s != v.AsString() {
			return attribute.StringValue(s), true
		}
	case attribute.STRINGSLICE:
		in := v.AsStringSlice()
		out := make([]string, len(in))
		changed := false
		for i, s := range in {
			out[i] = redact.String(s)
			changed = changed || out[i] != s
		}
		if changed {
			return attribute.StringSliceValue(out), true
		}
	}
	return v, false
}
