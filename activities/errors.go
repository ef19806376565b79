package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Error types of the application errors activities return, every one of them
// in this file with its details. Workflows branch on these strings and retry
// policies name the ones that are never retried; classify.go turns provider
// and Discord failures into them.
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

// Error types specific to key resolution.
const (
	ErrKeyInactive      = "KeyInactive"      // the user's key was switched off after a 401/402
	ErrNoKey            = "NoKey"            // no user key and guest mode does not allow this
	ErrOperatorKeyFails = "OperatorKeyFails" // the operator's own key was refused: an operator problem
)

// Error types of the reply path's own steps.
const (
	// ErrDiscordRefused is a Discord 4xx: the request itself is wrong or not
	// allowed.
	ErrDiscordRefused = "DiscordRefused"
	// ErrImagesDisabled is a personality without an enabled image config.
	ErrImagesDisabled = "ImagesDisabled"
	// ErrLimitReached is a user's own allowance used up: never retried, the
	// details (LimitDetails) say when the user can try again.
	ErrLimitReached = "LimitReached"
	// ErrNoVoice is a reply that cannot be spoken: the personality has no
	// voice (any more), or nobody's ElevenLabs key may pay for it. The text
	// still goes.
	ErrNoVoice = "NoVoice"
	// ErrVoicePostFailed is audio that was made and paid for but could not
	// be posted: not retried (a retry would pay again); the workflow posts
	// the text.
	ErrVoicePostFailed = "VoicePostFailed"
	// ErrVoiceRefused is ElevenLabs refusing to speak for a reason that is
	// not the key's: the account is suspended or unpaid, its plan may not use
	// this voice or model, or the personality's voice settings are wrong. It
	// is not retried and the key stays on; the error's message is a one-line
	// note for the channel, saying what happened and who can do what about
	// it, which the workflow posts under the text.
	ErrVoiceRefused = "VoiceRefused"
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
	// ErrImageRefused is an image the reply cannot take: past the count or
	// size limit, of a type other than PNG, JPEG, WebP or still GIF, or no
	// longer on Discord. The message says which and what to do.
	ErrImageRefused = "ImageRefused"
	// ErrDenied is a speaker or a guild on the deny list (/admin deny): the
	// worker refuses what the bot would have refused, so a workflow started
	// by hand for them posts nothing. Never retried.
	ErrDenied = "Denied"
)

// ProviderFailures are the provider outcomes that retrying cannot change.
var ProviderFailures = []string{ErrInvalidKey, ErrNoCredits, ErrModeration, ErrUnknownModel, ErrBadRequest, ErrBadInput, ErrNotFound}

// KeyFailures are the key-resolution outcomes that retrying cannot change.
var KeyFailures = []string{ErrKeyInactive, ErrNoKey, ErrOperatorKeyFails}

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

// Key sources: whose key paid for a call.
const (
	KeyFromUser     = "user"
	KeyFromOperator = "operator"
)

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

// LimitDetails are the details of an ErrLimitReached error.
type LimitDetails struct {
	// Kind is "text" (Limit in tokens), "image" (images) or "usd" (Limit in
	// billionths of a US dollar).
	Kind    string    `json:"kind"`
	Limit   int       `json:"limit"`
	RetryAt time.Time `json:"retry_at"`
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
