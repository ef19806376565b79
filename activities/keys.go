package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/elevenlabs"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/store"
)

// Providers whose keys users can store, as user_api_keys.provider and
// usage_logs.provider name them.
const (
	ProviderOpenRouter = provider.OpenRouter
	ProviderElevenLabs = provider.ElevenLabs
)

// CheckKeyInput carries the key sealed, so the plaintext never enters history.
type CheckKeyInput struct {
	Provider  string          `json:"provider"`
	SealedKey keycrypt.Sealed `json:"sealed_key"`
}

// CheckKeyResult is what the provider said about a key that works.
type CheckKeyResult struct {
	Label          string   `json:"label,omitempty"`
	LimitRemaining *float64 `json:"limit_remaining,omitempty"`
	// Note, when set, is one line for the user about a key that works but
	// whose account the provider restricts (an ElevenLabs free tier
	// suspended for unusual activity): the key is still stored.
	Note string `json:"note,omitempty"`
}

// CheckKey opens the sealed key and asks the provider, on an endpoint that
// authenticates, whether it works.
func (a *Activities) CheckKey(ctx context.Context, in CheckKeyInput) (CheckKeyResult, error) {
	if _, ok := provider.Get(in.Provider); !ok {
		return CheckKeyResult{}, badInput(fmt.Sprintf("provider %q is not supported: use %s or %s", in.Provider, ProviderOpenRouter, ProviderElevenLabs))
	}
	key, err := a.Keys.Open(in.SealedKey)
	if err != nil {
		return CheckKeyResult{}, badInput("the sealed key does not open with this worker's APP_MASTER_KEY: " + err.Error())
	}
	if in.Provider == ProviderElevenLabs {
		return a.checkElevenLabsKey(ctx, key)
	}
	info, err := a.OpenRouter.CheckKey(ctx, key)
	if err != nil {
		return CheckKeyResult{}, providerError(err, KeyFromUser)
	}
	return CheckKeyResult{Label: info.Label, LimitRemaining: info.LimitRemaining}, nil
}

// StoreKeyInput is a validated key to store for a user.
type StoreKeyInput struct {
	DiscordUserID string          `json:"discord_user_id"`
	Provider      string          `json:"provider"`
	SealedKey     keycrypt.Sealed `json:"sealed_key"`
}

// StoreKey upserts the user and their key for the provider, active. Running it
// twice stores the same row.
func (a *Activities) StoreKey(ctx context.Context, in StoreKeyInput) error {
	if err := in.SealedKey.Validate(); err != nil {
		return badInput(err.Error())
	}
	userID, err := a.ensureUser(ctx, in.DiscordUserID, "")
	if err != nil {
		return err
	}
	if err := a.store().PutKey(ctx, userID, in.Provider, in.SealedKey); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}

// ensureUser returns the id of the user with this Discord id, creating it;
// username, when not "", is saved as their Discord username
// (store.UpsertUser). A discordID that is not a Discord id is ErrBadInput.
func (a *Activities) ensureUser(ctx context.Context, discordID, username string) (uuid.UUID, error) {
	if discordID == "" || strings.Trim(discordID, "0123456789") != "" {
		return uuid.UUID{}, badInput(fmt.Sprintf("discord_user_id %q is not a Discord id", discordID))
	}
	id, err := a.store().UpsertUser(ctx, discordID, username)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("ensure user: %w", err)
	}
	return id, nil
}

// DeactivateKeyInput names the key to switch off.
type DeactivateKeyInput struct {
	DiscordUserID string `json:"discord_user_id"`
	Provider      string `json:"provider"`
	// KeyFingerprint, from the failure's FailedKey details, names the key
	// that failed; empty (histories before it) means the stored key.
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
}

// DeactivateKey marks the user's key for the provider inactive, recording
// the calling workflow's ID (activity.GetInfo's WorkflowExecution.ID) in
// user_api_keys.deactivated_by. It reports true exactly when this workflow
// switched the key off — on its first run, and on a retry after that run's
// UPDATE committed — and false when another workflow did, so that of two
// replies refused with the same key at once only one DMs the user. With a
// fingerprint it switches off only the key that failed: false as well when
// the user has stored another key since, which stays on.
func (a *Activities) DeactivateKey(ctx context.Context, in DeactivateKeyInput) (bool, error) {
	off, err := a.deactivateKey(ctx, in)
	if off {
		metrics.KeyDeactivated(in.Provider)
	}
	return off, err
}

