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

// Kind is what a failure means for the caller. Every detail.status (legacy)
// and detail.code (current) ElevenLabs documents or is seen sending is
// classified on its meaning in [identifiers]; see that table for the
// sources.
type Kind string

const (
	// KindInvalidKey: the key itself is bad: unknown, revoked, missing or
	// malformed (invalid_api_key, missing_api_key, needs_authorization,
	// invalid_authorization_header, sign_in_required; the generic code
	// unauthorized; a 401 that names no reason at all). The caller may
	// switch the key off.
	KindInvalidKey Kind = "invalid_key"
	// KindQuotaExceeded: the key's characters or credits are used up
	// (quota_exceeded, which ElevenLabs sends as 401, 400 or 429;
	// insufficient_credits, a 402).
	KindQuotaExceeded Kind = "quota_exceeded"
	// KindMissingPermission: a scoped key without the permission the call
	// needs (401 missing_permissions; 403 insufficient_permissions,
	// workspace_access_denied). The key is real; its owner must widen it.
	KindMissingPermission Kind = "missing_permission"
	// KindAccountBlocked: the key is real but ElevenLabs refuses its account
	// for now: free-tier use suspended for unusual activity
	// (detected_unusual_activity, a 401), a failed subscription payment
	// (payment_issue, a 401), a 403 forbidden, or a 401/403 whose reason
	// tzurot does not know. The key must stay on: nothing about it is
	// wrong, and switching it off would only be undone by /wallet test.
	KindAccountBlocked Kind = "account_blocked"
	// KindPlanRestricted: the key works, but the account's plan may not use
	// what was asked: a library voice on the free tier (402
	// paid_plan_required, 400 free_users_not_allowed), a plan feature
	// (feature_not_available, subscription_required), a voice or model the
	// account has no access to (voice_access_denied, model_access_denied),
	// no free voice slot (voice_limit_reached), or a 402 whose reason is
	// not known. The key stays on; other voices may still work.
	KindPlanRestricted Kind = "plan_restricted"
	// KindRateLimited: 429 too_many_concurrent_requests /
	// concurrent_limit_exceeded, rate_limit_exceeded or system_busy.
	KindRateLimited Kind = "rate_limited"
	// KindBadRequest: 400, 404 (voice or model not found), 422 and other
	// 4xx about the request: the same request fails the same way again.
	KindBadRequest Kind = "bad_request"
	// KindTransient: 5xx (internal_error, service_unavailable,
	// maintenance), timeouts, connection failures.
	KindTransient Kind = "transient"
)

