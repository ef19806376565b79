// Package telemetrytest reads recorded spans back as text, for tests that
// check what leaves the process (no secret in any exported span).
package telemetrytest

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Text is every piece of text the spans export, one per line: each span's
// name and status description, then every attribute as key=value, with
// those of its events (after the event's name) and links.
func Text(spans ...tracetest.SpanStub) string {
	var b strings.Builder
	attrs := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			b.WriteString(string(kv.Key) + "=" + kv.Value.String() + "\n")
		}
	}
	for _, sp := range spans {
		b.WriteString(sp.Name + "\n" + sp.Status.Description + "\n")
		attrs(sp.Attributes)
		for _, ev := range sp.Events {
			b.WriteString(ev.Name + "\n")
			attrs(ev.Attributes)
		}
		for _, l := range sp.Links {
			attrs(l.Attributes)
		}
	}
	return b.String()
}
