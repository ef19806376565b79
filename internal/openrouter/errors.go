package openrouter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"github.com/tzurot/tzurot/internal/redact"
)

// Kind is what a failure means for the caller, independent of how OpenRouter
// phrased it.
type Kind string

const (
	// KindInvalidKey: 401. The key is unknown, revoked or missing.
	KindInvalidKey Kind = "invalid_key"
	// KindNoCredits: 402, or a key whose remaining limit is used up.
	KindNoCredits Kind = "no_credits"
	// KindModeration: 403. The input was flagged by the model's moderation.
	KindModeration Kind = "moderation"
	// KindUnknownModel: 404. No such model, or no provider serves it with
	// the requested features.
	KindUnknownModel Kind = "unknown_model"
	// KindBadRequest: 400, 413, 422 and any other 4xx: the same request
	// will fail the same way again.
	KindBadRequest Kind = "bad_request"
	// KindTransient: 408, 5xx, timeouts, connection errors, an error inside
	// a 200 body, a reply without choices. Worth retrying.
	KindTransient Kind = "transient"
	// KindRateLimited: 429. Retryable, after RetryAfter when given.
	KindRateLimited Kind = "rate_limited"
)

// Error is a classified OpenRouter or network failure.
type Error struct {
	Kind Kind
	// Status is the HTTP status. For an error reported inside a 200 body
	// it is the code OpenRouter put in the error object, since the HTTP
	// status says nothing; 0 when no response arrived.
	Status int
	// Message is the provider's message, redacted and on one line: safe to
	// log and to show to the user.
	Message string
	// RetryAfter is the provider's requested wait, 0 when it gave none.
	RetryAfter time.Duration
	// Metadata is OpenRouter's error.metadata (moderation reasons, the
	// upstream provider's raw error), with string values redacted.
	Metadata map[string]any

	// err is the underlying error, so errors.Is(err, context.DeadlineExceeded)
	// and errors.As(err, **openai.APIError) keep working.
	err error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("openrouter: %d %s: %s", e.Status, e.Kind, e.Message)
	}
	return fmt.Sprintf("openrouter: %s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.err }

// Retryable reports whether trying the same request again can succeed.
func (e *Error) Retryable() bool {
	return e.Kind == KindTransient || e.Kind == KindRateLimited
}

// AsError finds an *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// kindForStatus follows OpenRouter's documented error codes
// (https://openrouter.ai/docs/api-reference/errors).
func kindForStatus(status int) Kind {
	switch {
	case status == http.StatusUnauthorized:
		return KindInvalidKey
	case status == http.StatusPaymentRequired:
		return KindNoCredits
	case status == http.StatusForbidden:
		return KindModeration
	case status == http.StatusNotFound:
		return KindUnknownModel
	case status == http.StatusRequestTimeout:
		return KindTransient
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 400 && status < 500:
		// 400, 413, 422 and the undocumented rest: nothing about the
		// request will change by sending it again.
		return KindBadRequest
	default:
		return KindTransient
	}
}

// apiError is OpenRouter's error object: {"error":{"code","message","metadata"}}.
type apiError struct {
	Code     int
	Message  string
	Metadata map[string]any
}

// parseErrorObject reads an "error" value. OpenRouter sends an object with
// a numeric code, but upstream providers leak through with string codes or a
// bare string, and those must still yield their message.
func parseErrorObject(raw json.RawMessage) (*apiError, bool) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return &apiError{Message: s}, true
	}
	var obj struct {
		Code     any            `json:"code"`
		Message  any            `json:"message"`
		Metadata map[string]any `json:"metadata"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return nil, false
	}
	e := &apiError{Metadata: obj.Metadata}
	switch c := obj.Code.(type) {
	case float64:
		e.Code = int(c)
	case string:
		e.Code, _ = strconv.Atoi(c)
	}
	switch m := obj.Message.(type) {
	case string:
		e.Message = m
	case nil:
	default:
		b, _ := json.Marshal(m)
		e.Message = string(b)
	}
	return e, true
}

// parseEnvelope finds the top-level error object of a response body.
func parseEnvelope(body []byte) (*apiError, bool) {
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil, false
	}
	return parseErrorObject(env.Error)
}

// statusError classifies a non-2xx answer. fallback is used when the body
// has no readable error object (a proxy's HTML page, say).
func statusError(status int, header http.Header, body []byte, fallback, apiKey string, cause error) *Error {
	e := &Error{Kind: kindForStatus(status), Status: status, err: cause}
	if env, ok := parseEnvelope(body); ok {
		e.Message = env.Message
		e.Metadata = env.Metadata
	}
	if e.Message == "" {
		e.Message = fallback
	}
	if e.Message == "" {
		e.Message = plainBody(body)
	}
	if e.Message == "" {
		e.Message = strings.ToLower(http.StatusText(status))
	}
	if e.Message == "" {
		e.Message = "unexpected status"
	}
	e.RetryAfter = retryAfter(header, e.Kind, time.Now())
	return e.sanitize(apiKey)
}

// plainBody uses a short text body as the message; anything long or
// HTML-looking is a page meant for browsers and says less than the status.
func plainBody(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || len(s) > 200 || strings.ContainsAny(s, "<>{}") || !utf8.ValidString(s) {
		return ""
	}
	return s
}

// inBodyError is a failure OpenRouter reports after it already committed to
// a 200: the upstream broke mid-generation, so another attempt (possibly on
// another provider) is the remedy whatever code the object carries.
func inBodyError(obj *apiError, header http.Header, apiKey string) *Error {
	e := &Error{Kind: KindTransient, Status: obj.Code, Message: obj.Message, Metadata: obj.Metadata}
	if e.Message == "" {
		e.Message = "provider failed after the response started"
	}
	e.RetryAfter = retryAfter(header, e.Kind, time.Now())
	return e.sanitize(apiKey)
}

// classify turns whatever go-openai or net/http returned into an *Error.
// st may be nil (CheckKey reads its own responses).
func classify(err error, st *callState, apiKey string) *Error {
	if e, ok := AsError(err); ok {
		return e
	}
	var status int
	var header http.Header
	var body []byte
	if st != nil {
		status, header, body = st.result()
	}

	// go-openai decodes a 200 carrying only an error object as an empty
	// success, or fails on it; either way the raw body tells the truth.
	if status >= 200 && status < 300 {
		if env, ok := parseEnvelope(body); ok {
			e := inBodyError(env, header, apiKey)
			e.err = err
			return e
		}
	}

	// With the body already buffered by the transport, a failure that did
	// not come out of the HTTP round trip is go-openai failing to decode
	// a 2xx body.
	var urlErr *url.Error
	if status >= 200 && status < 300 && !errors.As(err, &urlErr) {
		e := &Error{Kind: KindTransient, Status: status, Message: "malformed response: " + err.Error(), err: err}
		return e.sanitize(apiKey)
	}

	// go-openai refuses some legacy OpenAI model names before sending
	// anything; retrying would refuse them again.
	if errors.Is(err, openai.ErrChatCompletionInvalidModel) {
		return (&Error{Kind: KindUnknownModel, Message: "the model does not support chat completions", err: err}).sanitize(apiKey)
	}

	var apiErr *openai.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatusCode != 0 {
		if status != apiErr.HTTPStatusCode {
			// The capture is not this response; do not mix them up.
			header, body = nil, nil
		}
		return statusError(apiErr.HTTPStatusCode, header, body, apiErr.Message, apiKey, err)
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) && reqErr.HTTPStatusCode != 0 {
		if status != reqErr.HTTPStatusCode {
			header = nil
		}
		return statusError(reqErr.HTTPStatusCode, header, reqErr.Body, "", apiKey, err)
	}
	return transportError(err, apiKey)
}

// transportError covers everything that is not an HTTP answer: timeouts,
// refused connections, resets, truncated or garbled bodies. All of them are
// properties of this attempt, not of the request, hence transient.
func transportError(err error, apiKey string) *Error {
	e := &Error{Kind: KindTransient, err: err}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Message = "request timed out"
	case errors.Is(err, context.Canceled):
		e.Message = "request cancelled"
	case errors.Is(err, errResponseTooLarge):
		e.Message = errResponseTooLarge.Error()
	case errors.As(err, &syntaxErr) || errors.As(err, &typeErr):
		e.Message = "malformed response: " + err.Error()
	default:
		e.Message = "request failed: " + err.Error()
	}
	return e.sanitize(apiKey)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// maxMessage keeps a runaway provider message from flooding a Discord reply
// or a log line.
const maxMessage = 1000

// sanitize makes Message and Metadata safe to show. The key of the call is
// removed literally as well as by redact's shape rules, because a test key
// or a future key format may not look like any shape redact knows.
func (e *Error) sanitize(apiKey string) *Error {
	e.Message = redact.Line(e.Message, apiKey, maxMessage)
	if e.Metadata != nil {
		e.Metadata, _ = cleanValue(e.Metadata, apiKey).(map[string]any)
	}
	return e
}

func cleanValue(v any, apiKey string) any {
	switch v := v.(type) {
	case string:
		return redact.Without(v, apiKey)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = cleanValue(x, apiKey)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cleanValue(x, apiKey)
		}
		return out
	}
	return v
}

// maxRetryAfter caps absurd waits; a Temporal retry scheduled days out is
// worse than trying again sooner and being told to wait once more.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads Retry-After, falling back for 429s on OpenRouter's
// X-RateLimit-Reset (epoch milliseconds), which its own limiter sends.
func retryAfter(h http.Header, kind Kind, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	if kind == KindRateLimited {
		if ms, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil {
			if d := time.UnixMilli(ms).Sub(now); d > 0 && d <= maxRetryAfter {
				return d
			}
		}
	}
	return 0
}

// parseRetryAfter accepts both RFC 9110 forms, delay-seconds and HTTP-date,
// plus fractional seconds, which some proxies send.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		if secs > maxRetryAfter.Seconds() {
			return maxRetryAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		// A date in the past means "now"; clock skew makes this common.
		return 0, true
	case d > maxRetryAfter:
		return maxRetryAfter, true
	}
	return d, true
}