// identifiers classifies every detail.status and detail.code value
// ElevenLabs documents or was seen sending. Sources: the error-code table
// of https://elevenlabs.io/docs/eleven-api/resources/errors (current codes);
// the help centre's "API - Error Code 400 or 401" and "API - Error Code
// 429" articles (legacy statuses invalid_api_key, quota_exceeded,
// voice_not_found, max_character_limit_exceeded,
// too_many_concurrent_requests, system_busy); and bodies the live API sent
// that public issue trackers quote: 401 detected_unusual_activity ("Free
// Tier usage disabled"), 401 payment_issue, 401 missing_permissions,
// 402 status payment_required with code paid_plan_required ("Free users
// cannot use library voices via the API"), 400 free_users_not_allowed and
// 400 voice_limit_reached.
//
// A generic identifier (the code "unauthorized" the live API sends with
// every key error, or the status "payment_required" sent with
// paid_plan_required) decides only when nothing more specific does.
var identifiers = map[string]Kind{
	// The key.
	"invalid_api_key":              KindInvalidKey,
	"missing_api_key":              KindInvalidKey,
	"needs_authorization":          KindInvalidKey,
	"invalid_authorization_header": KindInvalidKey,
	"sign_in_required":             KindInvalidKey,
	// Its scope.
	"missing_permissions":      KindMissingPermission,
	"insufficient_permissions": KindMissingPermission,
	"workspace_access_denied":  KindMissingPermission,
	// Its characters.
	"quota_exceeded":       KindQuotaExceeded,
	"insufficient_credits": KindQuotaExceeded,
	// The account.
	"detected_unusual_activity": KindAccountBlocked,
	"payment_issue":             KindAccountBlocked,
	// The plan.
	"paid_plan_required":     KindPlanRestricted,
	"free_users_not_allowed": KindPlanRestricted,
	"subscription_required":  KindPlanRestricted,
	"feature_not_available":  KindPlanRestricted,
	"voice_access_denied":    KindPlanRestricted,
	"model_access_denied":    KindPlanRestricted,
	"voice_limit_reached":    KindPlanRestricted,
	// Load.
	"too_many_concurrent_requests": KindRateLimited,
	"concurrent_limit_exceeded":    KindRateLimited,
	"rate_limit_exceeded":          KindRateLimited,
	"system_busy":                  KindRateLimited,
	// The request.
	"voice_not_found":              KindBadRequest,
	"model_not_found":              KindBadRequest,
	"workspace_not_found":          KindBadRequest,
	"invalid_voice_id":             KindBadRequest,
	"unsupported_model":            KindBadRequest,
	"text_too_long":                KindBadRequest,
	"max_character_limit_exceeded": KindBadRequest,
	"text_too_short":               KindBadRequest,
	"invalid_text":                 KindBadRequest,
	"empty_text":                   KindBadRequest,
	"invalid_parameters":           KindBadRequest,
	"missing_required_field":       KindBadRequest,
	"invalid_voice_settings":       KindBadRequest,
	"invalid_output_format":        KindBadRequest,
	"malformed_json":               KindBadRequest,
	"invalid_content_type":         KindBadRequest,
	"request_too_large":            KindBadRequest,
	"validation_error":             KindBadRequest,
	// ElevenLabs' side.
	"internal_server_error": KindTransient,
	"internal_error":        KindTransient,
	"service_unavailable":   KindTransient,
	"maintenance":           KindTransient,
}

// genericIdentifiers say only which family an error is in.
var genericIdentifiers = map[string]Kind{
	"unauthorized":     KindInvalidKey,
	"payment_required": KindPlanRestricted,
	"forbidden":        KindAccountBlocked,
	"bad_request":      KindBadRequest,
}

// Error is a failed call.
type Error struct {
	Kind   Kind
	Status int
	// Code is the identifier the Kind was read from: ElevenLabs'
	// detail.status (invalid_api_key, detected_unusual_activity,
	// voice_not_found…) or detail.code, whichever is the more specific (the
	// live API sends code "unauthorized" for every key error and tells them
	// apart only in status, and status "payment_required" with code
	// paid_plan_required).
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
func AsError(err error) (*Error, bool) { return errors.AsType[*Error](err) }

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
			e.Message = obj.Message
			e.Kind, e.Code = classify(status, obj.Status, obj.Code)
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
		e.Kind, _ = classify(status, e.Code)
	}
	if s := h.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 && n <= 300 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	e.Message = clean(e.Message, key)
	return e
}

// classify reads the Kind from the detail identifiers (status before code),
// the most specific first: a known specific identifier; else one tzurot does
// not know, which counts as an unexplained refusal of the HTTP status (a
// 401 or 403 then blocks the account, not the key); else a generic one; else
// the HTTP status alone. It returns the identifier it used, or the first one
// given.
func classify(status int, ids ...string) (Kind, string) {
	var unknown, generic string
	for _, id := range ids {
		if id == "" {
			continue
		}
		if k, ok := identifiers[id]; ok {
			return k, id
		}
		if _, ok := genericIdentifiers[id]; ok {
			if generic == "" {
				generic = id
			}
		} else if unknown == "" {
			unknown = id
		}
	}
	switch {
	case unknown != "":
		return byStatus(status, true), unknown
	case generic != "":
		return genericIdentifiers[generic], generic
	}
	return byStatus(status, false), ""
}

// byStatus classifies by the HTTP status alone. named says the body gave a
// reason tzurot does not know: a 401 or 403 with a reason is not taken as a
// bad key, since ElevenLabs names its key errors (a 401 with no reason still
// is).
func byStatus(status int, named bool) Kind {
	switch {
	case status == http.StatusUnauthorized && !named:
		return KindInvalidKey
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return KindAccountBlocked
	case status == http.StatusPaymentRequired:
		return KindPlanRestricted
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
