package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"go.temporal.io/sdk/temporal"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/openrouter"
)

// Providers whose keys users can store.
const ProviderOpenRouter = "openrouter"

// CheckKeyInput carries the key sealed, so the plaintext never enters history.
type CheckKeyInput struct {
	Provider  string          `json:"provider"`
	SealedKey keycrypt.Sealed `json:"sealed_key"`
}

// CheckKeyResult is what the provider said about a key that works.
type CheckKeyResult struct {
	Label          string   `json:"label,omitempty"`
	LimitRemaining *float64 `json:"limit_remaining,omitempty"`
}

// CheckKey opens the sealed key and asks the provider, on an endpoint that
// authenticates, whether it works.
func (a *Activities) CheckKey(ctx context.Context, in CheckKeyInput) (CheckKeyResult, error) {
	if in.Provider != ProviderOpenRouter && in.Provider != ProviderElevenLabs {
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
	userID, err := a.ensureUser(ctx, in.DiscordUserID)
	if err != nil {
		return err
	}
	err = a.DB.UserAPIKey.Create().
		SetUserID(userID).
		SetProvider(in.Provider).
		SetIv(in.SealedKey.IV).
		SetContent(in.SealedKey.Content).
		SetTag(in.SealedKey.Tag).
		SetIsActive(true).
		OnConflict(sql.ConflictColumns(userapikey.FieldUserID, userapikey.FieldProvider)).
		Update(func(u *ent.UserAPIKeyUpsert) {
			u.UpdateIv().UpdateContent().UpdateTag().UpdateIsActive().SetUpdatedAt(time.Now())
		}).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}

// ensureUser returns the id of the user with this Discord id, creating it.
func (a *Activities) ensureUser(ctx context.Context, discordID string) (uuid.UUID, error) {
	if discordID == "" || strings.Trim(discordID, "0123456789") != "" {
		return uuid.UUID{}, badInput(fmt.Sprintf("discord_user_id %q is not a Discord id", discordID))
	}
	id, err := a.DB.User.Create().
		SetDiscordID(discordID).
		OnConflict(sql.ConflictColumns(user.FieldDiscordID)).
		UpdateDiscordID(). // a no-op update so RETURNING gives the existing id
		ID(ctx)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("ensure user: %w", err)
	}
	return id, nil
}

// DeactivateKeyInput names the key to switch off.
type DeactivateKeyInput struct {
	DiscordUserID string `json:"discord_user_id"`
	Provider      string `json:"provider"`
}

// DeactivateKey marks the user's key for the provider inactive. It reports
// whether this call changed it, so a retry does not count twice.
func (a *Activities) DeactivateKey(ctx context.Context, in DeactivateKeyInput) (bool, error) {
	n, err := a.DB.UserAPIKey.Update().
		Where(
			userapikey.Provider(in.Provider),
			userapikey.IsActive(true),
			userapikey.HasUserWith(user.DiscordID(in.DiscordUserID)),
		).
		SetIsActive(false).
		Save(ctx)
	if err != nil {
		return false, fmt.Errorf("deactivate key: %w", err)
	}
	return n > 0, nil
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

// checkElevenLabsKey asks GET /v1/user, which authenticates. A scoped key
// without user_read still proves itself real (ElevenLabs names the missing
// permission only for a key it knows); a key whose month of characters is
// used up works but cannot speak, like an OpenRouter key without credits —
// unless the plan may go past its limit (usage-based billing).
func (a *Activities) checkElevenLabsKey(ctx context.Context, key string) (CheckKeyResult, error) {
	acc, err := a.ElevenLabs.CheckKey(ctx, key)
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
