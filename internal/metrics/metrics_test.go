package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// /healthz is alive whatever the checks say; /readyz is 200 only when every
// check passes, else 503 naming each failing one with its error.
func TestHealthAndReadiness(t *testing.T) {
	pgDown := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	var pgErr error
	checks := []Check{
		{Name: "temporal", Probe: func(context.Context) error { return nil }},
		{Name: "postgres", Probe: func(context.Context) error { return pgErr }},
	}
	h := Handler(checks)
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, h, "/readyz"); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Errorf("/readyz with every check passing = %d %q", code, body)
	}
	pgErr = pgDown
	code, body := get(t, h, "/readyz")
	var doc struct {
		Status  string            `json:"status"`
		Failing map[string]string `json:"failing"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with postgres down = %d %q (%v)", code, body, err)
	}
	if doc.Status != "not ready" || len(doc.Failing) != 1 || doc.Failing["postgres"] != pgDown.Error() {
		t.Errorf("/readyz body %+v, want postgres alone failing with its error", doc)
	}
	if code, _ := get(t, h, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d while postgres is down, want 200: the process is alive", code)
	}
}

// A probe that hangs is cut off at CheckTimeout and reported, so /readyz
// answers while a dependency stalls.
func TestReadinessProbeTimesOut(t *testing.T) {
	h := Handler([]Check{{Name: "temporal", Probe: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}})
	code, body := get(t, h, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "deadline exceeded") {
		t.Errorf("/readyz with a stalled probe = %d %q", code, body)
	}
}

// /metrics is Prometheus's text exposition of the product's metrics, named
// and labelled as README's table says.
func TestProductMetricsExposed(t *testing.T) {
	ObserveProviderRequest(ProviderOpenRouter, "test/model-a", true, 0.3)
	ObserveProviderRequest(ProviderOpenRouter, "test/model-a", false, 2)
	AddTokens(ProviderOpenRouter, "test/model-a", 120, 30)
	AddCost(ProviderOpenRouter, "test/model-a", 0.0125)
	AddCost(ProviderOpenRouter, "test/model-a", 0) // none reported: nothing
	KeyDeactivated("openrouter")
	DMSent()
	WebhookRecreated()
	DiscordRateLimited("")
	DiscordRateLimited("global")
	_, body := get(t, Handler(nil), "/metrics")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the text exposition format: %v", err)
	}
	value := func(name string, labels map[string]string) float64 {
		f, ok := families[name]
		if !ok {
			t.Errorf("/metrics lacks %s", name)
			return -1
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		t.Errorf("%s has no series %v", name, labels)
		return -1
	}
	series := map[string]string{"provider": "openrouter", "model": "test/model-a"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range series {
			m[a] = b
		}
		return m
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"tzurot_provider_request_duration_seconds", with("outcome", "ok"), 1},
		{"tzurot_provider_request_duration_seconds", with("outcome", "error"), 1},
		{"tzurot_provider_tokens_total", with("type", "prompt"), 120},
		{"tzurot_provider_tokens_total", with("type", "completion"), 30},
		{"tzurot_provider_cost_usd_total", series, 0.0125},
		{"tzurot_key_deactivations_total", map[string]string{"provider": "openrouter"}, 1},
		{"tzurot_dms_sent_total", nil, 1},
		{"tzurot_webhook_recreations_total", nil, 1},
		{"tzurot_discord_rate_limited_total", map[string]string{"scope": "user"}, 1},
		{"tzurot_discord_rate_limited_total", map[string]string{"scope": "global"}, 1},
	}
	for _, c := range checks {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if _, ok := families["go_goroutines"]; !ok {
		t.Error("/metrics lacks the Go runtime's metrics")
	}
}

// Every metric of the registry follows Prometheus's naming rules: tzurot_
// (or the SDK's temporal_, the runtime's go_ and process_, promhttp_), legal
// characters, counters ending _total.
func TestMetricNamesFollowPrometheusConventions(t *testing.T) {
	TemporalHandler().Counter("temporal_test_counter").Inc(1)
	families, err := Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, f := range families {
		name := f.GetName()
		if !model.LegacyValidation.IsValidMetricName(name) || strings.ToLower(name) != name {
			t.Errorf("%s: not snake_case", name)
		}
		if !strings.HasPrefix(name, "tzurot_") && !strings.HasPrefix(name, "temporal_") &&
			!strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "promhttp_") {
			t.Errorf("%s: no tzurot_ prefix", name)
		}
		if f.GetType().String() == "COUNTER" && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s does not end in _total", name)
		}
		seen = seen || name == "tzurot_replies_total"
	}
	if !seen {
		t.Error("tzurot_replies_total is not exported before the first reply")
	}
}

// The known label sets of the event counters are served at 0 before the
// first event (Prometheus: avoid missing metrics), so rate() and alerts see
// them from the start.
func TestKnownSeriesStartAtZero(t *testing.T) {
	families, err := Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, f := range families {
		series[f.GetName()] = len(f.GetMetric())
	}
	for name, want := range map[string]int{
		"tzurot_replies_total":              len(ReplyOutcomes) * len(KeySources),
		"tzurot_key_deactivations_total":    2,
		"tzurot_discord_rate_limited_total": 3,
	} {
		if series[name] < want {
			t.Errorf("%s has %d series before any event, want %d", name, series[name], want)
		}
	}
}
