package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// DeleteUserDataName is the registered type of DeleteUserData.
const DeleteUserDataName = "DeleteUserData"

// DeleteUserDataInput is the input docs/contract.md gives DeleteUserData.
type DeleteUserDataInput struct {
	DiscordUserID string `json:"discord_user_id"`
}

// UserDataDeleted is DeleteUserData's one outcome.
const UserDataDeleted = "deleted"

// DeleteUserDataResult is the outcome and the rows cleared per table
// (usage_logs: rows made anonymous), every table of
// activities.UserDataTables named, 0 included.
type DeleteUserDataResult struct {
	Outcome string         `json:"outcome"`
	Counts  map[string]int `json:"counts"`
}

// DeleteUserDataID is the workflow id for a user's deletion.
func DeleteUserDataID(discordUserID string) string {
	return "delete-user-data/" + discordUserID
}

// deleteUserRowsOptions give each table as long as it takes: a heartbeat
// after every batch notices a dead worker within 30 s, and the retry
// resumes where the batches stopped. Outages are retried for about an
// hour; only a bad input is final.
var deleteUserRowsOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Minute,
	HeartbeatTimeout:    30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		MaximumAttempts:        60,
		NonRetryableErrorTypes: []string{activities.ErrBadInput},
	},
}

// DeleteUserData removes everything tzurot holds about one user, keys
// included, after they confirmed /data delete. Workflow id
// delete-user-data/<discord_user_id>; the bot starts it with the conflict
// policy "use existing", so a second confirmation joins the running one.
//
// The story, step by step:
//  1. For each table of activities.UserDataTables, in order — memories,
//     conversation_history (the user's turns, the personality's turns
//     that answered them — answered_user_id, in guild channels and DMs —
//     and the personality's turns in the user's DMs), user_personality_configs, user_api_keys,
//     usage_logs, users — DeleteUserRows clears the user's rows in batches
//     of 500, heartbeating after each. A worker killed mid-table is
//     noticed by the heartbeat timeout and the activity runs again,
//     clearing what is left.
//  2. usage_logs rows are not deleted: their user_id becomes NULL, so
//     /admin usage's totals stay whole and no row says whose they were.
//  3. The users row goes last (profile, time zone, incognito flag);
//     personalities the user created stay, with no owner.
//  4. Outcome "deleted" with the count per table. Deleting is idempotent:
//     once the users row is gone every table counts 0, so a second run
//     deletes nothing and succeeds.
func DeleteUserData(ctx workflow.Context, in DeleteUserDataInput) (DeleteUserDataResult, error) {
	if in.DiscordUserID == "" {
		return DeleteUserDataResult{}, temporal.NewNonRetryableApplicationError(
			"DeleteUserData needs a discord_user_id", activities.ErrBadInput, nil)
	}
	res := DeleteUserDataResult{Outcome: UserDataDeleted, Counts: map[string]int{}}
	total := 0
	for i, table := range activities.UserDataTables {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**deleting the data of user %s** — %s (table %d of %d)\n\n%d rows cleared so far",
			in.DiscordUserID, table, i+1, len(activities.UserDataTables), total))
		actx := withSummary(ctx, deleteUserRowsOptions, "clear the user's rows in "+table)
		var n int
		err := workflow.ExecuteActivity(actx, a.DeleteUserRows, activities.DeleteUserRowsInput{
			DiscordUserID: in.DiscordUserID, Table: table,
		}).Get(ctx, &n)
		if err != nil {
			return res, fmt.Errorf("delete the user's %s: %w", table, err)
		}
		res.Counts[table] = n
		total += n
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**deleting the data of user %s** — done\n\n%d rows cleared", in.DiscordUserID, total))
	workflow.GetLogger(ctx).Info("user data deleted", "counts", res.Counts)
	return res, nil
}
