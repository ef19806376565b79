package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/searchattr"
)

// ValidateAPIKeyName is the registered type of ValidateAPIKey.
const ValidateAPIKeyName = "ValidateAPIKey"

// ValidateAPIKeyInput is the input docs/contract.md gives ValidateAPIKey;
// the key is sealed with
// APP_MASTER_KEY so the plaintext never enters history.
type ValidateAPIKeyInput struct {
	DiscordUserID string          `json:"discord_user_id"`
	Provider      string          `json:"provider"`
	SealedKey     keycrypt.Sealed `json:"sealed_key"`
	// Retest is true for /wallet test, which checks the key already stored:
	// only the words of the result differ (provider.Retested, not Checked).
	// Absent in older histories, which replay as /wallet set.
	Retest bool `json:"retest,omitempty"`
	// SearchAttributes: as GenerateReplyInput's.
	SearchAttributes searchattr.Set `json:"search_attributes,omitempty"`
}

// Outcomes of ValidateAPIKey.
const (
	KeyStored        = "stored"
	KeyInvalid       = "invalid_key"
	KeyQuotaExceeded = "quota_exceeded"
	KeyRateLimited   = "rate_limited"
	KeyUnavailable   = "unavailable"
)

// ValidateAPIKeyResult says what happened, in words fit to show the user.
type ValidateAPIKeyResult struct {
	Outcome string `json:"outcome"`
	Message string `json:"message"`
}

// ValidateAPIKeyID is the workflow id for a user's validation.
func ValidateAPIKeyID(discordUserID, provider string) string {
	return fmt.Sprintf("validate-key/%s/%s", discordUserID, provider)
}

// ValidateAPIKey checks a user's key with the provider and stores it only when
// it works. Workflow id validate-key/<discord_user_id>/<provider>: starters use
// the id-conflict policy "fail", so a second validation for the same user and
// provider cannot race a running one.
//
// The story, step by step:
//  1. CheckKey opens the sealed key in the worker and asks the provider
//     (OpenRouter, or ElevenLabs with provider "elevenlabs") on an endpoint
//     that authenticates; outages are retried, a refusal is not.
//  2. A key that works is stored, active, by StoreKey (an upsert per user
//     and provider). Outcome "stored", with a note when the provider
//     restricts the account.
//  3. A key that does not work is not stored; the outcome ("invalid_key",
//     "quota_exceeded", "rate_limited", "unavailable") comes with a message
//     fit to show the user.
//
// Its current details follow these steps; when it ends it sets its outcome
// as a search attribute.
func ValidateAPIKey(ctx workflow.Context, in ValidateAPIKeyInput) (ValidateAPIKeyResult, error) {
	if in.Provider == "" {
		in.Provider = activities.ProviderOpenRouter
	}
	pr := &progress{title: providerName(in.Provider) + " key of user " + in.DiscordUserID, keySource: searchattr.KeyUser}
	res, err := validateAPIKey(ctx, in, pr)
	if err == nil {
		pr.finish(ctx, in.SearchAttributes, res.Outcome)
	}
	return res, err
}

func validateAPIKey(ctx workflow.Context, in ValidateAPIKeyInput, pr *progress) (ValidateAPIKeyResult, error) {
	if in.DiscordUserID == "" {
		return ValidateAPIKeyResult{}, temporal.NewNonRetryableApplicationError("discord_user_id is required", activities.ErrBadInput, nil)
	}
	pr.at(ctx, "asking "+providerName(in.Provider))
	checkCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             "ask " + providerName(in.Provider) + " whether the key works",
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        15 * time.Second,
			MaximumAttempts:        4,
			NonRetryableErrorTypes: activities.ProviderFailures,
		},
	})
	var check activities.CheckKeyResult
	err := workflow.ExecuteActivity(checkCtx, a.CheckKey, activities.CheckKeyInput{
		Provider: in.Provider, SealedKey: in.SealedKey,
	}).Get(ctx, &check)
	if err != nil {
		if errorType(err) == activities.ErrBadInput {
			return ValidateAPIKeyResult{}, err
		}
		return keyResult(in.Provider, outcomeOf(err), in.Retest), nil
	}

	pr.at(ctx, "storing the key")
	storeCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             "store the key, sealed, switched on",
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			MaximumInterval:        10 * time.Second,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: []string{activities.ErrBadInput},
		},
	})
	if err := workflow.ExecuteActivity(storeCtx, a.StoreKey, activities.StoreKeyInput{
		DiscordUserID: in.DiscordUserID, Provider: in.Provider, SealedKey: in.SealedKey,
	}).Get(ctx, nil); err != nil {
		return ValidateAPIKeyResult{}, err
	}
	res := keyResult(in.Provider, KeyStored, in.Retest)
	if check.Note != "" {
		// A real key whose account the provider restricts: stored, and the
		// user told why it may not work yet.
		res.Message = "Your " + providerName(in.Provider) + " key is real and is saved, but " + check.Note
		if in.Retest {
			res.Message = "Your stored " + providerName(in.Provider) + " key is real and is switched on, but " + check.Note
		}
	}
	return res, nil
}

func outcomeOf(err error) string {
	switch errorType(err) {
	case activities.ErrInvalidKey:
		return KeyInvalid
	case activities.ErrNoCredits:
		return KeyQuotaExceeded
	case activities.ErrRateLimited, activities.ErrQuotaExhausted:
		return KeyRateLimited
	default:
		return KeyUnavailable
	}
}

// keyResult words the outcome for the provider (internal/provider's
// Checked, or Retested for /wallet test); an id not in the table gets the
// default provider's words.
func keyResult(id, outcome string, retest bool) ValidateAPIKeyResult {
	p, ok := provider.Get(id)
	if !ok {
		p = provider.Default()
	}
	words := p.Checked
	if retest {
		words = p.Retested
	}
	w := map[string]string{
		KeyStored: words.Stored, KeyInvalid: words.Invalid, KeyQuotaExceeded: words.NoCredits,
		KeyRateLimited: words.RateLimited, KeyUnavailable: words.Unavailable,
	}
	return ValidateAPIKeyResult{Outcome: outcome, Message: w[outcome]}
}

func providerName(id string) string {
	return provider.NameOf(id)
}
