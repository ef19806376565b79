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

// errorKind describes one legacy status: the HTTP status it normally comes
// with, and the type and current code sent next to it.
type errorKind struct {
	httpStatus int
	typ, code  string
	param      string
}

// errorKinds is keyed by the legacy "status" value. Types follow the
// type-to-HTTP-status table of https://elevenlabs.io/docs/eleven-api/resources/errors.
var errorKinds = map[string]errorKind{
	"needs_authorization":          {http.StatusUnauthorized, "authentication_error", "unauthorized", ""},
	"invalid_api_key":              {http.StatusUnauthorized, "authentication_error", "unauthorized", ""},
	"invalid_authorization_header": {http.StatusUnauthorized, "authentication_error", "unauthorized", ""},
	"missing_permissions":          {http.StatusUnauthorized, "authentication_error", "unauthorized", ""},
	"quota_exceeded":               {http.StatusUnauthorized, "authentication_error", "quota_exceeded", ""},
	"invalid_parameters":           {http.StatusBadRequest, "invalid_request", "invalid_parameters", ""},
	"model_not_found":              {http.StatusBadRequest, "invalid_request", "model_not_found", ""},
	"empty_text":                   {http.StatusBadRequest, "validation_error", "empty_text", "text"},
	"max_character_limit_exceeded": {http.StatusBadRequest, "validation_error", "text_too_long", "text"},
	"invalid_output_format":        {http.StatusBadRequest, "validation_error", "invalid_output_format", "output_format"},
	"invalid_voice_settings":       {http.StatusBadRequest, "validation_error", "invalid_voice_settings", "voice_settings"},
	"insufficient_credits":         {http.StatusPaymentRequired, "payment_required", "insufficient_credits", ""},
	"voice_not_found":              {http.StatusNotFound, "not_found", "voice_not_found", ""},
	"workspace_not_found":          {http.StatusNotFound, "not_found", "workspace_not_found", ""},
	"too_many_concurrent_requests": {http.StatusTooManyRequests, "rate_limit_error", "concurrent_limit_exceeded", ""},
	"system_busy":                  {http.StatusTooManyRequests, "rate_limit_error", "system_busy", ""},
	"rate_limit_exceeded":          {http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded", ""},
	"internal_server_error":        {http.StatusInternalServerError, "internal_error", "internal_error", ""},
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

// typeForStatus is the documented error type of each HTTP status, used for
// codes the fake does not know and for known codes sent with an unusual
// status.
func typeForStatus(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "payment_required"
	case http.StatusForbidden:
		return "authorization_error"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusUnprocessableEntity:
		return "validation_error"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable:
		return "service_unavailable"
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

func errorMessage(status string, f failure) string {
	if f.message != "" {
		return f.message
	}
	switch status {
	case "needs_authorization":
		return "Neither authorization header nor xi-api-key received, please provide one."
	case "invalid_api_key":
		return "Invalid API key"
	case "invalid_authorization_header":
		return "Provided authorization header was invalid."
	case "missing_permissions":
		return fmt.Sprintf("The API key you used is missing the permission %s to execute this operation.", f.permission)
	case "quota_exceeded":
		return fmt.Sprintf("This request exceeds your quota of %d. You have %d credits remaining, while %d credits are required for this request.",
			f.limit, f.remaining, f.chars)
	case "voice_not_found":
		return fmt.Sprintf("A voice with voice_id '%s' was not found.", f.voiceID)
	case "workspace_not_found":
		return "Workspace 1anonymous1 not found."
	case "model_not_found":
		return fmt.Sprintf("A model with model ID %s does not exist.", f.modelID)
	case "empty_text":
		return "The text must not be empty."
	case "max_character_limit_exceeded":
		return fmt.Sprintf("This request's text has %d characters and exceeds the character limit of %d characters.", f.chars, f.maxChars)
	case "invalid_output_format":
		return fmt.Sprintf("Invalid output format %s.", f.format)
	case "invalid_voice_settings":
		return "Invalid voice settings."
	case "invalid_parameters":
		return "Invalid parameters."
	case "insufficient_credits":
		return "Insufficient credits to complete this request."
	case "too_many_concurrent_requests":
		return fmt.Sprintf("Too many concurrent requests. Your current subscription is associated with a maximum of %d concurrent requests (running in parallel), please upgrade your subscription or contact sales if you want to increase this limit.", f.maxConcurrent)
	case "system_busy":
		return "Our services are experiencing high levels of traffic and your request could not be processed at this time, please try again later."
	case "rate_limit_exceeded":
		return "Too many requests in a short period of time, please slow down and try again later."
	case "internal_server_error":
		return "An internal server error occurred, please try again later."
	}
	return ""
}

// apiError builds the object-shaped error for a legacy status. Every such
// error carries a fresh request id, echoed in the x-trace-id header as the
// live API does (error responses have no request-id header).
func apiError(httpStatus int, status string, f failure) *response {
	kind, known := errorKinds[status]
	d := errorDetail{Type: typeForStatus(httpStatus), Code: status, Status: status, RequestID: newRequestID()}
	if known {
		d.Code = kind.code
		if kind.httpStatus == httpStatus {
			d.Type = kind.typ
		}
	}
	if status == "internal_server_error" {
		// One legacy status covers both: the current code tells them apart.
		d.Code = d.Type
	}
	d.Message = errorMessage(status, f)
	if d.Message == "" {
		d.Message = http.StatusText(httpStatus)
	}
	if d.Type == "validation_error" {
		d.Param = json.RawMessage("null")
		if kind.param != "" {
			d.Param, _ = json.Marshal(kind.param)
		}
	}
	resp := jsonResponse(httpStatus, map[string]any{"detail": d})
	resp.header.Set("x-trace-id", d.RequestID)
	return resp
}

// defaultStatus is the legacy status a scripted failure without a code
// gets: the most common ElevenLabs error for that HTTP status.
func defaultStatus(httpStatus int) string {
	switch httpStatus {
	case http.StatusBadRequest:
		return "invalid_parameters"
	case http.StatusUnauthorized:
		return "invalid_api_key"
	case http.StatusPaymentRequired:
		return "insufficient_credits"
	case http.StatusNotFound:
		return "voice_not_found"
	case http.StatusTooManyRequests:
		return "too_many_concurrent_requests"
	}
	if httpStatus >= 500 {
		return "internal_server_error"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(httpStatus)), " ", "_")
}

func scriptedError(step Step, f failure) *response {
	status := step.status
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
		resp.header.Set("Retry-After", strconv.Itoa(step.retryAfter))
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
