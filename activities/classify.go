package activities

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/internal/elevenlabs"
	"github.com/tzurot/tzurot/internal/llmparams"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/redact"
)

// How provider (OpenRouter, ElevenLabs) and Discord failures become the
// error types of errors.go: which are final, which retried and after how
// long, and the one line the user is told.

// providerError turns an OpenRouter error into the application error the
// workflow sees: permanent kinds are non-retryable, rate limits carry the
// provider's Retry-After as the next retry delay, and a wait longer than
// MaxRetryWait is final (ErrQuotaExhausted, ErrUnavailableUntil) with a
// message for the user. source is whose key made the call (KeyFromUser,
// KeyFromOperator): it decides what the message says would lift a quota.
func providerError(err error, source string) error {
	oe, ok := openrouter.AsError(err)
	if !ok {
		return temporal.NewApplicationErrorWithCause("provider call failed", ErrUnavailable, err)
	}
	kind := map[openrouter.Kind]string{
		openrouter.KindInvalidKey:   ErrInvalidKey,
		openrouter.KindNoCredits:    ErrNoCredits,
		openrouter.KindModeration:   ErrModeration,
		openrouter.KindUnknownModel: ErrUnknownModel,
		openrouter.KindBadRequest:   ErrBadRequest,
		openrouter.KindRateLimited:  ErrRateLimited,
	}[oe.Kind]
	if kind == "" {
		kind = ErrUnavailable
	}
	if oe.Kind == openrouter.KindRateLimited && oe.RateLimit.Daily() {
		// A per-day cap lifts at the next UTC day whatever a header says
		// about a shorter wait: retrying sooner only spends attempts.
		oe = dailyReset(oe)
		return waitTooLong(oe, source)
	}
	if oe.Retryable() && oe.RetryAfter > MaxRetryWait {
		return waitTooLong(oe, source)
	}
	return temporal.NewApplicationErrorWithOptions(oe.Error(), kind, temporal.ApplicationErrorOptions{
		NonRetryable:   !oe.Retryable(),
		NextRetryDelay: oe.RetryAfter,
	})
}

// dailyReset sets a daily cap's retry time to the later of its
// X-RateLimit-Reset and the next 00:00 UTC, OpenRouter's day
// (https://openrouter.ai/docs/guides/routing/model-variants/free).
func dailyReset(oe *openrouter.Error) *openrouter.Error {
	c := *oe
	next := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	at := next
	if r := oe.RateLimit.Reset; r.After(at) {
		at = r
	}
	c.RetryAt, c.RetryAfter = at, time.Until(at)
	return &c
}

// waitTooLong is the final error for a provider that asked to be left alone
// for longer than MaxRetryWait: the user hears when it comes back, and what
// would lift the limit, at once.
func waitTooLong(oe *openrouter.Error, source string) error {
	d := WaitDetails{RetryAt: oe.RetryAt.UTC().Truncate(time.Second), Status: oe.Status}
	if d.RetryAt.IsZero() {
		d.RetryAt = time.Now().Add(oe.RetryAfter).UTC().Truncate(time.Second)
	}
	if rl := oe.RateLimit; rl != nil {
		d.Limit, d.LimitValue = rl.Name, rl.Limit
	}
	when := fmt.Sprintf("<t:%d:R> (<t:%d:F>)", d.RetryAt.Unix(), d.RetryAt.Unix())
	if oe.Kind != openrouter.KindRateLimited {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the model's provider is unavailable (%d: %s) and asks to wait until %s; try again then, or the personality's owner can pick another model with /config",
			oe.Status, oe.Message, when), ErrUnavailableUntil, nil, d)
	}
	return temporal.NewNonRetryableApplicationError(quotaMessage(oe.RateLimit, source, when), ErrQuotaExhausted, nil, d)
}

