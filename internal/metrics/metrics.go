// Package metrics holds what a tzurot process measures: the one Prometheus
// registry it serves on METRICS_ADDR, the Temporal SDK's metrics handler
// writing into it, and the product's own metrics with the functions the code
// records them through. Names follow Prometheus's "Metric and label naming"
// (https://prometheus.io/docs/practices/naming/): a tzurot_ prefix,
// snake_case, base units in the name (_seconds, _usd), _total on counters.
// Labels are low-cardinality only: never a user id, a key or any content.
package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/opentelemetry"
)

// Registry is the process's one registry: the product's metrics below, the
// Temporal SDK's (through [TemporalHandler]), and the Go runtime's and the
// process's own (go_*, process_*).
var Registry = prometheus.NewRegistry()

// durationBuckets are the histogram buckets, in seconds, of every latency:
// from a local activity (5 ms) to a slow model's answer (2 minutes).
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// Label values of the product's metrics.
const (
	// Providers, as usage_logs.provider names them.
	ProviderOpenRouter = "openrouter"
	ProviderElevenLabs = "elevenlabs"
	// OutcomeOK and OutcomeError are a provider request's outcome: an answer
	// (2xx), or anything else (an error status, a transport failure).
	OutcomeOK    = "ok"
	OutcomeError = "error"
	// KeyUnknown is tzurot_replies_total's key_source for a reply that
	// ended before it knew whose key would pay (no such personality, a
	// failure that does not say).
	KeyUnknown = "unknown"
)

var (
	providerDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tzurot_provider_request_duration_seconds",
		Help:    "Time of one provider request (OpenRouter chat or embeddings, ElevenLabs speech), by provider, model and outcome (ok, error).",
		Buckets: durationBuckets,
	}, []string{"provider", "model", "outcome"})
	tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tzurot_provider_tokens_total",
		Help: "Tokens billed by the provider, as usage_logs records them, by provider, model and type (prompt, completion).",
	}, []string{"provider", "model", "type"})
	cost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tzurot_provider_cost_usd_total",
		Help: "What provider calls cost, in US dollars, as the provider reported it, by provider and model.",
	}, []string{"provider", "model"})
	keyDeactivations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tzurot_key_deactivations_total",
		Help: "Users' API keys switched off because the provider refused them, by provider.",
	}, []string{"provider"})
	dmsSent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tzurot_dms_sent_total",
		Help: "Direct messages the bot sent to users (a key switched off, an export).",
	})
	webhookRecreations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tzurot_webhook_recreations_total",
		Help: "Channel webhooks created again because Discord no longer knew the one in use.",
	})
	replies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tzurot_replies_total",
		Help: "Replies GenerateReply finished, each once (recorded in the database first), by outcome and key_source.",
	}, []string{"outcome", "key_source"})
	discordRateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tzurot_discord_rate_limited_total",
		Help: "HTTP 429 answers from Discord's REST API, by scope (user, global, shared: its X-RateLimit-Scope).",
	}, []string{"scope"})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		providerDuration, tokens, cost, keyDeactivations, dmsSent, webhookRecreations, discordRateLimited, replies,
	)
	// Every known series from the start, at 0, so a rate() over them works
	// before the first event (Prometheus's "avoid missing metrics").
	for _, o := range ReplyOutcomes {
		for _, k := range KeySources {
			replies.WithLabelValues(o, k)
		}
	}
	for _, p := range []string{ProviderOpenRouter, ProviderElevenLabs} {
		keyDeactivations.WithLabelValues(p)
	}
	for _, scope := range []string{"user", "global", "shared"} {
		discordRateLimited.WithLabelValues(scope)
	}
}

// ObserveProviderRequest records one provider request of seconds for model;
// ok says whether it was answered.
func ObserveProviderRequest(provider, model string, ok bool, seconds float64) {
	outcome := OutcomeOK
	if !ok {
		outcome = OutcomeError
	}
	providerDuration.WithLabelValues(provider, model, outcome).Observe(seconds)
}