func (a *Activities) deactivateKey(ctx context.Context, in DeactivateKeyInput) (bool, error) {
	st := a.store()
	by := activity.GetInfo(ctx).WorkflowExecution.ID
	if in.KeyFingerprint == "" {
		changed, err := st.DeactivateKey(ctx, in.DiscordUserID, in.Provider, by)
		if err != nil {
			return false, fmt.Errorf("deactivate key: %w", err)
		}
		return changed, nil
	}
	k, err := st.Key(ctx, in.DiscordUserID, in.Provider)
	if ent.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load key: %w", err)
	}
	plain, err := a.Keys.Open(store.Sealed(k))
	if err != nil || KeyFingerprint(plain) != in.KeyFingerprint {
		return false, nil // another key, stored since the failure
	}
	off, err := st.DeactivateKeyIfUnchanged(ctx, k, by)
	if err != nil {
		return false, fmt.Errorf("deactivate key: %w", err)
	}
	return off, nil
}

// confirmInvalid re-checks a key after a 401 on a call, because OpenRouter is
// known to return transient 401s: only a 401 from the key endpoint too is final.
func (a *Activities) confirmInvalid(ctx context.Context, key string) error {
	_, err := a.OpenRouter.CheckKey(ctx, key)
	if oe, ok := openrouter.AsError(err); ok && oe.Kind == openrouter.KindInvalidKey {
		return providerError(err, KeyFromUser)
	}
	if err != nil {
		return providerError(err, KeyFromUser)
	}
	return temporal.NewApplicationError("provider returned 401 but the key checks out: retrying", ErrUnavailable)
}

// maxRetryAfter bounds the Retry-After a key check honours.
const maxRetryAfter = 5 * time.Minute

// keyCheckNote tells the user why a real ElevenLabs key may not speak yet.
func keyCheckNote(e *elevenlabs.Error) string {
	if e.Code == "detected_unusual_activity" {
		return "ElevenLabs has paused free-tier use of that account (unusual activity detected), so replies come as text until a paid ElevenLabs plan lifts it or the block ends."
	}
	code := e.Code
	if code == "" {
		code = string(e.Kind)
	}
	return "ElevenLabs restricts that account right now (" + code + "), so replies may come as text; check it at " + providerOf(ProviderElevenLabs).BillingURL + "."
}

// checkElevenLabsKey asks GET /v1/user, which authenticates. A scoped key
// without user_read still proves itself real (ElevenLabs names the missing
// permission only for a key it knows); a key whose month of characters is
// used up works but cannot speak, like an OpenRouter key without credits —
// unless the plan may go past its limit (usage-based billing).
func (a *Activities) checkElevenLabsKey(ctx context.Context, key string) (CheckKeyResult, error) {
	acc, err := a.ElevenLabs.CheckKey(ctx, key)
	if e, ok := elevenlabs.AsError(err); ok && (e.Kind == elevenlabs.KindAccountBlocked || e.Kind == elevenlabs.KindPlanRestricted) {
		// ElevenLabs named a reason of the account, which it does only for
		// a key it knows: the key is real and is stored, so a blocked
		// account is never reported (or switched off) as a bad key.
		return CheckKeyResult{Note: keyCheckNote(e)}, nil
	}
	if err != nil {
		return CheckKeyResult{}, elevenLabsError("ElevenLabs key check failed", err, maxRetryAfter)
	}
	res := CheckKeyResult{Label: acc.Tier}
	if acc.CharacterLimit > 0 {
		left := float64(max(acc.CharacterLimit-acc.CharacterCount, 0))
		res.LimitRemaining = &left
		if left == 0 && !acc.CanExtend {
			return CheckKeyResult{}, temporal.NewNonRetryableApplicationError("the key has no ElevenLabs characters left this month", ErrNoCredits, nil)
		}
	}
	return res, nil
}

// resolveVoiceKey mirrors resolveKey for ElevenLabs: the user's active key;
// nothing when it was switched off; the operator's only under GUEST_MODE=all.
func (a *Activities) resolveVoiceKey(ctx context.Context, u *ent.User) (key, source string, err error) {
	if key, found, err := a.userKey(ctx, u, ProviderElevenLabs); found || err != nil {
		return key, KeyFromUser, err
	}
	if a.GuestMode != config.GuestAll || a.ElevenLabsOperatorKey == "" {
		return "", "", temporal.NewNonRetryableApplicationError(
			"no ElevenLabs key may pay for this voice: store your own with /wallet set provider:elevenlabs", ErrNoKey, nil)
	}
	return a.ElevenLabsOperatorKey, KeyFromOperator, nil
}

