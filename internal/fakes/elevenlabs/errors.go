package elevenlabs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// errorDetail is the object form of ElevenLabs' {"detail": ...} errors.
// "status" is the legacy identifier older clients match on; "code" is the
// current one and can differ from it (an invalid key is status
// invalid_api_key but code unauthorized). Field order follows the live API.
type errorDetail struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	// Param is only present on validation errors, and may be null there.
	Param     json.RawMessage `json:"param,omitempty"`
	RequestID string          `json:"request_id"`
}

// errorKind describes one error the fake can send: the HTTP status it
// normally comes with, and the type and current code sent next to the
// legacy status.
type errorKind struct {
	httpStatus int
	typ, code  string
	param      string
	// status, when set, is the legacy status sent instead of the key (the
	// live API answers code paid_plan_required with status payment_required).
	status string
	// legacyOnly errors are sent in the older shape the live API still uses
	// for them, {"detail":{"status","message"}} and nothing else.
	legacyOnly bool
}

// errorKinds is keyed by the legacy "status" value, or by the current code
// for errors documented only by code (their status is the same word, as in
// the documentation's example). Types follow the type-to-HTTP-status table
// and the error-code table of
// https://elevenlabs.io/docs/eleven-api/resources/errors; the account and
// plan errors (detected_unusual_activity, payment_issue,
// paid_plan_required, free_users_not_allowed, voice_limit_reached) follow
// bodies the live API sent, as quoted in public issue trackers.
var errorKinds = map[string]errorKind{
	"needs_authorization":          {http.StatusUnauthorized, "authentication_error", "unauthorized", "", "", false},
	"invalid_api_key":              {http.StatusUnauthorized, "authentication_error", "unauthorized", "", "", false},
	"invalid_authorization_header": {http.StatusUnauthorized, "authentication_error", "unauthorized", "", "", false},
	"missing_permissions":          {http.StatusUnauthorized, "authentication_error", "unauthorized", "", "", false},
	"quota_exceeded":               {http.StatusUnauthorized, "authentication_error", "quota_exceeded", "", "", false},
	"invalid_parameters":           {http.StatusBadRequest, "invalid_request", "invalid_parameters", "", "", false},
	"model_not_found":              {http.StatusBadRequest, "invalid_request", "model_not_found", "", "", false},
	"empty_text":                   {http.StatusBadRequest, "validation_error", "empty_text", "text", "", false},
	"max_character_limit_exceeded": {http.StatusBadRequest, "validation_error", "text_too_long", "text", "", false},
	"invalid_output_format":        {http.StatusBadRequest, "validation_error", "invalid_output_format", "output_format", "", false},
	"invalid_voice_settings":       {http.StatusBadRequest, "validation_error", "invalid_voice_settings", "voice_settings", "", false},
	"insufficient_credits":         {http.StatusPaymentRequired, "payment_required", "insufficient_credits", "", "", false},
	"voice_not_found":              {http.StatusNotFound, "not_found", "voice_not_found", "", "", false},
	"workspace_not_found":          {http.StatusNotFound, "not_found", "workspace_not_found", "", "", false},
	"too_many_concurrent_requests": {http.StatusTooManyRequests, "rate_limit_error", "concurrent_limit_exceeded", "", "", false},
	"system_busy":                  {http.StatusTooManyRequests, "rate_limit_error", "system_busy", "", "", false},
	"rate_limit_exceeded":          {http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded", "", "", false},
	"internal_server_error":        {http.StatusInternalServerError, "internal_error", "internal_error", "", "", false},

	// The key (authentication_error, 401).
	"missing_api_key":  {http.StatusUnauthorized, "authentication_error", "missing_api_key", "", "", false},
	"sign_in_required": {http.StatusUnauthorized, "authentication_error", "sign_in_required", "", "", false},
	// The account: real keys, refused for the account's sake.
	"detected_unusual_activity": {http.StatusUnauthorized, "", "", "", "", true},
	"payment_issue":             {http.StatusUnauthorized, "payment_required", "payment_issue", "", "", false},
	// The plan.
	"paid_plan_required":     {http.StatusPaymentRequired, "payment_required", "paid_plan_required", "", "payment_required", false},
	"free_users_not_allowed": {http.StatusBadRequest, "", "", "", "", true},
	"voice_limit_reached":    {http.StatusBadRequest, "", "", "", "", true},
	// authorization_error, 403.
	"forbidden":                {http.StatusForbidden, "authorization_error", "forbidden", "", "", false},
	"insufficient_permissions": {http.StatusForbidden, "authorization_error", "insufficient_permissions", "", "", false},
	"workspace_access_denied":  {http.StatusForbidden, "authorization_error", "workspace_access_denied", "", "", false},
	"feature_not_available":    {http.StatusForbidden, "authorization_error", "feature_not_available", "", "", false},
	"subscription_required":    {http.StatusForbidden, "authorization_error", "subscription_required", "", "", false},
	"voice_access_denied":      {http.StatusForbidden, "authorization_error", "voice_access_denied", "", "", false},
	"model_access_denied":      {http.StatusForbidden, "authorization_error", "model_access_denied", "", "", false},
	// The request.
	"invalid_voice_id":       {http.StatusBadRequest, "validation_error", "invalid_voice_id", "", "", false},
	"unsupported_model":      {http.StatusBadRequest, "validation_error", "unsupported_model", "model_id", "", false},
	"text_too_short":         {http.StatusBadRequest, "validation_error", "text_too_short", "text", "", false},
	"invalid_text":           {http.StatusBadRequest, "validation_error", "invalid_text", "text", "", false},
	"missing_required_field": {http.StatusBadRequest, "validation_error", "missing_required_field", "", "", false},
	"bad_request":            {http.StatusBadRequest, "invalid_request", "bad_request", "", "", false},
	"malformed_json":         {http.StatusBadRequest, "invalid_request", "malformed_json", "", "", false},
	"invalid_content_type":   {http.StatusBadRequest, "invalid_request", "invalid_content_type", "", "", false},
	"request_too_large":      {http.StatusBadRequest, "invalid_request", "request_too_large", "", "", false},
	"maintenance":            {http.StatusServiceUnavailable, "service_unavailable", "maintenance", "", "", false},
}

// codeAliases maps current codes to the legacy status they are sent with,
// so Fail accepts either spelling.
var codeAliases = map[string]string{
	"concurrent_limit_exceeded": "too_many_concurrent_requests",
	"text_too_long":             "max_character_limit_exceeded",
	"unauthorized":              "invalid_api_key",
	"internal_error":            "internal_server_error",
	"service_unavailable":       "internal_server_error",
}

// byHTTPStatus is, per HTTP status, the documented error type and the
// legacy status a scripted failure without a code gets (the most common
// ElevenLabs error for that status, "" to fall back on defaultStatus's rule).
var byHTTPStatus = map[int]struct{ typ, status string }{
	http.StatusBadRequest:          {"invalid_request", "invalid_parameters"},
	http.StatusUnauthorized:        {"authentication_error", "invalid_api_key"},
	http.StatusPaymentRequired:     {"payment_required", "insufficient_credits"},
	http.StatusForbidden:           {"authorization_error", ""},
	http.StatusNotFound:            {"not_found", "voice_not_found"},
	http.StatusConflict:            {"conflict", ""},
	http.StatusUnprocessableEntity: {"validation_error", ""},
	http.StatusTooManyRequests:     {"rate_limit_error", "too_many_concurrent_requests"},
	http.StatusServiceUnavailable:  {"service_unavailable", ""},
}

// typeForStatus is the documented error type of each HTTP status, used for
// codes the fake does not know and for known codes sent with an unusual
// status.
func typeForStatus(status int) string {
	if e, ok := byHTTPStatus[status]; ok {
		return e.typ
	}
	if status >= 500 {
		return "internal_error"
	}
	return "invalid_request"
}

// failure carries what error messages quote about the failed request.
type failure struct {
	voiceID, modelID, format string
	permission               string
	chars, maxChars          int
	limit, remaining         int
	maxConcurrent            int
	body                     []byte
	// message, when set, replaces the documented message.
	message string
}

// fixedMessages are the documented messages that quote nothing from the
// request, by legacy status.
var fixedMessages = map[string]string{
	"needs_authorization":          "Neither authorization header nor xi-api-key received, please provide one.",
	"invalid_api_key":              "Invalid API key",
	"invalid_authorization_header": "Provided authorization header was invalid.",
	"workspace_not_found":          "Workspace 1anonymous1 not found.",
	"empty_text":                   "The text must not be empty.",
	"invalid_voice_settings":       "Invalid voice settings.",
	"invalid_parameters":           "Invalid parameters.",
	"insufficient_credits":         "Insufficient credits to complete this request.",
	"system_busy":                  "Our services are experiencing high levels of traffic and your request could not be processed at this time, please try again later.",
	"rate_limit_exceeded":          "Too many requests in a short period of time, please slow down and try again later.",
	"internal_server_error":        "An internal server error occurred, please try again later.",
	// Shortened from the live message, which also spans two lines.
	"detected_unusual_activity": "Unusual activity detected. Free Tier usage disabled. If you are using a proxy/VPN you might need to purchase a Paid Plan to not trigger our abuse detectors.\nPlease play fair and purchase any Paid Subscription to continue.",
	"payment_issue":             "Your subscription has a failed or incomplete payment.",
	"paid_plan_required":        "Free users cannot use library voices via the API. Please upgrade your subscription to use this voice.",
	"voice_limit_reached":       "You have reached your maximum amount of custom voices.",
	"missing_api_key":           "No API key was provided in the request.",
	"sign_in_required":          "You must be signed in to perform this action.",
	"insufficient_permissions":  "You do not have the required permissions for this action.",
	"workspace_access_denied":   "You do not have access to this workspace.",
	"feature_not_available":     "This feature is not available on your current plan.",
	"subscription_required":     "A paid subscription is required to access this feature.",
	"maintenance":               "The service is undergoing scheduled maintenance.",
}

func errorMessage(status string, f failure) string {
	if f.message != "" {
		return f.message
	}
	if m, ok := fixedMessages[status]; ok {
		return m
	}
	switch status {
	case "missing_permissions":
		return fmt.Sprintf("The API key you used is missing the permission %s to execute this operation.", f.permission)
	case "quota_exceeded":
		return fmt.Sprintf("This request exceeds your quota of %d. You have %d credits remaining, while %d credits are required for this request.",
			f.limit, f.remaining, f.chars)
	case "voice_not_found":
		return fmt.Sprintf("A voice with voice_id '%s' was not found.", f.voiceID)
	case "model_not_found":
		return fmt.Sprintf("A model with model ID %s does not exist.", f.modelID)
	case "max_character_limit_exceeded":
		return fmt.Sprintf("This request's text has %d characters and exceeds the character limit of %d characters.", f.chars, f.maxChars)
	case "invalid_output_format":
		return fmt.Sprintf("Invalid output format %s.", f.format)
	case "too_many_concurrent_requests":
		return fmt.Sprintf("Too many concurrent requests. Your current subscription is associated with a maximum of %d concurrent requests (running in parallel), please upgrade your subscription or contact sales if you want to increase this limit.", f.maxConcurrent)
	case "free_users_not_allowed":
		return fmt.Sprintf("The voice %s is only available to users on the creator tier or above.", f.voiceID)
	case "voice_access_denied":
		return fmt.Sprintf("You do not have access to the voice %s.", f.voiceID)
	case "model_access_denied":
		return fmt.Sprintf("You do not have access to the model %s.", f.modelID)
	}
	return ""
}

// apiError builds the object-shaped error for a legacy status. Every such
// error carries a fresh request id, echoed in the x-trace-id header as the
// live API does (error responses have no request-id header). The errors the
// live API still sends in the older shape get {"detail":{"status","message"}}
// alone, with the x-trace-id header all the same.
func apiError(httpStatus int, status string, f failure) *response {
	kind, known := errorKinds[status]
	message := errorMessage(status, f)
	if message == "" {
		message = http.StatusText(httpStatus)
	}
	if known && kind.legacyOnly {
		resp := jsonResponse(httpStatus, map[string]any{"detail": map[string]string{"status": status, "message": message}})
		resp.Header.Set("x-trace-id", newRequestID())
		return resp
	}
	d := errorDetail{Type: typeForStatus(httpStatus), Code: status, Status: status, RequestID: newRequestID()}
	if known {
		d.Code = kind.code
		if kind.status != "" {
			d.Status = kind.status
		}
		if kind.httpStatus == httpStatus {
			d.Type = kind.typ
		}
	}
	if status == "internal_server_error" {
		// One legacy status covers both: the current code tells them apart.
		d.Code = d.Type
	}
	d.Message = message
	if d.Type == "validation_error" {
		d.Param = json.RawMessage("null")
		if kind.param != "" {
			d.Param, _ = json.Marshal(kind.param)
		}
	}
	resp := jsonResponse(httpStatus, map[string]any{"detail": d})
	resp.Header.Set("x-trace-id", d.RequestID)
	return resp
}

// defaultStatus is the legacy status a scripted failure without a code
// gets: the most common ElevenLabs error for that HTTP status.
func defaultStatus(httpStatus int) string {
	if e := byHTTPStatus[httpStatus]; e.status != "" {
		return e.status
	}
	if httpStatus >= 500 {
		return "internal_server_error"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(httpStatus)), " ", "_")
}

