package workflows

// The steps GenerateReply and ImagineImage (and ValidateAPIKey's error
// reading) share: the personality lookup, the Discord and provider activity
// options, a
// refused key's switch-off and DM, the pending usage row.

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// ReplyDenied is the outcome of GenerateReply and ImagineImage for a user or
// guild on the deny list (activities.ErrDenied from ResolvePersonality):
// nothing is posted. The bot never starts one for them; a workflow started
// by hand ends so.
const ReplyDenied = "denied"

// resolvePersonality finds the personality ref names for the user speaking
// from guildID ("" for a DM or none), by ResolvePersonality as a local
// activity: a short, idempotent read, which saves two history events and a
// round trip through the server. A denied user or guild is ErrDenied
// (denied says so). Local activities replay from their recorded result, so
// histories from before the deny check (and guild_id in the input) replay
// unchanged: no version.
func resolvePersonality(ctx workflow.Context, ref, discordUserID, guildID string) (activities.PersonalityRef, error) {
	lookupCtx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		Summary:             "find the personality the user named, among those they may use",
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{activities.ErrNotFound, activities.ErrBadInput, activities.ErrDenied},
		},
	})
	var p activities.PersonalityRef
	err := workflow.ExecuteLocalActivity(lookupCtx, a.ResolvePersonality,
		activities.ResolvePersonalityInput{Ref: ref, DiscordUserID: discordUserID, GuildID: guildID}).Get(ctx, &p)
	return p, err
}

// denied says whether err is resolvePersonality refusing a denied user or guild.
func denied(err error) bool { return errorType(err) == activities.ErrDenied }

// discordOptions are for the Discord and bookkeeping activities: quick calls,
// retried on 429s and outages, not on Discord refusing the request.
var discordOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		MaximumInterval:        20 * time.Second,
		MaximumAttempts:        8,
		NonRetryableErrorTypes: []string{activities.ErrDiscordRefused, activities.ErrBadInput},
	},
}

// providerOptions are for the activities that call the user's provider
// (Generate, Imagine): up to 3 minutes an attempt, a heartbeat that notices
// a dead worker in seconds, backoff from 2 s to 30 s over maxAttempts, and no
// retry of the failures that would come back the same (nonRetryable, then
// every provider and key failure).
func providerOptions(maxAttempts int32, nonRetryable ...string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        maxAttempts,
			NonRetryableErrorTypes: slices.Concat(nonRetryable, activities.ProviderFailures, activities.KeyFailures),
		},
	}
}

// keyRejected switches the user's OpenRouter key off and tells them
// privately, once (the DM keyed by dmKey). With the failed key's
// fingerprint only that key is switched off; when the user stored another
// key since, that one stays on and no DM says otherwise. DeactivateKey is
// false, too, when another workflow switched the key off: that one DMs.
func keyRejected(ctx workflow.Context, discordUserID, dmKey, errType string, failed activities.FailedKey) error {
	dctx := withSummary(ctx, discordOptions, "switch off the user's refused OpenRouter key")
	var off bool
	if err := workflow.ExecuteActivity(dctx, a.DeactivateKey, activities.DeactivateKeyInput{
		DiscordUserID: discordUserID, Provider: activities.ProviderOpenRouter, KeyFingerprint: failed.Fingerprint,
	}).Get(ctx, &off); err != nil {
		return err
	}
	// Histories before FailedKey carry no fingerprint and never reach the
	// version marker.
	if failed.Fingerprint != "" && !off && workflow.GetVersion(ctx, "deactivate-failed-key", workflow.DefaultVersion, 1) >= 1 {
		workflow.GetLogger(ctx).Info("the rejected key was replaced, or another workflow switched it off and tells the user: no DM from this one")
		return nil
	}
	why := "OpenRouter rejected your API key (401), so I switched it off and stopped using it."
	if errType == activities.ErrNoCredits {
		why = "Your OpenRouter key has run out of credits (402), so I switched it off and stopped using it."
	}
	msg := why + " Nothing was charged to anyone else. To fix it: add credits or create a new key at https://openrouter.ai/keys, then run /wallet set with the key, or /wallet test to re-check the one stored."
	return dm(ctx, dmKey, discordUserID, msg)
}

// failedKey is the FailedKey details of a key refusal, empty when it has none.
func failedKey(err error) activities.FailedKey {
	var fk activities.FailedKey
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() {
		_ = appErr.Details(&fk)
	}
	return fk
}

// recordPendingUsage writes the usage row an activity could not write after
// its provider call returned. Only activities since "usage-after-call" set
// PendingUsage, so older histories never reach the marker. A failure here is
// logged, never the reply's failure: the call was made and answered.
func recordPendingUsage(ctx workflow.Context, rec *activities.UsageRecord) {
	if rec == nil || workflow.GetVersion(ctx, "usage-after-call", workflow.DefaultVersion, 1) < 1 {
		return
	}
	uctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:             "write the usage row the paid call could not",
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			MaximumAttempts: 20, NonRetryableErrorTypes: []string{activities.ErrBadInput},
		},
	})
	if err := workflow.ExecuteActivity(uctx, a.RecordUsage, *rec).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("usage row not written", "error", err)
	}
}

// dm sends one private message; a user who blocks DMs still gets the channel
// reply, so Discord refusing it is not a failure.
func dm(ctx workflow.Context, key, userID, msg string) error {
	err := workflow.ExecuteActivity(withSummary(ctx, discordOptions, "DM the user"), a.SendDM, activities.SendDMInput{
		DeliveryKey: key, DiscordUserID: userID, Content: msg,
	}).Get(ctx, nil)
	if err != nil && errorType(err) != activities.ErrDiscordRefused {
		return err
	}
	return nil
}

func errorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

// appMessage is an application error's own message, without the SDK's wrapping.
func appMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
