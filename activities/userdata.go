package activities

import (
	"context"
	"fmt"
	"slices"

	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/internal/store"
)

// UserDataTables are the tables DeleteUserData clears, in its order
// (store.UserDataTables): a workflow schedules one DeleteUserRows per table,
// so changing the list changes the commands it emits.
var UserDataTables = store.UserDataTables

// UserDataBatch is how many rows DeleteUserRows clears per statement.
const UserDataBatch = 500

// DeleteUserRowsInput names the user, by Discord id, and one table of
// UserDataTables.
type DeleteUserRowsInput struct {
	DiscordUserID string `json:"discord_user_id"`
	Table         string `json:"table"`
}

// DeleteUserRows clears the user's rows from one table (usage_logs: makes
// them anonymous) in batches of UserDataBatch and returns how many it
// cleared. After each batch it heartbeats the count so far, so a retry —
// a killed worker's activity run again — resumes from what is left and
// still reports the whole count (short of a last batch committed and not
// yet heartbeated). A user with no row has nothing left: 0, no error, so a
// second DeleteUserData deletes nothing and succeeds. An unknown table is
// ErrBadInput.
func (a *Activities) DeleteUserRows(ctx context.Context, in DeleteUserRowsInput) (int, error) {
	if in.DiscordUserID == "" || !slices.Contains(UserDataTables, in.Table) {
		return 0, badInput(fmt.Sprintf("DeleteUserRows needs a discord_user_id and one of the tables %v", UserDataTables))
	}
	done := 0
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &done)
	}
	st := a.store()
	u, err := st.User(ctx, in.DiscordUserID)
	if err != nil || u == nil {
		return done, err
	}
	for {
		n, err := st.ClearUserBatch(ctx, in.Table, u.ID, UserDataBatch)
		if err != nil {
			return done, err
		}
		done += n
		activity.RecordHeartbeat(ctx, done)
		if n < UserDataBatch {
			return done, nil
		}
	}
}
