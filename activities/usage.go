package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/internal/heartbeat"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/store"
)

// UsageRecord is the usage_logs row of one provider call that returned. Its
// ID derives from the call (request id, kind and activity attempt), so the
// row is written once however often the write is repeated.
type UsageRecord struct {
	ID            uuid.UUID        `json:"id"`
	DiscordUserID string           `json:"discord_user_id"`
	PersonalityID *uuid.UUID       `json:"personality_id,omitempty"`
	Model         string           `json:"model"`
	Usage         openrouter.Usage `json:"usage"`
	Kind          string           `json:"kind"` // usage_logs.request_type: text, image, voice
	// Provider is usage_logs.provider; empty means openrouter.
	Provider string `json:"provider,omitempty"`
	// userID is the user's row id when the activity has read it (Generate):
	// the write then does not look it up. Not serialised: a record handed
	// to the workflow (PendingUsage) looks the user up again.
	userID uuid.UUID
}

// usageNamespace scopes the name-based (v5) ids of usage rows.
var usageNamespace = uuid.MustParse("6f0f4a6e-5b1d-4f0e-9a51-2f6c3b7d8e10")

// callUsageID is the usage row id of the provider call this activity
// attempt makes for requestID.
func callUsageID(ctx context.Context, requestID, kind string) uuid.UUID {
	attempt := int32(1)
	if activity.IsActivity(ctx) {
		attempt = activity.GetInfo(ctx).Attempt
	}
	return uuid.NewSHA1(usageNamespace, []byte(requestID+"/"+kind+"/"+strconv.Itoa(int(attempt))))
}

// RecordUsage writes a usage row that Generate could not write after its
// provider call returned (PostgreSQL was away). Idempotent: a second write
// of the same record does nothing.
func (a *Activities) RecordUsage(ctx context.Context, rec UsageRecord) error {
	return a.writeUsage(ctx, rec)
}

// usageWriteBudget is how long an activity keeps trying to write the usage
// of a call that returned before handing the record to its workflow: long
// enough for a PostgreSQL restart, short against the activity's timeout.
const usageWriteBudget = 20 * time.Second

// recordUsage writes rec, retrying with exponential backoff for up to
// usageWriteBudget while heartbeating: a bookkeeping failure must never make
// the activity fail, because its retry would repeat the paid provider call.
func (a *Activities) recordUsage(ctx context.Context, rec UsageRecord) error {
	return heartbeat.While(ctx, func() error {
		_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, a.writeUsage(ctx, rec) },
			backoff.WithBackOff(backoff.NewExponentialBackOff()), backoff.WithMaxElapsedTime(usageWriteBudget))
		return err
	}, "writing usage")
}

func (a *Activities) writeUsage(ctx context.Context, rec UsageRecord) error {
	u := rec.Usage
	if u.TotalTokens == 0 && u.PromptTokens == 0 && u.CompletionTokens == 0 {
		return nil
	}
	userID := rec.userID
	if userID == uuid.Nil {
		var err error
		if userID, err = a.ensureUser(ctx, rec.DiscordUserID, ""); err != nil {
			return err
		}
	}
	cost := u.USD()
	written, err := a.store().AddUsage(ctx, store.Usage{
		ID: rec.ID, UserID: userID, PersonalityID: rec.PersonalityID,
		Provider: cmp.Or(rec.Provider, ProviderOpenRouter), Model: truncate(rec.Model, 100),
		In: u.PromptTokens, Out: u.CompletionTokens, Total: u.TotalTokens, Kind: usagelog.RequestType(rec.Kind),
		CostUSD: cost,
	})
	if err != nil {
		return fmt.Errorf("write usage: %w", err)
	}
	// This is where every provider call's usage and cost (cost: USD, nil
	// when the provider reported none) is recorded, once: written is false
	// when a retried write found the row already there.
	if written {
		provider := cmp.Or(rec.Provider, ProviderOpenRouter)
		metrics.AddTokens(provider, rec.Model, u.PromptTokens, u.CompletionTokens)
		if cost != nil {
			metrics.AddCost(provider, rec.Model, *cost)
		}
	}
	return nil
}

// stepBudget is how long a step after a paid provider call may retry a
// passing failure in the activity: as long as the activity may still run,
// less a margin to report the failure, since giving up means paying again.
func stepBudget(ctx context.Context) time.Duration {
	const margin = 5 * time.Second
	if d, ok := ctx.Deadline(); ok && time.Until(d) > 2*margin {
		return time.Until(d) - margin
	}
	return 30 * time.Second
}

// retryTransient runs a step that follows a paid provider call, retrying
// failures that can pass (not the non-retryable application errors) with
// exponential backoff for up to stepBudget, heartbeating.
func retryTransient[T any](ctx context.Context, log *slog.Logger, step func() (T, error)) (T, error) {
	var out T
	err := heartbeat.While(ctx, func() error {
		var err error
		out, err = backoff.Retry(ctx, func() (T, error) {
			v, err := step()
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) && appErr.NonRetryable() {
				return v, backoff.Permanent(err)
			}
			return v, err
		}, backoff.WithBackOff(backoff.NewExponentialBackOff()), backoff.WithMaxElapsedTime(stepBudget(ctx)),
			backoff.WithNotify(func(err error, wait time.Duration) {
				log.Warn("step after a paid provider call failed; retrying it in the activity", "error", err, "retry_in", wait)
			}))
		return err
	}, "after the provider call")
	return out, err
}