// quotaMessage says which limit was hit, when it resets, and what lifts it,
// by OpenRouter's documented free-model rules
// (https://openrouter.ai/docs/guides/routing/model-variants/free): 50 free
// requests a UTC day per account, 1000 once the account has bought 10
// credits in all; paid models have no daily cap.
func quotaMessage(rl *openrouter.RateLimit, source, when string) string {
	limit := "OpenRouter's rate limit"
	if rl != nil && rl.Name != "" {
		limit = "OpenRouter's " + rl.Name + " limit"
	}
	switch {
	case source == KeyFromOperator && rl.Daily():
		return fmt.Sprintf("the shared OpenRouter key has used all its free-model requests for today (%s); they come back %s. To talk before then, add your own OpenRouter key with /wallet set", limit, when)
	case source == KeyFromOperator:
		return fmt.Sprintf("the shared OpenRouter key is rate limited (%s) until %s; try again then, or add your own OpenRouter key with /wallet set", limit, when)
	case rl.Daily() && (strings.HasSuffix(rl.Name, "high-balance") || rl.Limit >= 1000):
		return fmt.Sprintf("your OpenRouter account has used all %s free-model requests for today (%s); they come back %s. A paid model (one without :free) has no daily cap: the personality's owner can choose one with /config, or you can for yourself with /config set", count(rl), limit, when)
	case rl.Daily():
		return fmt.Sprintf("your OpenRouter account has used all %s free-model requests for today (%s); they come back %s. Buying at least 10 credits once at %s raises the cap to 1000 a day, or a paid model (one without :free) has none: /config set chooses one for you", count(rl), limit, when, providerOf(ProviderOpenRouter).BillingURL)
	}
	return fmt.Sprintf("your OpenRouter key is rate limited (%s) until %s; try again then", limit, when)
}

func count(rl *openrouter.RateLimit) string {
	if rl.Limit > 0 {
		return fmt.Sprint(rl.Limit)
	}
	return "its"
}

// emptyReply classifies a completion that arrived whole (HTTP 200, a
// finish_reason, usage) but with no text to post: OpenRouter bills it, so
// the same request is not sent again; the message says what happened and
// what the personality's owner can change. Two cases are not final: a
// finish_reason of "error" is the upstream failing mid-answer
// (https://openrouter.ai/docs/api/reference/errors-and-debugging), and no
// finish_reason with no completion tokens is OpenRouter's "no content
// generated" of a model warming up, which its docs say to retry. pending,
// when not nil, rides along as the second detail.
func emptyReply(resp openrouter.ChatResponse, params llmparams.Params, pending *UsageRecord) error {
	d := EmptyReplyDetails{
		Model: resp.Model, FinishReason: resp.FinishReason, NativeFinishReason: resp.NativeFinishReason,
		CompletionTokens: resp.Usage.CompletionTokens, ReasoningTokens: resp.Usage.ReasoningTokens,
	}
	if params.MaxTokens != nil {
		d.MaxTokens = *params.MaxTokens
	}
	// The details are d, then the call's unwritten usage row when there is
	// one (PendingUsage, read by PendingUsageOf).
	det := []any{d}
	if pending != nil {
		det = append(det, PendingUsage{Usage: pending})
	}
	model := resp.Model
	if model == "" {
		model = "the model"
	}
	switch finishKind(resp.FinishReason, resp.NativeFinishReason) {
	case "error":
		return temporal.NewApplicationError("the provider failed while answering (finish_reason error) and sent no text", ErrUnavailable, det...)
	case "":
		if resp.Usage.CompletionTokens == 0 {
			return temporal.NewApplicationError("the model generated no content (it may be warming up)", ErrUnavailable, det...)
		}
	case "length":
		budget := "its max_tokens limit"
		if d.MaxTokens > 0 {
			budget = fmt.Sprintf("its whole max_tokens budget (%d)", d.MaxTokens)
		}
		if d.ReasoningTokens > 0 || strings.TrimSpace(resp.Reasoning) != "" {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"I couldn't answer: %s used %s on reasoning before writing a reply. The personality's owner can raise max_tokens or lower the reasoning effort with /config (or you, for yourself, with /config set)",
				model, budget), ErrOutOfTokens, nil, det...)
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"I couldn't answer: %s reached %s before writing a reply. The personality's owner can raise max_tokens with /config (or you, for yourself, with /config set)",
			model, budget), ErrOutOfTokens, nil, det...)
	case "content_filter":
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"I couldn't answer: the provider's content filter withheld %s's reply. Try rephrasing, or the personality's owner can choose another model with /config",
			model), ErrReplyFiltered, nil, det...)
	}
	reason := resp.FinishReason
	if reason == "" {
		reason = "none"
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"I couldn't answer: %s finished (finish_reason %s) without writing any text. Try rephrasing; if it keeps happening the personality's owner can choose another model with /config",
		model, reason), ErrEmptyReply, nil, det...)
}

