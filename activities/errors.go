package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/elevenlabs"
	"github.com/tzurot/tzurot/internal/llmparams"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/redact"
)

// Error types of the application errors activities return. Workflows branch on
// these strings and retry policies name the ones that are never retried.
const (
	ErrInvalidKey   = "InvalidKey"   // the provider rejected the key (401, confirmed)
	ErrNoCredits    = "NoCredits"    // the key has no credits (402)
	ErrRateLimited  = "RateLimited"  // 429; retried with the provider's Retry-After when within MaxRetryWait
	ErrUnavailable  = "Unavailable"  // 408, 5xx, timeouts, errors in a 200 body; retried
	ErrModeration   = "Moderation"   // 403: the provider refused the content
	ErrUnknownModel = "UnknownModel" // 404: no such model
	ErrBadRequest   = "BadRequest"   // 400/422: the request itself is wrong
	ErrBadInput     = "BadInput"     // the workflow's input is unusable
	ErrNotFound     = "NotFound"     // a personality or user that does not exist
)

// Provider outcomes that are final although nothing is wrong with the
// request: retrying would only spend the user's money or quota again. Each is
// non-retryable and its message is the one line to tell the user.
const (
	// ErrQuotaExhausted is a 429 whose wait is longer than MaxRetryWait,
	// such as OpenRouter's free-models-per-day cap. Details: WaitDetails.
	ErrQuotaExhausted = "QuotaExhausted"
	// ErrUnavailableUntil is a 408/5xx whose Retry-After is longer than
	// MaxRetryWait. Details: WaitDetails.
	ErrUnavailableUntil = "UnavailableUntil"
	// ErrOutOfTokens is a complete answer with no text and finish_reason
	// "length": max_tokens was spent (on reasoning) before any reply.
	// Details: EmptyReplyDetails.
	ErrOutOfTokens = "OutOfTokens"
	// ErrReplyFiltered is a complete answer with no text and finish_reason
	// "content_filter". Details: EmptyReplyDetails.
	ErrReplyFiltered = "ReplyFiltered"
	// ErrEmptyReply is a complete answer with no text for any other reason
	// ("stop", "tool_calls", …). Details: EmptyReplyDetails.
	ErrEmptyReply = "EmptyReply"
)

// MaxRetryWait bounds how long a provider may ask us to wait before a retry
// (Retry-After, or X-RateLimit-Reset on a 429) and still be retried. One
// minute covers OpenRouter's per-minute free-model limit (20 requests a
// minute, https://openrouter.ai/docs/guides/routing/model-variants/free) and
// short upstream throttling; anything longer — the per-day cap resets at the
// next 00:00 UTC — is told to the user at once instead of holding the reply
// (and the typing indicator) for hours. Temporal would wait as long as asked:
// an activity's NextRetryDelay is not bounded by the retry policy's
// MaximumInterval (temporalio/temporal#6063).
const MaxRetryWait = time.Minute

// ProviderFailures are the provider outcomes that retrying cannot change.
var ProviderFailures = []string{ErrInvalidKey, ErrNoCredits, ErrModeration, ErrUnknownModel, ErrBadRequest, ErrBadInput, ErrNotFound}

// WaitDetails are the details of ErrQuotaExhausted and ErrUnavailableUntil.
type WaitDetails struct {
	// RetryAt is when the provider said the request may succeed again.
	RetryAt time.Time `json:"retry_at"`
	// Status is the HTTP status (or the code of an error in a 200 body).
	Status int `json:"status"`
	// Limit is the rate limit's name as OpenRouter gave it
	// ("free-models-per-day", …); empty when it named none.
	Limit string `json:"limit,omitempty"`
	// LimitValue is X-RateLimit-Limit, requests per window; 0 when not given.
	LimitValue int `json:"limit_value,omitempty"`
}

// EmptyReplyDetails are the details of ErrOutOfTokens, ErrReplyFiltered and
// ErrEmptyReply.
type EmptyReplyDetails struct {
	Model              string `json:"model"`
	FinishReason       string `json:"finish_reason"`
	NativeFinishReason string `json:"native_finish_reason,omitempty"`
	// MaxTokens is the request's max_tokens; 0 when it set none.
	MaxTokens        int `json:"max_tokens,omitempty"`
	CompletionTokens int `json:"completion_tokens"`
	ReasoningTokens  int `json:"reasoning_tokens"`
}

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
		return fmt.Sprintf("your OpenRouter account has used all %s free-model requests for today (%s); they come back %s. Buying at least 10 credits once at https://openrouter.ai/credits raises the cap to 1000 a day, or a paid model (one without :free) has none: /config set chooses one for you", count(rl), limit, when)
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

// ErrDiscordRefused is a Discord 4xx: the request itself is wrong or not allowed.
const ErrDiscordRefused = "DiscordRefused"

// ErrImagesDisabled is a personality without an enabled image config.
const ErrImagesDisabled = "ImagesDisabled"

// ErrLimitReached is a user's own allowance used up: never retried, the
// details (LimitDetails) say when the user can try again.
const ErrLimitReached = "LimitReached"

// LimitDetails are the details of an ErrLimitReached error.
type LimitDetails struct {
	Kind    string    `json:"kind"` // "text" or "image"
	Limit   int       `json:"limit"`
	RetryAt time.Time `json:"retry_at"`
}

// ErrNoVoice is a reply that cannot be spoken: the personality has no voice
// (any more), or nobody's ElevenLabs key may pay for it. The text still goes.
const ErrNoVoice = "NoVoice"

// ErrVoicePostFailed is audio that was made and paid for but could not be
// posted: not retried (a retry would pay again); the workflow posts the text.
const ErrVoicePostFailed = "VoicePostFailed"

// ErrVoiceRefused is ElevenLabs refusing to speak for a reason that is not
// the key's: the account is suspended or unpaid, its plan may not use this
// voice or model, or the personality's voice settings are wrong. It is not
// retried and the key stays on; the error's message is a one-line note for
// the channel, saying what happened and who can do what about it, which the
// workflow posts under the text.
const ErrVoiceRefused = "VoiceRefused"

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

// KeyFailures are the key-resolution outcomes that retrying cannot change.
var KeyFailures = []string{ErrKeyInactive, ErrNoKey, ErrOperatorKeyFails}

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

// FailedKey names the stored key a provider refused, as error details of
// InvalidKey and NoCredits: DeactivateKey switches off that key only, never
// one the user stored after the failure.
type FailedKey struct {
	// Fingerprint is KeyFingerprint of the key's plaintext.
	Fingerprint string `json:"fingerprint"`
}

// KeyFingerprint identifies a key without revealing it: 128 bits of a
// domain-separated SHA-256 of the plaintext, as hex. Keys of 256 bits of
// entropy cannot be recovered from it.
func KeyFingerprint(plaintext string) string {
	sum := sha256.Sum256([]byte("tzurot key fingerprint\x00" + plaintext))
	return hex.EncodeToString(sum[:16])
}

// PendingUsage rides as the second detail of a failure that follows a paid
// call whose usage row could not be written (the first detail is the
// failure's own, or null): the workflow writes it with RecordUsage.
type PendingUsage struct {
	Usage *UsageRecord `json:"usage"`
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

// Key sources: whose key paid for a call.
const (
	KeyFromUser     = "user"
	KeyFromOperator = "operator"
)

// Error types specific to key resolution.
const (
	ErrKeyInactive      = "KeyInactive"      // the user's key was switched off after a 401/402
	ErrNoKey            = "NoKey"            // no user key and guest mode does not allow this
	ErrOperatorKeyFails = "OperatorKeyFails" // the operator's own key was refused: an operator problem
)
