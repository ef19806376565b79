//go:build integration

package app_test

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// freeAddr is a loopback host:port nothing listens on, for METRICS_ADDR.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fetch GETs path on addr and returns the status and the body ("", 0 when
// nothing answers yet).
func fetch(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// assertReplyMetrics checks /metrics on addr after a reply by model on the
// operator's key went through the real workflow: the Temporal SDK's own
// metrics, and the product's reply counter and provider latency.
func assertReplyMetrics(t *testing.T, addr, model string) {
	t.Helper()
	want := []string{
		// The SDK's, through its metrics handler.
		`(?m)^temporal_workflow_task_schedule_to_start_latency_seconds_bucket\{`,
		`(?m)^temporal_activity_execution_latency_seconds_bucket\{.*activity_type="GenerateWithinLimits"`,
		`(?m)^temporal_worker_task_slots_available\{`,
		`(?m)^temporal_workflow_completed_total\{.*workflow_type="GenerateReply"`,
		// The product's.
		`(?m)^tzurot_replies_total\{key_source="operator",outcome="replied"\} [1-9]`,
		`(?m)^tzurot_provider_request_duration_seconds_bucket\{model="` + regexp.QuoteMeta(model) + `",outcome="ok",provider="openrouter",le="\+Inf"\} [1-9]`,
		`(?m)^tzurot_provider_tokens_total\{model="` + regexp.QuoteMeta(model) + `",provider="openrouter",type="completion"\} [1-9]`,
	}
	// The reply is seen in Discord before its workflow has completed (and
	// the SDK counted it): the scrape is repeated until every line is there.
	var body string
	missing := func() []string {
		code, b := fetch(t, addr, "/metrics")
		if code != http.StatusOK {
			t.Fatalf("/metrics = %d", code)
		}
		body = b
		var out []string
		for _, re := range want {
			if !regexp.MustCompile(re).MatchString(body) {
				out = append(out, re)
			}
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for _, re := range missing() {
		t.Errorf("/metrics has no line matching %s", re)
	}
	if t.Failed() {
		var lines []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "tzurot_") || strings.HasPrefix(l, "temporal_") {
				lines = append(lines, l)
			}
		}
		t.Logf("tzurot_ and temporal_ lines of /metrics:\n%s", strings.Join(lines, "\n"))
	}
}
