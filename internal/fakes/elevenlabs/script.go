package elevenlabs

import "time"

type stepKind int

const (
	stepOK stepKind = iota
	stepFail
)

// Step is one scripted outcome for one text-to-speech call of a key. Build
// steps with Fail, FailWithRetryAfter, Delay and OK.
type Step struct {
	kind       stepKind
	status     int
	code       string
	retryAfter int
	delay      time.Duration
}

// OK lets the call through to the normal checks and audio; it is useful as
// a visible "then succeed" at the end of a script.
func OK() Step { return Step{kind: stepOK} }

// Fail answers with the HTTP status and the body ElevenLabs documents for
// code, which may be the legacy status ("too_many_concurrent_requests",
// "quota_exceeded", ...) or the current code ("concurrent_limit_exceeded").
// An empty code picks the usual error for the status: invalid_api_key for
// 401, voice_not_found for 404, too_many_concurrent_requests for 429,
// internal_server_error for 5xx, and FastAPI's validation list for 422.
// A zero status picks the one ElevenLabs sends code with (401 for
// detected_unusual_activity, 402 for paid_plan_required...).
// No Retry-After header is sent; use FailWithRetryAfter for one.
func Fail(status int, code string) Step {
	return Step{kind: stepFail, status: status, code: code}
}

// FailWithRetryAfter is Fail with a Retry-After header in seconds.
func FailWithRetryAfter(status int, code string, seconds int) Step {
	return Step{kind: stepFail, status: status, code: code, retryAfter: seconds}
}

// Delay holds the call for d, on top of Options.Latency, then answers
// normally. The wait ends early if the client gives up.
func Delay(d time.Duration) Step { return Step{kind: stepOK, delay: d} }
