package redact

import "testing"

// A typical log line with no secret, and the dropped webhook POST's error.
var (
	cleanLine   = `{"time":"2026-11-30T07:24:17Z","level":"INFO","msg":"reply posted","workflow":"reply/800000000000000001","channel":"900000000000000001","model":"openrouter/free","tokens":1234,"latency_ms":812}`
	webhookLine = `discord post as personality: Post "https://discord.com/api/v9/webhooks/1200000000000000001/` + webhookToken + `?wait=true": EOF`
)

func BenchmarkStringClean(b *testing.B) {
	for b.Loop() {
		String(cleanLine)
	}
}

func BenchmarkStringWebhookError(b *testing.B) {
	for b.Loop() {
		String(webhookLine)
	}
}
