package activities

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/internal/openrouter"
)

// Error types of the application errors activities return. Workflows branch on
// these strings and retry policies name the ones that are never retried.
const (
	ErrInvalidKey   = "InvalidKey"   // the provider rejected the key (401, confirmed)
	ErrNoCredits    = "NoCredits"    // the key has no credits (402)
	ErrRateLimited  = "RateLimited"  // 429; retried with the provider's Retry-After
	ErrUnavailable  = "Unavailable"  // 408, 5xx, timeouts, errors in a 200 body; retried
	ErrModeration   = "Moderation"   // 403: the provider refused the content
	ErrUnknownModel = "UnknownModel" // 404: no such model
	ErrBadRequest   = "BadRequest"   // 400/422: the request itself is wrong
	ErrBadInput     = "BadInput"     // the workflow's input is unusable
	ErrNotFound     = "NotFound"     // a personality or user that does not exist
)

// ProviderFailures are the provider outcomes that retrying cannot change.
var ProviderFailures = []string{ErrInvalidKey, ErrNoCredits, ErrModeration, ErrUnknownModel, ErrBadRequest, ErrBadInput, ErrNotFound}

// providerError turns an OpenRouter error into the application error the
// workflow sees: permanent kinds are non-retryable, rate limits carry the
// provider's Retry-After as the next retry delay.
func providerError(err error) error {
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
	var delay time.Duration
	if oe.RetryAfter > 0 {
		delay = oe.RetryAfter
	}
	return temporal.NewApplicationErrorWithOptions(oe.Error(), kind, temporal.ApplicationErrorOptions{
		NonRetryable:   !oe.Retryable(),
		NextRetryDelay: delay,
	})
}

func badInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrBadInput, nil)
}