// AddTokens counts the prompt and completion tokens of one call of model.
func AddTokens(provider, model string, prompt, completion int) {
	if prompt > 0 {
		tokens.WithLabelValues(provider, model, "prompt").Add(float64(prompt))
	}
	if completion > 0 {
		tokens.WithLabelValues(provider, model, "completion").Add(float64(completion))
	}
}

// AddCost counts what one call of model cost, in US dollars, as
// usage_logs.cost_usd keeps it; activities' writeUsage calls it when it
// wrote the row, so once per call. A cost ≤ 0 adds nothing.
func AddCost(provider, model string, usd float64) {
	if usd > 0 {
		cost.WithLabelValues(provider, model).Add(usd)
	}
}

// KeyDeactivated counts a user's key of provider switched off.
func KeyDeactivated(provider string) { keyDeactivations.WithLabelValues(provider).Inc() }

// DMSent counts a direct message sent to a user.
func DMSent() { dmsSent.Inc() }

// WebhookRecreated counts a channel webhook created again.
func WebhookRecreated() { webhookRecreations.Inc() }

// DiscordRateLimited counts a 429 from Discord; scope is its
// X-RateLimit-Scope header ("user", "global", "shared"), or "" when absent
// (then "user", Discord's default for per-route limits).
func DiscordRateLimited(scope string) {
	switch scope {
	case "global", "shared":
	default:
		scope = "user"
	}
	discordRateLimited.WithLabelValues(scope).Inc()
}

// ReplyOutcomes and KeySources are tzurot_replies_total's label values
// (GenerateReply's outcomes; searchattr's key sources and KeyUnknown),
// every pair of which is exported at 0 from the start.
var (
	ReplyOutcomes = []string{"replied", "key_rejected", "no_key", "rate_limited", "failed", "denied"}
	KeySources    = []string{"user", "operator", "none", KeyUnknown}
)

// CountReply counts one finished reply by its outcome (GenerateReply's:
// replied, key_rejected, no_key, rate_limited, failed, denied) and key source
// (user, operator, none, unknown). The caller makes it once per reply:
// activities' CountReply calls it only when it newly recorded the reply's
// row (store.Once), so a retried workflow task or activity adds nothing.
func CountReply(outcome, keySource string) { replies.WithLabelValues(outcome, keySource).Inc() }

// TemporalHandler is the Temporal SDK's metrics handler for
// client.Options.MetricsHandler: the SDK's metrics (temporal_*: task
// latencies, slots, polls, failures; https://docs.temporal.io/references/sdk-metrics)
// through an OpenTelemetry meter
// exported into [Registry]. Timers become _seconds histograms with
// durationBuckets, counters _total counters. One handler per process.
var TemporalHandler = sync.OnceValue(func() client.MetricsHandler {
	exp, err := otelprom.New(
		otelprom.WithRegisterer(Registry),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
	)
	if err != nil {
		// Only a second registration into Registry fails, which the
		// sync.OnceValue rules out.
		panic("metrics: the Temporal SDK's exporter: " + err.Error())
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exp),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Name: "*", Unit: "s"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: durationBuckets}},
		)),
	)
	return opentelemetry.NewMetricsHandler(opentelemetry.MetricsHandlerOptions{
		Meter:                mp.Meter("go.temporal.io/sdk"),
		UseMonotonicCounters: true,
		OnError:              func(error) {}, // an instrument the SDK could not make is left out
	})
})

// Sum is the total, over the series of the metric name whose labels include
// every pair of labels, of their counter values (a histogram's: its sample
// count); 0 when none match. For tests and diagnostics: it gathers the whole
// registry.
func Sum(name string, labels map[string]string) float64 {
	families, err := Registry.Gather()
	if err != nil {
		return 0
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			total += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}
