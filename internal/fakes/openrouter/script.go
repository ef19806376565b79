package openrouter

import "time"

type stepKind int

const (
	stepOK stepKind = iota
	stepFail
	stepFailInBody
	stepFailInChoice
	stepReply
)

// Step is one scripted outcome for one chat completion call of a key.
// Build steps with Fail, FailWithRetryAfter, FailInBody, FailInChoice,
// Reply, Delay and OK.
type Step struct {
	kind       stepKind
	status     int
	retryAfter int
	content    string
	reasoning  string
	delay      time.Duration
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

// After holds the step's answer for d first (on top of Options.Latency), as
// a provider that takes its time before failing: Fail(402).After(3*time.Second).
func (s Step) After(d time.Duration) Step {
	s.delay = d
	return s
}