// finishKind is OpenRouter's normalised finish_reason, or — when a provider
// left it empty — the normalised meaning of the common native reasons.
func finishKind(finish, native string) string {
	if f := strings.ToLower(strings.TrimSpace(finish)); f != "" {
		return f
	}
	switch strings.ToLower(strings.TrimSpace(native)) {
	case "":
		return ""
	case "max_tokens", "length", "max_output_tokens":
		return "length"
	case "safety", "recitation", "content_filter", "prohibited_content", "blocklist", "spii", "refusal":
		return "content_filter"
	case "error":
		return "error"
	case "tool_use", "tool_calls", "function_call":
		return "tool_calls"
	}
	return "stop"
}

func badInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrBadInput, nil)
}

// discordError keeps 4xx answers (other than 429) from being retried: they
// will not change.
func discordError(what string, err error) error {
	err = redact.Error(err) // a *url.Error quotes the URL, and with it a webhook or interaction token
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		st := re.Response.StatusCode
		if st >= 400 && st < 500 && st != http.StatusTooManyRequests {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("discord %s: %s", what, strings.TrimSpace(re.Error())), ErrDiscordRefused, nil)
		}
	}
	return fmt.Errorf("discord %s: %w", what, err)
}

// elevenLabsError maps an ElevenLabs failure to the activities' error types:
// a 401 is final at once (unlike OpenRouter, ElevenLabs is not known to send
// transient 401s), as are a missing permission, quota and bad requests; rate
// limits retry after at most maxDelay.
func elevenLabsError(what string, err error, maxDelay time.Duration) error {
	e, ok := elevenlabs.AsError(err)
	if !ok {
		return temporal.NewApplicationErrorWithCause(what, ErrUnavailable, err)
	}
	switch e.Kind {
	case elevenlabs.KindInvalidKey, elevenlabs.KindMissingPermission:
		return temporal.NewNonRetryableApplicationError(e.Error(), ErrInvalidKey, nil)
	case elevenlabs.KindQuotaExceeded:
		return temporal.NewNonRetryableApplicationError(e.Error(), ErrNoCredits, nil)
	case elevenlabs.KindBadRequest:
		return temporal.NewNonRetryableApplicationError(e.Error(), ErrBadRequest, nil)
	case elevenlabs.KindAccountBlocked, elevenlabs.KindPlanRestricted:
		return temporal.NewNonRetryableApplicationError(e.Error(), ErrVoiceRefused, nil)
	case elevenlabs.KindRateLimited:
		return temporal.NewApplicationErrorWithOptions(e.Error(), ErrRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: min(e.RetryAfter, maxDelay)})
	}
	return temporal.NewApplicationError(e.Error(), ErrUnavailable)
}

// withFailedKey adds FailedKey details to a user's key being refused (401
// or 402), so that only that key is switched off.
func withFailedKey(err error, key string) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || (appErr.Type() != ErrInvalidKey && appErr.Type() != ErrNoCredits) {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(appErr.Message(), appErr.Type(), temporal.ApplicationErrorOptions{
		NonRetryable: appErr.NonRetryable(), Details: []any{FailedKey{Fingerprint: KeyFingerprint(key)}},
	})
}

// isType reports whether err is an application error of type t.
func isType(err error, t string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == t
}

// withPendingUsage returns err carrying rec as PendingUsage (after a null
// first detail), keeping its type, message, retryability and retry delay.
// Only for errors without details of their own: an activity cannot read
// back the details of an error it made (they are not encoded yet), so an
// error with details adds PendingUsage where it is made (emptyReply).
func withPendingUsage(err error, rec *UsageRecord) error {
	var appErr *temporal.ApplicationError
	if rec == nil || !errors.As(err, &appErr) || appErr.HasDetails() {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(appErr.Message(), appErr.Type(), temporal.ApplicationErrorOptions{
		NonRetryable: appErr.NonRetryable(), NextRetryDelay: appErr.NextRetryDelay(), Cause: errors.Unwrap(appErr),
		Details: []any{nil, PendingUsage{Usage: rec}},
	})
}

// PendingUsageOf is the usage row a failure carries for its workflow to
// write; nil when it carries none.
func PendingUsageOf(err error) *UsageRecord {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.HasDetails() {
		return nil
	}
	var first json.RawMessage
	var pu PendingUsage
	if appErr.Details(&first, &pu) != nil {
		return nil
	}
	return pu.Usage
}
