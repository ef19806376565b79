package elevenlabs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tzurot/tzurot/internal/redact"
)

// Kind is what a failure means for the caller.
type Kind string

const (
	// KindInvalidKey: the key is unknown or revoked (401 invalid_api_key,
	// and any other 401 that is not about quota or permissions).
	KindInvalidKey Kind = "invalid_key"
	// KindQuotaExceeded: the key's characters are used up (quota_exceeded,
	// which ElevenLabs sends as 401, 400 or 429; insufficient_credits or
	// any 402 in the newer shape).
	KindQuotaExceeded Kind = "quota_exceeded"
	// KindMissingPermission: a scoped key without the permission the call
	// needs (401 missing_permissions). The owner must widen the key.
	KindMissingPermission Kind = "missing_permission"
	// KindRateLimited: 429 too_many_concurrent_requests or system_busy.
	KindRateLimited Kind = "rate_limited"
	// KindBadRequest: 400, 404 (voice or model not found), 422 and other
	// 4xx: the same request fails the same way again.
	KindBadRequest Kind = "bad_request"
	// KindTransient: 5xx, timeouts, connection failures.
	KindTransient Kind = "transient"
)

// Error is a failed call.
type Error struct {
	Kind   Kind
	Status int
	// Code is ElevenLabs' detail.status (invalid_api_key, quota_exceeded,
	// voice_not_found…), or detail.code when there is no status: the live API
	// sends code "unauthorized" for every key error and tells them apart only
	// in status.
	Code    string
	Message string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = string(e.Kind)
	}
	if e.Status != 0 {
		return fmt.Sprintf("elevenlabs: %d %s: %s", e.Status, code, e.Message)
	}
	return fmt.Sprintf("elevenlabs: %s: %s", code, e.Message)
}

// Retryable reports whether the same call can succeed later.
func (e *Error) Retryable() bool { return e.Kind == KindTransient || e.Kind == KindRateLimited }

// AsError returns err's *Error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// parseError reads the documented error shapes: {"detail": {"status" or
// "code", "message", ...}}, FastAPI's {"detail": [{"loc", "msg", ...}]} for
// 422, and {"detail": "text"}.
func parseError(status int, h http.Header, body []byte, key string) *Error {
	e := &Error{Status: status}
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Detail) > 0 {
		var obj struct {
			Code    string `json:"code"`
			Status  string `json:"status"`
			Message string `json:"message"`
		}
		var list []struct {
			Loc []any  `json:"loc"`
			Msg string `json:"msg"`
		}
		var text string
		switch {
		case json.Unmarshal(env.Detail, &obj) == nil:
			e.Code, e.Message = obj.Status, obj.Message
			if e.Code == "" {
				e.Code = obj.Code
			}
			e.Kind = kindOf(status, obj.Status, obj.Code)
		case json.Unmarshal(env.Detail, &list) == nil:
			var parts []string
			for _, p := range list {
				var loc []string
				for _, l := range p.Loc {
					loc = append(loc, fmt.Sprint(l))
				}
				parts = append(parts, strings.Join(loc, ".")+": "+p.Msg)
			}
			e.Code, e.Message = "validation_error", strings.Join(parts, "; ")
		case json.Unmarshal(env.Detail, &text) == nil:
			e.Message = text
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if e.Kind == "" {
		e.Kind = kindOf(status, e.Code)
	}
	if s := h.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 && n <= 300 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	e.Message = clean(e.Message, key)
	return e
}

// kindOf classifies by the first detail code it knows (status before code),
// then by the HTTP status.
func kindOf(status int, codes ...string) Kind {
	for _, code := range codes {
		switch code {
		case "quota_exceeded", "insufficient_credits", "payment_required":
			return KindQuotaExceeded
		case "invalid_api_key", "needs_authorization", "invalid_authorization_header":
			return KindInvalidKey
		case "missing_permissions":
			return KindMissingPermission
		case "too_many_concurrent_requests", "concurrent_limit_exceeded", "system_busy", "rate_limit_exceeded":
			return KindRateLimited
		}
	}
	switch {
	case status == http.StatusPaymentRequired:
		return KindQuotaExceeded
	case status == http.StatusUnauthorized:
		return KindInvalidKey
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status == http.StatusRequestTimeout || status >= 500:
		return KindTransient
	default:
		return KindBadRequest
	}
}

func transportError(err error, key string) *Error {
	msg := "request failed: " + err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "request cancelled"
	}
	return &Error{Kind: KindTransient, Message: clean(msg, key)}
}

// clean keeps a provider message to one safe line without the call's key.
func clean(s, key string) string { return redact.Line(s, key, 500) }
