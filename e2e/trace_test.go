//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// One trace follows a message from the starter (the bot) through the workflow
// and its activities to the HTTP call to the provider.
func TestOneTraceFromWorkflowStartToProviderCall(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	s := userKeyStack(t, itest.Options{GuestMode: config.GuestAll}, "openrouter/free")

	ctx, root := tp.Tracer("test").Start(context.Background(), "discord message")
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GenerateReplyID("trace-1"), TaskQueue: s.TaskQueue},
		workflows.GenerateReplyName, workflows.GenerateReplyInput{
			RequestID: "trace-1", DiscordUserID: aliceID, Username: "alice", Personality: "Kerach",
			ChannelID: channelID, MessageID: "800000000000000011", Content: "hello there",
		})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.GenerateReplyResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	root.End()
	_ = tp.ForceFlush(context.Background())

	traceID := root.SpanContext().TraceID()
	seen := map[string]bool{}
	for _, sp := range rec.Ended() {
		if sp.SpanContext().TraceID() != traceID {
			continue
		}
		name := sp.Name()
		for _, a := range sp.Attributes() {
			if (a.Key == "url.full" || a.Key == "http.url") && strings.Contains(a.Value.AsString(), "/chat/completions") {
				name = "provider call"
			}
		}
		seen[name] = true
	}
	for _, want := range []string{"StartWorkflow:GenerateReply", "RunWorkflow:GenerateReply", "RunActivity:GenerateWithinLimits", "provider call"} {
		if !seen[want] {
			t.Errorf("trace has no %q span; it has %v", want, keys(seen))
		}
	}
	// The provider saw the same trace in its traceparent header.
	calls := s.OpenRouter.CallsFor(userKey)
	if len(calls) == 0 || !strings.Contains(calls[len(calls)-1].Headers.Get("Traceparent"), traceID.String()) {
		t.Errorf("provider call carried no traceparent for trace %s", traceID)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
