package openrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
	// RetryAfter is the provider's requested wait, 0 when it gave none;
	// capped at 24 h.
	RetryAfter time.Duration
	// RetryAt is the moment RetryAfter points at, uncapped: from
	// Retry-After (seconds or an HTTP date), or on a 429 from
	// X-RateLimit-Reset (epoch milliseconds), read from the response
	// headers or from the copy OpenRouter puts in error.metadata.headers.
	// Zero when the provider said nothing.
	RetryAt time.Time
	// RateLimit describes the limit a 429 hit; nil for other failures.
	RateLimit *RateLimit
	// Metadata is OpenRouter's error.metadata (moderation reasons, the
	// upstream provider's raw error), with string values redacted.
	Metadata map[string]any
	// Usage and Model are what a 200 whose choice carries an error
	// reported: tokens generated (and billed) before the upstream failed.
	// Zero otherwise.
	Usage Usage
	Model string

	// err is the underlying error, scrubbed of the key like the rest, so
	// errors.Is(err, context.DeadlineExceeded) keeps working, and so does
	// errors.As(err, **openai.APIError) for an answer with an error object.
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
func AsError(err error) (*Error, bool) { return errors.AsType[*Error](err) }

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

// errorObject is OpenRouter's error object {"code","message","metadata"}
// (https://openrouter.ai/docs/api/reference/errors-and-debugging), wherever
// it appears: as the body of a non-2xx answer ({"error":{…}}), at the top of
// a 200 body, or on a choice. Upstream providers leak through with a string
// code or a bare string as the error, and those still yield their message;
// any other shape leaves it unset rather than failing the decode around it.
type errorObject struct {
	// set is whether the JSON held an error at all.
	set      bool
	Code     int
	Message  string
	Metadata map[string]any
}

func (e *errorObject) UnmarshalJSON(raw []byte) error {
	*e = errorObject{}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		*e = errorObject{set: true, Message: s}
		return nil
	}
	var obj struct {
		Code     any            `json:"code"`
		Message  any            `json:"message"`
		Metadata map[string]any `json:"metadata"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	*e = errorObject{set: true, Metadata: obj.Metadata}
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
	return nil
}

// statusError classifies a non-2xx answer by its status, with the message
// of its error object, or else of a short plain-text body, or else the
// status text. An error object is also kept as the cause, as the
// *openai.APIError go-openai would have made of it.
func statusError(ex exchange) *Error {
	e := &Error{Kind: kindForStatus(ex.status), Status: ex.status}
	var doc struct {
		Error errorObject `json:"error"`
	}
	if json.Unmarshal(ex.body, &doc) == nil && doc.Error.set {
		e.Message, e.Metadata = doc.Error.Message, doc.Error.Metadata
		e.err = &openai.APIError{Code: doc.Error.Code, Message: doc.Error.Message,
			HTTPStatus: fmt.Sprintf("%d %s", ex.status, http.StatusText(ex.status)), HTTPStatusCode: ex.status}
	}
	if e.Message == "" {
		e.Message = plainBody(ex.body)
	}
	if e.Message == "" {
		e.Message = strings.ToLower(http.StatusText(ex.status))
	}
	if e.Message == "" {
		e.Message = "unexpected status"
	}
	e.setWait(ex.header, time.Now())
	return e
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
// a 200: "any error occurred while the LLM is producing the output will be
// emitted in the response body" with its code
// (https://openrouter.ai/docs/api/reference/errors-and-debugging). The
// upstream broke mid-generation, so another attempt (possibly on another
// provider) is the remedy for most codes; see inBodyKind for the rest.
func inBodyError(obj errorObject, header http.Header) *Error {
	e := &Error{Kind: inBodyKind(obj.Code), Status: obj.Code, Message: obj.Message, Metadata: obj.Metadata}
	if e.Message == "" {
		e.Message = "provider failed after the response started"
	}
	e.setWait(header, time.Now())
	return e
}

// inBodyKind reads the code of an error inside a 200 by OpenRouter's table
// of codes, except where that table speaks of the caller's own key or
// account: by the time a 200 is committed the key and its credits were
// accepted, so a 401 or 402 inside the body is the upstream provider's own
// trouble, and another attempt may be routed elsewhere. A 429 is a rate
// limit (waited out, or reported when the wait is long); 400, 413 and 422
// are the request itself, and 403 a guardrail or moderation refusal of the
// output: sending the same request again would fail the same way.
func inBodyKind(code int) Kind {
	switch code {
	case http.StatusTooManyRequests:
		return KindRateLimited
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return KindBadRequest
	case http.StatusForbidden:
		return KindModeration
	}
	return KindTransient
}

// transportError covers everything that is not an HTTP answer: timeouts,
// refused connections, resets, truncated bodies, a body over the size
// limit. All of them are properties of this attempt, not of the request,
// hence transient.
func transportError(err error) *Error {
	e := &Error{Kind: KindTransient, err: err}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Message = "request timed out"
	case errors.Is(err, context.Canceled):
		e.Message = "request cancelled"
	case errors.Is(err, errResponseTooLarge):
		e.Message = errResponseTooLarge.Error()
	default:
		e.Message = "request failed: " + err.Error()
	}
	return e
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// maxMessage keeps a runaway provider message from flooding a Discord reply
// or a log line.
const maxMessage = 1000

// scrub makes an error the client is about to return safe to show and to
// log; [call] applies it to every error, once. The key of the call is
// removed literally as well as by redact's shape rules, because a test key
// or a future key format may not look like any shape redact knows: from an
// *Error's Message (also folded to one bounded line), Metadata and rate
// limit name, and from every error in the chain beneath it (a *url.Error
// quoting a base URL, a proxy echoing the request). Causes that never held
// the key keep their type, so errors.Is(err, context.DeadlineExceeded)
// still answers; one that held it is replaced by its masked text.
func scrub(err error, apiKey string) error {
	e, ok := err.(*Error)
	if !ok {
		return redact.ErrorWithout(err, apiKey)
	}
	e.Message = redact.Line(e.Message, apiKey, maxMessage)
	if e.Metadata != nil {
		e.Metadata, _ = cleanValue(e.Metadata, apiKey).(map[string]any)
	}
	if e.RateLimit != nil {
		e.RateLimit.Name = redact.Without(e.RateLimit.Name, apiKey)
	}
	e.err = redact.ErrorWithout(e.err, apiKey)
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
