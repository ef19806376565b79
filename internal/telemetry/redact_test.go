package telemetry_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/telemetry"
	"github.com/tzurot/tzurot/internal/telemetry/telemetrytest"
)

func urlFull(s tracetest.SpanStub) string {
	for _, kv := range s.Attributes {
		if kv.Key == "url.full" {
			return kv.Value.AsString()
		}
	}
	return ""
}

// Spans of webhook and interaction calls made through the product's
// Discord session — succeeded or dropped by Discord — leave the process
// with the tokens in their URLs masked.
func TestDiscordCallSpansAreExportedWithoutTokens(t *testing.T) {
	exported := tracetest.NewInMemoryExporter()
	inProcess := tracetest.NewSpanRecorder() // what otelhttp recorded, before the exporter
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(telemetry.Redact(exported)), sdktrace.WithSpanProcessor(inProcess))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	fake := fakediscord.New(fakediscord.Options{})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	s, err := discordhttp.Session("test-token", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	const channel, interactionID = "900000000000000001", "1500000000000000001"
	hook, err := s.WebhookCreate(channel, "Tzurot", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "hi"}); err != nil {
		t.Fatal(err)
	}
	fake.DropNext("POST /webhooks/{webhook_id}/{webhook_token}")
	if _, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "lost"}); err == nil {
		t.Fatal("the dropped webhook POST succeeded")
	}
	in := &discordgo.Interaction{ID: interactionID, AppID: fake.Options().ApplicationID, Token: fakediscord.InteractionToken(interactionID)}
	fake.DropNext("POST /interactions/{interaction_id}/{interaction_token}/callback")
	if err := s.InteractionRespond(in, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err == nil {
		t.Fatal("the dropped callback succeeded")
	}
	if err := s.InteractionRespond(in, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FollowupMessageCreate(in, true, &discordgo.WebhookParams{Content: "done"}); err != nil {
		t.Fatal(err)
	}

	tokens := []string{hook.Token, in.Token}
	// Without the exporter's redaction the tokens would leave: otelhttp
	// records the whole URL.
	leaked := false
	for _, sp := range inProcess.Ended() {
		for _, kv := range sp.Attributes() {
			leaked = leaked || kv.Key == "url.full" && strings.Contains(kv.Value.AsString(), hook.Token)
		}
	}
	if !leaked {
		t.Fatal("no in-process span holds the webhook URL: the test no longer exercises redaction")
	}

	spans := exported.GetSpans()
	// url.full of each call, token masked: two webhook executes, two
	// callbacks, one follow-up through the application's webhook.
	want := map[string]int{
		"/webhooks/" + hook.ID + "/[REDACTED]":                    2,
		"/interactions/" + interactionID + "/[REDACTED]/callback": 2,
		"/webhooks/" + in.AppID + "/[REDACTED]":                   1,
	}
	got := map[string]int{}
	failed := 0
	for _, sp := range spans {
		text := telemetrytest.Text(sp)
		for _, tok := range tokens {
			if strings.Contains(text, tok) {
				t.Errorf("exported span %q holds a token:\n%s", sp.Name, text)
			}
		}
		for path := range want {
			if strings.Contains(urlFull(sp), path) {
				got[path]++
			}
		}
		if sp.Status.Code == codes.Error {
			failed++
		}
	}
	for path, n := range want {
		if got[path] != n {
			t.Errorf("%d exported spans with url.full containing %s, want %d", got[path], path, n)
		}
	}
	if failed != 2 {
		t.Errorf("%d failed spans, want the 2 dropped calls", failed)
	}
}

// The exporter masks every kind of text a span carries, not only url.full.
func TestRedactMasksNameStatusEventsAndLinks(t *testing.T) {
	exported := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(telemetry.Redact(exported)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	token := fakediscord.InteractionToken("1500000000000000002")
	url := "https://discord.com/api/v9/interactions/1500000000000000002/" + token + "/callback"
	_, other := tp.Tracer("t").Start(context.Background(), "other")
	other.End()
	_, sp := tp.Tracer("t").Start(context.Background(), "POST "+url,
		trace.WithLinks(trace.Link{SpanContext: other.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("why", token)}}))
	sp.SetAttributes(attribute.String("url.full", url), attribute.StringSlice("urls", []string{"ok", url}), attribute.Int("n", 1))
	sp.RecordError(errors.New(`Post "` + url + `": EOF`))
	sp.SetStatus(codes.Error, `Post "`+url+`": EOF`)
	sp.End()

	spans := exported.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans exported", len(spans))
	}
	text := telemetrytest.Text(spans[1])
	if strings.Contains(text, token) {
		t.Errorf("exported span holds the token:\n%s", text)
	}
	if n := strings.Count(text, "[REDACTED]"); n != 6 {
		t.Errorf("%d masks, want 6 (name, status, url.full, urls, exception.message, link):\n%s", n, text)
	}
	if !strings.Contains(text, "n=1") || !strings.Contains(text, `["ok",`) {
		t.Errorf("clean attributes changed:\n%s", text)
	}
}