func scriptedError(step Step, f failure) *response {
	status := step.status
	if status == 0 {
		code := step.code
		if legacy, ok := codeAliases[code]; ok {
			code = legacy
		}
		status = errorKinds[code].httpStatus
	}
	if status < 400 || status > 599 {
		// A script asking for a non-error "failure" is a test bug; answer
		// with a 500 rather than an invalid or successful status.
		status = http.StatusInternalServerError
	}
	var resp *response
	switch {
	case status == http.StatusUnprocessableEntity && step.code == "":
		input := json.RawMessage("null")
		if json.Valid(f.body) {
			input = f.body
		}
		resp = validationFailed([]problem{{
			Type: "value_error", Loc: []any{"body"}, Msg: "Value error, invalid request",
			Input: input, Ctx: json.RawMessage(`{"error":{}}`),
		}})
	default:
		code := step.code
		if code == "" {
			code = defaultStatus(status)
		}
		if legacy, ok := codeAliases[code]; ok {
			code = legacy
		}
		if code == "quota_exceeded" {
			// Keep the message coherent: a key that is over quota has
			// fewer credits left than the request needs.
			f.remaining = min(f.remaining, max(f.chars-1, 0))
		}
		resp = apiError(status, code, f)
	}
	if step.retryAfter > 0 {
		resp.Header.Set("Retry-After", strconv.Itoa(step.retryAfter))
	}
	return resp
}

// problem is one entry of FastAPI's 422 list, in pydantic v2's shape.
type problem struct {
	Type  string          `json:"type"`
	Loc   []any           `json:"loc"`
	Msg   string          `json:"msg"`
	Input json.RawMessage `json:"input"`
	Ctx   json.RawMessage `json:"ctx,omitempty"`
}

func validationFailed(problems []problem) *response {
	for i := range problems {
		if problems[i].Input == nil {
			problems[i].Input = json.RawMessage("null")
		}
	}
	return jsonResponse(http.StatusUnprocessableEntity, map[string]any{"detail": problems})
}
