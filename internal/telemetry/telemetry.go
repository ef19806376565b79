// Package telemetry sets up OpenTelemetry tracing for a tzurot process: W3C
// trace-context propagation always (so a trace follows a message from the bot
// through the workflow to each HTTP call), and an OTLP/HTTP exporter when
// OTEL_EXPORTER_OTLP_ENDPOINT is set — the exporter reads its endpoint and
// headers from the standard OTEL_* variables itself. Every exported span
// passes through [Redact].
package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// Setup installs the global propagator and, when endpoint is set, a tracer
// provider exporting there. shutdown flushes pending spans.
func Setup(ctx context.Context, endpoint, service string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter for OTEL_EXPORTER_OTLP_ENDPOINT=%s: %w", endpoint, err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(Redact(exp)),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))),
	)
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}
