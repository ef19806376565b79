package openrouter

import (
	"strings"
	"time"
)

type stepKind int

const (
	stepOK stepKind = iota
	stepFail
	stepFailInBody
	stepFailInChoice
	stepReply
	stepRateLimit
	stepThink
	stepFinish
	stepFailMidStream
	stepDropMidStream
)

// Step is one scripted outcome for one chat completion call of a key.
// Build steps with Fail, FailWithRetryAfter, FailInBody, FailInChoice,
// FreeModelsPerDay, RateLimitedUntil, Think, Finish, Reply, Delay and OK.
type Step struct {
	kind       stepKind
	status     int
	retryAfter int
	content    string
	reasoning  string
	delay      time.Duration
	// rate limits
	limitName string
	limit     int
	reset     time.Time
	// Think
	thinkTokens int
	// Finish
	finish string
	// FailMidStream, DropMidStream
	afterTokens int
	// Paced
	rate *StreamRate
}

// OK lets the call through to the normal deterministic reply; it is useful
// as a visible "then succeed" at the end of a script.
func OK() Step { return Step{kind: stepOK} }

// Fail answers with the HTTP status and the error body OpenRouter documents
// for it. A 429 carries "Retry-After: 1".
func Fail(status int) Step { return Step{kind: stepFail, status: status} }

// FailWithRetryAfter is Fail with an explicit Retry-After header in seconds,
// for any status (OpenRouter also sends it on some 503s).
func FailWithRetryAfter(status, seconds int) Step {
	return Step{kind: stepFail, status: status, retryAfter: seconds}
}

// FailInBody answers HTTP 200 whose body is only {"error":{...}} with the
// given code: what OpenRouter sends when the upstream fails after the
// response headers already went out. Streams get a `data: {"error":...}`
// event instead of chunks.
func FailInBody(code int) Step { return Step{kind: stepFailInBody, status: code} }

// FailInChoice answers HTTP 200 with a chat.completion whose only choice has
// finish_reason "error" and an "error" object: the other shape of a
// mid-generation upstream failure.
func FailInChoice(code int) Step { return Step{kind: stepFailInChoice, status: code} }

// Reply replaces the generated content and reasoning. A non-empty reasoning
// is returned even if the request did not ask for it, because the script is
// explicit about wanting it.
func Reply(content, reasoning string) Step {
	return Step{kind: stepReply, content: content, reasoning: reasoning}
}

// Delay holds the call for d, on top of Options.Latency, then replies
// normally. The wait ends early if the client gives up.
func Delay(d time.Duration) Step { return Step{kind: stepOK, delay: d} }

// FreeModelsPerDay answers as OpenRouter does when the account has used its
// daily free-model requests (https://openrouter.ai/docs/guides/routing/model-variants/free:
// 50 a UTC day, 1000 once the account bought 10 credits): HTTP 429 with
//
//	X-RateLimit-Limit: <limit>, X-RateLimit-Remaining: 0,
//	X-RateLimit-Reset: <epoch ms of the next 00:00 UTC>
//
// and no Retry-After, the same three headers copied into
// error.metadata.headers, and the message naming the limit:
// "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000
// free model requests per day" for a limit under 1000, else
// "Rate limit exceeded: free-models-per-day-high-balance." (the shapes
// OpenRouter users report, e.g. Gitlawb/openclaude#936 and #1549).
func FreeModelsPerDay(limit int) Step {
	name := "free-models-per-day"
	if limit >= 1000 {
		name = "free-models-per-day-high-balance"
	}
	return Step{kind: stepRateLimit, limitName: name, limit: limit}
}

// RateLimitedUntil is a 429 of OpenRouter's own limiter for the named
// limit, resetting at reset (X-RateLimit-Reset), with no Retry-After. A
// zero reset means the next 00:00 UTC.
func RateLimitedUntil(name string, limit int, reset time.Time) Step {
	return Step{kind: stepRateLimit, limitName: name, limit: limit, reset: reset}
}

// FreeDailyReset is when OpenRouter's daily free-model counter starts over
// after now: the next 00:00 UTC.
func FreeDailyReset(now time.Time) time.Time {
	return now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
}

// Think makes a reasoning model think for tokens tokens before it answers,
// as reasoning models do unless reasoning is switched off (enabled false
// or effort "none"). Reasoning tokens are output tokens and count against
// max_tokens (https://openrouter.ai/docs/use-cases/reasoning-tokens), so
// with a max_tokens at or below tokens the answer is OpenRouter's 200 with
// empty content, the reasoning cut at max_tokens, finish_reason "length",
// and usage billing every one of them. The reasoning text is returned
// unless the request set reasoning.exclude. A model without reasoning
// ignores Think and answers normally.
func Think(tokens int) Step { return Step{kind: stepThink, thinkTokens: tokens} }

// Finish answers a complete 200 with the given content (which may be empty
// or blank) and finish_reason, which is also the native_finish_reason:
// "stop", "length", "content_filter", "tool_calls" or "error" — the
// normalised values of https://openrouter.ai/docs/api/reference/overview.
// "error" here carries no error object: for that, use FailInChoice.
func Finish(reason, content string) Step {
	return Step{kind: stepFinish, finish: reason, content: content}
}

// thinking is reasoning text of exactly n tokens by the fake's tokenizer.
func thinking(n int) string {
	return strings.Repeat("hmm ", n)
}

// FailMidStream answers 200 and streams the reply's first afterTokens
// tokens (reasoning first, then content, in whole word pieces), then the
// event OpenRouter sends when the upstream fails mid-generation
// (https://openrouter.ai/docs/api/reference/streaming, "Handling Errors
// During Streaming"): a chat.completion.chunk with a top-level "error"
// object {"code": code, "message": Fail's message for code, or for 429
// the upstream's "Provider returned error"}, a choice with finish_reason
// "error", and usage billing the tokens sent; no "data: [DONE]" follows. A request without "stream" gets that as
// FailInChoice's answer, with the partial content and its usage.
func FailMidStream(code, afterTokens int) Step {
	return Step{kind: stepFailMidStream, status: code, afterTokens: afterTokens}
}

// DropMidStream answers 200, streams the reply's first afterTokens tokens
// and closes the connection without a finish reason or "data: [DONE]", as
// a connection dropped mid-reply; a request without "stream" gets half its
// JSON body.
func DropMidStream(afterTokens int) Step {
	return Step{kind: stepDropMidStream, afterTokens: afterTokens}
}

// Paced generates this call's answer at rate instead of Options.Stream
// (see StreamRate). For the 400-token reply at 50
// tokens/s after 0.5 s: Reply(strings.Repeat("tok ", 400), "").Paced(
// StreamRate{FirstToken: 500 * time.Millisecond, TokensPerSecond: 50}).
func (s Step) Paced(rate StreamRate) Step {
	s.rate = &rate
	return s
}

// After holds the step's answer for d first (on top of Options.Latency), as
// a provider that takes its time before failing: Fail(402).After(3*time.Second).
func (s Step) After(d time.Duration) Step {
	s.delay = d
	return s
}