// resolveKey picks the key for a request: the user's active key; never the
// operator's when the user has a key that was switched off; the operator's
// only as GUEST_MODE allows.
func (a *Activities) resolveKey(ctx context.Context, u *ent.User, model string) (key, source string, err error) {
	if key, found, err := a.userKey(ctx, u, ProviderOpenRouter); found || err != nil {
		return key, KeyFromUser, err
	}
	return a.operatorKeyFor(model)
}

// operatorKeyFor is resolveKey's answer for a user known to have no
// OpenRouter key of their own: the operator's key for model, only as
// GUEST_MODE allows; ErrNoKey otherwise. A call made after resolveKey
// answered KeyFromOperator for the same user asks this, not resolveKey,
// which would read the user's key again.
func (a *Activities) operatorKeyFor(model string) (key, source string, err error) {
	switch {
	case a.GuestMode == config.GuestOff || a.OperatorKey == "":
		return "", "", temporal.NewNonRetryableApplicationError(
			"you need your own OpenRouter key to talk to personalities here: run /wallet set", ErrNoKey, nil)
	case a.GuestMode == config.GuestFree && !IsFreeModel(model):
		return "", "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("this personality uses %s, which is not free: run /wallet set to use your own OpenRouter key", model), ErrNoKey, nil)
	}
	return a.OperatorKey, KeyFromOperator, nil
}

// providerName and walletHint word the key errors per provider (internal/provider).
func providerName(id string) string { return provider.NameOf(id) }
func walletHint(id string) string   { return providerOf(id).WalletOption }

// providerOf is the provider id's entry of internal/provider's table, its
// zero value for an id outside it.
func providerOf(id string) provider.Provider { p, _ := provider.Get(id); return p }

// userKey opens the user's own key for the provider: found is false when
// they have none. A key that was switched off, or no longer opens, is an
// error, so that no other key is ever used in its place.
func (a *Activities) userKey(ctx context.Context, u *ent.User, providerID string) (key string, found bool, err error) {
	if u == nil {
		return "", false, nil
	}
	st := a.store()
	k, err := st.Key(ctx, u.DiscordID, providerID)
	switch {
	case ent.IsNotFound(err):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("load key: %w", err)
	case !k.IsActive:
		return "", true, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"your %s key was switched off after %[1]s rejected it: run /wallet test%s once it works again, or /wallet set%[2]s with a new key",
			providerName(providerID), walletHint(providerID)), ErrKeyInactive, nil)
	}
	plain, err := a.Keys.Open(store.Sealed(k))
	if err != nil {
		return "", true, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"your stored %s key can no longer be read: run /wallet set%s to store it again", providerName(providerID), walletHint(providerID)), ErrKeyInactive, nil)
	}
	if err := st.KeyUsed(ctx, k); err != nil {
		return "", true, fmt.Errorf("update last_used_at: %w", err)
	}
	return plain, true, nil
}

// IsFreeModel reports whether guests may use a model under GUEST_MODE=free.
func IsFreeModel(model string) bool {
	return strings.HasSuffix(model, ":free") || model == provider.FreeModel
}

// classifyCallError confirms a 401 on the user's key with the key endpoint
// before calling it final (OpenRouter returns transient 401s), and keeps the
// operator's key failures apart: they must never deactivate a user's key.
func (a *Activities) classifyCallError(ctx context.Context, err error, key, source string) error {
	oe, ok := openrouter.AsError(err)
	if !ok {
		return providerError(err, source)
	}
	if source == KeyFromOperator && (oe.Kind == openrouter.KindInvalidKey || oe.Kind == openrouter.KindNoCredits) {
		a.Log.Error("the operator's OpenRouter key was refused", "kind", oe.Kind, "status", oe.Status)
		return temporal.NewNonRetryableApplicationError("the operator's OpenRouter key was refused", ErrOperatorKeyFails, nil)
	}
	if oe.Kind == openrouter.KindInvalidKey {
		return withFailedKey(a.confirmInvalid(ctx, key), key)
	}
	return withFailedKey(providerError(err, source), key)
}
