package openrouter

import (
	"net/http"
	"strconv"
	"time"
)

const insufficientCredits = "Insufficient credits. Add more using https://openrouter.ai/credits"

type errorBody struct {
	Code     int            `json:"code"`
	Message  string         `json:"message"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// apiError builds OpenRouter's error envelope; the code inside always
// equals the HTTP status for errors raised before the response starts.
func apiError(status int, message string, metadata map[string]any) *response {
	return jsonResponse(status, map[string]any{"error": errorBody{Code: status, Message: message, Metadata: metadata}})
}

// upstreamRateLimited is the message and metadata of a 429 the model's
// provider answered.
func upstreamRateLimited(model string) (string, map[string]any) {
	return "Provider returned error", map[string]any{
		"provider_name": providerOf(model),
		"raw":           model + " is temporarily rate-limited upstream. Please retry shortly.",
	}
}

func rateLimited(retryAfter int, model string) *response {
	msg := "Rate limit exceeded: too many requests for this key."
	var meta map[string]any
	if model != "" {
		msg, meta = upstreamRateLimited(model)
	}
	resp := apiError(http.StatusTooManyRequests, msg, meta)
	setRetryAfter(resp, retryAfter)
	resp.Header.Set("X-RateLimit-Limit", "20")
	resp.Header.Set("X-RateLimit-Remaining", "0")
	resp.Header.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Duration(retryAfter)*time.Second).UnixMilli(), 10))
	return resp
}

// dailyLimited is OpenRouter's own limiter refusing a request: the
// X-RateLimit-* headers on the response and, as OpenRouter does, copied into
// error.metadata.headers.
func dailyLimited(step Step, now time.Time) *response {
	reset := step.reset
	if reset.IsZero() {
		reset = FreeDailyReset(now)
	}
	msg := "Rate limit exceeded: " + step.limitName + "."
	if step.limitName == "free-models-per-day" {
		msg = "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day"
	}
	headers := map[string]any{
		"X-RateLimit-Limit":     strconv.Itoa(step.limit),
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     strconv.FormatInt(reset.UnixMilli(), 10),
	}
	resp := apiError(http.StatusTooManyRequests, msg, map[string]any{"headers": headers})
	for k, v := range headers {
		resp.Header.Set(k, v.(string))
	}
	return resp
}

func setRetryAfter(resp *response, seconds int) {
	if seconds > 0 {
		resp.Header.Set("Retry-After", strconv.Itoa(seconds))
	}
}

func providerOf(modelID string) string {
	if m, ok := findModel(modelID); ok {
		if m.routesTo != "" {
			if routed, ok := findModel(m.routesTo); ok {
				return routed.provider
			}
		}
		return m.provider
	}
	return "Unknown"
}

// statusError is the body OpenRouter documents for each error status; the
// messages follow https://openrouter.ai/docs/api-reference/errors.
func statusError(status int, model, prompt string) (string, map[string]any) {
	switch status {
	case http.StatusBadRequest:
		return "Bad Request: invalid or missing parameters", nil
	case http.StatusUnauthorized:
		return "User not found.", nil
	case http.StatusPaymentRequired:
		return insufficientCredits, nil
	case http.StatusForbidden:
		flagged := []rune(prompt)
		if len(flagged) > 100 {
			flagged = flagged[:100]
		}
		return model + " requires moderation on OpenRouter. Your input was flagged for \"harassment\"",
			map[string]any{
				"reasons":       []string{"harassment"},
				"flagged_input": string(flagged),
				"provider_name": providerOf(model),
				"model_slug":    model,
			}
	case http.StatusNotFound:
		return "No endpoints found for " + model + ".", nil
	case http.StatusRequestTimeout:
		return "Request timed out", nil
	case http.StatusTooManyRequests:
		return "Rate limit exceeded: too many requests for this key.", nil
	case http.StatusBadGateway:
		return "Provider returned error", map[string]any{
			"provider_name": providerOf(model),
			"raw":           "upstream connection reset",
		}
	case http.StatusServiceUnavailable:
		return "No available model provider that meets your routing requirements", nil
	}
	if text := http.StatusText(status); text != "" {
		return text, nil
	}
	return "Unknown error", nil
}

func scriptedError(step Step, model, prompt string) *response {
	if step.status < 400 || step.status > 599 {
		// A script asking for a non-error "failure" is a test bug; answer
		// with a 500 rather than an invalid or successful status.
		step.status = http.StatusInternalServerError
	}
	if step.status == http.StatusTooManyRequests {
		ra := step.retryAfter
		if ra <= 0 {
			ra = 1
		}
		return rateLimited(ra, model)
	}
	msg, meta := statusError(step.status, model, prompt)
	resp := apiError(step.status, msg, meta)
	setRetryAfter(resp, step.retryAfter)
	return resp
}
